"""The `tok` CLI against tiktoken 0.14 (built offline from vocabularies/), for every shipped
vocabulary: corpora (whole file, per line, count, threads, round trip), adversarial
strings, random multilingual strings, long runs, special tokens, decode, random bytes.

CLI flags: peers.CLI. Binary: $TOK_BIN (default .build/release/tok).
"""
from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor

import pytest

import peers
from peers import CLI, check_bytes, check_lines, check_whole, fmt_ids, ok

pytestmark = pytest.mark.cli

CORPORA = peers.corpus_files()
per_corpus = pytest.mark.parametrize("corpus", CORPORA, ids=[p.name for p in CORPORA])


# ----------------------------------------------------------------------------- expectations
@functools.lru_cache(maxsize=2)
def corpus_text(path) -> str:
    return peers.corpus_bytes(path).decode("utf-8")


@functools.lru_cache(maxsize=4)
def expected_corpus_ids(vocab, path) -> list[int]:
    return peers.encoding(vocab).encode_ordinary(corpus_text(path))


@functools.lru_cache(maxsize=2)
def expected_corpus_lines(vocab, path):
    enc = peers.encoding(vocab)
    lines = peers.split_lines(corpus_text(path))
    return lines, [enc.encode_ordinary(line) for line in lines]


def write(workdir, name, data) -> str:
    p = workdir / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return str(p)


def assert_encodes(tok, vocab, enc, text: str, label: str, workdir, **kw):
    path = write(workdir, f"in-{vocab}.txt", text)
    out = ok(tok.encode(vocab, [path], **kw), label)
    check_whole(enc, out, enc.encode_ordinary(text), label)


def assert_encodes_each(tok, vocab, enc, strings: list[str], label: str):
    """Each string as its own input on stdin (one process each; two at a time)."""
    with ThreadPoolExecutor(2) as ex:
        outs = list(ex.map(lambda s: tok.encode(vocab, stdin=s.encode()), strings))
    for i, (s, cp) in enumerate(zip(strings, outs)):
        check_whole(enc, ok(cp, f"{label} #{i}"), enc.encode_ordinary(s), f"{vocab} {label} #{i} {s[:60]!r}")


def assert_encodes_lines(tok, vocab, enc, lines: list[str], label: str, workdir):
    assert all("\n" not in s for s in lines)
    path = write(workdir, f"lines-{vocab}.txt", "".join(s + "\n" for s in lines))
    out = ok(tok.encode(vocab, [path], lines=True), label)
    check_lines(enc, out, [enc.encode_ordinary(s) for s in lines], lines, label)


# ----------------------------------------------------------------------------- corpora
@per_corpus
def test_corpus_whole_file(tok, vocab, enc, corpus):
    """`tok encode -t V file.zst` == encode_ordinary(whole text)."""
    out = ok(tok.encode(vocab, [corpus]), corpus.name)
    check_whole(enc, out, expected_corpus_ids(vocab, corpus), f"{vocab} {corpus.name}")


@per_corpus
def test_corpus_plain_file_and_stdin(tok, vocab, enc, corpus, workdir):
    """The decompressed file and the same bytes on stdin give the same ids as tiktoken."""
    raw = peers.corpus_bytes(corpus)
    plain = write(workdir, corpus.name.removesuffix(".zst"), raw)
    exp = expected_corpus_ids(vocab, corpus)
    check_whole(enc, ok(tok.encode(vocab, [plain]), plain), exp, f"{vocab} {plain}")
    check_whole(enc, ok(tok.encode(vocab, stdin=raw), "stdin"), exp, f"{vocab} stdin<{corpus.name}")


@per_corpus
def test_corpus_lines(tok, vocab, enc, corpus):
    """`--lines`: one output line per input line, each == encode_ordinary(line)."""
    lines, exp = expected_corpus_lines(vocab, corpus)
    out = ok(tok.encode(vocab, [corpus], lines=True), corpus.name)
    check_lines(enc, out, exp, lines, f"{vocab} {corpus.name} --lines")


