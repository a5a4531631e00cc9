"""Peers for the compatibility suite: offline tiktoken encodings, the `tok` CLI wrapper,
test-input generators and short mismatch reports.

Everything about the CLI's command line lives in `CLI` below, so a changed flag is a
one-line edit.
"""
from __future__ import annotations

import functools
import glob
import hashlib
import json
import os
import random
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# tiktoken may cache a copy of a loaded file; keep that in a private temp dir. Never
# call tiktoken.get_encoding (it would download); build encodings from the shipped files.
os.environ.setdefault("TIKTOKEN_CACHE_DIR", tempfile.mkdtemp(prefix="tok-compat-tiktoken-"))

import tiktoken  # noqa: E402
from tiktoken.load import load_tiktoken_bpe  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
VOCAB_DIR = REPO / "vocabularies"
CORPORA_DIR = REPO / "corpora"
ADVERSARIAL_JSON = REPO / "Tests" / "Data" / "adversarial.json"
VOCABS = ("cl100k_base", "o200k_base", "llama3")


# ----------------------------------------------------------------------------- the CLI
@dataclass(frozen=True)
class CliFlags:
    """The `tok` command line as the tests expect it. Adjust here only."""
    encode: tuple = ("encode",)
    decode: tuple = ("decode",)
    vocab: str = "-t"                        # -t NAME
    lines: str = "--lines"                   # one output line per input line
    count: str = "--count"                   # print the token count (first field)
    special: str = "--special"               # --special allow|error (default: plain text)
    special_allow: str = "allow"
    special_error: str = "error"
    threads: str = "--threads"               # --threads N
    raw_bytes: tuple = ("--invalid-utf8", "bytes")  # encode input bytes as given
    decode_lossy: str = "--lossy"            # decode: invalid UTF-8 -> U+FFFD instead of failing
    # Flags that make `tok decode` write the tokens' bytes as they are, even when they are not
    # UTF-8: () if it does so by default; None while the CLI has no such option (it exits
    # non-zero on such ids, so raw-byte round trips are checked with tiktoken's decoder and
    # the CLI's `--lossy` output instead).
    decode_raw_bytes: tuple | None = ("--raw",)


CLI = CliFlags()
CLI_TIMEOUT = float(os.environ.get("TOK_COMPAT_TIMEOUT", "300"))


def tok_bin() -> Path:
    p = Path(os.environ.get("TOK_BIN", ".build/release/tok"))
    return p if p.is_absolute() else (REPO / p)


