"""`tok train` and `tok count` against the real trainers and against themselves.

- With `--tie-break hf`, tok's vocabulary equals HF tokenizers' BpeTrainer's, token for token, on the shipped
  corpora (given the same pre-tokenization and all 256 bytes as the initial alphabet).
- With the default tie-break, tok's merges equal tiktoken's educational `bpe_train` and HF's up to the first tie,
  where the trainers break ties differently; the first tie is found by a plain simulation here, not by tok.
- The HF tokenizer.json and vocab.json/merges.txt that tok writes give the ids `tok encode` gives.
- Shards counted with `tok count` and summed by `tok train --counts` give the vocabulary of the whole corpus, and
  every thread count gives byte-identical files.
- Bad input: a one-line error naming the file and position, a non-zero exit, and no output file at all.
"""
from __future__ import annotations

import base64
import collections
import contextlib
import io
import json
import os
import random
import subprocess

import pytest
import regex

import peers

pytestmark = pytest.mark.cli

O200K = peers.vocab_meta("o200k_base")["pat_str"]
SUFFIXES = [".tiktoken", ".json", ".tokenizer.json", ".vocab.json", ".merges.txt"]
B2U = peers.bytes_to_unicode()
U2B = {c: b for b, c in B2U.items()}


def corpus_text(stem: str) -> str:
    path = next(p for p in peers.corpus_files() if p.name.startswith(stem))
    return peers.corpus_bytes(path).decode("utf-8")


def train(tok, files, prefix, *args):
    return peers.ok(tok.run(["train", *map(str, files), "-o", prefix, "-q", *map(str, args)]), "tok train")


def tiktoken_tokens(prefix) -> list[bytes]:
    lines = open(f"{prefix}.tiktoken", "rb").read().split(b"\n")
    return [base64.b64decode(l.split()[0]) for l in lines if l.strip()]


def trained_tiktoken(prefix, name: str):
    """tiktoken's encoding of a vocabulary tok trained: its .tiktoken file with the sidecar's pattern and specials."""
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe
    meta = json.load(open(f"{prefix}.json", encoding="utf-8"))
    return tiktoken.Encoding(name, pat_str=meta["pat_str"], special_tokens=meta["special_tokens"],
                             mergeable_ranks=load_tiktoken_bpe(f"{prefix}.tiktoken"))