@per_corpus
def test_corpus_count(tok, vocab, corpus):
    out = ok(tok.encode(vocab, [corpus], count=True), corpus.name).split()
    assert out, "empty --count output"
    n = int(out[0])
    exp = len(expected_corpus_ids(vocab, corpus))
    assert n == exp, f"{vocab} {corpus.name}: --count printed {n}, tiktoken has {exp} tokens"


@per_corpus
def test_corpus_threads_identical(tok, vocab, enc, corpus):
    """--threads 2 is byte-identical to --threads 1 (whole file and --lines), and correct."""
    one = ok(tok.encode(vocab, [corpus], threads=1), "--threads 1")
    two = ok(tok.encode(vocab, [corpus], threads=2), "--threads 2")
    check_bytes(two, one, f"{vocab} {corpus.name}: --threads 2 vs --threads 1")
    check_whole(enc, two, expected_corpus_ids(vocab, corpus), f"{vocab} {corpus.name} --threads 2")
    one = ok(tok.encode(vocab, [corpus], threads=1, lines=True), "--threads 1 --lines")
    two = ok(tok.encode(vocab, [corpus], threads=2, lines=True), "--threads 2 --lines")
    check_bytes(two, one, f"{vocab} {corpus.name}: --lines --threads 2 vs --threads 1")


@per_corpus
def test_corpus_roundtrip(tok, vocab, corpus):
    """decode(encode(x)) == x through the CLI."""
    ids = ok(tok.encode(vocab, [corpus]), "encode")
    back = ok(tok.decode(vocab, ids), "decode")
    check_bytes(back, peers.corpus_bytes(corpus), f"{vocab} {corpus.name} round trip")


@per_corpus
def test_corpus_decode_tiktoken_ids(tok, vocab, enc, corpus):
    """`tok decode` of tiktoken's ids == enc.decode_bytes(ids)."""
    ids = expected_corpus_ids(vocab, corpus)
    back = ok(tok.decode(vocab, fmt_ids(ids).encode() + b"\n"), "decode")
    check_bytes(back, enc.decode_bytes(ids), f"{vocab} {corpus.name} decode")


def test_corpora_exist():
    assert CORPORA, "no corpora/*.zst found"


# ----------------------------------------------------------------------------- decode
def _utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _ids_text(ids) -> bytes:
    """ids separated by assorted whitespace (space, newline, tab, runs, CRLF)."""
    seps = [" ", "\n", "\t", "  ", "\r\n", " \n "]
    return "".join(str(t) + seps[i % len(seps)] for i, t in enumerate(ids)).encode()


def test_decode_every_utf8_token(tok, vocab, enc):
    """Every rank whose bytes are UTF-8 on their own, in rank order, in one run."""
    ids = [t for b, t in sorted(enc._mergeable_ranks.items(), key=lambda kv: kv[1]) if _utf8(b)]
    back = ok(tok.decode(vocab, _ids_text(ids)), "decode")
    check_bytes(back, enc.decode_bytes(ids), f"{vocab} decode of {len(ids)} UTF-8 ranks")


def test_decode_every_token_lossy(tok, vocab, enc):
    """All ranks with --lossy == tiktoken's decode(errors="replace") (U+FFFD per maximal subpart)."""
    ids = sorted(enc._mergeable_ranks.values())
    back = ok(tok.decode(vocab, _ids_text(ids), lossy=True), "decode --lossy")
    exp = enc.decode_bytes(ids).decode("utf-8", "replace").encode()
    check_bytes(back, exp, f"{vocab} decode --lossy of all {len(ids)} ranks")


def test_decode_every_token_raw(tok, vocab, enc):
    if CLI.decode_raw_bytes is None:
        pytest.skip("the CLI has no raw-bytes decode option (peers.CLI.decode_raw_bytes)")
    ids = sorted(enc._mergeable_ranks.values())
    back = ok(tok.decode(vocab, _ids_text(ids), raw=True), "decode raw")
    check_bytes(back, enc.decode_bytes(ids), f"{vocab} raw decode of all {len(ids)} ranks")


