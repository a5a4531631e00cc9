"""The tok CLI as a user meets it: errors, pipes, atomic output, formats, options, the man page.

Every expectation about ids is computed with tiktoken, never typed in.
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time

import pytest

import peers

pytestmark = pytest.mark.cli
MAN = peers.REPO / "man" / "tok.1"


def run(tok, args, stdin=b""):
    return tok.run(args, stdin)


def ids_of(out: bytes):
    return [int(x) for x in out.split()]


# ----------------------------------------------------------------------------- man page and --help
def help_options(tok, sub):
    out = peers.ok(run(tok, [*([sub] if sub else []), "--help"]), "help").decode()
    return sorted(set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", out)))


@pytest.mark.parametrize("sub", ["", "encode", "decode", "train", "count", "eval", "bench"])
def test_every_help_option_is_in_the_man_page(tok, sub):
    man = MAN.read_text(encoding="utf-8").replace("\\-", "-")
    missing = [o for o in help_options(tok, sub) if not re.search(r"(?<![\w-])" + re.escape(o) + r"(?![\w-])", man)]
    assert not missing, f"options of `tok {sub} --help` missing from man/tok.1: {missing}"
    if sub:
        assert re.search(r"^\.B " + sub + r"$", MAN.read_text(), re.M), f"man page lacks a section for {sub}"


def test_man_page_renders():
    if shutil.which("man") is None:
        pytest.skip("man is not installed")
    cp = subprocess.run(["man", "-l", str(MAN)], capture_output=True, env={**os.environ, "MANWIDTH": "80"})
    assert cp.returncode == 0 and b"tok encode" in cp.stdout, cp.stderr


# ----------------------------------------------------------------------------- errors
def one_line_error(cp, *needles):
    assert cp.returncode != 0, "expected failure"
    err = cp.stderr.decode()
    assert err.count("\n") == 1 and err.startswith("tok "), f"not one line: {err!r}"
    for n in needles:
        assert n in err, f"{n!r} not in {err!r}"
    return err


def test_missing_file(tok, workdir):
    one_line_error(run(tok, ["encode", str(workdir / "nope.txt")]), "nope.txt")


def test_directory_input(tok, workdir):
    one_line_error(run(tok, ["encode", str(workdir)]), str(workdir))


def test_unknown_tokenizer(tok):
    one_line_error(run(tok, ["encode", "-t", "cl999k"], b"x"), "cl999k")


def test_corrupt_and_truncated_zstd(tok, workdir):
    data = b"hello world\n" * 50000
    z = subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True, check=True).stdout
    bad = bytearray(z)
    bad[len(bad) // 2] ^= 0xFF
    (workdir / "bad.zst").write_bytes(bytes(bad))
    (workdir / "cut.zst").write_bytes(z[: len(z) // 2])
    one_line_error(run(tok, ["encode", str(workdir / "bad.zst")]), "bad.zst")
    one_line_error(run(tok, ["encode", str(workdir / "cut.zst")]), "cut.zst")
    # The message names the frame that holds the damage: zstd finds a damaged literal only by the frame's
    # checksum at its end, so where it noticed says little of where the damage is (it said "at or after" that).
    text = (peers.CORPORA_DIR / "prose-en.txt.zst").read_bytes()
    prose = subprocess.run(["zstd", "-dc"], input=text, capture_output=True, check=True).stdout[:2_000_000]
    frame = subprocess.run(["zstd", "-q", "-c"], input=prose, capture_output=True, check=True).stdout
    damaged = bytearray(frame)
    damaged[100] ^= 0x55
    (workdir / "second-bad.zst").write_bytes(frame + bytes(damaged))
    for cmd in (["encode"], ["count"]):
        err = one_line_error(run(tok, [*cmd, str(workdir / "second-bad.zst")]), "second-bad.zst")
        assert re.search(rf"in the frame that starts at compressed byte {len(frame)}: ", err), err


def test_invalid_utf8_reports_offset_and_policies(tok, workdir):
    enc = peers.encoding("cl100k_base")
    data = "héllo wörld ".encode() * 1000 + b"\xff\xfe tail " + "ok ".encode() * 10
    off = data.index(b"\xff")
    one_line_error(run(tok, ["encode"], data), f"byte offset {off}")
    rep = ids_of(peers.ok(run(tok, ["encode", "--invalid-utf8", "replace"], data), "replace"))
    assert rep == enc.encode_ordinary(data.decode("utf-8", "replace"))
    raw = peers.ok(run(tok, ["encode", "--invalid-utf8", "bytes"], data), "bytes")
    back = peers.ok(run(tok, ["decode", "--raw"], raw), "decode --raw")
    assert back == data
    one_line_error(run(tok, ["decode"], raw), "invalid UTF-8")
    lossy = peers.ok(run(tok, ["decode", "--lossy"], raw), "lossy")
    assert lossy == data.decode("utf-8", "replace").encode()


def test_truncated_utf8_at_end_is_an_error(tok):
    one_line_error(run(tok, ["encode"], "abc €".encode()[:-1]), "byte offset 4")


def test_unknown_id_names_position(tok):
    one_line_error(run(tok, ["decode"], b"9906 11\n1917 999999 0\n"), "999999", "line 2, id 2 of the line (4th of the input)")


def test_non_numeric_id(tok):
    one_line_error(run(tok, ["decode"], b"9906 x"), "line 1")


def test_special_error_names_offset(tok):
    one_line_error(run(tok, ["encode", "--special", "error"], b"abc<|endoftext|>"), "byte offset 3")


def test_sidecarless_file_needs_pattern(tok, workdir):
    src = peers.REPO / "vocabularies" / "cl100k_base.tiktoken"
    dst = workdir / "copy.tiktoken"
    dst.write_bytes(src.read_bytes())
    one_line_error(run(tok, ["encode", "-t", str(dst)], b"x"), "pattern")
    enc = peers.encoding("cl100k_base")
    text = "Hello <|endoftext|> wörld 123456\n"
    out = peers.ok(run(tok, ["encode", "-t", str(dst), "--pattern", "cl100k"], text.encode()), "file + --pattern")
    assert ids_of(out) == enc.encode_ordinary(text)


def test_corrupt_vocabulary_names_line(tok, workdir):
    src = (peers.REPO / "vocabularies" / "cl100k_base.tiktoken").read_bytes().split(b"\n")
    src[1000] = b"not-base64!! 1000"
    bad = workdir / "bad.tiktoken"
    bad.write_bytes(b"\n".join(src))
    one_line_error(run(tok, ["encode", "-t", str(bad), "--pattern", "cl100k"], b"x"), "bad.tiktoken:1001")


def test_failed_run_leaves_no_output_file(tok, workdir):
    out = workdir / "out.ids"
    one_line_error(run(tok, ["encode", "-o", str(out)], b"good text " * 100000 + b"\xff"))
    assert not out.exists()
    assert not [p for p in workdir.iterdir() if p.name.startswith(".out.ids")], "temp file left behind"
    peers.ok(run(tok, ["encode", "-o", str(out)], b"fine"), "-o")
    assert ids_of(out.read_bytes()) == peers.encoding("cl100k_base").encode_ordinary("fine")


def test_empty_input(tok):
    assert peers.ok(run(tok, ["encode"], b""), "empty") == b"\n"
    assert peers.ok(run(tok, ["encode", "--lines"], b""), "empty lines") == b""
    assert peers.ok(run(tok, ["encode", "--count"], b""), "empty count") == b"0\n"
    assert peers.ok(run(tok, ["decode"], b""), "empty decode") == b""


# ----------------------------------------------------------------------------- pipes and memory
def test_head_exits_quietly(tok, workdir):
    big = workdir / "big.txt"
    big.write_bytes(("The quick brown fox jumps over the lazy dog.\n" * 400000).encode())
    p = subprocess.run(f"'{tok.binary}' encode --lines '{big}' | head -1", shell=True, capture_output=True, timeout=120)
    assert p.returncode == 0
    assert p.stderr == b"", p.stderr
    assert len(p.stdout.splitlines()) == 1


def test_memory_bounded_without_newlines(tok):
    """256 MB of text with no newline at all, streamed through a pipe: peak RSS stays far below the input."""
    chunk = ("lorem ipsum dolor sit amet, consectetur adipiscing elit " * 20000).encode()
    total = 256 << 20
    # A child's peak RSS as Linux reports it includes the memory of the process it was forked from; pytest is
    # large, so tok is started by a small Python helper that forks it and reports tok's own peak.
    helper = ("import os, sys\npid = os.fork()\nif pid == 0:\n    os.execv(sys.argv[1], sys.argv[1:])\n"
              "_, st, ru = os.wait4(pid, 0)\nsys.stderr.write('MAXRSS %d\\n' % ru.ru_maxrss)\n"
              "sys.exit(os.waitstatus_to_exitcode(st))\n")
    proc = subprocess.Popen([sys.executable, "-S", "-c", helper, tok.binary, "encode", "--count", "--threads", "2"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def feed():
        sent = 0
        while sent < total:
            proc.stdin.write(chunk)
            sent += len(chunk)
        proc.stdin.close()

    t = threading.Thread(target=feed)
    t.start()
    out, err = proc.stdout.read(), proc.stderr.read()
    t.join()
    proc.wait(timeout=600)
    assert proc.returncode == 0, err
    sent = (total + len(chunk) - 1) // len(chunk) * len(chunk)
    enc = peers.encoding("cl100k_base")
    phrase = "lorem ipsum dolor sit amet, consectetur adipiscing elit "
    one, two = (len(enc.encode_ordinary(phrase * k)) for k in (1000, 2000))
    per_phrase, fixed = (two - one) // 1000, one - (two - one)   # count(n phrases) = per_phrase * n + fixed
    assert int(out.split()[0]) == per_phrase * (sent // len(phrase)) + fixed
    peak_mb = int(err.decode().strip().splitlines()[-1].split()[1]) / 1024
    # Vocabulary, caches, a 2 MB read block and four 1 MB segments in flight: about 40 MB whatever the input size.
    assert peak_mb < 80, f"peak RSS {peak_mb:.0f} MB for a {sent >> 20} MB input"


# ----------------------------------------------------------------------------- formats and options
def test_tokens_format_round_trips(tok):
    text = "Hello, wörld!\n  语言 🙂\tend"
    enc = peers.encoding("cl100k_base")
    out = peers.ok(run(tok, ["encode", "--format", "tokens"], text.encode()), "tokens").decode()
    byte_decoder = {c: b for b, c in peers.bytes_to_unicode().items()}
    toks = out.split()
    assert [enc.encode_single_token(bytes(byte_decoder[c] for c in t)) for t in toks] == enc.encode_ordinary(text)


def test_jsonl_offsets(tok):
    text = "first line\nsecond, wörld 语\n\nlast"
    enc = peers.encoding("o200k_base")
    out = peers.ok(run(tok, ["encode", "-t", "o200k_base", "--lines", "--format", "jsonl"], text.encode()), "jsonl")
    rows = [json.loads(l) for l in out.decode().splitlines()]
    lines = text.split("\n")
    assert len(rows) == len(lines)
    for row, line in zip(rows, lines):
        b = line.encode()
        assert row["ids"] == enc.encode_ordinary(line)
        assert [b[s:e] for s, e in row["offsets"]] == [enc.decode_single_token_bytes(i) for i in row["ids"]]
        assert row["tokens"] == [enc.decode_single_token_bytes(i).decode("utf-8", "replace") for i in row["ids"]]


def test_jsonl_records_survive_unicode_line_splitting(tok):
    """Token strings holding U+0085, U+2028 or U+2029 (o200k has such tokens) are escaped, so each record stays one
    line for readers that split on every Unicode line break (Python's str.splitlines)."""
    text = "a\u2028b \u2028\u2028 c\u2029d\u0085e\nx \u2029\u2029\u2029 y\u0085\u0085\n\u2028"
    enc = peers.encoding("o200k_base")
    assert any(enc.decode_single_token_bytes(i).decode("utf-8", "replace") in
               ("\u2028", "\u2029", "\u2028\u2028", "\u2029\u2029", " \u2028", " \u2029")
               for i in enc.encode_ordinary(text)), "the text should hold a token that is a whole line separator"
    for args in (["--lines"], []):
        out = peers.ok(run(tok, ["encode", "-t", "o200k_base", "--format", "jsonl"] + args, text.encode()), "jsonl").decode()
        assert not any(c in out for c in "\u0085\u2028\u2029")
        rows = [json.loads(l) for l in out.splitlines()]
        lines = text.split("\n") if args else [text]
        assert [r["ids"] for r in rows] == [enc.encode_ordinary(l) for l in lines]
        assert [r["tokens"] for r in rows] == [[enc.decode_single_token_bytes(i).decode("utf-8", "replace") for i in r["ids"]] for r in rows]


def test_jsonl_escapes_every_control_character(tok):
    """C0, DEL and C1 controls in token strings are written as escapes (a terminal acts on raw C1 controls such as
    U+009B, CSI), and the escapes read back as the same strings."""
    text = "".join(chr(c) + "x" for c in list(range(0x20)) + list(range(0x7F, 0xA0))) + " \u0080\u0080 \u009b[2J"
    for name in ("cl100k_base", "o200k_base"):
        enc = peers.encoding(name)
        out = peers.ok(run(tok, ["encode", "-t", name, "--format", "jsonl"], text.encode()), "jsonl").decode()
        assert out.endswith("\n") and out.count("\n") == 1
        assert not any(chr(c) in out[:-1] for c in list(range(0x20)) + list(range(0x7F, 0xA0)))
        row = json.loads(out)
        assert row["ids"] == enc.encode_ordinary(text)
        assert row["tokens"] == [enc.decode_single_token_bytes(i).decode("utf-8", "replace") for i in row["ids"]]


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_jsonl_and_tokens_of_a_whole_corpus(tok, tmp_path, name):
    """The multilingual corpus as one jsonl record (about 20 MB of JSON, written as it is formatted) and as tokens,
    against tiktoken: ids, token strings (many are parts of characters, replaced by U+FFFD), offsets that tile the
    input. The record's text is not held whole: beyond what --format ids needs, the ids and offsets alone."""
    data = peers.corpus_bytes(peers.CORPORA_DIR / "multilingual.txt.zst")
    path = tmp_path / "multilingual.txt"
    path.write_bytes(data)
    enc = peers.encoding(name)
    ids = enc.encode_ordinary(data.decode())
    pieces = [enc.decode_single_token_bytes(i) for i in ids]
    out, rss = peers.peak_rss_mb(["encode", "-t", name, "--format", "jsonl", "--threads", "1"], path)
    assert out.count(b"\n") == 1
    row = json.loads(out)
    assert row["ids"] == ids
    assert row["tokens"] == [p.decode("utf-8", "replace") for p in pieces]
    starts = [0]
    for p in pieces:
        starts.append(starts[-1] + len(p))
    assert row["offsets"] == [[starts[k], starts[k + 1]] for k in range(len(ids))]
    _, rss_ids = peers.peak_rss_mb(["encode", "-t", name, "--threads", "1"], path)
    if not os.environ.get("TOK_SANITIZED"):   # AddressSanitizer's allocator keeps freed memory in quarantine
        assert rss - rss_ids < 32 * len(ids) / 2**20 + 8, (rss, rss_ids, len(ids))
    out = peers.ok(run(tok, ["encode", "-t", name, "--format", "tokens", str(path)]), "tokens").decode()
    alphabet = peers.bytes_to_unicode()
    assert out.split() == ["".join(alphabet[b] for b in p) for p in pieces]


def test_count_names_files_and_total(tok, workdir):
    a, b = workdir / "a.txt", workdir / "b.txt"
    a.write_text("one two three")
    b.write_text("four")
    enc = peers.encoding("cl100k_base")
    out = peers.ok(run(tok, ["encode", "--count", str(a), str(b)]), "count").decode().splitlines()
    na, nb = len(enc.encode_ordinary("one two three")), len(enc.encode_ordinary("four"))
    assert out == [f"{na} {a}", f"{nb} {b}", f"{na + nb} total"]


def test_files_from_a_list(tok, workdir):
    """`--files-from`: paths one per line or NUL-separated (from a file or standard input, after the arguments);
    the same counts and ids as the paths given as arguments; errors name the list or the missing file. `tok decode`
    takes a list of id files the same way."""
    enc = peers.encoding("cl100k_base")
    texts = ["one two three", "four\n", "fünf sechs", "line\nbreaks\n\n"]
    paths = []
    for k, t in enumerate(texts):
        p = workdir / f"listed {k}.txt"   # a space in the name: one path per line, not per word
        p.write_text(t, encoding="utf-8")
        paths.append(str(p))
    want = [f"{len(enc.encode_ordinary(t))} {p}" for t, p in zip(texts, paths)]
    total = f"{sum(len(enc.encode_ordinary(t)) for t in texts)} total"
    lst = workdir / "list.txt"
    lst.write_text("\n".join(paths[1:]) + "\n\n")
    out = peers.ok(run(tok, ["encode", "--count", "--files-from", str(lst), paths[0]]), "list").decode().splitlines()
    assert out == want + [total]
    nul = "\0".join(paths).encode() + b"\0"
    out = peers.ok(run(tok, ["encode", "--count", "--files-from", "-"], stdin=nul), "NUL list").decode().splitlines()
    assert out == want + [total]
    ids = peers.ok(run(tok, ["encode", "--files-from", "-"], stdin="\n".join(paths).encode()), "ids").decode().splitlines()
    assert [ids_of(line.encode()) for line in ids] == [enc.encode_ordinary(t) for t in texts]
    assert peers.ok(run(tok, ["encode", "--count", "--files-from", "-"], stdin=b""), "empty list") == b""
    one_line_error(run(tok, ["encode", "--files-from", str(workdir / "no-list.txt")]), "no-list.txt")
    lst.write_text(paths[0] + "\n" + str(workdir / "gone.txt") + "\n")
    one_line_error(run(tok, ["encode", "--files-from", str(lst)]), "gone.txt")
    cp = run(tok, ["encode", "--files-from", "-", "-"])
    assert cp.returncode != 0 and b"standard input" in cp.stderr
    # decode takes a list too: files of ids, after the arguments, decoded in order.
    id_files = []
    for k, t in enumerate(texts):
        p = workdir / f"ids {k}.txt"
        p.write_text(" ".join(map(str, enc.encode_ordinary(t))) + "\n")
        id_files.append(str(p))
    lst.write_text("\n".join(id_files[1:]) + "\n")
    out = peers.ok(run(tok, ["decode", "--files-from", str(lst), id_files[0]]), "decode list")
    assert out == "".join(texts).encode()
    out = peers.ok(run(tok, ["decode", "--lines", "--files-from", "-"], stdin="\0".join(id_files).encode()), "decode NUL list")
    assert out == b"".join(enc.decode_bytes(enc.encode_ordinary(t)) + b"\n" for t in texts)
    one_line_error(run(tok, ["decode", "--files-from", str(workdir / "no-list.txt")]), "no-list.txt")
    cp = run(tok, ["decode", "--files-from", "-", "-"])
    assert cp.returncode != 0 and b"standard input" in cp.stderr


def test_icu_regex_and_scanner_agree(tok):
    text = (peers.REPO / "corpora" / "multilingual.txt.zst")
    for v in peers.VOCABS:
        a = peers.ok(run(tok, ["encode", "-t", v, str(text)]), "scanner")
        b = peers.ok(run(tok, ["encode", "-t", v, "--pretokenizer", "icu-regex", str(text)]), "icu")
        assert a == b, v


def test_user_pattern_and_word_break_round_trip(tok):
    text = "Don't split 123456 things; 東京タワー ok\n".encode()
    for extra in (["--pattern", r"\p{L}+|\p{N}|[^\p{L}\p{N}]+"], ["--pretokenizer", "icu-words"]):
        ids = peers.ok(run(tok, ["encode", *extra], text), "encode")
        assert peers.ok(run(tok, ["decode"], ids), "decode") == text


def test_user_pattern_reads_dot_and_dollar_as_tiktoken(tok):
    """A pattern of the user's runs on ICU with Rust's meaning of `.` (anything but LF: ICU alone also stops at CR,
    U+0085, U+2028 and U+2029) and of `$` (the end of the text). Every pattern here matches all of its text, since
    tiktoken drops what a pattern does not match and tok keeps it."""
    import tiktoken
    ranks = peers.encoding("cl100k_base")._mergeable_ranks
    texts = ["ab\r\ncd\r\n\r\nx\r", "a\rb\r\nc\u0085d\u2028e\u2029f\ng\x0bh\x0ci", "\r\r\n\n\u2028\u2029\u0085",
             "line one\r\nline two\nline three\u0085end", "xxxxx\r\r\r\n\n", "Добрый день\r\n東京\u2028タワー  \n \n"]
    patterns = [r".+\n|.+|\n", r"(?i:hello)|.|\n", r"[^\n]+|\n", r"\w+|.|\n", r"(?m)^.+$|\n|.", r".*?\r|.+|\n",
                r"\s+$|\S+|\s", r"(?m).$|\n|.", r" ?\p{L}+|.+$|.|\n"]
    for pattern in patterns:
        enc = tiktoken.Encoding("user", pat_str=pattern, mergeable_ranks=ranks, special_tokens={})
        text = "\n".join(texts)
        for t in texts + [text]:
            got = peers.ok(run(tok, ["encode", "-t", "cl100k_base", "--pattern", pattern], t.encode()), pattern)
            assert [int(x) for x in got.split()] == enc.encode_ordinary(t), (pattern, t)


def test_decode_lines_inverts_encode_lines(tok):
    text = b"alpha\n\nbeta gamma\n"
    ids = peers.ok(run(tok, ["encode", "--lines"], text), "encode")
    assert peers.ok(run(tok, ["decode", "--lines"], ids), "decode") == text


def test_version(tok):
    assert re.match(rb"\d+\.\d+\.\d+", peers.ok(run(tok, ["--version"]), "version"))


# ----------------------------------------------------------------------------- many segments in flight
def big_text(mb: float) -> bytes:
    corpus = b"".join(peers.corpus_bytes(c) for c in peers.corpus_files())
    reps = int(mb * 1_000_000 // len(corpus)) + 1
    return (corpus * reps)[: int(mb * 1_000_000)].rsplit(b"\n", 1)[0] + b"\n"


@pytest.mark.parametrize("threads", ["1", "2", "3"])
def test_errors_deep_in_a_large_input(tok, threads):
    """Segments are encoded by workers while the reader goes on: an error many segments in must still name the
    right offset, exit non-zero, and write only output that precedes it."""
    base = big_text(9)
    enc = peers.encoding("cl100k_base")
    at = len(base) - 1_500_000
    bad = base[:at] + b"\xc3(" + base[at:]
    one_line_error(run(tok, ["encode", "--threads", threads], bad), f"byte offset {at}")
    special = base[:at] + b"<|endoftext|>" + base[at:]
    cp = run(tok, ["encode", "--threads", threads, "--special", "error", "--lines"], special)
    one_line_error(cp, f"byte offset {at}")
    written = cp.stdout.decode().splitlines()
    expected = [enc.encode_ordinary(l) for l in base[:at].decode().split("\n")]
    assert [ids_of(l.encode()) for l in written] == expected[: len(written)]


@pytest.mark.parametrize("fmt", ["jsonl", "count"])
def test_structured_formats_identical_across_threads(tok, fmt):
    data = big_text(5)
    args = ["encode", "-t", "o200k_base", "--lines"] + (["--count"] if fmt == "count" else ["--format", "jsonl"])
    one = peers.ok(run(tok, args + ["--threads", "1"], data), "--threads 1")
    two = peers.ok(run(tok, args + ["--threads", "2"], data), "--threads 2")
    assert one == two
    enc = peers.encoding("o200k_base")
    first = one.split(b"\n", 1)[0].decode()
    line = data.split(b"\n", 1)[0].decode()
    if fmt == "count":
        assert int(first) == len(enc.encode_ordinary(line))
    else:
        assert json.loads(first)["ids"] == enc.encode_ordinary(line)


# ----------------------------------------------------------------------------- vocabulary image cache
def test_vocabulary_cache_is_used_refreshed_and_optional(tok, workdir):
    """The first load writes an image to $TOK_CACHE_DIR; later loads give identical output from it; a damaged or
    truncated image or note is ignored and rewritten; an edited vocabulary misses; off and unwritable caches still
    work."""
    data = "Hello, wörld! 语言 🙂 tokens\n".encode() * 50
    expected = peers.ok(run(tok, ["encode", "-t", "o200k_base"], data), "reference")
    cache = workdir / "cache"

    def encode_with(cache_dir, vocab="o200k_base", **env):
        cp = subprocess.run([tok.binary, "encode", "-t", str(vocab)], input=data, capture_output=True,
                            env={**os.environ, "TOK_CACHE_DIR": str(cache_dir), **env}, timeout=120)
        assert cp.returncode == 0 and cp.stderr == b"", cp.stderr
        return cp.stdout

    assert encode_with(cache) == expected
    images = list(cache.glob("*.tokrank"))
    assert len(images) == 1, images
    size = images[0].stat().st_size
    assert encode_with(cache) == expected
    # The shipped file is older than two seconds: its fingerprint is now kept in a note, which answers from now on;
    # a damaged note is ignored (and written again).
    notes = list(cache.glob("*.toknote"))
    assert len(notes) == 1, notes
    note = notes[0].read_bytes()
    for bad in (note[:-1], note + b"\0", bytes([note[0] ^ 1]) + note[1:], note[:80] + bytes([note[80] ^ 1]) + note[81:]):
        notes[0].write_bytes(bad)
        assert encode_with(cache) == expected
        assert notes[0].read_bytes() == note
    for damage in ("flip", "truncate", "empty"):
        raw = bytearray(images[0].read_bytes())
        if damage == "flip":
            raw[len(raw) // 2] ^= 0x5A
        elif damage == "truncate":
            raw = raw[: len(raw) // 3]
        else:
            raw = bytearray()
        images[0].write_bytes(bytes(raw))
        assert encode_with(cache) == expected, damage
        assert images[0].stat().st_size == size, f"{damage}: image not rewritten"
    # An edited vocabulary (same tokens, one more blank line) has another fingerprint: a second image.
    src = peers.REPO / "vocabularies"
    (workdir / "edited.tiktoken").write_bytes((src / "o200k_base.tiktoken").read_bytes() + b"\n")
    (workdir / "edited.json").write_bytes((src / "o200k_base.json").read_bytes())
    assert encode_with(cache, workdir / "edited.tiktoken") == expected
    assert len(list(cache.glob("*.tokrank"))) == 2
    home = workdir / "home"
    home.mkdir()
    assert encode_with("off", HOME=str(home), XDG_CACHE_HOME="") == expected
    assert not any(home.iterdir()), "TOK_CACHE_DIR=off still wrote a cache"
    env = {k: v for k, v in os.environ.items() if k not in ("TOK_CACHE_DIR", "XDG_CACHE_HOME")}
    cp = subprocess.run([tok.binary, "encode", "-t", "o200k_base"], input=data, capture_output=True,
                        env={**env, "HOME": str(home)}, timeout=120)
    assert cp.returncode == 0 and cp.stdout == expected
    assert len(list((home / ".cache" / "tok").glob("*.tokrank"))) == 1, "default location is ~/.cache/tok"
    blocked = workdir / "blocked"
    blocked.write_text("a file where the cache directory should be")
    assert encode_with(blocked / "sub") == expected


def test_cache_entries_that_are_not_regular_files_or_too_large_are_passed_over(tok, tmp_path):
    """A FIFO in place of the cached image or of its note made every later run hang in open(2), waiting for a
    writer; a huge (sparse) file in place of the image was mapped and read whole before its header was checked
    (100 GB: still running after 30 s). Each is now passed over at once, and the output is the same."""
    data = "Hello, wörld! 语言 🙂\n".encode() * 20
    cache = tmp_path / "cache"
    env = {**os.environ, "TOK_CACHE_DIR": str(cache)}

    def encode():
        cp = subprocess.run([tok.binary, "encode", "-t", "cl100k_base"], input=data, capture_output=True, env=env,
                            timeout=30)
        assert cp.returncode == 0 and cp.stderr == b"", cp.stderr
        return cp.stdout

    expected = encode()
    assert expected == encode()   # the second run writes the note
    for pattern in ("*.tokrank", "*.toknote"):
        entry, = cache.glob(pattern)
        entry.unlink()
        os.mkfifo(entry)
        assert encode() == expected, pattern
        entry.unlink()
        assert encode() == expected
    image, = cache.glob("*.tokrank")
    image.unlink()
    with open(image, "wb") as f:
        f.truncate(100 << 30)
    started = time.monotonic()
    assert encode() == expected
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("args", [["decode", "-t", "/dev/zero"], ["decode", "--special-tokens", "/dev/zero"],
                                  ["encode", "--files-from", "/dev/zero"]])
def test_endless_files_read_whole_are_refused(tok, workdir, args):
    """A vocabulary, special-token or list file is read whole; an endless one (/dev/zero) grew memory until the
    allocation failed (a crash with a Swift fatal error) or the kernel killed the process. Now it is a one-line
    error naming it, once 1 GiB has been read."""
    cp = subprocess.run([tok.binary, *args], input=b"1\n", capture_output=True, timeout=120)
    one_line_error(cp, "/dev/zero", "too large")


# ----------------------------------------------------------------------------- found by the ninth session's audit
def test_special_tokens_file_id_of_an_ordinary_token_is_refused(tok, workdir):
    """`--special-tokens FILE` with a shipped vocabulary is checked as a sidecar is: an id that is already an
    ordinary token would make decoding ambiguous."""
    path = workdir / "ordinary-id.json"
    path.write_text(json.dumps({"<|endoftext|>": 5}))
    one_line_error(run(tok, ["encode", "--special", "allow", "--special-tokens", path], b"a<|endoftext|>&"),
                   "ordinary-id.json", "<|endoftext|>", "ordinary token")


def special_encoding(specials):
    import tiktoken
    base = peers.encoding("cl100k_base")
    return tiktoken.Encoding("cl100k-custom", pat_str=base._pat_str, mergeable_ranks=base._mergeable_ranks,
                             special_tokens=specials)


def test_disallowed_special_inside_or_across_an_allowed_one_is_refused(tok, workdir):
    """tiktoken's encode(text, allowed_special={A}) refuses text holding any other special anywhere, also inside
    or across an occurrence of A (its check searches the whole text first); tok took only the matches it encodes.
    Also where the allowed one starts a stretch too long to cut (3 MB of letters or spaces before and after)."""
    sets = [({"<|a|>": 200000, "|>b": 200001}, "<|a|>", "x<|a|>b", "|>b", 4),
            ({"<|im_start|>": 200000, "<|im_start|>assistant": 200001}, "<|im_start|>assistant",
             "<|im_start|>assistant\n", "<|im_start|>", 0)]
    for k, (specials, allowed, text, refused, offset) in enumerate(sets):
        enc = special_encoding(specials)
        with pytest.raises(ValueError):
            enc.encode(text, allowed_special={allowed})
        path = workdir / f"overlap-{k}.json"
        path.write_text(json.dumps(specials))
        args = ["encode", "--special-tokens", path, "--allow-special", allowed]
        one_line_error(run(tok, args + ["--special", "error"], text.encode()), json.dumps(refused), f"byte offset {offset}")
        if k == 0:  # (in the other, one special is a prefix of another, where tiktoken's choice is its own)
            want = enc.encode(text, allowed_special={allowed}, disallowed_special=())
            assert want != enc.encode_ordinary(text)
            assert peers.parse_ids(peers.ok(run(tok, args, text.encode()), "plain others")) == want
    # Allowed specials that overlap when repeated, 8 MB with no other place to cut: the check for refused ones had
    # kept every cut at their starts, and finding none went quadratic (minutes; 0.2 s before).
    path = workdir / "overlap-nl.json"
    path.write_text(json.dumps({"\n\n": 200000, "<|endoftext|>": 200001}))
    newlines = workdir / "newlines.txt"
    newlines.write_bytes(b"\n" * 8_000_000)
    cp = subprocess.run([tok.binary, "encode", "--count", "--special-tokens", path, "--special", "error",
                         "--allow-special", "\n\n", "--threads", "1", newlines], capture_output=True, timeout=30)
    assert peers.ok(cp, "newlines").split()[0] == b"4000000"
    enc = special_encoding(sets[0][0])
    for filler in ("a", " "):
        text = filler * 3_000_000 + "<|a|>b" + filler * 3_000_000
        path = workdir / "overlap-long.txt"
        path.write_text(text)
        with pytest.raises(ValueError):
            enc.encode(text, allowed_special={"<|a|>"})
        for threads in ("1", "2"):
            one_line_error(run(tok, ["encode", "--special-tokens", workdir / "overlap-0.json", "--allow-special", "<|a|>",
                                     "--special", "error", "--threads", threads, path]), f"byte offset {3_000_003}")


def test_allowed_special_tokens_are_compared_by_bytes(tok, workdir):
    """"\u00e9" and "e\u0301" are different special tokens to tiktoken; Swift's String equality made them one."""
    specials = {"\u00e9": 200004, "e\u0301": 200005}
    enc = special_encoding(specials)
    path = workdir / "canonical.json"
    path.write_text(json.dumps(specials))
    text = "\u00e9|e\u0301"
    out = peers.ok(run(tok, ["encode", "--special-tokens", path, "--allow-special", "e\u0301"], text.encode()), "encode")
    assert peers.parse_ids(out) == enc.encode(text, allowed_special={"e\u0301"}, disallowed_special=())
    one_line_error(run(tok, ["encode", "--special-tokens", path, "--allow-special", "e\u0301", "--special", "error"],
                       text.encode()), "byte offset 0")
    path.write_text(json.dumps({"e\u0301": 200005}))
    one_line_error(run(tok, ["encode", "--special-tokens", path, "--allow-special", "\u00e9"], text.encode()),
                   "not a special token", "c3 a9", "65 cc 81")


def test_special_tokens_file_read_once(tok, workdir):
    """A bare object of special tokens through a pipe (`<(...)`, /dev/stdin) failed: the file was read twice. Its
    keys may be any strings, "pattern" too; a collision with an ordinary id names the special-token file."""
    specials = json.dumps({"<|x|>": 200000, "pattern": 200001, "special_tokens": 200002}).encode()
    r, w = os.pipe()
    os.write(w, specials)
    os.close(w)
    try:
        cp = subprocess.run([tok.binary, "encode", "--special-tokens", f"/dev/fd/{r}", "--special", "allow"],
                            input=b"a<|x|>b pattern special_tokens", capture_output=True, pass_fds=(r,), timeout=60)
    finally:
        os.close(r)
    enc = special_encoding({"<|x|>": 200000, "pattern": 200001, "special_tokens": 200002})
    assert peers.parse_ids(peers.ok(cp, "pipe")) == enc.encode("a<|x|>b pattern special_tokens", allowed_special="all")
    vocab = workdir / "collide.tiktoken"
    vocab.write_bytes((peers.REPO / "vocabularies" / "mixed-8k.tiktoken").read_bytes())
    (workdir / "collide-specials.json").write_text(json.dumps({"<|a|>": 1000}))
    one_line_error(run(tok, ["encode", "-t", vocab, "--pattern", "o200k", "--special-tokens",
                             workdir / "collide-specials.json"], b"hi"),
                   "collide-specials.json:", "ordinary token")


def test_special_token_errors_stay_on_one_line(tok, workdir):
    """Special tokens are quoted in messages, so one with a line break keeps the message on one line; a token
    given twice is named."""
    nl = workdir / "nl-special.json"
    nl.write_text(json.dumps({"x\ny": 100300}))
    one_line_error(run(tok, ["encode", "--special-tokens", nl, "--special", "error"], b"a x\ny"),
                   r'"x\ny"', "byte offset 2")
    dup = workdir / "dup-special.json"
    dup.write_bytes(b'{"a": 100300, "a": 100301}')
    one_line_error(run(tok, ["encode", "--special-tokens", dup], b"x"), "dup-special.json", '"a" is given twice')


def test_bad_pattern_names_its_source(tok, workdir):
    src = workdir / "badpat.tiktoken"
    shutil.copy(peers.REPO / "vocabularies" / "mixed-8k.tiktoken", src)
    (workdir / "badpat.json").write_text(json.dumps({"pat_str": "(a"}))
    one_line_error(run(tok, ["encode", "-t", src], b"x"), "badpat.json", "regular expression")
    one_line_error(run(tok, ["encode", "--pattern", "(a"], b"x"), "--pattern", "regular expression")


def test_huge_thread_count(tok, workdir):
    """A thread count far beyond the machine is taken as four per CPU: same output, no overflow."""
    text = "hello world foo bar\n" * 50_000
    path = workdir / "threads.txt"
    path.write_text(text)
    exp = peers.ok(run(tok, ["encode", "--threads", "1", path]), "one thread")
    for n in ("1000", str(2**63 - 1)):
        assert peers.ok(run(tok, ["encode", "--threads", n, path]), f"--threads {n}") == exp


def test_output_to_fifo_symlink_and_long_name(tok, workdir):
    """-o writes through a FIFO and a symbolic link (replacing the link's target, not the link), and a file name
    of 250 bytes works (the temporary name stays within NAME_MAX)."""
    exp = peers.ok(run(tok, ["encode"], b"hello"), "stdout")
    fifo = workdir / "out.fifo"
    if fifo.exists():
        fifo.unlink()
    os.mkfifo(fifo)
    got = {}
    reader = threading.Thread(target=lambda: got.setdefault("data", fifo.read_bytes()), daemon=True)
    reader.start()
    peers.ok(run(tok, ["encode", "-o", fifo], b"hello"), "-o FIFO")
    reader.join(10)
    assert got.get("data") == exp and fifo.is_fifo()
    target = workdir / "link-target.txt"
    target.write_text("old")
    link = workdir / "out.link"
    if link.is_symlink():
        link.unlink()
    link.symlink_to(target.name)
    peers.ok(run(tok, ["encode", "-o", link], b"hello"), "-o symlink")
    assert link.is_symlink() and target.read_bytes() == exp
    long_name = workdir / ("n" * 250)
    peers.ok(run(tok, ["encode", "-o", long_name], b"hello"), "-o long name")
    assert long_name.read_bytes() == exp


def test_output_dash_is_standard_output(tok, workdir):
    """`-o -` means standard output for encode, decode and count (as in zstd, curl, sort): no file named "-"."""
    cwd = workdir / "dash-output"
    cwd.mkdir(exist_ok=True)

    def run_in(args, stdin):
        return subprocess.run([tok.binary, *args], input=stdin, cwd=cwd, capture_output=True, timeout=60)

    ids = peers.ok(run(tok, ["encode"], b"hello world"), "encode")
    assert peers.ok(run_in(["encode", "-o", "-"], b"hello world"), "encode -o -") == ids
    assert peers.ok(run_in(["decode", "-o", "-"], ids), "decode -o -") == b"hello world"
    counts = peers.ok(run(tok, ["count"], b"hello world\n"), "count")
    assert peers.ok(run_in(["count", "-o", "-"], b"hello world\n"), "count -o -") == counts
    assert not (cwd / "-").exists() and list(cwd.iterdir()) == []
    # A directory is named as one (renaming onto "." said "device or resource busy").
    for d in (".", str(cwd)):
        assert b"is a directory" in run_in(["encode", "-o", d], b"x").stderr


def test_output_to_a_descriptor_name_writes_through_it(tok, workdir):
    """-o /dev/stdout (or /proc/self/fd/1, or a link to it) when standard output is a file the shell opened: the
    output goes through the descriptor, after what is already there, instead of a temporary file renamed over the
    file the link resolves to (which lost the file's earlier contents)."""
    ids = peers.ok(run(tok, ["encode"], b"hello"), "encode")
    link = workdir / "to-stdout"
    if link.is_symlink():
        link.unlink()
    link.symlink_to("/dev/stdout")
    for name in ["/dev/stdout", "/proc/self/fd/1", str(link)]:
        log = workdir / "log.txt"
        log.write_bytes(b"old line\n")
        with open(log, "ab") as f:
            cp = subprocess.run([tok.binary, "encode", "-o", name], input=b"hello", stdout=f, stderr=subprocess.PIPE, timeout=60)
        assert cp.returncode == 0, cp.stderr
        assert log.read_bytes() == b"old line\n" + ids, name
    cp = subprocess.run(f"{{ echo header; {tok.binary} encode -o /dev/stdout; echo footer; }}", shell=True,
                        input=b"hello", capture_output=True, timeout=60)
    assert cp.stdout == b"header\n" + ids + b"footer\n"
    # Spelled otherwise: through "." and "..", a relative link, a name relative to /dev/fd.
    relative = workdir / "to-fd1"
    if relative.is_symlink():
        relative.unlink()
    relative.symlink_to("../" * len(workdir.parts) + "proc/self/fd/1")
    for name, cwd in [("/dev/./fd/1", None), ("/dev/../proc/self/fd/1", None), (str(relative), None), ("1", "/dev/fd")]:
        cp = subprocess.run(f"echo header; {tok.binary} encode -o {name}", shell=True, cwd=cwd, input=b"hello",
                            capture_output=True, timeout=60)
        assert cp.returncode == 0 and cp.stdout == b"header\n" + ids, (name, cp.stderr)
    # tok train writes several files named by its -o prefix: a descriptor or device is no prefix.
    corpus = workdir / "prefix-corpus.txt"
    corpus.write_text("hello world\n")
    for name in ("/dev/stdout", "/dev/null", "/dev/fd/1"):
        cp = run(tok, ["train", "-q", "-o", name, corpus, "--vocab-size", "300"])
        assert cp.returncode == 64 and b"not a device or descriptor" in cp.stderr, (name, cp.stderr)
    assert not list(peers.Path("/dev").glob("null.*")) and not list(peers.Path("/dev").glob("stdout.*"))


def test_output_through_a_dangling_link_is_atomic(tok, workdir):
    """-o through a symbolic link whose target does not exist yet: created atomically at the target (the link
    stays a link), and nothing at all when the run fails."""
    target, link = workdir / "dangling-target.txt", workdir / "dangling.link"
    for p in (target, link):
        if p.exists() or p.is_symlink():
            p.unlink()
    link.symlink_to(target.name)
    cp = run(tok, ["encode", "-o", link], b"hello world " * 50000 + b"\xff")
    one_line_error(cp, "invalid UTF-8")
    assert not target.exists() and link.is_symlink()
    assert [p.name for p in workdir.iterdir() if p.name.startswith(".dangling")] == []
    peers.ok(run(tok, ["encode", "-o", link], b"hello"), "-o dangling link")
    assert link.is_symlink() and target.read_bytes() == peers.ok(run(tok, ["encode"], b"hello"), "encode")


def test_catastrophic_user_pattern_stops_with_an_error(tok, workdir):
    """ICU's engine backtracks; a pattern that takes exponential time ends with one line naming the pattern and
    the byte, within seconds, and leaves no output file (tiktoken's Rust regex matches it in linear time)."""
    out = workdir / "catastrophic.txt"
    cp = subprocess.run([tok.binary, "encode", "--pattern", "(a|aa)*c", "-o", out], input=b"a" * 60 + b"\n",
                        capture_output=True, timeout=60)
    one_line_error(cp, "(a|aa)*c", "takes too long", "at byte 0")
    assert not out.exists() and [p for p in workdir.iterdir() if p.name.startswith(".catastrophic")] == []
    # Among several inputs: the message names the one it is stuck in, and the inputs before it are written, as
    # with any other input error (both were missing: the process ended from inside the pre-tokenizer).
    (workdir / "fine.txt").write_bytes(b"hello world\n")
    (workdir / "stuck.txt").write_bytes(b"a" * 60 + b"\n")
    for threads in ("1", "2"):
        cp = subprocess.run([tok.binary, "encode", "--pattern", r"(a|aa)*c|\s+|\S", "--threads", threads, "fine.txt",
                             "stuck.txt", "fine.txt"], cwd=workdir, capture_output=True, timeout=60)
        one_line_error(cp, "stuck.txt: matching the pattern", "takes too long")
        assert cp.stdout == peers.ok(run(tok, ["encode", "--pattern", r"(a|aa)*c|\s+|\S"], b"hello world\n"), "fine")
    # What is written of the input it is stuck in is what one thread writes (it had been dropped when the input was
    # one of a batch of small files).
    (workdir / "stuck-late.txt").write_bytes(b"".join(b"%d\n" % i for i in range(120_000)) + b"a" * 3000)
    outs = [subprocess.run([tok.binary, "encode", "--lines", "--pattern", r"(a|aa)*c|\s+|\S", "--threads", t, "fine.txt",
                            "stuck-late.txt"], cwd=workdir, capture_output=True, timeout=60) for t in ("1", "2")]
    one_line_error(outs[1], "stuck-late.txt: matching the pattern")
    assert outs[0].stdout == outs[1].stdout and outs[0].stderr == outs[1].stderr
    cp = subprocess.run([tok.binary, "encode", "--count", "--pattern", r"(a|aa)*c|\s+|\S", "fine.txt", "stuck.txt"],
                        cwd=workdir, capture_output=True, timeout=60)
    one_line_error(cp, "stuck.txt: matching the pattern")
    alone = subprocess.run([tok.binary, "encode", "--count", "--pattern", r"(a|aa)*c|\s+|\S", "fine.txt"], cwd=workdir,
                           capture_output=True)
    assert cp.stdout == alone.stdout == b"12 fine.txt\n", (cp.stdout, alone.stdout)
    # Stuck after a long stretch it got through quickly: stopped as soon, at the byte where it is stuck.
    cp = run(tok, ["encode", "--count", "--pattern", "(a|aa)*c"], b"xyz " * 100_000 + b"a" * 60)
    one_line_error(cp, "at byte 400000")
    # Quadratic: every start scans to the end and fails (the budget of each start never runs out).
    cp = subprocess.run([tok.binary, "encode", "--count", "--pattern", r"[^\n]*\n"], input=b"a" * 60_000,
                        capture_output=True, timeout=60)
    one_line_error(cp, "takes too long", "in all", "60000-byte stretch")
    # Never stopped: a linear pattern over one long match, and bounded backtracking on every start of a long text
    # without a match (it was stopped at 3 MB when the budget was per search).
    cp = run(tok, ["encode", "--count", "--pattern", r"\p{L}+"], b"a" * 5_000_000)
    assert cp.returncode == 0, cp.stderr
    letters = bytes(random.Random(2).choice(b"abcdefghij") for _ in range(3_000_000))
    cp = run(tok, ["encode", "--count", "--pattern", "[a-z]{1,60}[0-9]"], letters)
    assert cp.returncode == 0, cp.stderr


def test_files_from_stdin_cannot_list_stdin(tok):
    """`--files-from -` reads standard input to its end, so "-" in that list would be an empty input."""
    for args in (["encode", "--count"], ["decode"]):
        one_line_error(run(tok, [*args, "--files-from", "-"], b"a.txt\n-\n"), "standard input cannot be both")


def test_unknown_sidecar_pretokenizer_is_an_error(tok, workdir):
    """A sidecar's "pretokenizer" that tok does not know is an error (read as the default it gave other ids), as
    an unknown "normalizer" is; a repeated key takes its last value, as Python's json reads it."""
    ranks = workdir / "sc.tiktoken"
    shutil.copy(peers.REPO / "vocabularies" / "mixed-8k.tiktoken", ranks)
    sidecar = workdir / "sc.json"
    sidecar.write_text('{"pat_str": "o200k", "pretokenizer": "icu_words"}')
    one_line_error(run(tok, ["encode", "-t", ranks], b"can't stop"), "sc.json", "unknown pretokenizer")
    sidecar.write_text('{"pat_str": ".", "pat_str": "o200k"}')
    got = peers.ok(run(tok, ["encode", "-t", ranks, "--format", "tokens"], b"Hello world"), "encode")
    want = peers.ok(run(tok, ["encode", "-t", ranks, "--pattern", "o200k", "--format", "tokens"], b"Hello world"), "encode")
    assert got == want


def test_zstd_with_a_long_window(tok, workdir):
    """Frames written with `zstd --long=28` need a 256 MB window, over zstd's default decoding limit of 128 MB."""
    if shutil.which("zstd") is None:
        pytest.skip("zstd is not installed")
    text = b"abc " * 1000 + b"\n"
    packed = subprocess.run(["zstd", "-q", "--long=28", "-c"], input=text, capture_output=True, check=True).stdout
    path = workdir / "long-window.zst"
    path.write_bytes(packed)
    assert peers.ok(run(tok, ["encode", path]), "encode") == peers.ok(run(tok, ["encode"], text), "encode")


def test_closed_standard_error_does_not_stop_training(tok, workdir):
    """Progress on standard error is a side channel: if it is piped into `head` or `true` and closed, training
    goes on and writes its vocabulary."""
    corpus = workdir / "sigpipe-corpus.txt"
    corpus.write_bytes(b" ".join(b"w%d" % (i % 5000) for i in range(300000)))
    prefix = workdir / "sigpipe-vocab"
    cp = subprocess.run(f"{tok.binary} train --progress plain -o {prefix} --vocab-size 2000 {corpus} 2>&1 | true; "
                        f"echo ${{PIPESTATUS[0]}}", shell=True, executable="/bin/bash", capture_output=True, timeout=120)
    assert cp.stdout.strip() == b"0" and (workdir / "sigpipe-vocab.tiktoken").exists()


def test_argument_messages_say_what_is_wrong(tok, workdir):
    """Usage errors (ArgumentParser's "Error: ..." and usage lines) that named the wrong problem."""
    def usage_error(cp, *needles):
        assert cp.returncode == 64, cp.stderr
        for n in needles:
            assert n.encode() in cp.stderr, cp.stderr

    usage_error(run(tok, ["count", "--max-bytes", "99999999999G"], b"x"), "too large")
    usage_error(run(tok, ["eval", "--alpha", "0", "-t", "cl100k_base"], b"x"), "positive", "not 0.0")
    usage_error(run(tok, ["eval", "--alpha", "inf", "-t", "cl100k_base"], b"x"), "finite")
    (workdir / "prefix-input.txt").write_text("hello world\n")
    for prefix in ("", str(workdir) + "/"):
        usage_error(run(tok, ["train", "-q", "-o", prefix, workdir / "prefix-input.txt", "--vocab-size", "300"]),
                    "-o needs a path prefix")


def test_decode_names_the_line_of_an_unfinished_character(tok):
    enc = peers.encoding("cl100k_base")
    ids = next(i for i in (enc.encode(c) for c in "龘𝕏ꙮ🜁") if len(i) >= 2)  # a character split across tokens
    text = (" ".join(map(str, ids[:-1])) + "\n\n").encode()
    one_line_error(run(tok, ["decode"], text), f"line 1, id {len(ids) - 1} of the line", "middle of a UTF-8 character")


def test_decode_names_a_stray_byte_in_two_hex_digits(tok):
    for raw, shown in ((b"9906\x1f1917", "byte 0x1f"), (b"9906 \x00", "byte 0x00"), (b"9906;", "';' (0x3b)")):
        one_line_error(run(tok, ["decode"], raw), f"found {shown}")


def test_decode_keeps_up_with_a_slow_stream(tok):
    """Ids arriving over a pipe are decoded as they come (the output had waited for the end of input or 64 KB),
    even a first line shorter than zstd's 4-byte magic."""
    import select
    p = subprocess.Popen([tok.binary, "decode", "--lines"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        for ids, text in ((b"64\n", b"a\n"), (b"9906 11\n", b"Hello,\n"), (b"1917 0\n", b" world!\n")):
            p.stdin.write(ids)
            p.stdin.flush()
            ready, _, _ = select.select([p.stdout], [], [], 10)
            assert ready, f"no output for {ids!r} while the input stays open"
            assert p.stdout.readline() == text
    finally:
        p.stdin.close()
        p.wait(10)
    assert p.returncode == 0


def test_encode_keeps_up_with_a_slow_stream(tok):
    """Text arriving line by line over a pipe (`tail -f log | tok encode --lines`) is encoded as it comes: with
    --lines each line's output as soon as its LF is read, on one or two threads, as ids, jsonl or counts, plain or
    zstd flushed block by block; without --lines the output of a line once the next one starts. It had waited for
    the end of input or 512 KB. The whole output is what the input given at once gives."""
    import select
    import zstandard
    lines = [b"Hello, world!", b"second line  with  spaces", "naïve café 日本語 🙂".encode(), b"", b"<|endoftext|> last"]
    whole = b"".join(l + b"\n" for l in lines)

    def wait_line(p, what):
        ready, _, _ = select.select([p.stdout], [], [], 10)
        assert ready, f"no output for {what} while the input stays open"
        return p.stdout.readline()

    for extra in ([], ["--threads", "2"], ["--format", "jsonl"], ["--count"], ["--special", "allow"]):
        want = peers.ok(run(tok, ["encode", "--lines", *extra], whole), "whole").splitlines(keepends=True)
        for compressed in (False, True):
            z = zstandard.ZstdCompressor().compressobj()
            p = subprocess.Popen([tok.binary, "encode", "--lines", *extra], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            try:
                for k, line in enumerate(lines):
                    data = line + b"\n"
                    p.stdin.write(z.compress(data) + z.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK) if compressed else data)
                    p.stdin.flush()
                    assert wait_line(p, (extra, compressed, line)) == want[k], (extra, compressed, line)
                if compressed:
                    p.stdin.write(z.flush())
            finally:
                p.stdin.close()
                rest = p.stdout.read()
                p.wait(10)
            assert p.returncode == 0 and rest == b"", (extra, compressed, rest)
    # Without --lines: a line's ids once the next line has begun (what follows a LF can join it).
    want = peers.ok(run(tok, ["encode"], whole), "whole")
    p = subprocess.Popen([tok.binary, "encode"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    got = b""
    try:
        for k, line in enumerate(lines):
            p.stdin.write(line + b"\n")
            p.stdin.flush()
            if k in (1, 2):
                ready, _, _ = select.select([p.stdout], [], [], 10)
                assert ready, f"no output after {k + 1} lines while the input stays open"
                got += os.read(p.stdout.fileno(), 1 << 16)
    finally:
        p.stdin.close()
        got += p.stdout.read()
        p.wait(10)
    assert p.returncode == 0 and got == want


def test_special_error_before_invalid_utf8(tok):
    """--special error reports the first problem by position: a special token before an invalid byte wins, and
    an invalid byte before a special token is reported as such."""
    one_line_error(run(tok, ["encode", "--special", "error"], b"<|endoftext|>\xff"), "special token", "byte offset 0")
    one_line_error(run(tok, ["encode", "--special", "error"], b"abc\xff<|endoftext|>"), "invalid UTF-8", "byte offset 3")
    # The same for a special token that --allow-special leaves out (an allowed one before it is no problem).
    allow = ["encode", "--allow-special", "<|endoftext|>", "--special", "error"]
    one_line_error(run(tok, allow, b"<|endoftext|>x<|fim_prefix|>\xff"), "<|fim_prefix|>", "byte offset 14")
    one_line_error(run(tok, allow, b"<|endoftext|>\xff<|fim_prefix|>"), "invalid UTF-8", "byte offset 13")
    big = b"text " * 400_000
    one_line_error(run(tok, [*allow, "--threads", "2"], big + b"<|fim_prefix|>" + big + b"\xff"), "<|fim_prefix|>",
                   f"byte offset {len(big)}")
    # Under --invalid-utf8 replace the offset is in the repaired text (as jsonl offsets are), and says so; with
    # bytes it is the input's.
    one_line_error(run(tok, ["encode", "--special", "error", "--invalid-utf8", "replace"], b"\xff\xff<|endoftext|>"),
                   "byte offset 6 of the text with invalid UTF-8 replaced")
    cp = run(tok, ["encode", "--special", "error", "--invalid-utf8", "bytes"], b"\xff\xff<|endoftext|>")
    one_line_error(cp, "byte offset 2 (--special error)")


def test_readme_encode_examples_are_true(tok):
    """Every `echo 'TEXT' | tok encode -t NAME  # IDS` line in the README prints those ids (one said
    "9906 11 1917 0 198" where tok and tiktoken give "9906 11 1917 4999")."""
    readme = (peers.REPO / "README.md").read_text(encoding="utf-8")
    found = re.findall(r"^echo '([^']*)' \| tok encode -t (\S+) +# ([\d ]+)", readme, re.M)
    assert found, "the README has encode examples with their ids"
    for text, name, ids in found:
        got = peers.ok(run(tok, ["encode", "-t", name], (text + "\n").encode()), "readme example").decode().split()
        assert got == ids.split(), (text, name, ids, got)
        if name not in peers.VOCABS:  # a model name
            import tiktoken.model as tm
            name = tm.encoding_name_for_model(name)
        assert [int(i) for i in ids.split()] == peers.encoding(name).encode_ordinary(text + "\n")


def test_count_refuses_a_token_format(tok):
    """`--count` writes counts, so `--format tokens|jsonl` with it is a usage error (it was silently ignored);
    `--format ids`, the default, is accepted."""
    for fmt in ("tokens", "jsonl"):
        cp = run(tok, ["encode", "--count", "--format", fmt], b"hello world\n")
        assert cp.returncode == 64 and b"--count" in cp.stderr and fmt.encode() in cp.stderr, cp.stderr
        assert cp.stdout == b""
    assert peers.ok(run(tok, ["encode", "--count", "--format", "ids"], b"hello world\n"), "ids").split() == [b"3"]


def test_bench_checks_its_arguments_and_input(tok, workdir):
    """`tok bench`: --threads 0 and --repeat 0 are usage errors (they ran one thread, one run, and reported
    threads 0); invalid UTF-8 is an error with its offset (it was timed silently); the JSON line stays valid for
    any vocabulary file name; a closed pipe ends it quietly with status 0 (it died of SIGPIPE)."""
    text = workdir / "bench-text.txt"
    text.write_text("Some text to time.\n" * 100, encoding="utf-8")
    for flag in ("--threads", "--repeat"):
        cp = run(tok, ["bench", flag, "0", text])
        assert cp.returncode == 64 and flag.encode() in cp.stderr, cp.stderr
    bad = workdir / "bench-invalid.txt"
    bad.write_bytes(b"good text \xff\xfe more")
    one_line_error(run(tok, ["bench", bad]), "bench-invalid.txt", "byte offset 10")
    weird = workdir / 'we,ird"<i>\\x.tiktoken'
    shutil.copy(peers.REPO / "vocabularies" / "mixed-8k.tiktoken", weird)
    shutil.copy(peers.REPO / "vocabularies" / "mixed-8k.json", workdir / 'we,ird"<i>\\x.json')
    report = json.loads(peers.ok(run(tok, ["bench", "-t", weird, "--repeat", "1", text]), "bench"))
    assert report["tokenizer"] == 'we,ird"<i>\\x' and report["threads"] >= 1 and report["tokens"] > 0
    cp = subprocess.run(f"'{tok.binary}' bench --repeat 1 '{text}' | true; exit ${{PIPESTATUS[0]}}", shell=True,
                        executable="/bin/bash", capture_output=True, timeout=60)
    assert cp.returncode == 0 and cp.stderr == b"", (cp.returncode, cp.stderr)


def test_vocabulary_without_sidecar(tok, workdir):
    """A .tiktoken file without a sidecar decodes (decoding needs no pattern; it asked for --pattern), encodes
    with --pattern, and eval, which has no --pattern, says what to do without suggesting it."""
    bare = workdir / "bare" / "v.tiktoken"
    bare.parent.mkdir(exist_ok=True)
    shutil.copy(peers.REPO / "vocabularies" / "mixed-8k.tiktoken", bare)
    ids = peers.ok(run(tok, ["encode", "-t", bare, "--pattern", "o200k"], b"Hello, world"), "encode")
    assert peers.ok(run(tok, ["decode", "-t", bare], ids), "decode") == b"Hello, world"
    one_line_error(run(tok, ["encode", "-t", bare], b"x"), "--pattern", "pat_str")
    err = one_line_error(run(tok, ["eval", "-t", bare, bare]), "pat_str")
    assert "--pattern" not in err


def test_shipped_name_means_the_shipped_vocabulary(tok, workdir):
    """A file named like a shipped vocabulary in the current directory does not replace it (it did, even for the
    default -t); `./NAME` loads the file."""
    cwd = workdir / "shadow"
    cwd.mkdir(exist_ok=True)
    (cwd / "cl100k_base").write_bytes(b"not a vocabulary\n")
    want = peers.ok(run(tok, ["encode", "-t", "cl100k_base"], b"hello world"), "encode")
    for args in (["encode"], ["encode", "-t", "cl100k_base"]):
        cp = subprocess.run([tok.binary, *args], input=b"hello world", cwd=cwd, capture_output=True, timeout=60)
        assert cp.returncode == 0 and cp.stdout == want, (args, cp.stderr)
    cp = subprocess.run([tok.binary, "encode", "-t", "./cl100k_base"], input=b"x", cwd=cwd, capture_output=True, timeout=60)
    assert cp.returncode != 0 and b"./cl100k_base" in cp.stderr


def model_names_to_check():
    """Every exact model name in tiktoken's table, every prefix followed by a suffix, and names that only the
    order of the prefixes, or no entry at all, decides."""
    import tiktoken.model as tm
    names = list(tm.MODEL_TO_ENCODING) + [p + "2025-01-01" for p in tm.MODEL_PREFIX_TO_ENCODING]
    names += ["gpt-4o-mini", "ft:gpt-4o-mini:org::abc", "ft:gpt-4:org", "gpt-4-turbo", "gpt-4.1-nano",
              "gpt-5-codex", "gpt-oss-120b", "o4-mini-high", "chatgpt-4o-latest", "gpt-40", "gpt-4o1", "o2",
              "GPT-4o", "gpt-3.5-turbo-16k", "text-davinci-003x"]
    return names


def test_model_names_resolve_as_tiktoken(tok, workdir):
    """`-t MODEL` gives the ids of `tiktoken.encoding_for_model(MODEL)` when tok ships that vocabulary, and an
    error naming the vocabulary when not, or naming the model when tiktoken does not know it."""
    import tiktoken.model as tm
    text = "Hello, world! Привет, мир. 你好，世界 🤖 don't\n"
    (workdir / "models").mkdir(exist_ok=True)  # a directory without files of those names
    for name in model_names_to_check():
        cp = subprocess.run([tok.binary, "encode", "-t", name], input=text.encode(), capture_output=True,
                            cwd=workdir / "models", timeout=60)
        try:
            vocab = tm.encoding_name_for_model(name)
        except KeyError:
            one_line_error(cp, name, "not a model name")
            continue
        if vocab in peers.VOCABS or vocab in peers.DEFINED_BY_TIKTOKEN:
            assert cp.returncode == 0, (name, cp.stderr)
            assert ids_of(cp.stdout) == peers.encoding(vocab).encode_ordinary(text), name
        else:
            one_line_error(cp, name, vocab, "does not ship")


def test_model_name_decodes_and_file_comes_first(tok, workdir):
    """Decode resolves a model name too; a file of a model's name in the current directory is the file."""
    ids = peers.encoding("o200k_base").encode_ordinary("naïve café")
    out = peers.ok(run(tok, ["decode", "-t", "gpt-4o"], peers.fmt_ids(ids).encode()), "decode")
    assert out.decode() == "naïve café"
    cwd = workdir / "model-file"
    cwd.mkdir(exist_ok=True)
    (cwd / "gpt-4o").write_bytes(b"not a vocabulary\n")
    cp = subprocess.run([tok.binary, "encode", "-t", "gpt-4o"], input=b"x", cwd=cwd, capture_output=True, timeout=60)
    one_line_error(cp, "gpt-4o: no pre-tokenization pattern")


def test_control_characters_in_file_names_keep_lines_whole(tok, workdir):
    """A file name with a line break is quoted as JSON in --count output and escaped in error messages, so each
    stays one line."""
    odd = workdir / "a\nb.txt"
    odd.write_bytes(b"hello world\n")
    plain = workdir / "plain.txt"
    plain.write_bytes(b"hi\n")
    cp = run(tok, ["encode", "--count", str(odd), str(plain)], b"")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.decode().splitlines() == [f"3 {json.dumps(str(odd))}", f"2 {plain}", "5 total"]
    one_line_error(run(tok, ["encode", str(workdir / "no\nsuch.txt")], b""), "no\\nsuch.txt", "no such file")


def test_many_small_inputs_cost_little_each(tok, workdir):
    """Each input costs a few pages, not a fresh 1 MB buffer: tok decode zero-filled 1 MB per input, 257 page faults
    each (20,000 files of one id took 10.9 s against encode's 1.5 s). Counted as the child's minor page faults,
    which do not depend on the machine's speed."""
    import resource
    names = []
    for i in range(1000):
        (workdir / f"f{i}.txt").write_bytes(b"9906 ")
        names.append(f"f{i}.txt")
    (workdir / "list").write_text("\n".join(names) + "\n")
    for args in (["decode"], ["encode", "--count"]):
        # A first run caches the vocabulary's image; building it moves glibc's mmap threshold, which hid the cost.
        subprocess.run([tok.binary, *args, str(workdir / "f0.txt")], capture_output=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt
        cp = subprocess.run([tok.binary, *args, "--files-from", "list"], cwd=workdir, capture_output=True)
        faults = resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt - before
        assert cp.returncode == 0, cp.stderr
        assert faults < 20 * len(names), f"{args}: {faults} page faults for {len(names)} inputs"


def test_many_small_files_reuse_buffers(tok, tmp_path):
    """tok encode over many small files: the megabyte buffers every input needs are kept for the next input (each
    was a fresh mapping, faulted in and unmapped: 10,000 files of 1 KB spent 62% of their time in the kernel), on one
    thread and on two, where small files go to the workers in batches. Counted as the child's page faults for the
    last 1,800 of 2,000 files (the faults of all of them less those of the first 200, so that what a run sets up
    once cancels out: a worker's encoder and caches are about 230 faults, and how many workers a run starts varies),
    and its voluntary context switches, which do not depend on the machine's speed."""
    import resource
    text = peers.corpus_bytes(peers.CORPORA_DIR / "prose-en.txt.zst")[:1_000_000].decode("utf-8", "ignore")
    names = []
    for i in range(2000):
        (tmp_path / f"f{i}.txt").write_text(text[i % 1000 * 1000:(i % 1000 + 1) * 1000])
        names.append(f"f{i}.txt")
    (tmp_path / "list").write_text("\n".join(names) + "\n")
    (tmp_path / "first").write_text("\n".join(names[:200]) + "\n")

    def usage(args):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        cp = subprocess.run([tok.binary, *args], cwd=tmp_path, capture_output=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert cp.returncode == 0, cp.stderr
        return after.ru_minflt - before.ru_minflt, after.ru_nvcsw - before.ru_nvcsw, cp.stdout

    enc = peers.encoding("o200k_base")
    expected = sum(len(enc.encode_ordinary((tmp_path / n).read_text())) for n in names)
    usage(["encode", "-t", "o200k_base", str(tmp_path / "f0.txt")])   # caches the vocabulary's image
    for threads in ("1", "2"):
        args = ["encode", "-t", "o200k_base", "--count", "--threads", threads, "--files-from"]
        first, _, _ = usage(args + ["first"])
        faults, switches, out = usage(args + ["list"])
        assert out.decode().splitlines()[-1] == f"{expected} total"
        if os.environ.get("TOK_SANITIZED"):   # AddressSanitizer's allocator maps and faults pages of its own
            continue
        added = faults - first
        assert added < 1800 / 2, f"--threads {threads}: {added} page faults for the last 1,800 files"
        assert switches < len(names) / 10, f"--threads {threads}: {switches} voluntary context switches"


def test_many_inputs_on_several_threads_are_encoded_as_in_turn(tok, tmp_path):
    """Small files are encoded in batches on worker threads while larger ones, zstd files and standard input are
    encoded in turn: every input's ids are tiktoken's, every format and --count give the output of one thread, and
    an error among them leaves what one thread leaves (the output before it, one line naming it, no -o file)."""
    enc = peers.encoding("o200k_base")
    data = b"".join(peers.corpus_bytes(peers.CORPORA_DIR / c) for c in ("multilingual.txt.zst", "code.txt.zst"))
    # Sizes in bytes around the 1 MB that is batched and the 256 KB a batch is made of.
    sizes = [0, 1, 700, 3000, 30_000, 200_000, 262_144, 1_048_576, 1_048_577, 1_500_000] + [900] * 40
    names, texts, at = [], [], 0
    for k, size in enumerate(sizes):
        end = at + max(size - 3, 0)
        while end > at and (data[end] & 0xC0) == 0x80:
            end -= 1
        piece = data[at:end] + b"x" * (size - (end - at))
        at = end
        names.append(f"f{k}.txt")
        texts.append(piece.decode("utf-8"))
        (tmp_path / names[-1]).write_bytes(piece)
    if shutil.which("zstd"):
        subprocess.run(["zstd", "-q", "f4.txt", "-o", "packed.zst"], cwd=tmp_path, check=True)
        names.insert(20, "packed.zst")
        texts.insert(20, texts[4])
    stdin_text = "standard input, between the files: Привет 世界\n"
    names.insert(30, "-")
    texts.insert(30, stdin_text)
    (tmp_path / "list").write_text("\n".join(names) + "\n")

    def encode(args, threads, stdin=stdin_text.encode()):
        return subprocess.run([tok.binary, "encode", "-t", "o200k_base", "--threads", threads, *args,
                               "--files-from", "list"], cwd=tmp_path, input=stdin, capture_output=True)

    ids = peers.ok(encode([], "2"), "encode").decode().split("\n")
    assert len(ids) == len(names) + 1 and ids[-1] == ""
    for name, t, line in zip(names, texts, ids):
        assert [int(x) for x in line.split()] == enc.encode_ordinary(t), name
    for args in ([], ["--count"], ["--lines"], ["--lines", "--count"], ["--format", "jsonl"], ["--format", "tokens"]):
        one = peers.ok(encode(args, "1"), f"{args} on one thread")
        assert peers.ok(encode(args, "2"), f"{args} on two") == one, args
        assert peers.ok(encode(args, "3"), f"{args} on three") == one, args
    # Errors: a file that is not UTF-8, a special token under --special error, a missing file, each among the
    # small files.
    (tmp_path / "bad.txt").write_bytes(b"fine text " * 50 + b"\xff")
    (tmp_path / "special.txt").write_bytes(b"fine text " * 50 + b"<|endoftext|>")
    for bad, extra, needle in (("bad.txt", [], "invalid UTF-8"), ("special.txt", ["--special", "error"], "special token"),
                               ("missing.txt", [], "missing.txt")):
        listed = [n for n in names if n != "-"]
        listed.insert(25, bad)
        (tmp_path / "list").write_text("\n".join(listed) + "\n")
        runs = [encode(["--count", *extra], threads, b"") for threads in ("1", "2")]
        one_line_error(runs[0], bad, needle)
        assert runs[0].stdout == runs[1].stdout and runs[0].stderr == runs[1].stderr, bad
        assert runs[0].stdout.count(b"\n") == 25
        cp = encode(["-o", "out.txt", *extra], "2", b"")
        one_line_error(cp, bad)
        assert not (tmp_path / "out.txt").exists() and not list(tmp_path.glob(".out.txt*"))


def test_many_inputs_hold_few_descriptors_and_stop_at_once(tok, tmp_path):
    """Found by reviews of the batches of small files: a batch kept every small zstd file it met open for the
    reading thread (1,100 of them ran out of descriptors under `ulimit -n 1024`), an error waited for batches of
    later files to end the file they were in (a pattern that takes 20 s on one of them kept the message of a missing
    file before it waiting that long; the inputs after an error are never started in turn), and more below."""
    import resource
    if shutil.which("zstd"):
        names = []
        for i in range(300):
            (tmp_path / f"w{i}.txt").write_text(f"word {i} and some more words\n")
            names.append(f"w{i}.zst")
        subprocess.run(["sh", "-c", "for f in w*.txt; do zstd -q --rm \"$f\" -o \"${f%.txt}.zst\"; done"],
                       cwd=tmp_path, check=True)

        def limited():
            resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
        runs = [subprocess.run([tok.binary, "encode", "--count", "--threads", t, *names], cwd=tmp_path,
                               capture_output=True, preexec_fn=limited) for t in ("1", "2")]
        assert runs[0].returncode == 0 and runs[1].returncode == 0, runs[1].stderr
        assert runs[0].stdout == runs[1].stdout
    text = peers.corpus_bytes(peers.CORPORA_DIR / "multilingual.txt.zst")[:300_000].decode("utf-8", "ignore")
    (tmp_path / "slow.txt").write_text(text.replace("\n", " "))
    (tmp_path / "ok.txt").write_text("hello\n")
    slow = ["--pattern", r"[^\n]*\n|\s+|\S"]
    cp = subprocess.run([tok.binary, "encode", "--threads", "2", *slow, "ok.txt", "missing.txt", "slow.txt"],
                        cwd=tmp_path, capture_output=True, timeout=10)
    one_line_error(cp, "missing.txt")
    (tmp_path / "big.txt").write_text("a b c\n" * 400_000)
    cp = subprocess.run(f"{tok.binary} encode --threads 2 --lines {slow[0]} '{slow[1]}' big.txt slow.txt | head -c 10",
                        shell=True, cwd=tmp_path, capture_output=True, timeout=10)
    assert cp.returncode == 0 and cp.stderr == b"" and len(cp.stdout) == 10, cp
    # A second review: a batch went on after a file whose pattern failed, spending the pattern's budget (about a
    # second) on each later failing file of the batch before the reading thread ended the process at the first.
    for i in range(20):
        (tmp_path / f"stuck{i:02d}.txt").write_bytes(b"a" * 3000)
    stuck = ["--pattern", r"(a|aa)*c|\s+|\S", "ok.txt"] + [f"stuck{i:02d}.txt" for i in range(20)]
    cp = subprocess.run([tok.binary, "encode", "--threads", "2", *stuck], cwd=tmp_path, capture_output=True, timeout=15)
    one_line_error(cp, "stuck00.txt: matching the pattern")
    # With a pattern that may fail, output is pushed out before each input, so a full disk is reported before the
    # missing file after it (the batched inputs' output had not been pushed out).
    with open("/dev/full", "wb") as full:
        for threads in ("1", "2"):
            cp = subprocess.run([tok.binary, "encode", "--threads", threads, "--pattern", r"\s+|\S+", "ok.txt",
                                 "big.txt", "missing.txt"], cwd=tmp_path, stdout=full, stderr=subprocess.PIPE)
            one_line_error(cp, "<stdout>", "no space left")
    # No file is read ahead past a pipe: what writes it may change the files after it.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "later.txt").write_text("original")
    writer = subprocess.Popen(["sh", "-c", "exec 3>fifo; echo first >&3; sleep 0.5; echo changed > later.txt; exec 3>&-"],
                              cwd=tmp_path)
    cp = subprocess.run([tok.binary, "encode", "--threads", "2", "--format", "tokens", "fifo", "later.txt", "ok.txt"],
                        cwd=tmp_path, capture_output=True, timeout=30)
    writer.wait()
    assert cp.returncode == 0 and cp.stdout.split(b"\n")[1].startswith(b"changed"), cp


def test_long_argument_lists_parse_as_short_ones(tok, tmp_path):
    """Past 64 arguments the trailing file names are parsed by tok, not ArgumentParser (whose time grows with the
    square of their number: 10,000 names took 2.4 s). The result must be the same as ArgumentParser's: every name,
    in order, an option's value before them kept as such, standard input among them, and the same usage errors."""
    names = []
    for i in range(300):
        (tmp_path / f"f{i}.txt").write_text(f"file {i} says hello{' wörld' * (i % 7)}\n")
        names.append(f"f{i}.txt")
    (tmp_path / "list").write_text("\n".join(names) + "\n")
    enc = peers.encoding("o200k_base")

    def tok_run(args, stdin=b""):
        return subprocess.run([tok.binary, *args], cwd=tmp_path, input=stdin, capture_output=True)

    counts = [len(enc.encode_ordinary((tmp_path / n).read_text())) for n in names]
    expected = "".join(f"{c} {n}\n" for c, n in zip(counts, names)) + f"{sum(counts)} total\n"
    for args in (["encode", "--count", "-t", "o200k_base"], ["encode", "-t", "o200k_base", "--count", "--threads", "2"],
                 ["encode", "--count", "--tokenizer=o200k_base", "--"]):
        cp = tok_run(args + names)
        assert cp.returncode == 0 and cp.stdout.decode() == expected, (args, cp.stderr)
    # An option's value right before the names, and standard input among them.
    cp = tok_run(["encode", "-t", "o200k_base", "--output", "out.txt"] + names[:150] + ["-"] + names[150:], b"stdin text")
    assert cp.returncode == 0, cp.stderr
    ids = [int(x) for x in (tmp_path / "out.txt").read_text().split()]
    texts = [(tmp_path / n).read_text() for n in names]
    assert ids == [i for t in texts[:150] + ["stdin text"] + texts[150:] for i in enc.encode_ordinary(t)]
    ids_files = []
    for k, n in enumerate(names):
        (tmp_path / f"{n}.ids").write_text(" ".join(map(str, enc.encode_ordinary(texts[k]))) + "\n")
        ids_files.append(f"{n}.ids")
    cp = tok_run(["decode", "-t", "o200k_base"] + ids_files)
    assert cp.returncode == 0 and cp.stdout.decode() == "".join(texts), cp.stderr
    # The same usage error, worded as ArgumentParser words it for a short list.
    short = tok_run(["encode", "--files-from", "-", names[0], "-"], b"x")
    long = tok_run(["encode", "--files-from", "-"] + names + ["-"], b"x")
    assert short.returncode == long.returncode == 64
    assert short.stderr == long.stderr and b"Usage: tok encode" in long.stderr, long.stderr
    # A check that fails without the trailing names is not always the first to fail with them.
    short = tok_run(["encode", "--files-from", "-", "-o", "", names[0], "-"], b"x")
    long = tok_run(["encode", "--files-from", "-", "-o", ""] + names + ["-"], b"x")
    assert short.returncode == long.returncode == 64 and short.stderr == long.stderr, long.stderr
    cp = tok_run(["eval", "-t", "o200k_base", "--json"] + names)
    assert cp.returncode == 0, cp.stderr
    assert json.loads(cp.stdout)["corpus_files"] == names


def test_output_before_an_error_does_not_depend_on_earlier_inputs(tok, tmp_path):
    """The buffers an input leaves for the next one may be larger than it asks for; reads still take the sizes they
    always did, so what is written of an input before its error is the same whatever came before it."""
    (tmp_path / "g.txt").write_bytes(b"7" * 1_000_000)
    words = " ".join(f"word{i}" for i in range(250_000)).encode()
    (tmp_path / "t.txt").write_bytes(words[:1_200_000] + b"<|endoftext|>" + words[1_200_000:2_000_000])
    alone = subprocess.run([tok.binary, "encode", "--special", "error", "t.txt"], cwd=tmp_path, capture_output=True)
    after = subprocess.run([tok.binary, "encode", "--special", "error", "g.txt", "t.txt"], cwd=tmp_path,
                           capture_output=True)
    assert alone.returncode == after.returncode == 1
    assert after.stdout.split(b"\n", 1)[1] == alone.stdout, (len(after.stdout), len(alone.stdout))


def test_file_names_that_are_not_utf8_are_refused_by_name(tok, workdir):
    """A Latin-1 file name is refused with its bytes shown, not read as another name with U+FFFD in it ("no such
    file", or -o writing a different file), and not skipped without a word in a directory of a training corpus."""
    latin1 = os.fsencode(str(workdir)) + b"/n\xe9.txt"
    with open(latin1, "wb") as f:
        f.write(b"hello world\n")
    (workdir / "ok.txt").write_bytes(b"more text\n")
    for args in (["encode", latin1], ["decode", latin1], ["encode", "-o", latin1 + b".out", str(workdir / "ok.txt")]):
        cp = subprocess.run([tok.binary, *args], capture_output=True)
        assert cp.returncode == 64, cp
        assert cp.stderr.count(b"\n") == 1 and b"n\\xE9.txt" in cp.stderr and b"not UTF-8" in cp.stderr, cp.stderr
    assert not os.path.exists(latin1 + b".out")
    listing = subprocess.run([tok.binary, "encode", "--count", "--files-from", "-"], capture_output=True,
                             input=b"ok.txt\n" + b"n\xe9.txt\n", cwd=workdir)
    one_line_error(listing, "<stdin>: entry 2", "n\\xE9.txt", "not UTF-8")
    for corpus in (str(workdir), str(workdir / "*.txt")):
        cp = subprocess.run([tok.binary, "train", "--vocab-size", "300", "-o", str(workdir / "v"), corpus],
                            capture_output=True)
        one_line_error(cp, "n\\xE9.txt", "not UTF-8")
        assert not list(workdir.glob("v.*"))


def test_small_input_and_name_cases(tok, workdir):
    """Found by a review of tok decode: an empty -o name failed after the work as "': no such file"; a byte
    order mark, vertical tab or form feed in an id file, and a '-' sign, were "found byte 0x..."; a CR LF list
    kept the CR in each name."""
    for cmd in (["encode"], ["decode"], ["count"]):
        cp = run(tok, [*cmd, "-o", ""], b"9906")
        assert cp.returncode == 64 and b"-o needs a file name" in cp.stderr, cp.stderr
    one_line_error(run(tok, ["encode", ""]), '"" (an empty file name)')
    cp = run(tok, ["decode"], b"\xef\xbb\xbf9906\x0b1917\x0c")
    assert cp.returncode == 0 and cp.stdout == b"Hello world", cp
    one_line_error(run(tok, ["decode"], b"9906 -1"), "found '-' (0x2d); ids are not negative")
    (workdir / "a.txt").write_bytes(b"hello\n")
    cp = subprocess.run([tok.binary, "encode", "--count", "--files-from", "-"], input=b"a.txt\r\n\r\na.txt\r\n",
                        cwd=workdir, capture_output=True)
    assert cp.returncode == 0 and cp.stdout == b"2 a.txt\n2 a.txt\n4 total\n", cp


def test_second_review_of_names_and_decode(tok, tmp_path):
    """A byte order mark split across reads of a slow pipe; a symbolic link whose target is not UTF-8 (-o wrote
    another file); a --count name that starts with a quote; a list's byte order mark and CR-only lines; empty
    names of corpora and vocabularies."""
    import time
    p = subprocess.Popen([tok.binary, "decode"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for part in (b"\xef", b"\xbb", b"\xbf9906 1917"):
        p.stdin.write(part)
        p.stdin.flush()
        time.sleep(0.2)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0 and out == b"Hello world", err
    one_line_error(run(tok, ["decode"], b"\xef\xbb"), "found byte 0xef")

    os.symlink(b"out\xe9.ids", os.fsencode(str(tmp_path / "lnk")))
    (tmp_path / "a.txt").write_bytes(b"hello\n")
    cp = subprocess.run([tok.binary, "encode", "-o", "lnk", "a.txt"], cwd=tmp_path, capture_output=True)
    one_line_error(cp, 'a symbolic link to "out\\xE9.ids"', "not UTF-8")
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "lnk"]

    (tmp_path / '"q.txt').write_bytes(b"hello\n")
    cp = subprocess.run([tok.binary, "encode", "--count", '"q.txt', "a.txt"], cwd=tmp_path, capture_output=True)
    assert cp.stdout.decode().splitlines() == ['2 "\\"q.txt"', "2 a.txt", "4 total"], cp

    cp = subprocess.run([tok.binary, "encode", "--count", "--files-from", "-"], cwd=tmp_path, capture_output=True,
                        input=b"\xef\xbb\xbfa.txt\r\n\r\nn\xe9.txt\r\n")
    one_line_error(cp, "<stdin>: entry 2:", "n\\xE9.txt")

    for args in (["train", "-o", "v", ""], ["count", ""], ["eval", ""], ["eval", "--parallel", "", "a.txt"]):
        one_line_error(subprocess.run([tok.binary, *args], cwd=tmp_path, capture_output=True), '""', "empty")
    one_line_error(run(tok, ["encode", "-t", "", "a.txt"]), "-t needs", "not an empty string")


def test_decode_names_where_a_broken_character_began(tok):
    """76460 is the first three bytes of an emoji (cl100k); the id after it that does not continue it is where the
    error is found, and the message also names the id that began the character."""
    one_line_error(run(tok, ["decode"], b"9906 76460 9906"), "id 3 of the line (3rd of the input)",
                   "breaks off the character that the 2nd id of the input begins")
    one_line_error(run(tok, ["decode", "--lines"], b"1\n9906 76460 9906"), "line 2, id 3 of the line (4th of the input)",
                   "the 3rd id of the input begins")
    one_line_error(run(tok, ["decode"], b"9906 76460"), "end in the middle of a UTF-8 character that the 2nd id")
    one_line_error(run(tok, ["decode", "--lines"], b"1\n9906 76460\n"), "character that the 3rd id of the input begins")


def test_shipped_name_overridden_with_a_pattern_of_its_own(tok, tmp_path):
    """A copy of a shipped vocabulary in $TOK_VOCABULARIES whose sidecar has a pattern only ICU runs is loaded with
    it (it was an error from TokCore, which runs only the standard patterns)."""
    import tiktoken
    shutil.copy(peers.VOCAB_DIR / "cl100k_base.tiktoken", tmp_path / "cl100k_base.tiktoken")
    meta = {**peers.vocab_meta("cl100k_base"), "pat_str": r"\w+|\s+|[^\w\s]+"}   # the cached dict stays as it is
    (tmp_path / "cl100k_base.json").write_text(json.dumps(meta), encoding="utf-8")
    text = "hello world, it's 2026!\nnaïve café 東京"
    base = peers.encoding("cl100k_base")
    enc = tiktoken.Encoding(name="custom", pat_str=meta["pat_str"], mergeable_ranks=base._mergeable_ranks,
                            special_tokens=base._special_tokens)
    cp = subprocess.run([tok.binary, "encode", "-t", "cl100k_base"], input=text.encode(), capture_output=True,
                        env={**os.environ, "TOK_VOCABULARIES": str(tmp_path)})
    assert cp.returncode == 0, cp.stderr
    want = enc.encode_ordinary(text)
    assert want != base.encode_ordinary(text), "the pattern makes a difference"
    assert peers.parse_ids(cp.stdout) == want
    # The same through a model name that maps to it.
    cp = subprocess.run([tok.binary, "encode", "-t", "gpt-4"], input=text.encode(), capture_output=True,
                        env={**os.environ, "TOK_VOCABULARIES": str(tmp_path)})
    assert cp.returncode == 0 and peers.parse_ids(cp.stdout) == want, cp.stderr
    # And for a name whose sidecar lies over another vocabulary's ranks (o200k_harmony over o200k_base).
    harmony = tmp_path / "h"
    harmony.mkdir()
    shutil.copy(peers.VOCAB_DIR / "o200k_base.tiktoken", harmony / "o200k_base.tiktoken")
    hmeta = {**json.loads((peers.VOCAB_DIR / "o200k_harmony.json").read_text(encoding="utf-8")), "pat_str": meta["pat_str"]}
    (harmony / "o200k_harmony.json").write_text(json.dumps(hmeta), encoding="utf-8")
    o200k = peers.encoding("o200k_base")
    henc = tiktoken.Encoding(name="custom-h", pat_str=meta["pat_str"], mergeable_ranks=o200k._mergeable_ranks,
                             special_tokens={})
    cp = subprocess.run([tok.binary, "encode", "-t", "o200k_harmony"], input=text.encode(), capture_output=True,
                        env={**os.environ, "TOK_VOCABULARIES": str(harmony)})
    assert cp.returncode == 0 and peers.parse_ids(cp.stdout) == henc.encode_ordinary(text), cp.stderr


def test_usage_errors_and_count_names_keep_their_lines(tok, tmp_path):
    """A usage error quoting a value with a line break, and a --count name with a C1 control character (CSI
    U+009B, a terminal escape), are escaped."""
    cp = run(tok, ["eval", "-t", "a\nb", "-t", "a\nb", "x"])
    assert cp.returncode == 64 and b"a\\nb" in cp.stderr and b"a\nb" not in cp.stderr, cp.stderr
    odd = tmp_path / "c\u009bd"
    odd.write_bytes(b"hi\n")
    cp = subprocess.run([tok.binary, "encode", "--count", str(odd)], capture_output=True)
    assert cp.returncode == 0 and cp.stdout.decode() == f"2 {json.dumps(str(odd))}\n", cp