def classic_hf(prefix, pattern: str):
    """HF's BPE from the vocab.json + merges.txt tok wrote, with the Split and ByteLevel pre-tokenizers set up by
    hand (those files carry no pattern)."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    tk = Tokenizer(models.BPE.from_file(f"{prefix}.vocab.json", f"{prefix}.merges.txt"))
    tk.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tk.decoder = decoders.ByteLevel()
    return tk


def hf_bytes(s: str) -> bytes:
    return bytes(U2B[c] for c in s)


def hf_trainer_tokens(text: str, vocab_size: int, pattern: str = O200K) -> list[bytes]:
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=0, show_progress=False, special_tokens=[],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tk.train_from_iterator([text], trainer)
    vocab = json.loads(tk.to_str())["model"]["vocab"]
    return [hf_bytes(s) for s, _ in sorted(vocab.items(), key=lambda kv: kv[1])]


def first_tie(text: str, merges: int, pattern: str = O200K) -> int:
    """Index of the first merge at which two pairs share the highest count (plain recount each step)."""
    words = collections.Counter(m.group().encode() for m in regex.finditer(pattern, text))
    split = {w: [bytes([b]) for b in w] for w in words}
    for step in range(merges):
        stats = collections.Counter()
        for w, c in words.items():
            p = split[w]
            for i in range(len(p) - 1):
                stats[(p[i], p[i + 1])] += c
        top = stats.most_common(2)
        if len(top) < 2 or top[0][1] == top[1][1]:
            return step
        a, b = top[0][0]
        for w in words:
            p, out, i = split[w], [], 0
            while i < len(p):
                if i + 1 < len(p) and p[i] == a and p[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(p[i])
                    i += 1
            split[w] = out
    return merges


# ----------------------------------------------------------------------------- trainer equivalence
@pytest.mark.parametrize("stem", ["prose-en", "code", "multilingual"])
def test_hf_tie_break_reproduces_hf_bpe_trainer(tok, workdir, stem):
    text = corpus_text(stem)[:1_000_000]
    src = workdir / f"hf-{stem}.txt"
    src.write_text(text, encoding="utf-8")
    prefix = workdir / f"hf-{stem}"
    train(tok, [src], prefix, "--vocab-size", 3000, "--special-tokens", "", "--min-frequency", 0, "--tie-break", "hf")
    ours, theirs = tiktoken_tokens(prefix), hf_trainer_tokens(text, 3000)
    assert len(ours) == len(theirs) == 3000
    # Both start with the 256 bytes (tok in byte order, HF in its alphabet's order), then the merged tokens in the
    # order they were learned.
    assert sorted(ours[:256]) == sorted(theirs[:256])
    diff = next((i for i, (a, b) in enumerate(zip(ours[256:], theirs[256:])) if a != b), None)
    assert diff is None, f"merge {diff}: tok {ours[256 + diff]!r}, HF {theirs[256 + diff]!r}"


@pytest.mark.parametrize("seed", range(6))
def test_hf_tie_break_on_texts_full_of_early_ties(tok, workdir, seed):
    """Small texts whose first merges are ties (the 1 MB corpus slices above have none early): the tie order was
    HF's only for pairs pushed again after a merge, the rest kept the byte order (`ab b ab b ...` merged " b"
    first, HF "ab")."""
    import random
    rng = random.Random(seed)
    words = ["ab", " b", " ab", "ba", " a", "x", " xy", "yx", "é", " éa", "1", " 12", "!", " !?"]
    text = "ab b ab b ab b ab b ab b " if seed == 0 else " ".join(rng.choice(words) for _ in range(rng.randint(50, 400)))
    src = workdir / f"ties-{seed}.txt"
    src.write_text(text, encoding="utf-8")
    prefix = workdir / f"ties-{seed}"
    theirs = hf_trainer_tokens(text, 300)
    train(tok, [src], prefix, "--vocab-size", len(theirs), "--special-tokens", "", "--min-frequency", 0,
          "--tie-break", "hf")
    ours = tiktoken_tokens(prefix)
    assert sorted(ours[:256]) == sorted(theirs[:256])
    assert ours[256:] == theirs[256:]


def test_default_tie_break_matches_tiktoken_educational_and_hf_until_the_first_tie(tok, workdir):
    from tiktoken._educational import bpe_train
    # The slice of the multilingual corpus (checked here) with the longest run of merges before a tie.
    text = corpus_text("multilingual")
    candidates = [text[o:o + 40_000] for o in range(0, 400_000, 40_000)]
    ties = [first_tie(t, 80) for t in candidates]
    best = max(range(len(candidates)), key=lambda k: ties[k])
    text, tie = candidates[best], ties[best]
    assert tie >= 40, f"no slice without a tie in its first 40 merges ({ties})"
    src = workdir / "edu.txt"
    src.write_text(text, encoding="utf-8")
    prefix = workdir / "edu"
    train(tok, [src], prefix, "--vocab-size", 256 + tie, "--special-tokens", "", "--min-frequency", 0)
    ours = tiktoken_tokens(prefix)[256:]
    with contextlib.redirect_stdout(io.StringIO()):
        ranks = bpe_train(text, 256 + tie, O200K, visualise=None)
    edu = [b for b, _ in sorted(ranks.items(), key=lambda kv: kv[1])][256:]
    hf = hf_trainer_tokens(text, 256 + tie)[256:]
    assert len(ours) == tie
    assert ours == edu, "tok and tiktoken's bpe_train differ before the first tie"
    assert ours == hf, "tok and HF's BpeTrainer differ before the first tie"


# ----------------------------------------------------------------------------- outputs
@pytest.fixture(scope="module")
def trained(tok, tmp_path_factory):
    d = tmp_path_factory.mktemp("trained")
    files = []
    for stem in ["prose-en", "code", "multilingual"]:
        f = d / f"{stem}.txt"
        f.write_text(corpus_text(stem)[:600_000], encoding="utf-8")
        files.append(f)
    prefix = d / "v"
    train(tok, files, prefix, "--vocab-size", 4000, "--special-tokens", "<|endoftext|>,<|pad|>")
    return prefix, files


def test_trained_files_encode_alike_in_tok_and_hf(tok, trained):
    from tokenizers import Tokenizer
    prefix, files = trained
    side = json.load(open(f"{prefix}.json", encoding="utf-8"))
    assert side["special_tokens"] == {"<|endoftext|>": 3998, "<|pad|>": 3999}
    hf = Tokenizer.from_file(f"{prefix}.tokenizer.json")
    classic = classic_hf(prefix, side["pat_str"])
    texts = [corpus_text(s)[600_000:700_000] for s in ["prose-en", "code", "multilingual"]]
    texts += (peers.adversarial_strings() or [])[:200]
    for t in texts:
        out = peers.ok(tok.run(["encode", "-t", f"{prefix}.tiktoken"], t.encode("utf-8")), "tok encode")
        ids = peers.parse_ids(out)
        assert hf.encode(t, add_special_tokens=False).ids == ids, f"tokenizer.json differs on {t[:60]!r}"
        assert classic.encode(t, add_special_tokens=False).ids == ids, f"vocab.json+merges.txt differ on {t[:60]!r}"
        assert hf.decode(ids) == t


def test_thread_counts_give_identical_files(tok, workdir, trained):
    _, files = trained
    outs = []
    for n in [1, 2, 3]:
        prefix = workdir / f"det{n}"
        train(tok, files, prefix, "--vocab-size", 3000, "--threads", n)
        outs.append([open(f"{prefix}{s}", "rb").read() for s in SUFFIXES])
    assert outs[0] == outs[1] == outs[2]


def test_sharded_counts_equal_the_whole_corpus(tok, workdir, trained):
    whole, files = trained
    counts = []
    for k, f in enumerate(files):
        c = workdir / f"shard{k}.tsv"
        peers.ok(tok.run(["count", f, "-o", c, "-q"]), "tok count")
        counts.append(c)
    # One shard compressed: counts files may be zstd too.
    zstd = __import__("zstandard")
    z = workdir / "shard0.tsv.zst"
    z.write_bytes(zstd.ZstdCompressor().compress(counts[0].read_bytes()))
    prefix = workdir / "sharded"
    train(tok, [], prefix, "--counts", z, *counts[1:], "--vocab-size", 4000,
          "--special-tokens", "<|endoftext|>,<|pad|>")
    for s in SUFFIXES:
        assert open(f"{prefix}{s}", "rb").read() == open(f"{whole}{s}", "rb").read(), s


def test_count_output_matches_python(tok, workdir):
    rng = random.Random(5)
    pieces = ["a\tb", "x\\y", "\n\n", " déjà", "語", "'s", "\r\n", "123456", " !!"]
    text = "".join(rng.choice(pieces) for _ in range(5000))
    src = workdir / "count.txt"
    src.write_bytes(text.encode("utf-8"))
    out = peers.ok(tok.run(["count", src, "-q"]), "tok count")
    want = collections.Counter(m.group().encode() for m in regex.finditer(O200K, text))
    got, order = {}, []
    for line in out.split(b"\n"):
        if not line:
            continue
        piece, _, n = line.rpartition(b"\t")
        raw = piece.replace(b"\\\\", b"\0BS").replace(b"\\t", b"\t").replace(b"\\n", b"\n").replace(b"\\r", b"\r")
        raw = raw.replace(b"\0BS", b"\\")
        got[raw] = int(n)
        order.append(raw)
    assert got == dict(want)
    assert order == sorted(order), "lines are not in byte order of their pieces"


def test_jsonl_records_are_texts_of_their_own(tok, workdir):
    docs = ["Hello world", "second\n\ndocument", "日本語のテキスト", "it's  done  "]
    src = workdir / "docs.jsonl"
    src.write_text("\n".join(json.dumps({"id": i, "body": d}) for i, d in enumerate(docs)) + "\n", encoding="utf-8")
    out = peers.ok(tok.run(["count", "--format", "jsonl", "--jsonl-field", "body", src, "-q"]), "tok count")
    want = collections.Counter(m.group().encode() for d in docs for m in regex.finditer(O200K, d))
    got = collections.Counter()
    for line in out.split(b"\n"):
        if line:
            piece, _, n = line.rpartition(b"\t")
            got[piece.replace(b"\\n", b"\n")] += int(n)
    assert got == want


def test_jsonl_invalid_utf8_names_its_line(tok, workdir):
    """Invalid UTF-8 in a JSONL corpus is reported with its record's line, as malformed JSON is, also past the
    first chunk read."""
    record = b'{"text": "ok"}\n'
    for before in (2, 300_000):
        src = workdir / "bad-utf8.jsonl"
        src.write_bytes(record * before + b'{"text": "a\xffb"}\n')
        cp = tok.run(["count", "--format", "jsonl", src, "-q"])
        offset = len(record) * before + len('{"text": "a')
        assert cp.returncode == 1 and f"(line {before + 1}, byte {offset}): invalid UTF-8".encode() in cp.stderr, cp.stderr


def test_progress_json_lines(tok, workdir, trained):
    _, files = trained
    cp = tok.run(["train", files[0], "-o", workdir / "prog", "--vocab-size", 600, "--progress", "json"])
    peers.ok(cp, "tok train --progress json")
    events = [json.loads(l) for l in cp.stderr.decode().splitlines()]
    phases = [e["phase"] for e in events]
    assert "counted" in phases and phases[-1] == "done"


# ----------------------------------------------------------------------------- bad input
def leftovers(workdir, stem):
    return sorted(p.name for p in workdir.iterdir() if stem in p.name)


def bad_run(tok, workdir, stem, corpus_args, *extra):
    cp = tok.run(["train", *map(str, corpus_args), "-o", workdir / stem, "-q", "--vocab-size", 500, *map(str, extra)])
    err = cp.stderr.decode("utf-8", "replace").strip()
    assert cp.returncode != 0, f"{stem}: expected failure"
    assert len(err.splitlines()) == 1, f"{stem}: want one line, got {err!r}"
    assert leftovers(workdir, stem) == [], f"{stem}: files left behind: {leftovers(workdir, stem)}"
    return err


def good_file(workdir):
    f = workdir / "good.txt"
    f.write_text("plain text\n" * 100, encoding="utf-8")
    return f


def test_bad_inputs_fail_cleanly(tok, workdir):
    zstd = __import__("zstandard")
    good = ("The quick brown fox jumps over the lazy dog.\n" * 20000).encode()
    packed = zstd.ZstdCompressor(level=3).compress(good)

    corrupt = workdir / "corrupt.txt.zst"
    b = bytearray(packed)
    for k in range(len(b) // 2, len(b) // 2 + 16):
        b[k] ^= 0x5A
    corrupt.write_bytes(bytes(b))
    err = bad_run(tok, workdir, "out-corrupt", [corrupt])
    assert "corrupt.txt.zst" in err and "zstd" in err

    truncated = workdir / "truncated.txt.zst"
    truncated.write_bytes(packed[: len(packed) * 2 // 3])
    err = bad_run(tok, workdir, "out-trunc", [truncated])
    assert "truncated.txt.zst" in err and "truncated" in err

    invalid = workdir / "invalid.txt"
    invalid.write_bytes(b"fine line\n" * 100 + b"bad \xff line\n")
    err = bad_run(tok, workdir, "out-invalid", [invalid])
    assert "invalid.txt" in err and "byte 1004" in err and "UTF-8" in err

    badjson = workdir / "bad.jsonl"
    badjson.write_text('{"text": "ok"}\n{"text": oops}\n', encoding="utf-8")
    err = bad_run(tok, workdir, "out-json", [badjson], "--format", "jsonl")
    assert "bad.jsonl" in err and "line 2" in err

    empty = workdir / "empty.txt"
    empty.write_bytes(b"")
    err = bad_run(tok, workdir, "out-empty", [empty])
    assert "no text" in err

    err = bad_run(tok, workdir, "out-missing", [workdir / "does-not-exist.txt"])
    assert "does-not-exist.txt" in err

    cp = tok.run(["train", good_file(workdir), "-o", workdir / "out-small", "--vocab-size", 200])
    assert cp.returncode != 0 and b"256" in cp.stderr and leftovers(workdir, "out-small") == []


# ----------------------------------------------------------------------------- sidecar settings
def test_normalized_vocabulary_normalizes_when_encoding(tok, workdir, trained):
    import unicodedata
    _, files = trained
    prefix = workdir / "nfc"
    train(tok, [files[2]], prefix, "--vocab-size", 2000, "--normalize", "nfc", "--formats", "tiktoken")
    assert json.load(open(f"{prefix}.json", encoding="utf-8"))["normalizer"] == "nfc"
    text = corpus_text("multilingual")[:20000]
    nfd, nfc = unicodedata.normalize("NFD", text), unicodedata.normalize("NFC", text)
    assert nfd != nfc
    ids = [peers.ok(tok.run(["encode", "-t", f"{prefix}.tiktoken"], t.encode()), "encode") for t in (nfd, nfc)]
    assert ids[0] == ids[1]
    # With --invalid-utf8 bytes, a byte that is not UTF-8 no longer keeps the text around it from being normalized:
    # each well-formed run is normalized on its own.
    parts = [nfd[:7000], nfd[7000:14000], nfd[14000:]]
    raw = b"\xff".join(p.encode() for p in parts) + b"\xe3\x81"
    want = b"\xff".join(unicodedata.normalize("NFC", p).encode() for p in parts) + b"\xe3\x81"
    for args in ([], ["--threads", "2"], ["--lines"]):
        got = [peers.ok(tok.run(["encode", "-t", f"{prefix}.tiktoken", "--invalid-utf8", "bytes", *args], t), "encode")
               for t in (raw, want)]
        assert got[0] == got[1], args


def test_eval_normalizes_as_encode_does(tok, workdir, trained):
    """`tok eval` of a vocabulary trained on NFKC text counts the tokens `tok encode` gives (the normalized
    text's), and the bytes of the text as given (it had encoded the raw text: 15 tokens for 2 on fullwidth
    letters)."""
    import unicodedata
    _, files = trained
    prefix = workdir / "nfkc"
    train(tok, [files[2]], prefix, "--vocab-size", 2000, "--normalize", "nfkc", "--formats", "tiktoken")
    text = corpus_text("multilingual")[:30000] + "ｆｕｌｌ！ ＡＢＣ ①②③ ﬁne\n"
    text = unicodedata.normalize("NFD", text)
    path = workdir / "nfkc-eval.txt"
    path.write_text(text, encoding="utf-8")
    encoded = int(peers.ok(tok.run(["encode", "-t", f"{prefix}.tiktoken", "--count", path]), "encode").split()[0])
    report = json.loads(peers.ok(tok.run(["eval", "--json", "-t", f"{prefix}.tiktoken", path]), "eval"))
    got = report["corpus"]["tokenizers"]["nfkc"]
    assert got["tokens"] == encoded
    assert report["corpus"]["bytes"] == len(text.encode())
    assert abs(got["bytes_per_token"] - len(text.encode()) / encoded) < 1e-9


def test_word_break_vocabulary_keeps_its_pre_tokenizer(tok, workdir, trained):
    _, files = trained
    prefix = workdir / "words"
    train(tok, [files[0]], prefix, "--vocab-size", 1000, "--pretokenizer", "icu-words", "--formats", "tiktoken")
    assert json.load(open(f"{prefix}.json", encoding="utf-8"))["pretokenizer"] == "icu-words"
    text = corpus_text("prose-en")[:50000].encode()
    plain = peers.ok(tok.run(["encode", "-t", f"{prefix}.tiktoken"], text), "encode")
    explicit = peers.ok(tok.run(["encode", "-t", f"{prefix}.tiktoken", "--pretokenizer", "icu-words"], text), "encode")
    regex_split = peers.ok(tok.run(["encode", "-t", f"{prefix}.tiktoken", "--pattern", "o200k"], text), "encode")
    assert plain == explicit
    assert plain != regex_split
    # HF has no UAX #29 pre-tokenizer: asking for its file is an error before any reading, and nothing is written;
    # by default such a vocabulary gets the other formats.
    cp = tok.run(["train", files[0], "-o", workdir / "words-hf", "--vocab-size", 1000, "--pretokenizer", "icu-words",
                  "-q", "--formats", "tiktoken,hf"])
    assert cp.returncode != 0 and b"HF" in cp.stderr and leftovers(workdir, "words-hf") == []
    # Its sidecar has no pattern: --pretokenizer icu-regex needs --pattern (ICU was handed an empty pattern).
    cp = tok.run(["encode", "-t", f"{prefix}.tiktoken", "--pretokenizer", "icu-regex"], text)
    assert cp.returncode != 0 and b"no pre-tokenization pattern; pass --pattern" in cp.stderr, cp.stderr
    cp = tok.run(["train", "/nonexistent-corpus", "-o", workdir / "words-hf", "--pretokenizer", "icu-words", "--formats", "hf"])
    assert cp.returncode != 0 and b"HF" in cp.stderr and b"nonexistent" not in cp.stderr
    peers.ok(tok.run(["train", files[0], "-o", workdir / "words-default", "--vocab-size", 1000, "--pretokenizer",
                      "icu-words", "-q"]), "train")
    assert sorted(p.name for p in workdir.iterdir() if p.name.startswith("words-default")) == [
        "words-default.json", "words-default.merges.txt", "words-default.tiktoken", "words-default.vocab.json"]


# ----------------------------------------------------------------------------- found by the ninth session's audit
GPT2 = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def parse_counts(out: bytes) -> dict[bytes, int]:
    got = {}
    for line in out.split(b"\n"):
        if line:
            piece, _, n = line.rpartition(b"\t")
            raw = piece.replace(b"\\\\", b"\0BS").replace(b"\\t", b"\t").replace(b"\\n", b"\n").replace(b"\\r", b"\r")
            got[raw.replace(b"\0BS", b"\\")] = int(n)
    return got


def test_count_gpt2_pattern_on_the_multilingual_corpus(tok, workdir):
    """The corpus is read in segments (1 MB): GPT-2's pattern, which splits "\\n\\n" before a letter into two
    pieces, gets cuts that keep every piece whole, so the counts equal Python's over the whole text."""
    text = corpus_text("multilingual")
    src = workdir / "multi-gpt2.txt"
    src.write_text(text, encoding="utf-8")
    got = parse_counts(peers.ok(tok.run(["count", src, "-q", "--pattern", "gpt2"]), "tok count gpt2"))
    want = collections.Counter(m.group().encode() for m in regex.finditer(GPT2, text))
    assert got == dict(want)