class Tok:
    """Runs the `tok` binary. All methods return subprocess.CompletedProcess (bytes)."""

    def __init__(self, binary: Path):
        self.binary = str(binary)

    def run(self, args, stdin: bytes | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([self.binary, *map(str, args)], input=stdin if stdin is not None else b"",
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=CLI_TIMEOUT, check=False)

    def encode_args(self, vocab, files=(), *, lines=False, count=False, special=None,
                    threads=None, raw_bytes=False):
        args = [*CLI.encode, CLI.vocab, vocab]
        if lines:
            args.append(CLI.lines)
        if count:
            args.append(CLI.count)
        if special is not None:
            args += [CLI.special, {"allow": CLI.special_allow, "error": CLI.special_error}[special]]
        if threads is not None:
            args += [CLI.threads, threads]
        if raw_bytes:
            args += list(CLI.raw_bytes)
        return args + [str(f) for f in files]

    def encode(self, vocab, files=(), stdin=None, **kw) -> subprocess.CompletedProcess:
        return self.run(self.encode_args(vocab, files, **kw), stdin)

    def decode(self, vocab, ids_text: bytes, *, lossy=False, raw=False) -> subprocess.CompletedProcess:
        args = [*CLI.decode, CLI.vocab, vocab]
        if lossy:
            args.append(CLI.decode_lossy)
        if raw:
            args += list(CLI.decode_raw_bytes or ())
        return self.run(args, ids_text)


def ok(cp: subprocess.CompletedProcess, what: str) -> bytes:
    """stdout of a successful run, else an AssertionError with the exit code and stderr."""
    if cp.returncode != 0:
        err = cp.stderr.decode("utf-8", "replace").strip()
        raise AssertionError(f"{what}: `{' '.join(cp.args[:8])}{' ...' if len(cp.args) > 8 else ''}` "
                             f"exited {cp.returncode}; stderr: {err[:800]}")
    return cp.stdout


# ----------------------------------------------------------------------------- tiktoken
@functools.lru_cache(maxsize=None)
def vocab_meta(name: str) -> dict:
    return json.loads((VOCAB_DIR / f"{name}.json").read_text(encoding="utf-8"))


# Shipped vocabularies that tiktoken defines in code over another's ranks: tiktoken's own definition is the
# reference (with the ranks read from the shipped file instead of downloaded), not tok's sidecar.
DEFINED_BY_TIKTOKEN = {"o200k_harmony": "o200k_base"}


def tiktoken_definition(name: str) -> dict:
    """tiktoken's definition of `name` (tiktoken_ext.openai_public), its ranks file read from vocabularies/."""
    import tiktoken_ext.openai_public as openai_public
    ranks_file = VOCAB_DIR / f"{DEFINED_BY_TIKTOKEN[name]}.tiktoken"

    def local(_url, expected_hash=None):
        return load_tiktoken_bpe(str(ranks_file), expected_hash=expected_hash)

    saved = openai_public.load_tiktoken_bpe
    openai_public.load_tiktoken_bpe = local
    try:
        return getattr(openai_public, name)()
    finally:
        openai_public.load_tiktoken_bpe = saved


@functools.lru_cache(maxsize=None)
def encoding(name: str) -> tiktoken.Encoding:
    """tiktoken Encoding built offline from vocabularies/<name>.tiktoken + <name>.json (or, for a vocabulary
    tiktoken defines in code, from its definition over the shipped ranks)."""
    if name in DEFINED_BY_TIKTOKEN:
        d = tiktoken_definition(name)
        return tiktoken.Encoding(name=f"{name}-shipped", pat_str=d["pat_str"], mergeable_ranks=d["mergeable_ranks"],
                                 special_tokens=d["special_tokens"])
    meta = vocab_meta(name)
    path = VOCAB_DIR / f"{name}.tiktoken"
    ranks = load_tiktoken_bpe(str(path), expected_hash=meta.get("sha256"))
    return tiktoken.Encoding(name=f"{name}-shipped", pat_str=meta["pat_str"],
                             mergeable_ranks=ranks, special_tokens=dict(meta["special_tokens"]))


# ----------------------------------------------------------------------------- formats
def fmt_ids(ids) -> str:
    return " ".join(map(str, ids))


def expected_whole(ids) -> bytes:
    return (fmt_ids(ids) + "\n").encode()


def split_lines(text):
    """The CLI's --lines split: on '\\n' only; a last line is kept only if non-empty."""
    lines = text.split("\n") if isinstance(text, str) else text.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    return lines


def expected_lines(per_line_ids) -> bytes:
    return "".join(fmt_ids(ids) + "\n" for ids in per_line_ids).encode()


def parse_ids(line: bytes | str) -> list[int]:
    if isinstance(line, bytes):
        line = line.decode("ascii", "replace")
    return [int(x) for x in line.split()]


# ----------------------------------------------------------------------------- reports
def _short(b: bytes, n=120) -> str:
    s = repr(b)
    return s if len(s) <= n else s[:n] + "…"


def first_diff(a, b) -> int | None:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return None if len(a) == len(b) else n


def diff_report(enc: tiktoken.Encoding, got: list[int], exp: list[int], label: str) -> str:
    i = first_diff(got, exp)
    if i is None:
        return ""
    off = len(enc.decode_bytes(exp[:i]))
    full = enc.decode_bytes(exp)
    ctx = full[max(0, off - 40): off + 40]

    def piece(t):
        try:
            return enc.decode_single_token_bytes(t)
        except Exception:
            return "<no such token>"

    def win(ids):
        w = ids[max(0, i - 3): i + 5]
        return f"{w} = {[piece(t) for t in w]}"[:400]
    return (f"{label}: ids differ at index {i} (input byte offset {off}); "
            f"got {len(got)} ids, expected {len(exp)}\n"
            f"  input around offset: {_short(ctx, 200)}\n"
            f"  got      [{max(0, i - 3)}:]: {win(got)}\n"
            f"  expected [{max(0, i - 3)}:]: {win(exp)}")


def check_whole(enc, out: bytes, exp_ids: list[int], label: str) -> None:
    """Exact output bytes; on mismatch a short report (first differing id / format)."""
    exp = expected_whole(exp_ids)
    if out == exp:
        return
    got = parse_ids(out)
    rep = diff_report(enc, got, exp_ids, label)
    if not rep:
        j = first_diff(out, exp)
        rep = (f"{label}: ids equal but output format differs at byte {j}: "
               f"got {_short(out[max(0, j - 20): j + 20])}, expected {_short(exp[max(0, j - 20): j + 20])} "
               f"(want ids separated by single spaces, then one newline)")
    raise AssertionError(rep)


def check_lines(enc, out: bytes, per_line_ids: list[list[int]], lines, label: str) -> None:
    exp = expected_lines(per_line_ids)
    if out == exp:
        return
    got_lines = out.split(b"\n")
    if got_lines and got_lines[-1] == b"":
        got_lines.pop()
    for n, (g, e) in enumerate(zip(got_lines, per_line_ids)):
        gi = parse_ids(g)
        if gi != e:
            line = lines[n]
            lb = line.encode() if isinstance(line, str) else line
            raise AssertionError(f"{label}: line {n + 1} (input {_short(lb, 160)}):\n"
                                 + diff_report(enc, gi, e, f"line {n + 1}"))
    if len(got_lines) != len(per_line_ids):
        raise AssertionError(f"{label}: got {len(got_lines)} output lines, expected {len(per_line_ids)}")
    j = first_diff(out, exp)
    raise AssertionError(f"{label}: ids equal but output format differs at byte {j}: "
                         f"got {_short(out[max(0, j - 20): j + 20])}, expected {_short(exp[max(0, j - 20): j + 20])}")


def check_bytes(got: bytes, exp: bytes, label: str) -> None:
    if got == exp:
        return
    j = first_diff(got, exp)
    raise AssertionError(f"{label}: bytes differ at offset {j} (got {len(got)} bytes, expected {len(exp)}):\n"
                         f"  got      {_short(got[max(0, j - 30): j + 40], 200)}\n"
                         f"  expected {_short(exp[max(0, j - 30): j + 40], 200)}")


# ----------------------------------------------------------------------------- inputs
def corpus_files() -> list[Path]:
    pat = os.environ.get("TOK_COMPAT_CORPORA", str(CORPORA_DIR / "*.zst"))
    return sorted(Path(p) for p in glob.glob(pat))


@functools.lru_cache(maxsize=None)
def corpus_bytes(path: Path) -> bytes:
    data = Path(path).read_bytes()
    try:
        import zstandard
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    except ImportError:
        zstd = shutil.which("zstd")
        if not zstd:
            raise
        return subprocess.run([zstd, "-dc", str(path)], check=True, stdout=subprocess.PIPE).stdout


def adversarial_strings() -> list[str] | None:
    """Tests/Data/adversarial.json (a JSON array of strings), or None if absent."""
    if not ADVERSARIAL_JSON.exists():
        return None
    data = json.loads(ADVERSARIAL_JSON.read_text(encoding="utf-8"))
    if isinstance(data, dict):  # tolerate {"strings": [...]} or {"cases": [{"text": ...}]}
        data = data.get("strings") or data.get("cases") or []
    out = []
    for s in data:
        if isinstance(s, dict):
            s = s.get("text", s.get("input"))
        if isinstance(s, str):
            try:
                s.encode("utf-8")
            except UnicodeEncodeError:  # lone surrogates cannot go through a UTF-8 file
                continue
            out.append(s)
    return out


# Pool of interesting pieces: every kind of space, CR/LF, letters of many scripts,
# digits of several systems, ASCII and typographic punctuation, ’ and ' contractions,
# combining marks, emoji (incl. ZWJ, skin tones, flags, keycaps), ZWJ/ZWNJ alone.
SPACES = [" ", "  ", "\t", "\u00a0", "\u1680", "\u2000", "\u2002", "\u2003", "\u2007", "\u2009",
          "\u200a", "\u202f", "\u205f", "\u3000", "\u000b", "\u000c", "\u0085", "\u2028", "\u2029",
          "\u200b", "\ufeff", "\r", "\r\n", "\n", "\n\n", " \n", "\t\n"]
LETTERS = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
           + list("éèêëàçñøåæœßÉÀÇÑÅÆŒıİĳǅǈǋﬁﬂ")                      # Latin extras, Lt
           + ["hello", "World", "the", "THE", "Tokenizer", "naïve", "Straße", "ΣΊΣΥΦΟΣ"]
           + list("αβγδεζηθικλμνξοπρσςτυφχψωΑΒΓΔΩάέήίόύώϊΐ")       # Greek
           + list("абвгдежзийклмнопрстуфхцчшщъыьэюяАБВГДЁЖЗЇЄІҐ")  # Cyrillic
           + ["привет", "Україна", "σήμερα"]
           + list("ابتثجحخدذرسشصضطظعغفقكلمنهويءآأؤإئةى") + ["مرحبا", "السلام", "ـ"]
           + list("אבגדהוזחטיכלמנסעפצקרשתםןףץ") + ["שלום"]
           + list("कखगघचछजझटठडढणतथदधनपफबभमयरलवशषसह") + ["नमस्ते", "मराठी", "नेपाली", "क्षत्रिय"]
           + list("กขคงจฉชซญดตถทธนบปผพฟภมยรลวศษสหอฮ") + ["สวัสดี", "ภาษาไทย"]
           + list("中文字人大小日月山水東京語言電脑") + ["你好世界", "東京都", "漢字"]
           + list("あいうえおかきくけこさしすせそアイウエオカタカナー") + ["こんにちは", "カタカナ", "ｶﾀｶﾅ"]
           + list("한국어가나다라마바사") + ["안녕하세요", "\u1100\u1161\u11a8"]     # Hangul + jamo
           + list("ሀለሐመሠረሰ") + list("აბგდევზ") + list("աբգդեզ") + list("অআইঈ") + list("தமிழ்"))
