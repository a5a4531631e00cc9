"""o200k_harmony (the gpt-oss models' vocabulary): o200k_base's ranks with the harmony chat format's special
tokens, checked against tiktoken's own definition (tiktoken_ext.openai_public.o200k_harmony) over the shipped
ranks. Two of its strings share an id (<|endofprompt|> and <|reserved_200018|> are both 200018)."""
from __future__ import annotations

import json
import random

import pytest

import peers
from peers import CLI, check_bytes, fmt_ids, ok

pytestmark = pytest.mark.cli
NAME = "o200k_harmony"


@pytest.fixture(scope="module")
def enc():
    return peers.encoding(NAME)


@pytest.fixture(scope="module")
def specials():
    return list(peers.tiktoken_definition(NAME)["special_tokens"].items())


def ids_of(out: bytes):
    return [int(x) for x in out.split()]


def test_sidecar_is_tiktokens_definition(specials):
    """The shipped sidecar holds tiktoken's pattern and special tokens, in tiktoken's order, over o200k_base's
    ranks (regenerate it with scripts/gen_harmony_sidecar.py)."""
    side = json.loads((peers.VOCAB_DIR / f"{NAME}.json").read_text(encoding="utf-8"))
    d = peers.tiktoken_definition(NAME)
    assert side["ranks"] == "o200k_base.tiktoken"
    assert side["pat_str"] == d["pat_str"]
    assert list(side["special_tokens"].items()) == specials
    ids = [i for _, i in specials]
    assert len(set(ids)) < len(ids), "expected the shared id of tiktoken's definition"


def chat(specials, seed):
    """Text in the harmony format, with every special string, between ordinary multilingual text."""
    rng = random.Random(seed)
    words = ["Hello", " world", "Привет", " 你好", "\n", " don't", "  ", "🤖", "<|", "|>", "<|end", "user", "<"]
    strings = [s for s, _ in specials]
    rng.shuffle(strings)
    parts = ["<|start|>user<|message|>What is 2+2?<|end|><|start|>assistant<|channel|>final<|message|>4<|return|>"]
    for s in strings:
        parts.append("".join(rng.choice(words) for _ in range(rng.randint(0, 3))))
        parts.append(s)
    return "".join(parts)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_encode_allow_every_special(tok, enc, specials, workdir, threads):
    text = chat(specials, 1)
    path = workdir / "harmony-chat.txt"
    path.write_text(text, encoding="utf-8")
    got = ok(tok.run([*CLI.encode, CLI.vocab, NAME, "--special", "allow", "--threads", threads, path]), "allow")
    assert ids_of(got) == enc.encode(text, allowed_special="all")
    got = ok(tok.run([*CLI.encode, CLI.vocab, NAME, "--threads", threads, path]), "plain")
    assert ids_of(got) == enc.encode_ordinary(text) == peers.encoding("o200k_base").encode_ordinary(text)


def test_special_error_names_the_first(tok, enc, specials):
    text = "plain text, then " + specials[5][0] + " and more"
    with pytest.raises(ValueError):
        enc.encode(text)
    cp = tok.run([*CLI.encode, CLI.vocab, NAME, "--special", "error"], text.encode())
    assert cp.returncode != 0 and specials[5][0].encode() in cp.stderr and b"offset 17" in cp.stderr, cp.stderr


def test_shared_id_selected_by_string(tok, enc):
    """Allowing <|endofprompt|> allows that string, not the other one with its id, as in tiktoken."""
    args = [*CLI.encode, CLI.vocab, NAME, "--allow-special", "<|endofprompt|>", "--special", "error"]
    text = "a<|endofprompt|>b"
    assert ids_of(ok(tok.run(args, text.encode()), "allowed")) == enc.encode(text, allowed_special={"<|endofprompt|>"})
    text = "a<|endofprompt|>b<|reserved_200018|>"
    with pytest.raises(ValueError):
        enc.encode(text, allowed_special={"<|endofprompt|>"})
    cp = tok.run(args, text.encode())
    assert cp.returncode != 0 and b"<|reserved_200018|>" in cp.stderr and b"offset 17" in cp.stderr, cp.stderr
    plain = [*CLI.encode, CLI.vocab, NAME, "--allow-special", "<|endofprompt|>"]
    assert ids_of(ok(tok.run(plain, text.encode()), "others plain")) == \
        enc.encode(text, allowed_special={"<|endofprompt|>"}, disallowed_special=())


