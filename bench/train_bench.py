#!/usr/bin/env python3
"""Training benchmark: tok train against HF tokenizers' BpeTrainer, SentencePiece BPE and bpeasy (`make bench-train`).

    bench/setup.sh && .venv/bin/python bench/train_bench.py --tok .build/release/tok [--mb 100] [--vocab 32000]

Every trainer runs in a fresh process under /usr/bin/time (wall seconds and peak RSS of that process), on the same
corpus (bench/train_corpus.py), with the same vocabulary size, all CPUs, and where the trainer takes one the same
pre-tokenization pattern (o200k). Each result then encodes the held-out text, and bytes per token are reported
side by side. Prints one table and writes bench-out/train.json.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench-out"
O200K = json.loads((REPO / "vocabularies" / "o200k_base.json").read_text())["pat_str"]


# --------------------------------------------------------------------------- trainers (run in child processes)
def whole_text_chunks(path: str, size: int = 1 << 20):
    """The file in pieces of about `size` characters, read as a stream and cut after a LF that is followed by a
    printable ASCII character: a piece boundary of the o200k pattern, so pre-tokenizing the pieces equals
    pre-tokenizing the whole (tok's own safe cut)."""
    import re
    cut_re = re.compile(r"\n(?=[!-~])")
    pending = ""
    with open(path, encoding="utf-8") as f:
        while True:
            block = f.read(size)
            pending += block
            if not block:
                if pending:
                    yield pending
                return
            m = None
            for m in cut_re.finditer(pending, max(0, len(pending) - size)):
                pass
            if m:
                yield pending[:m.end()]
                pending = pending[m.end():]


def run_hf(train: str, out: str, vocab: int, lines: bool = False) -> None:
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(O200K), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab, min_frequency=2, show_progress=False, special_tokens=[],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    if lines:
        tk.train([train], trainer)  # HF reads files line by line: no pre-token spans a line break
    else:
        tk.train_from_iterator(whole_text_chunks(train), trainer)
    tk.save(out + ".json")


def run_spm(train: str, out: str, vocab: int) -> None:
    import sentencepiece as spm
    spm.SentencePieceTrainer.train(input=train, model_prefix=out, model_type="bpe", vocab_size=vocab,
                                   byte_fallback=True, num_threads=os.cpu_count(), input_sentence_size=0,
                                   minloglevel=2)


def run_bpeasy(train: str, out: str, vocab: int) -> None:
    import bpeasy

    def lines():
        with open(train, encoding="utf-8") as f:
            yield from f

    ranks = bpeasy.train_bpe(lines(), O200K, 128, vocab)
    with open(out + ".tiktoken", "wb") as f:
        for tok, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
            f.write(base64.b64encode(tok) + b" %d\n" % rank)


RUNNERS = {"hf": run_hf, "hf-lines": lambda t, o, v: run_hf(t, o, v, lines=True), "spm": run_spm,
           "bpeasy": run_bpeasy}


# --------------------------------------------------------------------------- held-out bytes per token
def tokens_tok(tok: str, prefix: Path, heldout: Path) -> int:
    out = subprocess.run([tok, "encode", "-t", f"{prefix}.tiktoken", "--count", str(heldout)], check=True,
                         stdout=subprocess.PIPE).stdout
    return int(out.split()[0])


def tokens_hf(prefix: Path, text: str) -> int:
    from tokenizers import Tokenizer
    tk = Tokenizer.from_file(f"{prefix}.json")
    return len(tk.encode(text, add_special_tokens=False).ids)


def tokens_spm(prefix: Path, text: str) -> int:
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=f"{prefix}.model")
    return sum(len(ids) for ids in sp.encode(text.splitlines()))


def tokens_tiktoken(prefix: Path, text: str) -> int:
    import tiktoken
    ranks = {}
    for line in open(f"{prefix}.tiktoken", "rb"):
        if line.strip():
            t, r = line.split()
            ranks[base64.b64decode(t)] = int(r)
    enc = tiktoken.Encoding(name="bpeasy", pat_str=O200K, mergeable_ranks=ranks, special_tokens={})
    return len(enc.encode_ordinary(text))