DIGITS = (list("0123456789") + ["12", "123", "1234", "12345", "3.14", "1,000", "2024-01-01", "0x1F"]
          + list("٠١٢٣٤٥٦٧٨٩") + list("०१२३४५६७८९") + list("０１２３") + list("²³¹½¼ⅫⅣ") + ["๓๔"])
PUNCT = (list(".,;:!?'\"()[]{}<>/\\|@#$%^&*-_+=~`") + list("’‘“”«»—–…・。、！？「」『』（）¿¡§¶†•")
         + ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "’s", "’re", "n't", "...", "!!!",
            "://", "==", "->", "=>", "<|", "|>", "<|endoftext|>", "<|endoftext|"])
MARKS = ["\u0301", "\u0308", "\u0327", "\u0323", "\u0300\u0301", "\u093f", "\u094d", "\u0e31", "\u0e48",
         "\u064e", "\u05b8", "\u20dd", "\ufe0f", "\ufe0e", "\u200c", "\u200d", "\u034f"]
EMOJI = ["😀", "👍", "👍🏽", "❤️", "❤", "🇺🇸", "🇯🇵", "🇺", "👩‍💻", "👨‍👩‍👧‍👦", "🏳️‍🌈", "1️⃣", "#️⃣",
         "🧑🏾‍🤝‍🧑🏻", "✈️", "☃", "🫠", "🐈‍⬛", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "\U0001F3FB", "⚡", "©", "™"]