def test_decode_invalid_utf8_fails_without_lossy(tok, vocab, enc):
    if CLI.decode_raw_bytes == ():
        pytest.skip("decode writes raw bytes by default")
    lone = enc._mergeable_ranks[b"\x80"]
    cp = tok.decode(vocab, f"15 {lone} 16".encode())
    assert cp.returncode != 0, f"{vocab}: decode of a lone continuation byte succeeded: {cp.stdout!r}"
    split = enc.encode_ordinary("é")  # may be one token; the bytes of a split char come out whole
    assert ok(tok.decode(vocab, fmt_ids(split).encode()), "decode é") == "é".encode()


def test_decode_special_ids(tok, vocab, enc):
    ids = sorted(enc._special_tokens.values())
    mixed = [ids[0], 15, *ids, 220, ids[-1]]
    back = ok(tok.decode(vocab, fmt_ids(mixed).encode()), "decode specials")
    check_bytes(back, enc.decode_bytes(mixed), f"{vocab} decode special ids")


def test_decode_empty(tok, vocab):
    assert ok(tok.decode(vocab, b""), "decode empty") == b""


def test_decode_python_lists(tok, vocab, enc, adversarial):
    """What `print(enc.encode(text))` writes (a Python list, JSON's array syntax too) decodes as printed: one
    list per line with --lines, or all lists as one stream; empty lists give empty lines."""
    texts = [s for s in adversarial if "\n" not in s and "\r" not in s][:200] + ["", "héllo wörld", "日本語のテキスト"]
    printed = "".join(f"{enc.encode_ordinary(t)}\n" for t in texts).encode()
    assert b"[" in printed and b", " in printed
    want = "".join(t + "\n" for t in texts).encode()
    cp = tok.run([*CLI.decode, CLI.vocab, vocab, "--lines"], printed)
    check_bytes(ok(cp, "decode --lines of Python lists"), want, f"{vocab} decode --lines of printed lists")
    check_bytes(ok(tok.decode(vocab, printed), "decode of Python lists"), "".join(texts).encode(),
                f"{vocab} decode of printed lists")
    bad = tok.decode(vocab, b"[15339, {1917}]")
    assert bad.returncode != 0 and b"0x7b" in bad.stderr, bad.stderr


def test_encode_empty_and_newline_only(tok, vocab, workdir):
    empty = write(workdir, "empty.txt", b"")
    assert ok(tok.encode(vocab, [empty]), "empty") == b"\n"
    assert ok(tok.encode(vocab, [empty], lines=True), "empty --lines") == b""
    nl = write(workdir, "nl.txt", b"\n\n")
    assert ok(tok.encode(vocab, [nl], lines=True), "--lines of two empty lines") == b"\n\n"
    last = write(workdir, "last.txt", b"a\nb")   # last line without \n is included
    exp = peers.expected_lines([peers.encoding(vocab).encode_ordinary(s) for s in ("a", "b")])
    assert ok(tok.encode(vocab, [last], lines=True), "--lines, no final newline") == exp


# ----------------------------------------------------------------------------- adversarial.json
@pytest.fixture(scope="module")
def adversarial():
    strings = peers.adversarial_strings()
    if strings is None:
        pytest.skip(f"{peers.ADVERSARIAL_JSON} not present yet")
    return strings


def test_adversarial_each(tok, vocab, enc, adversarial, workdir):
    """Each string as its own input: strings without \\n via one --lines run, the others one by one."""
    single = [s for s in adversarial if "\n" not in s]
    if single:
        assert_encodes_lines(tok, vocab, enc, single, f"{vocab} adversarial (--lines)", workdir)
    assert_encodes_each(tok, vocab, enc, [s for s in adversarial if "\n" in s], "adversarial with newline")


@pytest.mark.parametrize("sep", ["", "\n"], ids=["concat", "newline-joined"])
def test_adversarial_joined(tok, vocab, enc, adversarial, workdir, sep):
    assert_encodes(tok, vocab, enc, sep.join(adversarial), f"{vocab} adversarial joined {sep!r}", workdir)