# --------------------------------------------------------------------------- driver
def timed(cmd: list[str], timeout: float) -> dict:
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M", *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, check=False)
    wall = time.perf_counter() - t0
    err = p.stderr.decode("utf-8", "replace")
    line = [l for l in err.splitlines() if l.startswith("TIME ")]
    if p.returncode != 0 or not line:
        return {"error": (err.strip().splitlines() or ["exit %d" % p.returncode])[-1][:200]}
    _, secs, kb = line[-1].split()
    return {"seconds": float(secs), "wall": wall, "peak_rss_mb": int(kb) / 1024}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "run":
        RUNNERS[sys.argv[2]](sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--tok", default=str(REPO / ".build" / "release" / "tok"))
    ap.add_argument("--mb", type=float, default=100)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--only", default="tok,tok-1t,hf,hf-lines,spm,bpeasy")
    args = ap.parse_args()

    d = OUT / "train"
    subprocess.run([sys.executable, str(REPO / "bench" / "train_corpus.py"), str(d), "--mb", str(args.mb)], check=True)
    train, heldout = d / "train.txt", d / "heldout.txt"
    held_text = heldout.read_text(encoding="utf-8")
    held_bytes = len(held_text.encode("utf-8"))
    meta = json.loads((d / "train-corpus.json").read_text())
    print(f"corpus: {train} {meta['train_bytes'] / 1e6:.1f} MB (prose {meta['categories']['prose']['bytes'] / 1e6:.0f}, "
          f"code {meta['categories']['code']['bytes'] / 1e6:.0f}, multilingual {meta['categories']['multi']['bytes'] / 1e6:.0f}); "
          f"held out {held_bytes / 1e6:.1f} MB; vocab {args.vocab}; pattern o200k where the trainer takes one")
    print(f"machine: {platform.machine()} {os.cpu_count()} CPUs; every trainer uses all CPUs unless noted; "
          f"time and peak RSS of a fresh process (/usr/bin/time)\n")

    rows = []
    py = sys.executable
    plan = {
        "tok": ([args.tok, "train", str(train), "-o", str(d / "tok"), "--vocab-size", str(args.vocab),
                 "--pattern", "o200k", "--special-tokens", "", "--min-frequency", "2", "-q"], d / "tok"),
        "tok-1t": ([args.tok, "train", str(train), "-o", str(d / "tok1"), "--vocab-size", str(args.vocab),
                    "--pattern", "o200k", "--special-tokens", "", "--min-frequency", "2", "-q", "--threads", "1"],
                   d / "tok1"),
        "hf": ([py, __file__, "run", "hf", str(train), str(d / "hf"), str(args.vocab)], d / "hf"),
        "hf-lines": ([py, __file__, "run", "hf-lines", str(train), str(d / "hflines"), str(args.vocab)], d / "hflines"),
        "spm": ([py, __file__, "run", "spm", str(train), str(d / "spm"), str(args.vocab)], d / "spm"),
        "bpeasy": ([py, __file__, "run", "bpeasy", str(train), str(d / "bpeasy"), str(args.vocab)], d / "bpeasy"),
    }
    notes = {
        "tok": "tok train, all threads",
        "tok-1t": "tok train --threads 1",
        "hf": "tokenizers BpeTrainer, Split(o200k)+ByteLevel, all 256 bytes, the same texts as tok",
        "hf-lines": "the same, trained with Tokenizer.train(files): HF reads files line by line",
        "spm": "sentencepiece BPE, byte_fallback; its own whitespace rules, no regex",
        "bpeasy": "bpeasy.train_bpe, o200k regex, max token length 128",
    }
    for name in [n for n in plan if n in args.only.split(",")]:
        cmd, prefix = plan[name]
        print(f"  .. {name}", file=sys.stderr, flush=True)
        r = timed(cmd, args.timeout)
        r["name"] = name
        if "error" not in r:
            try:
                if name.startswith("tok"):
                    n = tokens_tok(args.tok, prefix, heldout)
                elif name.startswith("hf"):
                    n = tokens_hf(prefix, held_text)
                elif name == "spm":
                    n = tokens_spm(prefix, held_text)
                else:
                    n = tokens_tiktoken(prefix, held_text)
                r["heldout_tokens"] = n
                r["bytes_per_token"] = held_bytes / n
            except Exception as e:  # a trainer's output that cannot encode is reported, not fatal
                r["bpt_error"] = str(e)[:200]
        rows.append(r)

    base = next((r for r in rows if r["name"] == "tok" and "error" not in r), None)
    hf = next((r for r in rows if r["name"] == "hf" and "error" not in r), None)
    head = ["trainer", "seconds", "x tok", "peak RSS MB", "x tok", "bytes/token", "vs HF", "note"]
    table = []
    for r in rows:
        if "error" in r:
            table.append([r["name"], "failed", "", "", "", "", "", r["error"]])
            continue
        bpt = r.get("bytes_per_token")
        table.append([
            r["name"], f"{r['seconds']:.2f}",
            f"{r['seconds'] / base['seconds']:.2f}" if base else "",
            f"{r['peak_rss_mb']:.0f}",
            f"{r['peak_rss_mb'] / base['peak_rss_mb']:.2f}" if base else "",
            f"{bpt:.4f}" if bpt else r.get("bpt_error", ""),
            f"{(bpt / hf['bytes_per_token'] - 1) * 100:+.2f}%" if bpt and hf and hf.get("bytes_per_token") else "",
            notes[r["name"]],
        ])
    widths = [max(len(str(row[i])) for row in [head] + table) for i in range(len(head))]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("  ".join("-" * w for w in widths))
    for row in table:
        print("  ".join(str(c).rjust(w) if 0 < i < 7 else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths))))
    if base and hf:
        print(f"\n   tok / HF: {base['seconds'] / hf['seconds']:.2f}x the time, {base['peak_rss_mb'] / hf['peak_rss_mb']:.2f}x the peak RSS")
    OUT.mkdir(exist_ok=True)
    (OUT / "train.json").write_text(json.dumps({"corpus": meta, "vocab": args.vocab, "rows": rows}, indent=1))
    print("wrote bench-out/train.json")


if __name__ == "__main__":
    main()