POOL_GROUPS = [(SPACES, 4), (LETTERS, 8), (DIGITS, 2), (PUNCT, 3), (MARKS, 1), (EMOJI, 2)]


def random_strings(n=3000, seed=20241125, max_pieces=24) -> list[str]:
    rng = random.Random(seed)
    groups = [g for g, _ in POOL_GROUPS]
    weights = [w for _, w in POOL_GROUPS]
    out = []
    for _ in range(n):
        k = rng.randint(0, max_pieces)
        out.append("".join(rng.choice(rng.choices(groups, weights)[0]) for _ in range(k)))
    return out


def random_code_points(docs=120, seed=821) -> str:
    """Documents of code points drawn from every plane, assigned or not (private use, noncharacters, tags,
    planes 3 and 14-16 included; surrogates excluded), a third of them pattern-relevant ASCII and white space
    (space, LF, CR, tab, apostrophes, "s", "L", "1", ".", "/", NBSP, U+3000), joined by LF, so that the
    classes of the scanners' tables (and unassigned code points) meet each other and the pattern's ASCII in
    many combinations. A scanner that drops marks from o200k's letter classes fails on this text."""
    rng = random.Random(seed)
    common = [0x20, 0x20, 0x0A, 0x27, 0x2019, 0x73, 0x74, 0x4C, 0x31, 0x2E, 0x0D, 0x09, 0xA0, 0x3000, 0x2F]

    def cp() -> str:
        r = rng.random()
        if r < 0.3:
            return chr(rng.choice(common))
        c = rng.randint(0x80, 0xFFFF) if r < 0.6 else rng.randint(0x10000, 0x3FFFF) if r < 0.9 else rng.randint(0xE0000, 0x10FFFF)
        return chr(0x41 if 0xD800 <= c <= 0xDFFF else c)

    return "\n".join("".join(cp() for _ in range(rng.choice((3, 20, 100, 600, 3000)))) for _ in range(docs))