# ----------------------------------------------------------------------------- random strings
RANDOM = peers.random_strings(4000)
RANDOM_NO_NL = [s for s in RANDOM if "\n" not in s]
RANDOM_NL = [s for s in RANDOM if "\n" in s]


def test_random_strings_lines(tok, vocab, enc, workdir):
    """>= 2000 random multilingual strings without \\n, one per line, each vs encode_ordinary."""
    assert len(RANDOM_NO_NL) >= 2000
    assert_encodes_lines(tok, vocab, enc, RANDOM_NO_NL, f"{vocab} random strings --lines", workdir)


@pytest.mark.parametrize("sep", ["", "\n"], ids=["concat", "newline-joined"])
def test_random_strings_joined(tok, vocab, enc, workdir, sep):
    assert_encodes(tok, vocab, enc, sep.join(RANDOM), f"{vocab} all random strings joined {sep!r}", workdir)


def test_random_strings_with_newlines_each(tok, vocab, enc):
    """The first 20 random strings that contain \\n, each as its own input on stdin."""
    assert_encodes_each(tok, vocab, enc, RANDOM_NL[:20], "random string with newline")


# ----------------------------------------------------------------------------- long runs
LONG = peers.long_runs()


@pytest.mark.parametrize("case", list(LONG), ids=list(LONG))
def test_long_runs(tok, vocab, enc, workdir, case):
    text = LONG[case]
    exp = enc.encode_ordinary(text)
    path = write(workdir, f"long-{case}.txt", text)
    check_whole(enc, ok(tok.encode(vocab, [path]), case), exp, f"{vocab} {case}")
    check_whole(enc, ok(tok.encode(vocab, [path], threads=2), case), exp, f"{vocab} {case} --threads 2")


def test_long_pieces_small_alphabets(tok, vocab, enc, workdir):
    """Hundreds of long pre-tokens over tiny alphabets, one per line, against tiktoken."""
    assert_encodes_lines(tok, vocab, enc, peers.long_pieces(), "long pieces", workdir)


def test_contractions_at_every_window_offset(tok, vocab, enc, workdir):
    """Contraction suffixes in both cases, some crossing the scanners' 64-byte windows: o200k once split
    "E'rEL" as "E'r", "EL" when the suffix "'rE" ran past a window's end (its "E" looked like a camel-case start)."""
    cores = ["E'rEL", "He'rEL", "x'vEL", "y'lLAMA", "x'rEL'LL'd", "ab'RE'rE'lLx", "IT'S'Re'vE", "we'Ll'Dx",
             "don'T'mE", "\u0415'rE\u041b", "\u00e9'lL\u00c9"]
    fillers = ["ab " * 60, "a1 " * 60, "xy" * 90, "ab\t" * 60]
    lines = [(f[:k] + core + " filler" * 12) for core in cores for f in fillers for k in range(0, 140, 1 if f is fillers[0] else 7)]
    assert_encodes_lines(tok, vocab, enc, lines, f"{vocab} contractions at window offsets (--lines)", workdir)


def test_random_code_points_every_plane(tok, vocab, enc, workdir):
    """Random code points from all planes (see `peers.random_code_points`), whole file on one and two threads."""
    text = peers.random_code_points()
    assert len(text.encode()) > 200_000
    assert_encodes(tok, vocab, enc, text, f"{vocab} random code points", workdir)
    assert_encodes(tok, vocab, enc, text, f"{vocab} random code points --threads 2", workdir, threads=2)


# ----------------------------------------------------------------------------- special tokens
def special_text(vocab) -> str:
    specials = list(peers.vocab_meta(vocab)["special_tokens"])
    parts = ["Hello world, <|endoftext| is not complete, <|not_a_special|> neither.\n"]
    for i, s in enumerate(specials):
        parts.append(f"x{i} {s}after {s}{s} ")
    parts.append("\nend <|endoftext|>")
    return "".join(parts)