def test_failed_later_output_file_leaves_the_set_as_it_was(tok, workdir):
    """An output that cannot be written (a directory in the way of the last file) fails the run before any file
    of the set changes: old files stay as they were, new ones do not appear."""
    good = good_file(workdir)
    (workdir / "set-new.merges.txt").mkdir()
    cp = tok.run(["train", good, "-o", workdir / "set-new", "-q", "--vocab-size", 260])
    assert cp.returncode != 0 and b"set-new.merges.txt" in cp.stderr
    assert leftovers(workdir, "set-new") == ["set-new.merges.txt"], leftovers(workdir, "set-new")
    train(tok, [good], workdir / "set-old", "--vocab-size", 260)
    before = {s: (workdir / f"set-old{s}").read_bytes() for s in SUFFIXES}
    (workdir / "set-old.merges.txt").unlink()
    (workdir / "set-old.merges.txt").mkdir()
    other = workdir / "other.txt"
    other.write_text("other words here\n" * 100, encoding="utf-8")
    cp = tok.run(["train", other, "-o", workdir / "set-old", "-q", "--vocab-size", 260])
    assert cp.returncode != 0
    for s in SUFFIXES[:-1]:
        assert (workdir / f"set-old{s}").read_bytes() == before[s], f"set-old{s} changed"
    assert [p for p in workdir.iterdir() if p.name.startswith(".set-")] == [], "temporary files left"