def test_decode_every_special(tok, enc, specials):
    """Each special id decodes as tiktoken decodes it (the shared id to <|endofprompt|>), alone and in one
    stream with ordinary tokens."""
    ids = sorted({i for _, i in specials})
    mixed = [t for i in ids for t in (i, 15)]
    back = ok(tok.decode(NAME, fmt_ids(mixed).encode()), "decode")
    check_bytes(back, enc.decode_bytes(mixed), f"{NAME} decode of every special id")
    assert ok(tok.decode(NAME, b"200018"), "decode 200018") == enc.decode_bytes([200018]) == b"<|endofprompt|>"
    lines = "".join(f"{i}\n" for i in ids).encode()
    back = ok(tok.run([*CLI.decode, CLI.vocab, NAME, "--lines"], lines), "decode --lines")
    assert back == b"".join(enc.decode_bytes([i]) + b"\n" for i in ids)


def test_model_name_and_vocabulary_size(tok, enc):
    import tiktoken.model as tm
    assert tm.encoding_name_for_model("gpt-oss-120b") == NAME
    text = "<|start|>user<|message|>Hi<|end|>"
    got = ok(tok.run([*CLI.encode, CLI.vocab, "gpt-oss-20b", "--special", "allow"], text.encode()), "gpt-oss-20b")
    assert ids_of(got) == enc.encode(text, allowed_special="all")
    cp = tok.decode(NAME, str(enc.n_vocab).encode())
    assert cp.returncode != 0 and b"unknown token id 201088" in cp.stderr, cp.stderr


def test_broken_sidecar_is_one_line_error(tok, workdir):
    """A sidecar over another's ranks that is damaged: one line naming the file, non-zero exit, no output."""
    import os
    import subprocess
    d = workdir / "harmony-vocabularies"
    d.mkdir(exist_ok=True)
    side = d / f"{NAME}.json"
    good = (peers.VOCAB_DIR / f"{NAME}.json").read_text(encoding="utf-8")
    cases = [
        (good.replace('"o200k_base.tiktoken"', '"missing.tiktoken"'), "missing.tiktoken: no such file"),
        ('{"ranks": 5}', "ranks must be a string"),
        ('{"ranks": "../o200k_base.tiktoken"}', "ranks must name a file in the same directory"),
        ('{"ranks": "o200k', "invalid JSON at byte 16"),
    ]
    for text, needle in cases:
        side.write_text(text, encoding="utf-8")
        cp = subprocess.run([str(tok.binary), "encode", "-t", NAME], input=b"hi", capture_output=True, timeout=60,
                            env={**os.environ, "TOK_VOCABULARIES": str(d)})
        err = cp.stderr.decode()
        assert cp.returncode != 0 and cp.stdout == b"" and err.count("\n") == 1 and needle in err, (needle, err)


@pytest.mark.parametrize("lines", [False, True])
def test_jsonl_offsets_span_the_matched_string(tok, enc, specials, workdir, lines):
    """jsonl offsets tile the input; a special token spans the string matched, also where its id is shared and
    decodes to the other string (<|reserved_200018|> is 19 bytes, <|endofprompt|> 15)."""
    text = "a<|reserved_200018|>b<|endofprompt|>c\n" + chat(specials, 2).replace("\n", " ") + "\n"
    path = workdir / "harmony-jsonl.txt"
    path.write_bytes(text.encode())
    args = [*CLI.encode, CLI.vocab, NAME, "--special", "allow", "--format", "jsonl", path] + (["--lines"] if lines else [])
    records = [json.loads(x) for x in ok(tok.run(args), "jsonl").decode().splitlines()]
    texts = text.encode().split(b"\n")[:-1] if lines else [text.encode()]
    assert len(records) == len(texts)
    for rec, t in zip(records, texts):
        assert rec["ids"] == enc.encode(t.decode(), allowed_special="all")
        pos = 0
        for i, (s, e) in zip(rec["ids"], rec["offsets"]):
            assert s == pos
            piece = t[s:e]
            assert piece == enc.decode_bytes([i]) or piece.decode() in {x for x, y in specials if y == i}, (i, piece)
            pos = e
        assert pos == len(t)
    assert records[0]["offsets"][1] == [1, 20]
