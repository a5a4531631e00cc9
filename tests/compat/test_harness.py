"""Checks of the harness itself and of the shipped corpora; no CLI needed
(`pytest -m "not cli" tests/compat`)."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest

import peers

OWN_CORPORA = ("prose-en.txt.zst", "code.txt.zst", "multilingual.txt.zst")


def test_vocab_files_match_sidecars(vocab):
    meta = peers.vocab_meta(vocab)
    assert peers.sha256_file(peers.VOCAB_DIR / meta["file"]) == meta["sha256"]


@pytest.mark.parametrize("vocab,text,ids", [
    ("cl100k_base", "hello world", [15339, 1917]),
    ("cl100k_base", "tiktoken is great!", [83, 1609, 5963, 374, 2294, 0]),
    ("o200k_base", "hello world", [24912, 2375]),
    ("llama3", "hello world", [15339, 1917]),
])
def test_known_ids(vocab, text, ids):
    assert peers.encoding(vocab).encode_ordinary(text) == ids


def test_encoding_shape(vocab, enc):
    meta = peers.vocab_meta(vocab)
    assert len(enc._mergeable_ranks) == meta["n_ranks"]
    for s, i in meta["special_tokens"].items():
        assert enc.encode(s, allowed_special="all") == [i]
        assert enc.decode_bytes([i]) == s.encode()
    assert enc.encode_ordinary("<|endoftext|>") != [meta["special_tokens"].get("<|endoftext|>")]


def test_network_is_blocked():
    with pytest.raises(RuntimeError):
        socket.create_connection(("127.0.0.1", 9), timeout=1)


def test_report_points_at_first_difference():
    enc = peers.encoding("cl100k_base")
    exp = enc.encode_ordinary("alpha beta gamma delta")
    got = exp[:2] + [0] + exp[3:]
    rep = peers.diff_report(enc, got, exp, "x")
    assert "index 2" in rep and len(rep) < 2000
    with pytest.raises(AssertionError, match="format differs"):
        peers.check_whole(enc, (" ".join(map(str, exp)) + " \n").encode(), exp, "x")
    peers.check_whole(enc, peers.expected_whole(exp), exp, "x")
    peers.check_lines(enc, b"15339\n\n", [[15339], []], ["hello", ""], "x")


def test_random_inputs_are_deterministic_and_varied():
    a, b = peers.random_strings(4000), peers.random_strings(4000)
    assert a == b
    no_nl = [s for s in a if "\n" not in s]
    assert len(no_nl) >= 2000 and len(no_nl) < len(a)
    joined = "".join(a)
    for piece in ("\u3000", "\u00a0", "\r", "\u200d", "’", "'", "\u0301", "👍🏽", "ק", "ก", "क", "ا", "字", "한"):
        assert piece in joined, piece
    rb = peers.random_byte_strings(4000)
    assert rb == peers.random_byte_strings(4000)
    assert all(b"\n" not in s and len(s) <= 64 for s in rb)
    assert sum(1 for s in rb if not _utf8(s)) > 1000 and sum(1 for s in rb if _utf8(s)) > 100


def _utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


# ----------------------------------------------------------------------------- corpora
def manifest() -> dict[str, tuple[int, str]]:
    out = {}
    for line in (peers.CORPORA_DIR / "MANIFEST").read_text().splitlines():
        f = line.split()
        if len(f) == 3 and not line.startswith("#"):
            out[f[0]] = (int(f[1]), f[2])
    return out


@pytest.mark.parametrize("name", OWN_CORPORA)
def test_corpus_matches_manifest(name):
    import hashlib
    raw = peers.corpus_bytes(peers.CORPORA_DIR / name)
    size, sha = manifest()[name]
    assert len(raw) == size and hashlib.sha256(raw).hexdigest() == sha
    raw.decode("utf-8")  # valid UTF-8
    assert b"\r" not in raw or name == "code.txt.zst"


def test_corpora_sizes():
    raw = sum(len(peers.corpus_bytes(peers.CORPORA_DIR / n)) for n in OWN_CORPORA)
    packed = sum((peers.CORPORA_DIR / n).stat().st_size for n in OWN_CORPORA)
    assert raw >= 5_000_000
    assert packed < 6_000_000


def test_multilingual_covers_scripts():
    import regex
    text = peers.corpus_bytes(peers.CORPORA_DIR / "multilingual.txt.zst").decode()
    for script in ("Han", "Hiragana", "Katakana", "Hangul", "Arabic", "Devanagari", "Cyrillic",
                   "Thai", "Greek", "Hebrew"):
        n = len(regex.findall(rf"\p{{Script={script}}}", text))
        assert n >= 10_000, f"{script}: only {n} characters"
    assert text.count("\u200d") >= 1000          # emoji ZWJ sequences
    assert len(regex.findall(r"[\U0001F1E6-\U0001F1FF]{2}", text)) >= 200   # flags
    assert len(regex.findall(r"[\U0001F3FB-\U0001F3FF]", text)) >= 1000      # skin tones
    assert max(map(len, text.split("\n"))) <= 2000


def test_corpora_readme_names_every_file():
    readme = (peers.CORPORA_DIR / "README.md").read_text()
    for n in OWN_CORPORA:
        assert n in readme


def test_build_script_exists():
    assert Path(peers.REPO / "scripts" / "build-corpora.sh").is_file()