def test_counts_too_large_for_the_trainer(tok, workdir):
    """Counts whose pair counts could pass 2^63 are refused with the file and line, not wrapped or crashed on."""
    for k, body in enumerate([b"abab\t9223372036854775807\n", b"ab\t18446744073709551615\n",
                              b"x\t1\nab\t5000000000000000000\ncd\t5000000000000000000\n"]):
        f = workdir / f"big{k}.tsv"
        f.write_bytes(body)
        err = bad_run(tok, workdir, f"out-big{k}", ["--counts", f], "--min-frequency", 1)
        assert f"big{k}.tsv" in err and "line" in err and "too large" in err, err


def test_truncated_counts_file_is_refused(tok, workdir):
    """A counts file whose last line has no LF (a copy cut short: `ab<TAB>12` of `ab<TAB>1234`) is an error naming
    the file and line; it was read as a smaller count."""
    f = workdir / "cut.tsv"
    f.write_bytes(b"x\t7\nab\t12")
    err = bad_run(tok, workdir, "out-cut", ["--counts", f], "--min-frequency", 1)
    assert "cut.tsv" in err and "line 2" in err and "truncated" in err, err


def test_long_run_of_one_character_trains_and_writes_every_format(tok, workdir):
    """1 MB of one character makes tokens of many kilobytes; the HF files' merges come from a BPE per token that
    must stay near-linear (it took minutes on 200 KB when it was quadratic), and HF gives tok's ids."""
    from tokenizers import Tokenizer
    src = workdir / "run-a.txt"
    src.write_text("a" * 1_000_000 + "\n" + "b a" * 1000, encoding="utf-8")
    cp = tok.run(["train", src, "-o", workdir / "run-a", "-q", "--vocab-size", 300])
    peers.ok(cp, "train on a long run")
    text = "a" * 54_321 + " b a"
    ids = peers.parse_ids(peers.ok(tok.run(["encode", "-t", workdir / "run-a.tiktoken"], text.encode()), "encode"))
    assert Tokenizer.from_file(str(workdir / "run-a.tokenizer.json")).encode(text).ids == ids


