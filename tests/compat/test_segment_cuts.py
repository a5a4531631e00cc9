"""Long inputs are cut into segments that are encoded apart (the pipe reads blocks, threads take segments). These
tests put what would split differently at a segment's end right at the places tok cuts, for patterns and special
tokens other than the shipped vocabularies' own, and compare with tiktoken on the whole text.
"""
from __future__ import annotations

import base64
import json
import random

import pytest
import tiktoken

import peers
from peers import check_whole, ok

pytestmark = pytest.mark.cli

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def encoding_with(pattern: str, specials: dict[str, int] | None = None) -> tiktoken.Encoding:
    base = peers.encoding("cl100k_base")
    return tiktoken.Encoding(name="cuts", pat_str=pattern, mergeable_ranks=base._mergeable_ranks,
                             special_tokens=specials if specials is not None else {})


def white_space_heavy_text(seed: int, size: int) -> str:
    """Runs of white space of every kind ending in a LF, right before letters and digits: GPT-2's pattern has no
    `\\s*[\\r\\n]+`, so "\\n\\n" before a letter is "\\n", "\\n" in the whole text but one piece at a part's end."""
    return peers.fragment_text(seed, size, ["\n\n", "  \n", "\t\n", " \n\n", "\r\n", "\n", "\u3000\n", "\u0085\n", "x\n",
                                            "word", " w", "a b", "7", "}", "\n/", " ", "é", "'s"])


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("engine", ["scanner", "icu-regex"])
def test_gpt2_pattern_long_input(tok, workdir, threads, engine):
    """3 MB of white-space-heavy text with cl100k's ranks and GPT-2's pattern, through the hand-written scanner
    and through ICU's regex engine: identical to tiktoken on the whole text."""
    text = white_space_heavy_text(3, 3_000_000)
    path = workdir / "gpt2-cuts.txt"
    path.write_text(text, encoding="utf-8")
    args = ["encode", "-t", "cl100k_base", "--pattern", "gpt2", "--threads", threads, path]
    if engine == "icu-regex":
        args[5:5] = ["--pretokenizer", "icu-regex"]
    out = ok(tok.run(args), f"gpt2 pattern, {engine}, {threads} thread(s)")
    enc = encoding_with(GPT2_PATTERN)
    check_whole(enc, out, enc.encode_ordinary(text), f"gpt2 pattern, {engine}, --threads {threads}")


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("pattern", [r"\w+ \w+|\s+|\S", r"\n[a-z]+|[^\n]+|\n", r"(?s).{1,7}"],
                         ids=["across-space", "across-line-feed", "fixed-width"])
def test_user_pattern_long_input(tok, workdir, threads, pattern):
    """A user's pattern may match across any place tok would cut at for the standard patterns: such input is
    pre-tokenized whole, so the ids equal tiktoken's."""
    rng = random.Random(7)
    words = ["hello", "world", "this", "is", "a", "test", "of", "cutting", "\n", "x y", "\nabc"]
    text = " ".join(rng.choice(words) for _ in range(120_000))
    path = workdir / "user-pattern.txt"
    path.write_text(text, encoding="utf-8")
    out = ok(tok.run(["encode", "-t", "cl100k_base", "--pattern", pattern, "--threads", threads, path]),
             f"user pattern {pattern!r}")
    enc = encoding_with(pattern)
    check_whole(enc, out, enc.encode_ordinary(text), f"user pattern {pattern!r}, --threads {threads}")


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("before", [4, 6, 9, 12])
def test_special_token_with_space_at_segment_cuts(tok, workdir, threads, before):
    """A special token with a space between letters (a place tok may cut at) that starts `before` bytes ahead of
    the end of the first window tok looks for a cut in (256 KB), in text with no other place to cut: it is found
    whole, as tiktoken finds it, and `--special error` names it."""
    special = "<|end of text|>"
    specials = {special: 100300}
    (workdir / "space-special.json").write_text(json.dumps(specials), encoding="utf-8")
    text = "x" * ((1 << 18) - before) + special + "y" * 200_000
    path = workdir / "space-special.txt"
    path.write_text(text, encoding="utf-8")
    enc = encoding_with(peers.vocab_meta("cl100k_base")["pat_str"], specials)
    base = ["encode", "-t", "cl100k_base", "--special-tokens", workdir / "space-special.json", "--threads", threads]
    out = ok(tok.run([*base, "--special", "allow", path]), "special with a space, allow")
    check_whole(enc, out, enc.encode(text, allowed_special="all"), f"special with a space, --threads {threads}")
    cp = tok.run([*base, "--special", "error", path])
    assert cp.returncode != 0, "--special error must fail on the special token"
    assert f"byte offset {(1 << 18) - before}".encode() in cp.stderr, cp.stderr