def test_special_default_is_ordinary(tok, vocab, enc, workdir):
    """Without --special, special-token strings are plain text."""
    assert_encodes(tok, vocab, enc, special_text(vocab), f"{vocab} specials as text", workdir)


def test_special_allow(tok, vocab, enc, workdir):
    text = special_text(vocab)
    path = write(workdir, "special.txt", text)
    out = ok(tok.encode(vocab, [path], special="allow"), "--special allow")
    check_whole(enc, out, enc.encode(text, allowed_special="all"), f"{vocab} --special allow")


def test_special_error_rejects(tok, vocab, workdir):
    for s in sorted(peers.vocab_meta(vocab)["special_tokens"])[:3]:
        path = write(workdir, "special-one.txt", f"some text {s} more text\n")
        cp = tok.encode(vocab, [path], special="error")
        assert cp.returncode != 0, f"{vocab} --special error accepted text containing {s!r}"


def test_special_error_plain_text_ok(tok, vocab, enc, workdir):
    text = "no special here: <|endoftext| <|fim_prefix <|x|> |>\n" + "".join(RANDOM[:200])
    for s in peers.vocab_meta(vocab)["special_tokens"]:
        text = text.replace(s, s[:-1])
    assert_encodes(tok, vocab, enc, text, f"{vocab} --special error, no specials", workdir, special="error")


def allowed_subsets(vocab):
    specials = sorted(peers.vocab_meta(vocab)["special_tokens"], key=peers.vocab_meta(vocab)["special_tokens"].get)
    # Proper subsets only: o200k has two special tokens.
    return [specials[:1], specials[-1:]] + ([specials[:2]] if len(specials) > 2 else [])


def allow_args(vocab, allowed, others, files=(), threads=None, lines=False):
    args = ["encode", "-t", vocab, *[a for s in allowed for a in ("--allow-special", s)]]
    if others != "plain":
        args += ["--special", others]
    if threads:
        args += ["--threads", str(threads)]
    if lines:
        args.append("--lines")
    return args + [str(f) for f in files]


def test_allow_special_subset_others_plain(tok, vocab, enc, workdir):
    """--allow-special S... gives tiktoken's encode(text, allowed_special=S, disallowed_special=()): S are ids, the
    other special strings ordinary text; whole file on one and two threads, and per line."""
    text = special_text(vocab)
    path = write(workdir, "special-subset.txt", text)
    for allowed in allowed_subsets(vocab):
        want = enc.encode(text, allowed_special=set(allowed), disallowed_special=())
        assert want != enc.encode(text, allowed_special="all") and want != enc.encode_ordinary(text)
        for threads in (1, 2):
            out = ok(tok.run(allow_args(vocab, allowed, "plain", [path], threads)), "--allow-special")
            check_whole(enc, out, want, f"{vocab} --allow-special {allowed[:2]} --threads {threads}")
        lines = peers.split_lines(text)
        out = ok(tok.run(allow_args(vocab, allowed, "plain", [path], lines=True)), "--allow-special --lines")
        check_lines(enc, out, [enc.encode(l, allowed_special=set(allowed), disallowed_special=()) for l in lines],
                    lines, f"{vocab} --allow-special --lines")


def test_allow_special_subset_others_error(tok, vocab, enc, workdir):
    """With --special error the specials left out are an error at the first one, as tiktoken's default
    disallowed_special="all" raises; text holding only allowed ones encodes as tiktoken's encode(allowed_special=S)."""
    import re
    text = special_text(vocab)
    path = write(workdir, "special-subset-error.txt", text)
    every = peers.vocab_meta(vocab)["special_tokens"]
    for allowed in allowed_subsets(vocab):
        refused = [t for t in every if t not in allowed]
        with pytest.raises(ValueError):
            enc.encode(text, allowed_special=set(allowed))
        first = min((m.start(), m.group()) for t in refused for m in re.finditer(re.escape(t), text))
        offset = len(text[:first[0]].encode())
        cp = tok.run(allow_args(vocab, allowed, "error", [path], threads=2))
        assert cp.returncode != 0, f"{vocab}: --allow-special {allowed[:2]} --special error accepted {first[1]}"
        err = cp.stderr.decode()
        assert first[1] in err and f"byte offset {offset}" in err, err
        only_allowed = text
        for t in refused:
            only_allowed = only_allowed.replace(t, t[:-1])
        path2 = write(workdir, "special-only-allowed.txt", only_allowed)
        out = ok(tok.run(allow_args(vocab, allowed, "error", [path2])), "--allow-special --special error")
        check_whole(enc, out, enc.encode(only_allowed, allowed_special=set(allowed)), f"{vocab} only allowed specials")