def test_count_warns_when_no_record_has_the_field(tok):
    """JSONL whose records all lack the --jsonl-field member counts nothing: a warning says so (it was silent)."""
    cp = tok.run(["count", "--format", "jsonl"], b'{"body": "x"}\n{"body": "y"}\n')
    assert cp.returncode == 0 and cp.stdout == b""
    assert b'warning: none of the 2 JSONL records has a string member "text"' in cp.stderr, cp.stderr
    cp = tok.run(["count", "--format", "jsonl"], b'{"text": "x"}\n{"body": "y"}\n')
    assert cp.returncode == 0 and b"warning" not in cp.stderr
    # -q silences warnings as --progress quiet does.
    cp = tok.run(["count", "--format", "jsonl", "-q"], b'{"body": "x"}\n')
    assert cp.returncode == 0 and cp.stderr == b""


def test_special_tokens_that_could_be_ordinary_tokens(tok, workdir, trained):
    """Special tokens spelled like tokens the trainer would learn ("ing", "return", or "Ġthe", which is " the" in
    the byte-level alphabet) are never learnt as ordinary tokens: vocab.json had such a key twice and HF's
    tokenizer.json gave the special the ordinary id. HF, tiktoken and tok then agree on text full of them; a
    special of one byte is a usage error."""
    _, files = trained
    prefix = workdir / "spelled-specials"
    specials = ["<|endoftext|>", "return", "ing", "Ġthe"]
    train(tok, [files[0]], prefix, "--vocab-size", 2000, "--special-tokens", ",".join(specials))
    pairs = json.loads(open(f"{prefix}.vocab.json", encoding="utf-8").read(), object_pairs_hook=lambda kv: kv)
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), "vocab.json repeats a key"
    from tokenizers import Tokenizer
    hf = Tokenizer.from_file(f"{prefix}.tokenizer.json")
    text = "  return nothing, the ing thing <|endoftext|> Ġthe returning\n" * 20 + corpus_text("prose-en")[:3000]
    ours = [int(i) for i in peers.ok(tok.run(["encode", "-t", f"{prefix}.tiktoken", "--special", "allow"],
                                             text.encode()), "encode").split()]
    assert hf.encode(text, add_special_tokens=False).ids == ours
    enc = trained_tiktoken(prefix, "spelled")
    assert enc.encode(text, allowed_special="all") == ours
    for one in ("a", "Ġ"):
        cp = tok.run(["train", files[0], "-o", workdir / "one-byte", "--special-tokens", one, "-q"])
        assert cp.returncode == 64 and b"one byte" in cp.stderr, cp.stderr


