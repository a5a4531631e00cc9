"""Long inputs are cut into segments that are encoded apart (the pipe reads blocks, threads take segments). These
tests put what would split differently at a segment's end right at the places tok cuts, for patterns and special
tokens other than the shipped vocabularies' own, and compare with tiktoken on the whole text.
"""
from __future__ import annotations

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