def random_byte_strings(n=4000, seed=77, max_len=64, allow_newline=False) -> list[bytes]:
    """Random byte strings, lengths 0..max_len: half uniform bytes, half from an alphabet of
    ASCII and UTF-8 fragments (lead/continuation bytes, 0xC0/0xFF) for near-valid sequences."""
    rng = random.Random(seed)
    frag = list(b"aZ09 .'\t\r") + [0xC3, 0xA9, 0xE2, 0x80, 0x99, 0xF0, 0x9F, 0x98, 0x80, 0xFF, 0xC0, 0xED,
                                   0xA0, 0xF4, 0x90, 0xE3, 0x81, 0x82]
    out = []
    for i in range(n):
        length = rng.randint(0, max_len)
        if i % 2:
            b = bytes(rng.getrandbits(8) for _ in range(length))
        else:
            b = bytes(rng.choice(frag) for _ in range(length))
        if not allow_newline:
            b = b.replace(b"\n", b"\x0b")
        out.append(b)
    return out


def long_runs() -> dict[str, str]:
    rng = random.Random(5)
    printable = [chr(c) for c in range(33, 127)]
    return {
        "a_x1M": "a" * 1_000_000,
        "cjk_x300k": "\u4e2d" * 300_000,
        "ascii_printable_1MB_nospace": "".join(rng.choice(printable) for _ in range(1_000_000)),
        "caret_x200k": "^" * 200_000,
        "spaces_100k_then_letter": " " * 100_000 + "a",
        "box_drawing_x100k": "\u2500" * 100_000,
        "ab_x300k": "ab" * 300_000,
        "thai_word_x50k": "\u0e44\u0e17\u0e22" * 50_000,
        "emoji_x100k": "\U0001F642" * 100_000,
        "dash_equals_x100k_odd_one": "-=" * 50_000 + "+" + "-=" * 50_000,
    }


def long_pieces(count: int = 600) -> list[str]:
    """Long single pre-tokens (letters, or punctuation, or digits-free symbols) over tiny alphabets: random strings,
    repeated motifs, and motifs with one odd unit. The encoder cuts long pieces into chunks joined at checked
    junctions; these make the junctions fail often, so every retry path runs."""
    rng = random.Random(17)
    alphabets = [["a", "b"], ["a", "b", "c"], ["a", "a", "b"], ["ing", "the"], ["\u00e9", "e"], ["\u8bed", "\u8a00"],
                 ["\u0e44", "\u0e17", "\u0e22"], ["\u0430", "\u0431"], ["-", "=", "-="], ["\u2500", "\u253c"],
                 ["ab", "aab", "b"], ["\u0915\u094d", "\u0937\u093f"], ["e\u0301", "e"], ["x"], ["*", "/", "**"]]
    out = []
    for i in range(count):
        units = alphabets[i % len(alphabets)]
        n = rng.choice([130, 200, 333, 700, 1500])
        kind = i % 3
        if kind == 0:
            s = "".join(rng.choice(units) for _ in range(n))
        else:
            motif = "".join(rng.choice(units) for _ in range(rng.randint(1, 5)))
            s = motif * (n // len(motif) + 1)
            if kind == 2:
                at = rng.randrange(len(s))
                s = s[:at] + rng.choice(units) + s[at:]
        out.append(s)
    return out


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def bytes_to_unicode() -> dict:
    """GPT-2's byte -> printable character map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def fragment_text(seed: int, size: int, fragments: list[str]) -> str:
    """At least `size` characters of fragments drawn at random (seeded) and joined."""
    import random
    rng = random.Random(seed)
    out, n = [], 0
    while n < size:
        f = rng.choice(fragments)
        out.append(f)
        n += len(f)
    return "".join(out)


def peak_rss_mb(args, stdin_path) -> tuple[bytes, float]:
    """Runs tok with a file on stdin; its output and its peak RSS in MB. A small Python process starts tok and
    reads its children's usage: Linux carries a process's peak RSS across exec, so tok forked straight from this
    (large) test process would report this process's size."""
    import subprocess
    import sys
    probe = ("import resource, subprocess, sys\n"
             "with open(sys.argv[1], 'rb') as f:\n"
             "    p = subprocess.run(sys.argv[2:], stdin=f, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)\n"
             "assert p.returncode == 0, p.returncode\n"
             "sys.stdout.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) + ' ' + p.stdout.decode())\n")
    cp = subprocess.run([sys.executable, "-c", probe, str(stdin_path), str(tok_bin()), *map(str, args)],
                        capture_output=True, check=False)
    assert cp.returncode == 0, f"tok {args} failed: {cp.stderr.decode()[-400:]}"
    kb, _, out = cp.stdout.partition(b" ")
    return out, int(kb) / 1024