def test_special_tokens_are_found_before_normalizing(tok, workdir, trained):
    """With --normalize nfkc, a special token that NFKC would change (DeepSeek's fullwidth "｜") is found in the
    text as given, as HF finds its added tokens before normalizing (tok matched after normalizing, so it never
    found it, and `--special error` refused text whose normalized form spelled one)."""
    _, files = trained
    prefix = workdir / "nfkc-specials"
    train(tok, [files[2]], prefix, "--vocab-size", 1500, "--normalize", "nfkc", "--special-tokens", "<｜end｜>,<|x|>")
    from tokenizers import Tokenizer
    hf = Tokenizer.from_file(f"{prefix}.tokenizer.json")
    text = "ｆｕｌｌ text<｜end｜>more <|x|> and <|end|> ﬁne <｜eot｜>\n" * 10
    ours = [int(i) for i in peers.ok(tok.run(["encode", "-t", f"{prefix}.tiktoken", "--special", "allow"],
                                             text.encode()), "encode").split()]
    assert hf.encode(text, add_special_tokens=False).ids == ours
    special_ids = json.load(open(f"{prefix}.json", encoding="utf-8"))["special_tokens"]
    assert ours.count(special_ids["<｜end｜>"]) == 10
    # Only the text as given counts: "<|end|>" normalizes to nothing special, and "<｜eot｜>" is not special.
    assert peers.ok(tok.run(["encode", "-t", f"{prefix}.tiktoken", "--special", "error"],
                            "<|end|> <｜eot｜>".encode()), "error policy")
    cp = tok.run(["encode", "-t", f"{prefix}.tiktoken", "--special", "error"], "ab<｜end｜>".encode())
    assert cp.returncode != 0 and b"byte offset 2" in cp.stderr, cp.stderr


def test_progress_json_is_json_and_pattern_names_are_checked(tok, workdir, trained):
    """With --progress json every stderr line is a JSON object, warnings included (they were plain lines); a
    mistyped standard name is a usage error (as a regex it matched only itself, one piece per segment)."""
    _, files = trained
    cp = tok.run(["train", files[0], "-o", workdir / "pj", "--vocab-size", 400, "--progress", "json",
                  "--pattern", r"\p{L}+|\p{N}{1,3}+|\s+|[^\s\p{L}\p{N}]+"])
    assert cp.returncode == 0, cp.stderr
    lines = cp.stderr.decode().splitlines()
    objs = [json.loads(l) for l in lines]
    assert [o["phase"] for o in objs].count("warning") == 2 and objs[-1]["phase"] == "done"
    cp = tok.run(["train", files[0], "-o", workdir / "pq", "--vocab-size", 400, "--progress", "quiet",
                  "--pattern", r"\p{L}+|\p{N}{1,3}+|\s+|[^\s\p{L}\p{N}]+"])
    assert cp.returncode == 0 and cp.stderr == b""
    for sub in (["train", files[0], "-o", workdir / "typo"], ["count", files[0]]):
        cp = tok.run([*sub, "--pattern", "cl100k_base"])
        assert cp.returncode == 64 and b"not a standard pattern name" in cp.stderr, cp.stderr