def test_allow_special_across_segments(tok, vocab, enc, workdir):
    """3 MB with allowed and ignored special strings every few hundred bytes, so that segment cuts fall next to
    and between them, on one and two threads."""
    allowed = allowed_subsets(vocab)[0]
    every = list(peers.vocab_meta(vocab)["special_tokens"])
    rng = __import__("random").Random(31)
    parts, size = [], 0
    while size < 3_000_000:
        parts.append(RANDOM[rng.randrange(len(RANDOM))])
        if rng.random() < 0.05:
            parts.append(rng.choice(every + allowed * 3))
        size += len(parts[-1])
    text = "".join(parts)
    path = write(workdir, "special-segments.txt", text)
    want = enc.encode(text, allowed_special=set(allowed), disallowed_special=())
    for threads in (1, 2):
        out = ok(tok.run(allow_args(vocab, allowed, "plain", [path], threads)), "--allow-special 3 MB")
        check_whole(enc, out, want, f"{vocab} --allow-special 3 MB --threads {threads}")


def test_allow_special_checks_its_tokens(tok, workdir):
    cp = tok.run(["encode", "--allow-special", "<|nope|>"], b"x")
    assert cp.returncode != 0 and b"<|nope|>" in cp.stderr and b"not a special token" in cp.stderr
    cp = tok.run(["encode", "--allow-special", "<|endoftext|>", "--special", "allow"], b"x")
    assert cp.returncode != 0 and b"--allow-special" in cp.stderr


# ----------------------------------------------------------------------------- raw bytes
def _check_raw_roundtrip(tok, vocab, enc, data: bytes, id_lines: list[bytes], chunks: list[bytes], label):
    """ids of each chunk decode (tiktoken's decoder) to the chunk; the CLI's decode of all ids
    gives the data back: exactly with a raw-bytes decode option, else as --lossy text."""
    for n, (chunk, line) in enumerate(zip(chunks, id_lines)):
        ids = peers.parse_ids(line)
        if enc.decode_bytes(ids) != chunk:
            raise AssertionError(f"{label}: ids of chunk {n + 1} {chunk!r} decode to "
                                 f"{enc.decode_bytes(ids)!r} (ids {ids[:20]})")
    nl = enc.encode_single_token(b"\n")
    all_ids = " ".join(line.decode() + (" " if line else "") + str(nl) for line in id_lines).encode()
    back = ok(tok.decode(vocab, all_ids, lossy=True), "decode --lossy")
    check_bytes(back, data.decode("utf-8", "replace").encode(), f"{label}: decode --lossy")
    if CLI.decode_raw_bytes is not None:
        back = ok(tok.decode(vocab, all_ids, raw=True), "decode raw")
        check_bytes(back, data, f"{label}: raw decode")


def test_random_bytes_roundtrip_lines(tok, vocab, enc, workdir):
    """4000 random byte strings (0..64 bytes, no \n) one per line through
    `encode --invalid-utf8 bytes --lines`: one output line each, valid-UTF-8 lines equal tiktoken,
    every line's ids decode to the line's bytes, and `decode` of all ids (a newline token after
    each line) gives the file back."""
    strings = peers.random_byte_strings(4000)
    data = b"".join(s + b"\n" for s in strings)
    path = write(workdir, "random-bytes.bin", data)
    out = ok(tok.encode(vocab, [path], lines=True, raw_bytes=True), "--invalid-utf8 bytes --lines")
    got = out.split(b"\n")
    assert got[-1] == b"", "output must end with a newline"
    got.pop()
    assert len(got) == len(strings), f"got {len(got)} output lines for {len(strings)} input lines"
    for n, (s, line) in enumerate(zip(strings, got)):
        if _utf8(s):
            ids, exp = peers.parse_ids(line), enc.encode_ordinary(s.decode())
            if ids != exp:
                raise AssertionError(f"{vocab} valid UTF-8 line {n + 1} {s!r}: got {ids}, expected {exp}")
    _check_raw_roundtrip(tok, vocab, enc, data, got, strings, f"{vocab} random bytes --lines")