def corpus_mix(size: int, keep, ends: list[str], p: float, default: str, seed: int) -> str:
    """Lines of the multilingual corpus that `keep` returns (a line, or None to leave it out), in random order,
    each followed by one of `ends` with probability `p`, else by `default`, until `size` characters."""
    path = next(p for p in peers.corpus_files() if p.name.startswith("multilingual"))
    lines = [k for k in map(keep, peers.corpus_bytes(path).decode("utf-8").split("\n")) if k]
    rng = random.Random(seed)
    out, n = [], 0
    while n < size:
        piece = rng.choice(lines) + (rng.choice(ends) if rng.random() < p else default)
        out.append(piece)
        n += len(piece)
    return "".join(out)


def non_ascii_lines(size: int) -> str:
    """Lines of the multilingual corpus with their leading ASCII removed, ended by LFs with white space of other
    kinds, marks and line separators around them: every line start is a place tok may cut at."""
    def keep(line):
        line = line.lstrip(" abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return line if line and ord(line[0]) > 0x7F else None
    return corpus_mix(size, keep, ["\n", "\n\n", " \n", "\u3000\n", "\n\u3000", "\u00a0\n", "\n\u0301", "\r\n",
                                   "\n\u2028", "\u0085\n"], 0.3, "\n", 4)


def assert_cut_text_matches_tiktoken(tok, vocab, enc, workdir, threads, text, label, icu=False):
    """`text` encoded from a file equals tiktoken on the whole text with the vocabulary's pattern (also through
    ICU's regex engine if `icu`), and, for cl100k's ranks, with GPT-2's pattern."""
    path = workdir / f"{label.replace(' ', '-')}-{vocab}.txt"
    path.write_text(text, encoding="utf-8")
    runs = [([], enc, "")] + ([(["--pretokenizer", "icu-regex"], enc, ", icu-regex")] if icu else [])
    if vocab == "cl100k_base":
        runs.append((["--pattern", "gpt2"], encoding_with(GPT2_PATTERN), ", gpt2 pattern"))
    for extra, e, what in runs:
        out = ok(tok.run(["encode", "-t", vocab, *extra, "--threads", threads, path]), label + what)
        check_whole(e, out, e.encode_ordinary(text), f"{vocab} {label}{what}, --threads {threads}")


def assert_streamed(path, label, limit=60):
    """`tok encode` and `tok count` on one thread stay under `limit` MB on `path` (about 20 MB): it was cut."""
    for args in (["encode", "--threads", "1"], ["count", "-q", "--threads", "1"]):
        _, rss = peers.peak_rss_mb([*args], path)
        assert rss < limit, f"tok {args[0]}: peak RSS {rss:.0f} MB on {label}"


def assert_streamed_by_word_breaks(path, label):
    """`tok eval` (o200k, two threads) stays under 100 MB on `path` (about 20 MB), and `tok encode --pretokenizer
    icu-words --count` under 60 MB: both were cut where UAX #29 allows. Returns eval's report."""
    out, rss = peers.peak_rss_mb(["eval", "-t", "o200k_base", "--json", "--threads", "2", path], "/dev/null")
    report = json.loads(out)
    assert report["corpus"]["tokenizers"]["o200k_base"]["tokens"] > 1_000_000
    assert rss < 100, f"tok eval: peak RSS {rss:.0f} MB on {label}"
    out, rss = peers.peak_rss_mb(["encode", "-t", "o200k_base", "--pretokenizer", "icu-words", "--count",
                                  "--threads", "2"], path)
    assert int(out) > 1_000_000
    assert rss < 60, f"tok encode --pretokenizer icu-words: peak RSS {rss:.0f} MB on {label}"
    return report


@pytest.mark.parametrize("threads", [1, 2])
def test_cuts_after_line_feeds_before_other_scripts(tok, vocab, enc, workdir, threads):
    """Text whose lines start with other scripts is cut at its line starts too (else it is held whole): the ids
    equal tiktoken's on the whole text, with the vocabulary's pattern and with GPT-2's."""
    assert_cut_text_matches_tiktoken(tok, vocab, enc, workdir, threads, non_ascii_lines(2_000_000), "non-ASCII lines")


def test_memory_bounded_on_lines_of_other_scripts(tok, workdir):
    """20 MB of Cyrillic lines: streamed in segments, as ASCII text is (it was held whole: 104 MB)."""
    path = workdir / "cyrillic-lines.txt"
    path.write_text("привет мир\n" * 1_000_000, encoding="utf-8")
    assert_streamed(path, "20 MB of Cyrillic lines")


def cjk_without_line_breaks(size: int) -> str:
    """Chinese, Japanese and Korean sentences of the multilingual corpus run together with no line break, with
    punctuation after letters, digits, other punctuation, spaces and marks."""
    def keep(line):
        return line if any(0x3040 <= ord(c) <= 0x9FFF or 0xAC00 <= ord(c) <= 0xD7A3 for c in line) else None
    return corpus_mix(size, keep, ["。", "，", "、", "「", "」", "！", "？", "（", "）", "：", "；", "1，2", "a。", "!。", " 。",
                                   "\u3000。", "x．y", "【", "】", "『", "』", "'。", "\u0301。", "々。"], 0.5, "", 3)


@pytest.mark.parametrize("threads", [1, 2])
def test_cuts_before_cjk_punctuation(tok, vocab, enc, workdir, threads):
    """CJK text without line breaks is cut before its punctuation after a letter or digit: the ids equal
    tiktoken's on the whole text (and with GPT-2's pattern, and through ICU's regex engine)."""
    assert_cut_text_matches_tiktoken(tok, vocab, enc, workdir, threads, cjk_without_line_breaks(1_500_000),
                                     "CJK without line breaks", icu=True)


def test_memory_bounded_on_chinese_without_line_breaks(tok, workdir):
    """22 MB of Chinese and Japanese with no line break: streamed (it was held whole: 271 MB for 66 MB), by `tok eval`
    and `--pretokenizer icu-words` too."""
    path = workdir / "zh-no-lf.txt"
    path.write_text("中文字符，日本語です。" * 666_667, encoding="utf-8")
    assert_streamed(path, "22 MB of Chinese without line breaks")
    # `tok eval` and `--pretokenizer icu-words` cut before the "。" too, where ICU ends its dictionary's run (they
    # had held it whole: 177 and 136 MB).
    assert_streamed_by_word_breaks(path, "22 MB of Chinese without line breaks")


def ascii_without_spaces(seed: int, size: int) -> str:
    """Text with no space or line break for megabytes, as base64, hex dumps and minified JSON are: letters,
    digits and punctuation side by side (the places tok cuts between ASCII kinds), with contractions in both
    cases, case changes, long digit runs, controls and some non-ASCII letters and marks around them."""
    rng = random.Random(seed)
    b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    parts, n = [], 0
    while n < size:
        kind = rng.random()
        if kind < 0.4:
            s = "".join(rng.choice(b64) for _ in range(rng.randint(1, 400))) + "=" * rng.randint(0, 2)
        elif kind < 0.6:
            s = "".join(rng.choice("0123456789abcdefABCDEF") for _ in range(rng.randint(1, 200)))
        elif kind < 0.8:
            s = json.dumps({"k" + str(rng.randint(0, 999)): [rng.randint(-10**12, 10**12), rng.random(), "v'S",
                                                              "don't", "x" * rng.randint(0, 5)]},
                           separators=(",", ":"))
        else:
            s = rng.choice(["'s", "'T", "'re", "'LL", "it's", "1'", "'1", "aB", "Ab9", "\x00", "\x7f", "\x1c", "é1",
                            "1é", "Ж9", "a\u0301", "_", "$", "~", "...", "1234567890123", "-1", "(x)", "[0]", "{}"])
        parts.append(s)
        n += len(s)
    return "".join(parts)


@pytest.mark.parametrize("threads", [1, 2])
def test_cuts_between_ascii_kinds(tok, vocab, enc, workdir, threads):
    """3 MB without spaces or line breaks is cut between letters, digits and punctuation: the ids equal
    tiktoken's on the whole text (and with GPT-2's pattern, and through ICU's regex engine)."""
    assert_cut_text_matches_tiktoken(tok, vocab, enc, workdir, threads, ascii_without_spaces(5, 3_000_000),
                                     "ASCII without spaces", icu=True)


def test_memory_bounded_on_base64_without_line_breaks(tok, workdir):
    """20 MB of base64 on one line (64 KB of it repeated, so that `tok count`'s table of distinct pieces stays
    small): streamed, under 40 MB (it was held whole: encode 155 MB, count 56 MB; 100 MB of base64 took 640 MB)."""
    rng = random.Random(9)
    path = workdir / "base64-one-line.txt"
    path.write_bytes(base64.b64encode(rng.randbytes(48_000)) * 320)
    assert_streamed(path, "20 MB of base64 on one line", limit=40)


def test_eval_cuts_between_ascii_kinds(tok, workdir):
    """`tok eval` cuts text without spaces or line breaks between punctuation and letters or digits where UAX #29
    breaks too (not "." "," ":" ";" "_" "@"), inside whitespace words: the counts of 3 MB of such text (with a few
    spaces, so that whitespace words are many) equal tiktoken's on the whole text, whitespace words included, and
    a minified JSON file of 20 MB stays under 100 MB (it was held whole: 299 MB), and under 60 MB with
    `tok encode --pretokenizer icu-words` (293 MB)."""
    rng = random.Random(12)
    text = "".join(c + (" " if rng.random() < 0.002 else "") for c in ascii_without_spaces(8, 3_000_000))
    path = workdir / "eval-no-spaces.txt"
    path.write_text(text, encoding="utf-8")
    names = ["cl100k_base", "o200k_base"]
    for threads in (1, 2):
        report = json.loads(ok(tok.run(["eval", "--json", "--threads", str(threads), "-t", names[0], "-t", names[1],
                                        path]), "tok eval"))
        for n in names:
            got = report["corpus"]["tokenizers"][n]
            ids = peers.encoding(n).encode_ordinary(text)
            assert got["tokens"] == len(ids), (n, threads)
            assert got["fertility_whitespace"] == pytest.approx(len(ids) / len(text.split()), rel=1e-12), (n, threads)
    records = [{"id": i, "name": f"item{i}", "tags": ["x", f"y{i % 7}"], "v": rng.random(), "at": "a@b.c"}
               for i in range(260_000)]
    big = workdir / "minified.json"
    big.write_text(json.dumps(records, separators=(",", ":")), encoding="utf-8")
    assert big.stat().st_size > 20_000_000
    # `--pretokenizer icu-words` cuts it at the same places (it was held whole: 293 MB).
    report = assert_streamed_by_word_breaks(big, "20 MB of minified JSON")
    assert report["corpus"]["tokenizers"]["o200k_base"]["fertility_whitespace"] > 1_000_000


def one_line_of_words(size: int) -> str:
    """The multilingual corpus's lines joined into one line (no LF), with spaces, runs of white space of other
    kinds, marks and digits around the joins: every space after a character that is not white space is a
    place tok cuts at, in any script."""
    return corpus_mix(size, lambda line: line or None, ["  ", "\u3000", " \u0301", "\u00a0 ", " 1", "1 ", "\U0001f642 ",
                                                        "\t", " \u00a0", " \u0085", "\u2028 ", " '", "' "], 0.4, " ", 6)


@pytest.mark.parametrize("threads", [1, 2])
def test_cuts_before_spaces_in_any_script(tok, vocab, enc, workdir, threads):
    """2 MB of multilingual words on one line: the ids equal tiktoken's on the whole text (and with GPT-2's
    pattern, and through ICU's regex engine)."""
    assert_cut_text_matches_tiktoken(tok, vocab, enc, workdir, threads, one_line_of_words(2_000_000),
                                     "words on one line", icu=True)


def test_memory_bounded_on_one_line_of_cyrillic_words(tok, workdir):
    """20 MB of Cyrillic words on one line: streamed, under 40 MB (it was held whole: encode 88 MB, count 54 MB);
    `tok eval` under 100 MB and `tok encode --pretokenizer icu-words` under 60 MB."""
    path = workdir / "cyrillic-one-line.txt"
    path.write_text("привет мир " * 1_000_000, encoding="utf-8")
    assert_streamed(path, "20 MB of Cyrillic words on one line", limit=40)
    # `tok eval` and `--pretokenizer icu-words` cut before the spaces too, where UAX #29 breaks (they had held it
    # whole: 36 MB of such text took 363 and 301 MB).
    assert_streamed_by_word_breaks(path, "20 MB of Cyrillic words on one line")


@pytest.mark.parametrize("threads", [1, 2])
def test_special_tokens_back_to_back(tok, vocab, enc, workdir, threads):
    """With --special allow, the start of a special token that matching takes is a cut, so special tokens with
    nothing between them stream (64 MB of "<|endoftext|>" had peaked at 199 MB) and give tiktoken's ids, near
    misses and overlapping candidates included."""
    rng = random.Random(2)
    specials = list(peers.vocab_meta(vocab)["special_tokens"])[:3]
    parts = specials + [specials[0][:-1], specials[0][1:], "<", "|>", "x", "\n", "a b"]
    text = "".join(rng.choice(parts) for _ in range(300_000))
    path = workdir / f"specials-back-to-back-{vocab}.txt"
    path.write_text(text, encoding="utf-8")
    out = ok(tok.run(["encode", "-t", vocab, "--special", "allow", "--threads", threads, path]), "specials")
    check_whole(enc, out, enc.encode(text, allowed_special="all"), f"{vocab} specials back to back, --threads {threads}")
    if threads == 1:
        run = workdir / f"specials-run-{vocab}.txt"
        run.write_text(specials[0] * (40_000_000 // len(specials[0])), encoding="utf-8")
        _, rss = peers.peak_rss_mb(["encode", "-t", vocab, "--special", "allow", "--count", "--threads", "1"], run)
        assert rss < 50, f"peak RSS {rss:.0f} MB on 40 MB of special tokens back to back"


def stretches_without_cuts(seed: int, each: int) -> str:
    """Stretches longer than the 4 MB after which tok stops waiting for a safe cut, each of one kind: one long piece
    (NUL bytes, Han without punctuation), many pieces with no safe cut between them (Thai without spaces, mixed
    case and marks, which o200k splits at case changes), and short text around them. Each stretch repeats a random
    block of 64 KB or so (the peers' time is the same; making the text is faster)."""
    rng = random.Random(seed)
    def run(alphabet, size):
        block = "".join(rng.choice(alphabet) for _ in range(65_536 // len(alphabet[0].encode("utf-8"))))
        return block * (size // len(block.encode("utf-8")) + 1)
    kinds = [["\x00"], [chr(c) for c in range(0x4E00, 0x4E00 + 2000)], list("กขฃคฅฆงจฉชซฌญฎฏฐาำิีึืุู่้๊๋เแโใไ"),
             ["a", "A", "é", "É", "\u0301", "ǅ", "ʰ", "b"], [" ", " ", "\t", "\u3000", "   \n", "\r\n "],
             ["7", "8", "\t\t9", "\t1", "\u3000\u30002"]]
    joins = ["x ", "。 ", " more words\n", "'s ", "  x\n", "\t\t"]
    return "start " + "".join(run(k, each) + j for k, j in zip(kinds, joins))


def test_long_stretches_without_cuts_match_tiktoken(tok, vocab, enc, workdir):
    """Megabytes with no safe cut are cut at piece ends far from the end of what is read, and a piece longer than
    that is streamed: the ids equal tiktoken's on the whole text at one and two threads. (Random letters and
    per-line encoding are compared with whole encodes in LongStretchTests, with small segments.)"""
    text = stretches_without_cuts(4, 4_200_000)
    path = workdir / f"stretches-{vocab}.txt"
    path.write_text(text, encoding="utf-8")
    want = enc.encode_ordinary(text)
    for threads in (1, 2):
        out = ok(tok.encode(vocab, [path], threads=threads), "long stretches")
        check_whole(enc, out, want, f"{vocab} long stretches, --threads {threads}")


def test_punctuation_ending_in_line_breaks_is_cut(tok, vocab, enc, workdir):
    """30 MB of punctuation, CR and LF without a safe cut: cl100k and llama3 split it into short pieces that end in a
    CR or LF, o200k into one piece (its punctuation takes "/" after a line break too). tok held such pieces' ends as
    uncuttable and streamed them one at a time, moving the buffer each time: 12 MB did not finish in 100 s. Now they
    are cuts (or the one piece streams), and the ids equal tiktoken's."""
    rng = random.Random(6)
    block = "".join(rng.choice(["\n", "\n", "/", "\r"]) for _ in range(65_536))
    text = "x!" + block * 460 + " y"
    path = workdir / f"punctuation-line-breaks-{vocab}.txt"
    path.write_bytes(text.encode())
    out = ok(tok.encode(vocab, [path], threads=2), "punctuation and line breaks")
    check_whole(enc, out, enc.encode_ordinary(text), f"{vocab} punctuation ending in line breaks")


@pytest.mark.parametrize("shape", ["capitals-after-caseless", "caseless-inside-capitals", "slash-tail",
                                   "capitals-after-han-then-lower", "capitals-after-kana-then-punctuation"])
def test_o200k_case_runs_and_slash_tails(tok, vocab, enc, workdir, shape):
    """Shapes an audit found (o200k gave one id more than tiktoken): o200k's `[upper]*[lower]+` reads to the end of
    a run of capitals after a letter without case and gives it back, so "亚洲AV" and megabytes of capitals end after
    洲 or run on, as the run's end decides; and a punctuation piece's tail of "/" after a line break. Equal to
    tiktoken at one and two threads, and with `--special allow`."""
    text = {"capitals-after-caseless": "x 亚洲AV" + "A" * 9_000_000 + "a end",
            "caseless-inside-capitals": "A" * 5_000_000 + "亚洲AV" + "A" * 5_000_000 + "a",
            "slash-tail": "x!\n" + "/" * 9_000_001 + "* end",
            # BPE keeps a boundary after "中国" and "カナ" before the capitals: they are streamed (see below).
            "capitals-after-han-then-lower": "x " + "中国" * 3 + "B" * 6_000_000 + "b end",
            "capitals-after-kana-then-punctuation": "カナ" * 200_000 + "Q" * 4_500_000 + "国" + "Q" * 1_500_000 + "! end"}[shape]
    if shape.endswith(("-then-lower", "-then-punctuation")) and vocab != "o200k_base":
        pytest.skip("the streaming of capitals after a letter without case is o200k's alone")
    path = workdir / f"audit-{shape}-{vocab}.txt"
    path.write_bytes(text.encode())
    want = enc.encode_ordinary(text)
    for kw in ({"threads": 1}, {"threads": 2, "special": "allow"}):
        out = ok(tok.encode(vocab, [path], **kw), shape)
        check_whole(enc, out, want, f"{vocab} {shape} {kw}")


def test_long_stretches_with_special_tokens_match_tiktoken(tok, vocab, enc, workdir):
    """The same stretches with `--special allow`: special tokens right after each one (after NUL bytes and white
    space, which would run on into "<|" as ordinary text), at the start, and a prefix of one inside a stretch; the
    longest special token (30 bytes in llama3) is longer than the scanners' look-ahead. Equal to tiktoken's
    `encode(allowed_special="all")` at one and two threads; with `--special error`, the error names the first."""
    specials = list(peers.vocab_meta(vocab)["special_tokens"])
    longest = max(specials, key=len)
    stretches = stretches_without_cuts(5, 4_200_000)
    for join in ["x ", "。 ", " more words\n", "'s ", "  x\n", "\t\t"]:
        stretches = stretches.replace(join, longest + join + specials[0], 1)
    half = len(stretches) // 2
    text = specials[-1] + stretches[:half] + longest[:-1] + stretches[half:] + longest
    path = workdir / f"stretches-specials-{vocab}.txt"
    path.write_text(text, encoding="utf-8")
    want = enc.encode(text, allowed_special="all")
    assert want.count(enc.encode_single_token(longest)) >= 7
    for threads in (1, 2):
        out = ok(tok.encode(vocab, [path], special="allow", threads=threads), "long stretches")
        check_whole(enc, out, want, f"{vocab} long stretches with special tokens, --threads {threads}")
    late = workdir / f"stretch-late-special-{vocab}.txt"
    late.write_bytes(b"\x00" * 5_000_000 + longest.encode() + b"\x00" * 100)
    p = tok.encode(vocab, [late], special="error")
    assert p.returncode != 0 and b"at byte offset 5000000" in p.stderr, p.stderr


@pytest.mark.parametrize("kind", ["nul", "letter", "han", "spaces", "punct-lf", "white-after-lf"])
def test_memory_bounded_on_one_long_piece(tok, workdir, kind):
    """60 MB that is one piece (`head -c 60M /dev/zero`, `yes | tr -d '\\n'`, Chinese without punctuation, spaces)
    is streamed, also with special tokens matched: `tok encode` stays under 60 MB (it was held whole: 100 MB of NUL
    bytes peaked at 737 MB). So is white space after a line feed, whose piece depends on whether another line feed
    comes before the run ends (it was held until then: 30 MB of spaces after a line feed then 30 MB of tabs, 115 MB;
    its ids are checked against encoding the whole in LongStretchTests)."""
    path = workdir / f"one-piece-{kind}.txt"
    if kind == "nul":
        path.write_bytes(b"\x00" * 60_000_000)
    elif kind == "letter":
        path.write_bytes(b"y" * 60_000_000)
    elif kind == "spaces":
        path.write_bytes(b" " * 60_000_000 + b"x")
    elif kind == "punct-lf":
        path.write_bytes(b"x!" + b"\n" * 60_000_000 + b"y")
    elif kind == "white-after-lf":
        path.write_bytes(b"a\n" + b" " * 30_000_000 + b"\n" + b"\t" * 30_000_000 + b"x")
    else:
        rng = random.Random(1)
        path.write_text("".join(chr(0x4E00 + rng.randrange(3000)) for _ in range(100_000)) * 200, encoding="utf-8")
    for args in (["encode", "--threads", "1"], ["encode", "--count", "--threads", "2"], ["encode", "--lines", "--threads", "1"],
                 ["encode", "--special", "allow", "--threads", "2"]):
        out, rss = peers.peak_rss_mb(args, path)
        assert out.strip(), f"tok {args} wrote nothing"
        assert rss < 60, f"tok {' '.join(args)}: peak RSS {rss:.0f} MB on 60 MB of one piece ({kind})"


@pytest.mark.parametrize("vocab", ["cl100k_base", "o200k_base"])
def test_memory_bounded_on_raw_bytes(tok, workdir, vocab):
    """`--invalid-utf8 bytes` on 60 MB that is one piece of bytes that are not UTF-8 (a flash image's 0xFF padding)
    streams like valid text: under 60 MB (it was held whole: 470 MB), and every 0xFF is tiktoken's id of that byte
    (no vocabulary merges it). Bytes of several kinds are checked against encoding the whole elsewhere
    (LongStretchTests)."""
    enc = peers.encoding(vocab)
    path = workdir / "ff.bin"
    path.write_bytes(b"\xff" * 60_000_000)
    want = enc.encode_single_token(b"\xff")
    assert enc._encode_bytes(b"\xff" * 1000) == [want] * 1000
    for args in (["--threads", "1"], ["--count", "--threads", "2"], ["--lines", "--threads", "1"]):
        out, rss = peers.peak_rss_mb(["encode", "-t", vocab, "--invalid-utf8", "bytes", *args], path)
        assert rss < 60, f"tok {' '.join(args)}: peak RSS {rss:.0f} MB on 60 MB of 0xFF"
        if "--count" in args:
            assert out.split() == [b"60000000"], out[:80]
        else:
            one = str(want).encode()
            assert out == (one + b" ") * 59_999_999 + one + b"\n", (len(out), out[:40], out[-40:])


def test_two_threads_hold_few_large_segments(tok, workdir, vocab):
    """Runs of 5 MB that no vocabulary merges into long tokens (NUL bytes: one or two per id), separated by letters,
    are cut into segments of about 5 MB, each held with its ids and output until written. Two threads keep at most
    one such segment per thread in flight (they kept four: 2.2-2.5x the one-thread peak), and write what one does."""
    path = workdir / "nul-runs.txt"
    path.write_bytes((b"\x00" * 5_000_000 + b"k" * 1000) * 6)
    one, rss1 = peers.peak_rss_mb(["encode", "-t", vocab, "--threads", "1"], path)
    two, rss2 = peers.peak_rss_mb(["encode", "-t", vocab, "--threads", "2"], path)
    assert two == one
    assert rss2 < 2.0 * rss1, f"peak RSS {rss2:.0f} MB on two threads against {rss1:.0f} MB on one"
    enc = peers.encoding(vocab)
    want = enc.encode_ordinary("\x00" * 5_000_000 + "k" * 1000)
    got = [int(x) for x in one.split()[:len(want)]]
    assert got == want


def test_memory_bounded_on_capitals_after_a_letter_without_case(tok, workdir):
    """o200k: whether "中国" before megabytes of capitals ends there or runs on through them is decided where the
    capitals end ("!" or "b"). When BPE keeps a token boundary after "中国" either way (its last token and the
    capitals' first form a junction), the capitals stream as a piece of their own: under 60 MB (it was held whole:
    161 MB for Han then 50 MB of capitals). When it does not (" 亚洲AV" is one token, but only in the longer piece),
    the first ids depend on the run's end and the run is held (see test_o200k_case_runs_and_slash_tails)."""
    for end in (b"!", b"b end"):
        path = workdir / "han-capitals.txt"
        path.write_bytes("中国".encode() * 1000 + b"B" * 60_000_000 + end)
        out, rss = peers.peak_rss_mb(["encode", "-t", "o200k_base", "--count", "--threads", "2"], path)
        assert rss < 60, f"peak RSS {rss:.0f} MB on Han then 60 MB of capitals ending in {end!r}"
        assert int(out) > 60_000_000 // 8, out


def test_memory_bounded_on_non_ascii_lines_under_a_normalizer(tok, workdir):
    """A vocabulary that normalizes (NFKC, as `tok train --normalize nfkc` writes it) cuts its input next to
    characters NFKC leaves alone and never joins with a neighbour (ICU's inert characters), as well as next to ASCII:
    60 MB of Chinese and Japanese lines stays under 60 MB (it was held whole: 453 MB; `tok eval` 1.1 GB), and the ids are
    tiktoken's on the NFKC form of the text, whose fullwidth punctuation, compatibility characters, no-break spaces
    and marks NFKC changes next to the places tok may cut."""
    import unicodedata
    vocab = workdir / "nfkc.tiktoken"
    vocab.write_bytes((peers.REPO / "vocabularies" / "o200k_base.tiktoken").read_bytes())
    sidecar = json.loads((peers.REPO / "vocabularies" / "o200k_base.json").read_text(encoding="utf-8"))
    sidecar["normalizer"] = "nfkc"
    (workdir / "nfkc.json").write_text(json.dumps(sidecar), encoding="utf-8")
    def keep(line):
        line = "".join(c for c in line if ord(c) > 0x7F)
        return line if any(0x3040 <= ord(c) <= 0x9FFF for c in line) else None
    # Chinese and Japanese lines without ASCII: no cut next to ASCII but the line feeds.
    text = corpus_mix(2_000_000, keep, [], 0, "\n", 12)
    rng = random.Random(11)
    changed = ["，", "：", "Ａ", "①", "\u00a0", "\u00a8", "ｶﾞ", "\u3000", "ﬁ", "\u0301", "\u2002", "／"]
    text = "".join(c + (rng.choice(changed) if rng.random() < 0.05 else "") for c in text)
    path = workdir / "nfkc-lines.txt"
    path.write_text(text, encoding="utf-8")
    want = peers.encoding("o200k_base").encode_ordinary(unicodedata.normalize("NFKC", text))
    for threads in (1, 2):
        out = ok(tok.encode(str(vocab), [path], threads=threads), "NFKC lines")
        check_whole(peers.encoding("o200k_base"), out, want, f"NFKC lines, --threads {threads}")
    big = workdir / "nfkc-big.txt"
    with open(big, "w", encoding="utf-8") as f:
        for _ in range(30):
            f.write(text)
    out, rss = peers.peak_rss_mb(["encode", "-t", vocab, "--count", "--threads", "2"], big)
    assert int(out) > 0
    assert rss < 60, f"peak RSS {rss:.0f} MB on 60 MB of Chinese and Japanese lines under NFKC"
    # `tok eval` reads its corpus in segments cut the same way (it had held this file whole: 1.1 GB).
    out, rss = peers.peak_rss_mb(["eval", "-t", vocab, "--json", "--threads", "2", big], "/dev/null")
    assert json.loads(out)
    assert rss < 100, f"tok eval: peak RSS {rss:.0f} MB on 60 MB of Chinese and Japanese lines under NFKC"


@pytest.mark.parametrize("form", ["nfc", "nfkc"])
def test_memory_bounded_on_a_long_stretch_under_a_normalizer(tok, workdir, form):
    """Thai without spaces, one piece with no cut for megabytes, under a vocabulary that normalizes (as `tok train
    --normalize` writes it): from the first such stretch on, the input is normalized as it is read and then cut and
    streamed as text without a normalizer. 38 MB stays under 70 MB (it was held whole: 197 MB for 48 MB), and the ids
    are those of the shipped o200k on the text normalized by Python (which the suite checks against tiktoken
    elsewhere), with NFKC's changes (SARA AM, fullwidth forms, compatibility ideographs) all through it, one thread
    and two, whole and per line. Unlike the path it replaces, the reading thread normalizes what follows."""
    import unicodedata
    vocab = workdir / f"{form}.tiktoken"
    vocab.write_bytes((peers.REPO / "vocabularies" / "o200k_base.tiktoken").read_bytes())
    sidecar = json.loads((peers.REPO / "vocabularies" / "o200k_base.json").read_text(encoding="utf-8"))
    sidecar["normalizer"] = form
    (workdir / f"{form}.json").write_text(json.dumps(sidecar), encoding="utf-8")
    rng = random.Random(17)
    thai = [chr(c) for c in range(0x0E01, 0x0E2F)] + ["\u0e33", "\u0e32", "\u0e48", "\u0e49", "\u0e40", "\u0e34"] * 3
    other = ["Ａ", "①", "\uf900", "ｶﾞ", "e\u0301", "\u00a0"]
    unit = "".join(rng.choice(thai) if rng.random() < 0.995 else rng.choice(other) for _ in range(400_000))
    text = "เริ่ม " + unit * 10 + " จบ\nบรรทัดใหม่ " + unit + "\n"
    path = workdir / f"thai-{form}.txt"
    path.write_text(text, encoding="utf-8")
    normalized = workdir / f"thai-{form}-normalized.txt"
    normalized.write_text(unicodedata.normalize(form.upper(), text), encoding="utf-8")
    for args in ([], ["--threads", "2"], ["--lines"], ["--count", "--threads", "2"]):
        got = ok(tok.run(["encode", "-t", vocab, *args, path]), f"{form} {args}")
        want = ok(tok.run(["encode", "-t", "o200k_base", *args, normalized]), f"o200k on {form} text {args}")
        if "--count" in args:
            got, want = got.split()[0], want.split()[0]   # the count, without the file's name
        assert got == want, f"{form} {args}: tok differs from o200k on the normalized text"
    big = workdir / f"thai-{form}-big.txt"
    big.write_text(unit * 32, encoding="utf-8")
    out, rss = peers.peak_rss_mb(["encode", "-t", vocab, "--count", "--threads", "2"], big)
    assert int(out) > 1_000_000
    assert rss < 70, f"peak RSS {rss:.0f} MB on {big.stat().st_size >> 20} MB of Thai without spaces under {form}"


def test_combining_marks_under_a_normalizer(tok, workdir):
    """Megabytes of combining marks have no place to cut their normalization (each may reorder or compose with the
    last): 72 MB of them in one stretch, more than ICU normalizes at once, is an error naming the file and the offset
    (tok had encoded such text without normalizing it). Letters that compose with the marks after them, with no inert
    character anywhere ("e" and an acute, "<" and a long solidus, Hangul jamo), stream: the text is cut before each
    ASCII letter and leading jamo, which never join with what precedes them (ICU's hasBoundaryBefore); with the o200k
    ids of the text normalized by Python."""
    import unicodedata
    vocab = workdir / "nfc.tiktoken"
    vocab.write_bytes((peers.REPO / "vocabularies" / "o200k_base.tiktoken").read_bytes())
    sidecar = json.loads((peers.REPO / "vocabularies" / "o200k_base.json").read_text(encoding="utf-8"))
    sidecar["normalizer"] = "nfc"
    (workdir / "nfc.json").write_text(json.dumps(sidecar), encoding="utf-8")
    marks = workdir / "marks.txt"
    marks.write_text("x" + "\u0301" * 36_000_000 + " end\n", encoding="utf-8")
    p = tok.run(["encode", "-t", vocab, "--count", marks])
    assert p.returncode != 0 and p.stdout == b"", p.stdout[:200]
    assert f"{marks}: cannot normalize".encode() in p.stderr and b"(from byte offset 0)" in p.stderr, p.stderr
    broken = workdir / "marks-broken.txt"
    text = "e\u0301" * 3_000_000 + "<\u0338" * 2_000_000 + "\u1100\u1161" * 1_000_000 + ("o" + "\u0323\u0302\u0301" * 333 + "\u0e01") * 2_000
    broken.write_text(text, encoding="utf-8")
    normalized = workdir / "marks-broken-nfc.txt"
    normalized.write_text(unicodedata.normalize("NFC", text), encoding="utf-8")
    for args in ([], ["--threads", "2"]):
        got = ok(tok.run(["encode", "-t", vocab, *args, broken]), f"marks {args}")
        assert got == ok(tok.run(["encode", "-t", "o200k_base", *args, normalized]), "o200k on NFC text"), args
    out, rss = peers.peak_rss_mb(["encode", "-t", vocab, "--count", "--threads", "2"], broken)
    assert int(out) > 0 and rss < 70, f"peak RSS {rss:.0f} MB on 25 MB of letters and marks that compose"