@pytest.mark.parametrize("content", [b"\n", b" \n", " привет\n".encode()], ids=["lf", "space-lf", "indented-word"])
def test_line_reading_without_cut_places_is_linear(tok, workdir, content):
    """Lines read one by one (--sample, --max-bytes) that give no cut place were searched for one again after every
    line once a segment passed 1 MB: 1.1 MB of line feeds took 54 s, 2 MB never finished. 3 MB now counts as the
    plain reading does, well within the CLI timeout."""
    path = workdir / "no-cuts.txt"
    path.write_bytes(content * (3_000_000 // len(content)))
    plain = peers.ok(tok.run(["count", "-q", path]), "count")
    for extra in (["--sample", "1"], ["--max-bytes", "1G"]):
        assert peers.ok(tok.run(["count", "-q", *extra, path]), f"count {extra}") == plain


def test_output_named_like_a_written_file_is_its_prefix(tok, workdir):
    """`-o my.tiktoken` writes my.tiktoken, my.json and the rest (not my.tiktoken.tiktoken), which `-t my.tiktoken` then
    loads with its sidecar; `-o x.tokenizer.json --formats hf` writes x.tokenizer.json."""
    src = good_file(workdir)
    d = workdir / "named-out"
    d.mkdir(exist_ok=True)
    train(tok, [src], d / "my.tiktoken", "--vocab-size", 270)
    assert sorted(p.name for p in d.iterdir()) == ["my.json", "my.merges.txt", "my.tiktoken", "my.tokenizer.json",
                                                   "my.vocab.json"]
    out = peers.ok(tok.run(["encode", "-t", d / "my.tiktoken"], b"plain text\n"), "encode")
    assert peers.ok(tok.run(["decode", "-t", d / "my.tiktoken"], out), "decode") == b"plain text\n"
    train(tok, [src], d / "x.tokenizer.json", "--vocab-size", 270, "--formats", "hf")
    assert (d / "x.tokenizer.json").is_file() and not (d / "x.tokenizer.json.tokenizer.json").exists()


def test_cl100k_tokenizer_json_keeps_white_space_at_the_end_of_a_text(tok, workdir):
    """cl100k's `\\s++$` makes white space that ends a text one piece ("\\n  " after a line break); its HF form had
    left that branch out (Llama 3's pattern), so tokenizer.json split such an ending in two and gave other ids
    than tok and tiktoken whenever the vocabulary had a token of a line break and spaces."""
    src = workdir / "ws-code.txt"
    src.write_text("def f():\n    a = 1\n    \n    return a\n  \n \n" * 500, encoding="utf-8")
    prefix = workdir / "ws-cl100k"
    train(tok, [src], prefix, "--pattern", "cl100k", "--vocab-size", 320, "--special-tokens", "<|endoftext|>")
    from tokenizers import Tokenizer
    enc = trained_tiktoken(prefix, "ws")
    assert any(enc.decode_single_token_bytes(i).startswith(b"\n ") for i in range(enc.n_vocab - 1)), \
        "the vocabulary should have a token of a line break and a space"
    hf = Tokenizer.from_file(f"{prefix}.tokenizer.json")
    split = json.load(open(f"{prefix}.tokenizer.json", encoding="utf-8"))["pre_tokenizer"]["pretokenizers"][0]
    classic = classic_hf(prefix, split["pattern"]["Regex"])
    endings = ["\n", "\n ", "\n  ", " \n ", "\n \n  ", "\r\n\t ", "  ", "\n    \n    ", "\u3000\n\u3000", "\n\u2028 "]
    texts = [head + e for head in ("a", "return a", "x = 1\n", "") for e in endings]
    texts += [t + "<|endoftext|>next" for t in texts[:12]] + ["a\n  <|endoftext|>\n  "]
    for t in texts:
        ours = peers.parse_ids(peers.ok(tok.run(["encode", "-t", f"{prefix}.tiktoken", "--special", "allow"],
                                                t.encode()), "encode"))
        assert enc.encode(t, allowed_special="all") == ours, repr(t)
        assert hf.encode(t, add_special_tokens=False).ids == ours, f"tokenizer.json differs on {t!r}"
        if "<|" not in t:
            assert classic.encode(t, add_special_tokens=False).ids == ours, f"merges.txt differs on {t!r}"


def test_merges_line_that_hf_skips_is_warned_about(tok, workdir):
    """HF's merges.txt reader skips every line starting with "#version" as a header: a merge whose left token
    starts so is lost there, so train warns."""
    src = workdir / "hash-version.txt"
    src.write_text("#versions x #versioning y #version z\n" * 300, encoding="utf-8")
    cp = tok.run(["train", src, "-o", workdir / "hash-version", "--vocab-size", 300, "--progress", "plain"])
    peers.ok(cp, "train")
    merges = open(workdir / "hash-version.merges.txt", encoding="utf-8").read().split("\n")
    line = next(k + 1 for k, l in enumerate(merges) if k > 0 and l.startswith("#version"))
    assert f"merges.txt line {line} starts with \"#version\"".encode() in cp.stderr, cp.stderr
    clean = tok.run(["train", src, "-o", workdir / "hash-version-tj",
                     "--vocab-size", 300, "--progress", "plain", "--formats", "hf"])
    assert b"#version" not in peers.ok(clean, "train") and b"#version" not in clean.stderr


def test_jsonl_lone_surrogate_is_replaced_only_when_asked(tok, workdir):
    src = workdir / "surrogate.jsonl"
    src.write_bytes(b'{"text": "ok"}\n{"text": "a\\ud800b \\udfff"}\n')
    cp = tok.run(["count", "--format", "jsonl", src, "-q"])
    assert cp.returncode == 1 and b"(line 2, byte 26): invalid JSON: lone surrogate" in cp.stderr, cp.stderr
    out = peers.ok(tok.run(["count", "--format", "jsonl", "--invalid-utf8", "replace", src, "-q"]), "count")
    want = collections.Counter(m.group() for t in ("ok", "a\ufffdb \ufffd") for m in regex.finditer(O200K, t))
    assert sorted(out.decode().splitlines()) == sorted(f"{p}\t{n}" for p, n in want.items())


def test_formats_takes_one_value_each_time(tok, workdir, trained):
    """`--formats` takes one value (comma-separated formats) each time it is given, so a corpus after it is the
    corpus: it used to take every following argument and refuse the corpus as a format. An empty --pattern is a
    usage error (ICU reported U_ILLEGAL_ARGUMENT_ERROR at position 0)."""
    _, files = trained
    for args, want in ((["--formats", "tiktoken", files[0]], ["json", "tiktoken"]),
                       (["--formats", "tiktoken,merges", "--formats", "hf", files[0]],
                        ["json", "merges.txt", "tiktoken", "tokenizer.json", "vocab.json"])):
        prefix = workdir / f"fmt{len(want)}"
        peers.ok(tok.run(["train", "-q", "--vocab-size", 300, "-o", prefix, *args]), "train")
        assert sorted(p.name[len(prefix.name) + 1:] for p in workdir.iterdir() if p.name.startswith(prefix.name + ".")) == want
    cp = tok.run(["train", "-q", "--formats", "tiktoken,bogus", files[0], "-o", workdir / "fmt-bad"])
    assert cp.returncode == 64 and leftovers(workdir, "fmt-bad") == []
    # The old spelling, several formats after one --formats, is told how to write it now.
    cp = tok.run(["train", "-q", "--formats", "tiktoken", "merges", files[0], "-o", workdir / "fmt-old"])
    assert cp.returncode == 64 and b"--formats a,b" in cp.stderr and leftovers(workdir, "fmt-old") == [], cp.stderr
    for sub in (["train", files[0], "-o", workdir / "empty-pattern"], ["encode", files[0]], ["count", files[0]]):
        cp = tok.run([*sub, "--pattern", ""])
        assert cp.returncode == 64 and b"--pattern is empty" in cp.stderr, cp.stderr


def test_normalizing_vocabulary_jsonl_offsets_and_slow_input(tok, workdir, trained):
    """Under a vocabulary that normalizes, jsonl offsets count the normalized text from the start of the input (or
    line) across segments: they jumped at every 256 KB segment, by what normalization had shortened before it (and
    after any pause of the input). A line that comes over a slow pipe is encoded as soon as its LF arrives, also
    after a line too long to hold whole (normalized as it is read, which held back each line until the next began)."""
    import select
    import unicodedata
    _, files = trained
    prefix = workdir / "nfkc-offsets"
    train(tok, [files[2]], prefix, "--vocab-size", 600, "--normalize", "nfkc", "--formats", "tiktoken")
    vocab = f"{prefix}.tiktoken"
    text = "ＡＢＣ ｈｅｌｌｏ ﬁne ①②\n" * 30_000 + "tail ＸＹＺ"
    path = workdir / "fullwidth.txt"
    path.write_text(text, encoding="utf-8")
    for threads in ("1", "2"):
        rec = json.loads(peers.ok(tok.run(["encode", "-t", vocab, "--format", "jsonl", "--threads", threads, path]), "jsonl"))
        offsets = rec["offsets"]
        assert offsets[0][0] == 0 and all(a[1] == b[0] for a, b in zip(offsets, offsets[1:])), threads
        assert offsets[-1][1] == len(unicodedata.normalize("NFKC", text).encode()), threads
    long_line = "ＡＢＣ ｈｅｌｌｏ " * 60_000 + "\n"
    (workdir / "long-line.txt").write_text(long_line, encoding="utf-8")
    rec = json.loads(peers.ok(tok.run(["encode", "-t", vocab, "--format", "jsonl", "--lines", workdir / "long-line.txt"]), "lines"))
    assert rec["offsets"][-1][1] == len(unicodedata.normalize("NFKC", long_line[:-1]).encode())
    assert all(a[1] == b[0] for a, b in zip(rec["offsets"], rec["offsets"][1:]))

    p = subprocess.Popen([tok.binary, "encode", "-t", vocab, "--lines", "--count"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        for k, line in enumerate([b"x" * (5 << 20), b"hello world", "ＡＢＣ ｈｅｌｌｏ".encode(), b"last one"]):
            p.stdin.write(line + b"\n")
            p.stdin.flush()
            ready, _, _ = select.select([p.stdout], [], [], 10)
            assert ready, f"no output for line {k} while the input stays open"
            assert p.stdout.readline().strip().isdigit()
    finally:
        p.stdin.close()
        rest = p.stdout.read()
        p.wait(10)
    assert p.returncode == 0 and rest == b""