def test_random_bytes_roundtrip_whole(tok, vocab, enc, workdir):
    data = b"".join(peers.random_byte_strings(2000, seed=78, allow_newline=True))
    path = write(workdir, "random-bytes-nl.bin", data)
    out = ok(tok.encode(vocab, [path], raw_bytes=True), "--invalid-utf8 bytes")
    assert out.endswith(b"\n") and out.count(b"\n") == 1, "expected one output line"
    ids = out[:-1]
    if enc.decode_bytes(peers.parse_ids(ids)) != data:
        raise AssertionError(f"{vocab}: ids of the random bytes do not decode to them")
    back = ok(tok.decode(vocab, ids, lossy=True), "decode --lossy")
    check_bytes(back, data.decode("utf-8", "replace").encode(), f"{vocab} random bytes with newlines, --lossy")
    if CLI.decode_raw_bytes is not None:
        check_bytes(ok(tok.decode(vocab, ids, raw=True), "decode raw"), data, f"{vocab} raw decode")


# ----------------------------------------------------------------------------- segment cuts
def cut_heavy_text(seed: int, size: int) -> str:
    """Text made of what sits next to the places tok cuts long inputs at (a LF before ASCII, a space between
    letters), including o200k's punctuation pieces that take CR, LF and "/" after them ("}\\n/")."""
    return peers.fragment_text(seed, size, ["\n", "\r\n", " ", "/", "//", "}", ";", "a", "Zq", "x y", "7", "'s", "é", "日本",
                                            "\n/", "}\n/", ";\n//", "*/\n", "  ", "\t", "-", "word", " more"])


@pytest.mark.parametrize("threads", [1, 2])
def test_segment_cuts_match_tiktoken(tok, vocab, enc, workdir, threads):
    """A 3 MB input is encoded in segments cut at safe places (256 KB apart over the pipe): every cut must be a
    piece boundary, so the ids equal tiktoken's on the whole text, with one thread or two."""
    text = cut_heavy_text(5, 3_000_000)
    path = write(workdir, f"cuts-{vocab}.txt", text)
    out = ok(tok.encode(vocab, [path], threads=threads), "cut-heavy text")
    check_whole(enc, out, enc.encode_ordinary(text), f"{vocab} cut-heavy text, --threads {threads}")


# ----------------------------------------------------------------------------- very long pieces
@pytest.mark.parametrize("kind", ["spaces", "letters"])
def test_very_long_pieces_exact_and_bounded(tok, vocab, enc, workdir, kind):
    """One piece of 30 KB (spaces before a letter, or random letters) equals tiktoken; one of 20 MB is encoded in
    chunks with bounded memory (the priority-queue merge of a whole piece took about 40 bytes per byte: 2 GB for
    50 MB of spaces)."""
    import random
    rng = random.Random(9)
    def make(n):
        return " " * n + "x" if kind == "spaces" else "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))
    small = make(30_000)
    assert_encodes(tok, vocab, enc, small, f"30 KB of {kind}", workdir)
    big = workdir / f"long-{kind}.txt"
    big.write_text(make(20_000_000), encoding="ascii")
    out, rss = peers.peak_rss_mb(["encode", "-t", vocab, "--count", "--threads", "1"], big)
    assert int(out.split()[0]) > 0
    assert rss < 250, f"{kind}: peak RSS {rss:.0f} MB for a 20 MB piece"
