#!/usr/bin/env python3
"""Encode benchmark for tok against tiktoken, HF tokenizers, gigatoken,
fastokens and quicktok (see bench/README.md).

    bench/setup.sh && .venv/bin/python bench/bench.py --tok .build/release/tok

Prints one aligned table and writes the same numbers to bench-out/encode.json.
Everything is offline: vocabularies come from vocabularies/<name>.tiktoken and
vocabularies/<name>.json; TIKTOKEN_CACHE_DIR points at an empty temp dir and
tiktoken.get_encoding is never called.

Each Python peer runs in its own subprocess pinned to the last CPU (taskset),
with RAYON_NUM_THREADS=1, and reports the best of N timed calls. Every timed
call uses a fresh tokenizer instance built outside the timer and warmed with
one short unrelated string (so lazy one-time set-up such as regex JIT is not
timed, but no per-instance pretoken/word cache carries over between runs).
"""
from __future__ import annotations

import argparse
import base64
import functools
import glob
import gzip
import hashlib
import json
import os
import platform
import random
import shutil
import string
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench-out"
VOCAB_DIR = REPO / "vocabularies"

ENCODINGS = ["cl100k_base", "o200k_base"]
PEERS = ["tiktoken", "hf-tokenizers", "gigatoken", "fastokens", "quicktok"]
# Encodings for which fastokens runs fastest when named (`from_tiktoken(path, encoding=...)`, its own pre-tokenizer):
# on cl100k about 70-80 MB/s against about 30 through PCRE2 with the pattern. For o200k the named set-up measured
# level or a little slower than the pattern (68-75 against 70-79 MB/s, one core, 2026-12-05), so o200k keeps the
# pattern: each peer runs in its fastest set-up.
FASTOKENS_ENCODINGS = ("cl100k_base",)

# Oniguruma (HF) reads `{1,3}+` as "one or more", not possessive, and `$` as the end of any line, so HF gets the
# older non-possessive cl100k form with `\s+\z` for cl100k's `\s++$` (the form `tok train` writes into
# tokenizer.json: StandardPattern.oniguramaPatternString). o200k's pat_str has no possessive quantifiers.
HF_PATTERNS = {
    "cl100k_base": r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s+\z|\s*[\r\n]+|\s+(?!\S)|\s+""",
}
QUICKTOK_SCANNERS = {"cl100k_base": "cl100k", "o200k_base": "o200k", "llama3": "llama3"}

WARMUP_TEXT = "Warm-up: Hello, world! 123 \u00e9t\u00e9 \u8bed\n"
MB = 1e6  # MB/s means 10^6 bytes of UTF-8 input per second

PATHOLOGICAL = [
    ("a-x1e6", "one run of 1,000,000 'a'"),
    ("cjk-x3e5", "'\u8bed' repeated 300,000 times"),
    ("ascii-nospace-1MB", "1 MB random printable ASCII, no whitespace (seed 1234)"),
]


# --------------------------------------------------------------------------
# vocabularies


def load_meta(enc: str) -> dict:
    with open(VOCAB_DIR / f"{enc}.json", encoding="utf-8") as f:
        return json.load(f)


def load_ranks(enc: str) -> dict[bytes, int]:
    ranks: dict[bytes, int] = {}
    with open(VOCAB_DIR / f"{enc}.tiktoken", "rb") as f:
        for line in f:
            if line.strip():
                tok, rank = line.split()
                ranks[base64.b64decode(tok)] = int(rank)
    return ranks


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def token_lengths(enc: str):
    """numpy array: byte length of each id (specials: length of their text)."""
    import numpy as np

    ranks = load_ranks(enc)
    meta = load_meta(enc)
    n = max(max(ranks.values()), max(meta["special_tokens"].values(), default=0)) + 1
    lens = np.zeros(n, dtype=np.int64)
    for tok, r in ranks.items():
        lens[r] = len(tok)
    for s, r in meta["special_tokens"].items():
        lens[r] = len(s.encode())
    return lens


def count_mismatches(ref, got, lens) -> int:
    """Number of reference tokens not reproduced exactly (same id at the same
    byte span) by `got`; 0 iff the sequences are identical."""
    import numpy as np

    ref = np.asarray(ref, dtype=np.int64)
    got = np.asarray(got, dtype=np.int64)
    if ref.shape == got.shape and np.array_equal(ref, got):
        return 0

    def keys(ids):
        ok = (ids >= 0) & (ids < len(lens))
        ln = np.where(ok, lens[np.clip(ids, 0, len(lens) - 1)], 0)
        start = np.cumsum(ln) - ln
        return (start << 34) | (np.minimum(ln, 65535) << 18) | np.where(ok, ids, (1 << 18) - 1)

    return int((~np.isin(keys(ref), keys(got))).sum())


# --------------------------------------------------------------------------
# input


def _fallback_sources() -> list[tuple[str, str, int]]:
    """(kind, path, byte budget of the group) for the no-corpora fallback:
    common licenses, the Python stdlib's .py files, and man pages (every
    language directory, so some non-English text)."""
    out: list[tuple[str, str, int]] = []
    seen = set()
    for p in sorted(glob.glob("/usr/share/common-licenses/*")):
        rp = os.path.realpath(p)
        if os.path.isfile(rp) and rp not in seen:
            seen.add(rp)
            out.append(("text", rp, 0))
    stdlib = sysconfig.get_paths()["stdlib"]
    pys = sorted(
        p for p in glob.glob(os.path.join(stdlib, "**", "*.py"), recursive=True)
        if "site-packages" not in p and "dist-packages" not in p
    )
    out += [("text", p, 1) for p in pys]
    man = "/usr/share/man"
    if os.path.isdir(man):
        for d in sorted(os.listdir(man)):
            pages = sorted(glob.glob(os.path.join(man, d, "**", "*.gz"), recursive=True))
            out += [("gz", p, 2) for p in pages]
    return out


@functools.lru_cache(maxsize=None)  # the per-corpus table reads the corpora the bench input was built from
def _read_source(kind: str, path: str) -> str | None:
    try:
        if kind == "zst":
            data = subprocess.run(["zstd", "-dcq", path], check=True, capture_output=True, timeout=120).stdout
        elif kind == "gz":
            with gzip.open(path, "rb") as f:
                data = f.read()
        else:
            with open(path, "rb") as f:
                data = f.read()
    except Exception:
        return None
    text = data.decode("utf-8", errors="replace").replace("\x00", "")
    return text if text.strip() else None


def build_input(out_path: Path, min_bytes: int) -> dict:
    """Concatenate the shipped corpora (corpora/*.zst, sorted by name, each
    decompressed with the zstd CLI), cycled until >= min_bytes, cut at the
    first newline past min_bytes. Without corpora, fall back to
    /usr/share/common-licenses + Python stdlib .py + man pages. Deterministic
    for a given set of files."""
    zsts = sorted(glob.glob(str(REPO / "corpora" / "*.zst")))
    texts: list[tuple[str, str]] = []
    if zsts:
        origin = "corpora"
        for p in zsts:
            t = _read_source("zst", p)
            if t is not None:
                texts.append((os.path.relpath(p, REPO), t))
    if not texts:
        origin = "fallback (common-licenses + python stdlib + man pages)"
        # Per-group budgets keep the mix varied: licenses all, up to 3 MB of
        # Python, up to 7 MB of man pages spread over every language dir.
        srcs = _fallback_sources()
        budgets = {0: 1 << 40, 1: 3_000_000, 2: 7_000_000}
        used = {0: 0, 1: 0, 2: 0}
        man_dirs = sorted({Path(p).relative_to("/usr/share/man").parts[0] for k, p, g in srcs if g == 2})
        per_dir_used: dict[str, int] = {}
        per_dir_budget = budgets[2] // max(1, len(man_dirs))
        for kind, p, g in srcs:
            if used[g] >= budgets[g]:
                continue
            if g == 2:
                d = Path(p).relative_to("/usr/share/man").parts[0]
                if per_dir_used.get(d, 0) >= per_dir_budget:
                    continue
            t = _read_source(kind, p)
            if t is None:
                continue
            n = len(t.encode("utf-8"))
            used[g] += n
            if g == 2:
                per_dir_used[d] = per_dir_used.get(d, 0) + n
            texts.append((p, t))
    if not texts:
        raise SystemExit("bench: no input text found")

    chunks: list[bytes] = []
    total = 0
    cycles = 0
    unique = sum(len(t.encode("utf-8")) for _, t in texts)
    while total < min_bytes:
        cycles += 1
        for _, t in texts:
            b = t.encode("utf-8")
            if not b.endswith(b"\n"):
                b += b"\n"
            chunks.append(b)
            total += len(b)
            if total >= min_bytes:
                break
    data = b"".join(chunks)
    cut = data.find(b"\n", min_bytes)
    if cut != -1 and cut - min_bytes < 1 << 16:
        data = data[: cut + 1]
    elif len(data) > min_bytes:
        cut = min_bytes
        while cut < len(data) and (data[cut] & 0xC0) == 0x80:
            cut += 1
        data = data[:cut]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(data)
    return {
        "path": os.path.relpath(out_path, REPO),
        "origin": origin,
        "files": len(texts),
        "unique_bytes": unique,
        "cycles": cycles,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def build_pathological() -> dict[str, Path]:
    rng = random.Random(1234)
    alphabet = "".join(c for c in string.printable if not c.isspace())
    texts = {
        "a-x1e6": "a" * 1_000_000,
        "cjk-x3e5": "\u8bed" * 300_000,
        "ascii-nospace-1MB": "".join(rng.choice(alphabet) for _ in range(1_000_000)),
    }
    paths = {}
    for name, t in texts.items():
        p = OUT / f"patho-{name}.txt"
        b = t.encode("utf-8")
        if not p.exists() or p.read_bytes() != b:
            p.write_bytes(b)
        paths[name] = p
    return paths


# --------------------------------------------------------------------------
# HF tokenizers from a .tiktoken file


def bytes_to_unicode() -> dict[int, str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1)) + list(range(ord("\u00ae"), ord("\u00ff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def _bpe_split(ranks: dict[bytes, int], token: bytes, max_rank: int) -> list[bytes]:
    parts = [token[i : i + 1] for i in range(len(token))]
    while len(parts) > 1:
        best = None
        best_i = -1
        for i in range(len(parts) - 1):
            r = ranks.get(parts[i] + parts[i + 1])
            if r is not None and r < max_rank and (best is None or r < best):
                best, best_i = r, i
        if best is None:
            break
        parts[best_i : best_i + 2] = [parts[best_i] + parts[best_i + 1]]
    return parts


def hf_json_path(enc: str) -> Path:
    sha = file_sha256(VOCAB_DIR / f"{enc}.tiktoken")[:12]
    pat = HF_PATTERNS.get(enc) or load_meta(enc)["pat_str"]
    tag = hashlib.sha256(pat.encode()).hexdigest()[:8]
    return OUT / f"hf-{enc}-{sha}-{tag}.json"


def build_hf_tokenizer(enc: str, log=print) -> Path:
    """tokenizers.Tokenizer equivalent of the .tiktoken file, cached as JSON."""
    path = hf_json_path(enc)
    if path.exists():
        return path
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

    t0 = time.perf_counter()
    ranks = load_ranks(enc)
    meta = load_meta(enc)
    b2u = bytes_to_unicode()
    enc_tok = lambda b: "".join(b2u[x] for x in b)
    vocab = {enc_tok(t): r for t, r in ranks.items()}
    merges = []
    for tok, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
        if len(tok) == 1:
            continue
        parts = _bpe_split(ranks, tok, rank)
        if len(parts) != 2:
            raise SystemExit(f"bench: {enc}: token rank {rank} does not split into two lower-rank tokens ({len(parts)} parts)")
        merges.append((enc_tok(parts[0]), enc_tok(parts[1])))
    model = models.BPE(vocab=vocab, merges=merges, ignore_merges=True)
    tk = Tokenizer(model)
    pat = HF_PATTERNS.get(enc) or meta["pat_str"]
    tk.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(pat), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tk.decoder = decoders.ByteLevel()
    j = json.loads(tk.to_str())
    # Specials with their real ids (add_special_tokens would renumber them).
    j["added_tokens"] = [
        {"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
        for s, i in sorted(meta["special_tokens"].items(), key=lambda kv: kv[1])
    ]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(j, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    log(f"  built HF tokenizer for {enc} ({len(merges)} merges) in {time.perf_counter() - t0:.1f}s -> {os.path.relpath(path, REPO)}")
    return path


# --------------------------------------------------------------------------
# quicktok data files from our .tiktoken file


def prepare_quicktok(enc: str) -> tuple[str, str, str]:
    """(name, data_dir, source) for quicktok.Tokenizer. Writes our ranks in
    quicktok's binary format with its own import code; falls back to the
    vocab bundled with the package."""
    scanner = QUICKTOK_SCANNERS.get(enc)
    if scanner is None:
        return enc, "", "bundled vocab"
    try:
        import quicktok
        from quicktok import _import_core as core

        sha = file_sha256(VOCAB_DIR / f"{enc}.tiktoken")[:12]
        d = OUT / "quicktok"
        d.mkdir(parents=True, exist_ok=True)
        name = f"ours_{enc}_{sha}"
        if not (d / f"{name}.enc").exists():
            core.write_files(str(d), name, load_ranks(enc), load_meta(enc)["special_tokens"], scanner, False)
            core.ensure_tables(str(d), os.path.join(os.path.dirname(quicktok.__file__), "data"), scanner, False)
        return name, str(d), f"our .tiktoken (written via quicktok._import_core, scanner={scanner})"
    except Exception as e:  # pragma: no cover - depends on quicktok internals
        return enc, "", f"bundled vocab (import failed: {e!r})"


# --------------------------------------------------------------------------
# worker: one peer, one encoding, one input; runs pinned in a subprocess


def make_peer(peer: str, enc: str):
    """Returns (factory, encode(instance, text) -> ids, source description)."""
    meta = load_meta(enc)
    vocab_path = str(VOCAB_DIR / f"{enc}.tiktoken")
    if peer == "tiktoken":
        import tiktoken

        ranks = load_ranks(enc)
        factory = lambda: tiktoken.Encoding(
            name=f"bench_{enc}", pat_str=meta["pat_str"], mergeable_ranks=ranks, special_tokens=meta["special_tokens"]
        )
        return factory, lambda t, s: t.encode_ordinary(s), f"our .tiktoken + .json, tiktoken {tiktoken.__version__ if hasattr(tiktoken, '__version__') else ''}".strip()
    if peer == "hf-tokenizers":
        from tokenizers import Tokenizer

        path = build_hf_tokenizer(enc, log=lambda *a: print(*a, file=sys.stderr))
        data = path.read_text(encoding="utf-8")

        def factory():
            tk = Tokenizer.from_str(data)
            tk.encode_special_tokens = True  # encode_ordinary semantics
            return tk

        return factory, lambda t, s: t.encode(s, add_special_tokens=False).ids, "our .tiktoken -> BPE(ignore_merges) tokenizer.json"
    if peer == "gigatoken":
        import gigatoken

        return (
            lambda: gigatoken.Tokenizer.from_tiktoken(vocab_path),
            lambda t, s: t.encode(s),
            "our .tiktoken via Tokenizer.from_tiktoken (built-in pretokenizer for the file name)",
        )
    if peer == "fastokens":
        import fastokens

        if enc in FASTOKENS_ENCODINGS:
            return (
                lambda: fastokens.Tokenizer.from_tiktoken(vocab_path, encoding=enc),
                lambda t, s: t.encode_ordinary(s).ids,
                f"our .tiktoken via Tokenizer.from_tiktoken(encoding={enc!r})",
            )
        return (
            lambda: fastokens.Tokenizer.from_tiktoken(vocab_path, pattern=meta["pat_str"], special_tokens=meta["special_tokens"]),
            lambda t, s: t.encode_ordinary(s).ids,
            "our .tiktoken + pat_str via Tokenizer.from_tiktoken (PCRE2)",
        )
    if peer == "quicktok":
        import quicktok

        name, d, src = prepare_quicktok(enc)
        return lambda: quicktok.Tokenizer(name, d), lambda t, s: t.encode_ordinary(s), src
    raise SystemExit(f"unknown peer {peer}")


def worker(args) -> None:
    import numpy as np

    res: dict = {"peer": args.worker, "encoding": args.enc}
    try:
        factory, encode, source = make_peer(args.worker, args.enc)
        res["source"] = source
        with open(args.input, "rb") as f:
            raw = f.read()
        text = raw.decode("utf-8")
        times = []
        cpu_times = []
        ids = None
        budget_start = time.perf_counter()
        for i in range(args.runs):
            inst = factory()
            encode(inst, WARMUP_TEXT)
            c0 = time.process_time()
            t0 = time.perf_counter()
            out = encode(inst, text)
            dt = time.perf_counter() - t0
            cpu = time.process_time() - c0
            times.append(dt)
            cpu_times.append(cpu)
            if ids is None:
                ids = np.asarray(out, dtype=np.uint32)
            del inst, out
            if args.budget and time.perf_counter() - budget_start > args.budget:
                break
        best = min(times)
        res.update(
            ok=True,
            bytes=len(raw),
            seconds=best,
            times=times,
            cpu_times=cpu_times,
            mb_per_s=len(raw) / MB / best,
            cpu_mb_per_s=len(raw) / MB / max(min(cpu_times), 1e-9),
            tokens=int(len(ids)),
        )
        if args.save_ref:
            np.save(args.save_ref, ids)
        if args.ref and os.path.exists(args.ref):
            ref = np.load(args.ref)
            res["mismatches"] = count_mismatches(ref, ids, token_lengths(args.enc))
            res["ref_tokens"] = int(len(ref))
    except Exception as e:
        res.update(ok=False, error=f"{type(e).__name__}: {e}")
    print("BENCHJSON " + json.dumps(res), flush=True)


# --------------------------------------------------------------------------
# driver


class Bench:
    def __init__(self, args):
        self.args = args
        self.tok = args.tok
        self.ncpu = os.cpu_count() or 1
        self.tmp_cache = tempfile.mkdtemp(prefix="tiktoken-cache-empty-")
        os.environ["TIKTOKEN_CACHE_DIR"] = self.tmp_cache  # never populated: nothing calls get_encoding
        self.have_taskset = shutil.which("taskset") is not None
        self.pin_cpu = max(0, (os.cpu_count() or 1) - 1)

    def env(self, single_thread: bool) -> dict:
        e = dict(os.environ)
        e.update(
            TIKTOKEN_CACHE_DIR=self.tmp_cache,
            TOKENIZERS_PARALLELISM="false",
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            QUICKTOK_DATA=str(OUT / "quicktok"),
            PYTHONHASHSEED="0",
        )
        e.pop("FASTOKENS_SEGMENT_CACHE", None)
        if single_thread:
            e.update(RAYON_NUM_THREADS="1", RAYON_RS_NUM_CPUS="1", OMP_NUM_THREADS="1")
        return e

    def pin(self, cmd: list[str]) -> list[str]:
        # The last CPU: CPU 0 takes more of the machine's interrupts.
        return (["taskset", "-c", str(self.pin_cpu)] + cmd) if self.have_taskset else cmd

    def run_peer(self, peer, enc, input_path, runs, timeout, ref=None, save_ref=None, budget=0.0) -> dict:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", peer, "--enc", enc, "--input", str(input_path), "--runs", str(runs)]
        if ref:
            cmd += ["--ref", str(ref)]
        if save_ref:
            cmd += ["--save-ref", str(save_ref)]
        if budget:
            cmd += ["--budget", str(budget)]
        try:
            p = subprocess.run(self.pin(cmd), capture_output=True, text=True, timeout=timeout, env=self.env(True), cwd=REPO)
        except subprocess.TimeoutExpired:
            return {"peer": peer, "encoding": enc, "ok": False, "timeout": True, "error": f"timeout ({timeout:.0f}s)"}
        for line in reversed(p.stdout.splitlines()):
            if line.startswith("BENCHJSON "):
                return json.loads(line[len("BENCHJSON "):])
        tail = (p.stderr.strip().splitlines() or ["no output"])[-1]
        return {"peer": peer, "encoding": enc, "ok": False, "error": f"exit {p.returncode}: {tail[:200]}"}

    # ---- tok

    def tok_available(self) -> str | None:
        if not self.tok:
            return "no --tok given"
        if not (os.path.isfile(self.tok) and os.access(self.tok, os.X_OK)):
            return f"{self.tok} missing"
        return None

    def tok_bench(self, enc, input_path, threads, repeat, timeout) -> dict:
        row = {"impl": f"tok bench ({threads} thread{'s' if threads > 1 else ''})", "threads": threads}
        err = self.tok_available()
        if err:
            return {**row, "ok": False, "error": err}
        cmd = [self.tok, "bench", "-t", enc, "--threads", str(threads), "--repeat", str(repeat), str(input_path)]
        if threads == 1:
            cmd = self.pin(cmd)
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=self.env(False), cwd=REPO)
        except subprocess.TimeoutExpired:
            return {**row, "ok": False, "timeout": True, "error": f"timeout ({timeout:.0f}s)"}
        except OSError as e:
            return {**row, "ok": False, "error": str(e)}
        if p.returncode != 0:
            tail = (p.stderr.strip().splitlines() or [""])[-1]
            return {**row, "ok": False, "error": f"exit {p.returncode}: {tail[:160]}"}
        for line in reversed(p.stdout.strip().splitlines()):
            line = line.strip()
            if line.startswith("{"):
                try:
                    j = json.loads(line)
                    secs = float(j["seconds"])
                    nbytes = int(j.get("bytes") or os.path.getsize(input_path))
                    return {
                        **row,
                        "ok": True,
                        "bytes": nbytes,
                        "seconds": secs,
                        "mb_per_s": nbytes / MB / secs if secs > 0 else float("inf"),
                        "tok_reported_mb_per_s": j.get("mb_per_s"),
                        "tokens": j.get("tokens"),
                    }
                except (ValueError, KeyError, TypeError):
                    continue
        return {**row, "ok": False, "error": f"no JSON line in output: {p.stdout.strip()[:120]!r}"}

    def tok_pipe(self, enc, input_path, threads, runs, timeout) -> dict:
        label = f"{threads} thread" if threads else "default threads"
        row = {"impl": f"tok encode pipe ({label})", "threads": threads or self.ncpu}
        err = self.tok_available()
        if err:
            return {**row, "ok": False, "error": err}
        cmd = [self.tok, "encode", "-t", enc]
        if threads:
            cmd += ["--threads", str(threads)]
            if threads == 1:
                cmd = self.pin(cmd)
        times = []
        nbytes = os.path.getsize(input_path)
        for _ in range(runs):
            t0 = time.perf_counter()
            try:
                cat = subprocess.Popen(["cat", str(input_path)], stdout=subprocess.PIPE)
                p = subprocess.Popen(cmd, stdin=cat.stdout, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=self.env(False), cwd=REPO)
                cat.stdout.close()
                _, stderr = p.communicate(timeout=timeout)
                cat.wait()
            except subprocess.TimeoutExpired:
                p.kill()
                cat.kill()
                return {**row, "ok": False, "timeout": True, "error": f"timeout ({timeout:.0f}s)"}
            except OSError as e:
                return {**row, "ok": False, "error": str(e)}
            dt = time.perf_counter() - t0
            if p.returncode != 0:
                tail = (stderr.decode(errors="replace").strip().splitlines() or [""])[-1]
                return {**row, "ok": False, "error": f"exit {p.returncode}: {tail[:160]}"}
            times.append(dt)
        best = min(times)
        return {**row, "ok": True, "bytes": nbytes, "seconds": best, "times": times, "mb_per_s": nbytes / MB / best}

    def timed_tok(self, args, timeout, runs=3, pin=False) -> float | None:
        """Best wall seconds of `tok ARGS` (output discarded), or None if it fails."""
        cmd = [self.tok, *args]
        if pin:
            cmd = self.pin(cmd)
        best = None
        for _ in range(runs):
            t0 = time.perf_counter()
            p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=self.env(False), cwd=REPO,
                               timeout=timeout)
            if p.returncode != 0:
                return None
            dt = time.perf_counter() - t0
            best = dt if best is None else min(best, dt)
        return best

    def eval_rows(self, encs, input_path, timeout) -> dict:
        """`tok eval` throughput: each tokenizer alone (1 thread and all threads), and all of them in one run
        compared with encoding the input once per tokenizer (`tok encode --count`, all threads)."""
        if self.tok_available():
            return {}
        nbytes = os.path.getsize(input_path)
        names = encs + ["mixed-8k"]
        rows = []
        for enc in names:
            one = self.timed_tok(["eval", "-t", enc, "--threads", "1", str(input_path)], timeout, pin=True)
            allt = self.timed_tok(["eval", "-t", enc, str(input_path)], timeout)
            rows.append({"tokenizer": enc, "mb_per_s_1t": nbytes / MB / one if one else None,
                         "mb_per_s": nbytes / MB / allt if allt else None})
        together = self.timed_tok(["eval", *sum((["-t", n] for n in names), []), str(input_path)], timeout)
        def encode_all(extra):
            best = float("inf")
            for _ in range(3):
                total = 0.0
                for n in names:
                    t = self.timed_tok(["encode", "-t", n, *extra, str(input_path)], timeout, runs=1)
                    total += t if t else float("nan")
                best = min(best, total)
            return best
        enc_ids, enc_count = encode_all([]), encode_all(["--count"])
        return {"bytes": nbytes, "rows": rows, "tokenizers": names, "together_seconds": together,
                "encode_each_seconds": enc_ids, "count_each_seconds": enc_count,
                "ratio": together / enc_ids if together else None,
                "ratio_count": together / enc_count if together else None}

    def many_files(self, encs, input_path) -> dict:
        """`tok encode` over the bench input as one file and cut into files of about 100 KB and about 1 KB (at
        character ends), one thread (pinned) and all threads. A file of one segment gives the pipeline nothing to
        share between threads; such files are encoded in batches on the workers instead."""
        a = self.args
        data = input_path.read_bytes()
        sets = [("one file", None)]
        for label, size in (("files of 100 KB", 100_000), ("files of 1 KB", 1_000)):
            d = OUT / f"files-{size}"
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir(parents=True)
            names, at, k = [], 0, 0
            while at < len(data):
                end = min(at + size, len(data))
                while end < len(data) and (data[end] & 0xC0) == 0x80:
                    end += 1
                name = f"{k:05d}.txt"
                (d / name).write_bytes(data[at:end])
                names.append(str(d / name))
                at, k = end, k + 1
            (d / "list").write_text("\n".join(names) + "\n")
            sets.append((f"{label} ({k})", d / "list"))
        rows = {}
        for enc in encs:
            table = []
            for label, listed in sets:
                args = ["encode", "-t", enc] + (["--files-from", str(listed)] if listed else [str(input_path)])
                one = self.timed_tok(args[:3] + ["--threads", "1"] + args[3:], a.timeout, runs=a.runs, pin=True)
                allt = self.timed_tok(args, a.timeout, runs=a.runs)
                table.append({"inputs": label, "mb_per_s_1t": len(data) / MB / one if one else None,
                              "mb_per_s": len(data) / MB / allt if allt else None})
            rows[enc] = table
        return {"bytes": len(data), "rows": rows}

    def tok_verify(self, enc, input_path, ref_path, threads, timeout) -> dict:
        """Untimed `tok encode` run; if stdout is whitespace-separated ids,
        compare them with tiktoken's."""
        import numpy as np

        if self.tok_available() or not ref_path.exists():
            return {}
        try:
            with open(input_path, "rb") as f:
                cmd = [self.tok, "encode", "-t", enc] + (["--threads", str(threads)] if threads else [])
                p = subprocess.run(cmd, stdin=f, capture_output=True, timeout=timeout, env=self.env(False), cwd=REPO)
        except (subprocess.TimeoutExpired, OSError) as e:
            return {"verify": f"not checked ({type(e).__name__})"}
        if p.returncode != 0:
            return {"verify": f"not checked (exit {p.returncode})"}
        try:
            got = np.array(p.stdout.split(), dtype=np.int64)
        except ValueError:
            return {"verify": "not checked (output is not whitespace-separated ids)"}
        ref = np.load(ref_path)
        return {"mismatches": count_mismatches(ref, got, token_lengths(enc)), "tokens": int(len(got)), "ref_tokens": int(len(ref))}

    # ---- main run

    def run(self):
        a = self.args
        t_start = time.perf_counter()
        OUT.mkdir(parents=True, exist_ok=True)
        encs = a.encodings.split(",")
        peers = [p for p in a.peers.split(",") if p]

        info = build_input(OUT / "input.txt", int(a.input_mb * 1_000_000))
        input_path = OUT / "input.txt"
        print(
            f"input: {info['path']}  {info['bytes'] / MB:.2f} MB  from {info['origin']}, {info['files']} files, "
            f"{info['unique_bytes'] / MB:.2f} MB unique, {info['cycles']} cycle(s)"
        )
        err = self.tok_available()
        print(f"tok: {self.tok}" + (f"  (n/a: {err})" if err else ""))
        print(f"machine: {platform.machine()} {self.ncpu} CPUs, {platform.python_implementation()} {platform.python_version()}; "
              f"single-thread rows pinned with taskset -c {self.pin_cpu}; best of {a.runs} runs in each of {a.rounds} "
              f"rounds (every row once per round, so that the machine's drift hits all rows alike); MB = 10^6 bytes", flush=True)
        load1 = os.getloadavg()[0]
        if load1 > 0.5:
            print(f"warning: load average {load1:.2f} at start; other processes compete for the {self.ncpu} CPUs, numbers will be noisy")

        if "hf-tokenizers" in peers:
            for enc in encs:
                try:
                    build_hf_tokenizer(enc)
                except Exception as e:
                    print(f"  HF build failed for {enc}: {e!r}")
        if "quicktok" in peers:
            for enc in encs:
                prepare_quicktok(enc)

        results = {"meta": self.meta(info), "encode": {}, "pathological": {}}
        for enc in encs:
            rows = []
            ref = OUT / f"ref-{enc}.npy"
            if ref.exists():
                ref.unlink()
            for rnd in range(max(1, a.rounds)):
                got = []
                self.progress(f"{enc}: tok" + (f" (round {rnd + 1})" if a.rounds > 1 else ""))
                got.append(self.tok_bench(enc, input_path, 1, a.runs, a.timeout))
                got.append(self.tok_bench(enc, input_path, self.ncpu, a.runs, a.timeout))
                got.append(self.tok_pipe(enc, input_path, 1, a.runs, a.timeout))
                got.append(self.tok_pipe(enc, input_path, 0, a.runs, a.timeout))
                for peer in peers:
                    self.progress(f"{enc}: {peer}")
                    r = self.run_peer(peer, enc, input_path, a.runs, a.timeout, ref=None if peer == "tiktoken" else ref,
                                      save_ref=ref if peer == "tiktoken" and rnd == 0 else None, budget=a.row_budget)
                    r["impl"] = f"{peer} (1 thread)"
                    r["threads"] = 1
                    got.append(r)
                # Keep each row's best round.
                rows = got if not rows else [
                    new if new.get("ok") and (not old.get("ok") or new.get("mb_per_s", 0) > old.get("mb_per_s", 0)) else old
                    for old, new in zip(rows, got)]
            ref_tokens = next((r.get("tokens") for r in rows if r.get("peer") == "tiktoken" and r.get("ok")), None)
            for r in rows[:2]:  # tok bench: it reports a token count only
                if r.get("ok") and r.get("tokens") is not None and ref_tokens is not None:
                    r["ref_tokens"] = ref_tokens
            for r, threads in ((rows[2], 1), (rows[3], 0)):  # tok encode: compare the ids it prints
                if r.get("ok"):
                    ver = self.tok_verify(enc, input_path, ref, threads, a.timeout)
                    if "mismatches" in ver:
                        r.update(mismatches=ver["mismatches"], tokens=ver["tokens"], ref_tokens=ver["ref_tokens"])
                    elif ver.get("verify"):
                        r["verify"] = ver["verify"]
            base = rows[0].get("mb_per_s") if rows[0].get("ok") else None
            for r in rows:
                if r.get("ok") and base:
                    r["ratio_to_tok_1t"] = r["mb_per_s"] / base
            results["encode"][enc] = rows
            results["encode"][enc + "_tok_scaling"] = (
                rows[1]["mb_per_s"] / rows[0]["mb_per_s"] if rows[0].get("ok") and rows[1].get("ok") else None
            )

        if not a.skip_eval:
            self.progress("eval throughput")
            results["eval"] = self.eval_rows(encs, input_path, a.timeout)

        if not a.skip_per_corpus:
            results["per_corpus"] = self.per_corpus(encs, peers)

        if not a.skip_many_files:
            self.progress("many files")
            results["many_files"] = self.many_files(encs, input_path)

        if not a.skip_pathological:
            paths = build_pathological()
            for enc in encs if a.patho_all_encodings else encs[:1]:
                results["pathological"][enc] = self.pathological(enc, paths, peers, input_path)

        results["meta"]["wall_seconds"] = time.perf_counter() - t_start
        results["meta"]["loadavg_end"] = os.getloadavg()[0]
        self.print_tables(results, encs)
        with open(OUT / "encode.json", "w") as f:
            json.dump(results, f, indent=1)
        print(f"\nwrote {os.path.relpath(OUT / 'encode.json', REPO)}; bench wall time {results['meta']['wall_seconds']:.0f}s")
        shutil.rmtree(self.tmp_cache, ignore_errors=True)

    def pathological(self, enc, paths, peers, input_path) -> dict:
        """Seconds per MB on each pathological input, and for tok its ratio to its per-byte time on the bench
        input measured right before it (the machine's speed drifts too much for a ratio across tables)."""
        a = self.args
        out = {}
        for name, path in paths.items():
            self.progress(f"pathological {name} ({enc})")
            nbytes = path.stat().st_size
            ref = OUT / f"ref-patho-{enc}-{name}.npy"
            if ref.exists():
                ref.unlink()
            row = {"bytes": nbytes}
            base = self.tok_bench(enc, input_path, 1, 3, a.timeout)
            t = self.tok_bench(enc, path, 1, 3, a.patho_timeout)  # best of 3, as the peers get
            if base.get("ok") and t.get("ok"):
                t["x_ordinary"] = (t["seconds"] / nbytes) / (base["seconds"] / os.path.getsize(input_path))
            row["tok"] = t
            order = ["tiktoken"] + [p for p in peers if p != "tiktoken"] if "tiktoken" in peers else peers
            for peer in order:
                r = self.run_peer(peer, enc, path, 3, a.patho_timeout, ref=None if peer == "tiktoken" else ref,
                                  save_ref=ref if peer == "tiktoken" else None, budget=10.0)
                row[peer] = r
            for k, r in row.items():
                if isinstance(r, dict) and r.get("ok"):
                    r["s_per_mb"] = r["seconds"] / (nbytes / MB)
            out[name] = row
        return out

    def progress(self, msg):
        if not self.args.quiet:
            print(f"  .. {msg}", file=sys.stderr, flush=True)

    def meta(self, info) -> dict:
        from importlib import metadata

        versions = {}
        for pkg in ("tiktoken", "tokenizers", "gigatoken", "fastokens", "quicktok-v1", "numpy"):
            try:
                versions[pkg] = metadata.version(pkg)
            except metadata.PackageNotFoundError:
                versions[pkg] = None
        return {
            "input": info,
            "cpus": self.ncpu,
            "machine": platform.machine(),
            "python": platform.python_version(),
            "versions": versions,
            "runs": self.args.runs,
            "mb": "10^6 bytes",
            "pinning": f"taskset -c {self.pin_cpu}" if self.have_taskset else "none (taskset missing)",
            "rounds": self.args.rounds,
            "tok": self.tok,
            "loadavg_start": os.getloadavg()[0],
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }

    # ---- output

    @staticmethod
    def fmt_err(r) -> str:
        if r.get("timeout"):
            return "timeout"
        return f"n/a ({r.get('error', 'error')})"

    def per_corpus(self, encs, peers) -> dict:
        """tok (1 thread), tiktoken and the two fastest peers on each shipped corpus on its own, so that the bench
        input's mix can be read apart: where tok leads and where it trails, and what each kind of text contributes to
        the ratio to tiktoken that the speed target is stated in. Rows keep their best of --rounds rounds."""
        a = self.args
        files = []
        for p in sorted(glob.glob(str(REPO / "corpora" / "*.zst"))):
            t = _read_source("zst", p)
            if t is None:
                continue
            name = Path(p).name.split(".")[0]
            path = OUT / f"corpus-{name}.txt"
            path.write_bytes(t.encode("utf-8"))
            files.append((name, path))
        cols = ["tok"] + [p for p in ("tiktoken", "gigatoken", "fastokens") if p in peers]
        out = {}
        for enc in encs:
            rows = []
            for name, path in files:
                row = {"corpus": name, "bytes": path.stat().st_size}
                for _ in range(max(1, a.rounds)):
                    for c in cols:
                        self.progress(f"{enc}: {name}: {c}")
                        if c == "tok":
                            r = self.tok_bench(enc, path, 1, a.runs, a.timeout)
                        else:
                            r = self.run_peer(c, enc, path, a.runs, a.timeout)
                        v = r.get("mb_per_s") if r.get("ok") else None
                        if v is not None and (row.get(c) is None or v > row[c]):
                            row[c] = v
                rows.append(row)
            out[enc] = {"columns": cols, "rows": rows}
        return out

    def print_tables(self, results, encs):
        print()
        for enc in encs:
            rows = results["encode"][enc]
            table = [("implementation", "MB/s", "x tok-1t", "CPU MB/s", "tokens", "mismatch", "source / note")]
            for r in rows:
                if r.get("ok"):
                    mm = r.get("mismatches")
                    if mm is None and r.get("tokens") is not None and r.get("ref_tokens") is not None:
                        d = r["tokens"] - r["ref_tokens"]
                        mm_s = "count ok" if d == 0 else f"count {d:+d}"
                    elif r.get("peer") == "tiktoken":
                        mm_s = "(ref)"
                    else:
                        mm_s = "-" if mm is None else str(mm)
                    ratio = r.get("ratio_to_tok_1t")
                    note = r.get("source", r.get("verify", ""))
                    if r.get("times") is not None and len(r["times"]) < self.args.runs:
                        note = f"[best of {len(r['times'])}] " + note
                    table.append(
                        (
                            r["impl"],
                            f"{r['mb_per_s']:.1f}",
                            f"{ratio:.2f}" if ratio else "n/a",
                            f"{r['cpu_mb_per_s']:.1f}" if r.get("cpu_mb_per_s") else "-",
                            str(r.get("tokens", "-")),
                            mm_s,
                            note,
                        )
                    )
                else:
                    table.append((r["impl"], self.fmt_err(r), "", "", "", "", r.get("source", "")))
            print(f"== encode {enc}  ({results['meta']['input']['bytes'] / MB:.2f} MB)")
            print(render(table, right={1, 2, 3, 4, 5}))
            sc = results["encode"].get(enc + "_tok_scaling")
            print(f"   tok scaling {self.ncpu} threads / 1 thread: " + (f"{sc:.2f}x" if sc else "n/a"))
            print("   CPU MB/s: the same calls timed by process CPU time (less sensitive to other load than MB/s, which is wall time)")
            print()
        for enc, pc in (results.get("per_corpus") or {}).items():
            cols = pc["columns"]
            table = [("corpus (" + enc + ")", "MB") + tuple(f"{c} MB/s" for c in cols) + tuple(f"tok / {c}" for c in cols[1:])]
            for row in pc["rows"]:
                cells = tuple(f"{row[c]:.1f}" if row.get(c) else "n/a" for c in cols)
                ratios = tuple(f"{row['tok'] / row[c]:.2f}x" if row.get("tok") and row.get(c) else "n/a" for c in cols[1:])
                table.append((row["corpus"], f"{row['bytes'] / MB:.2f}") + cells + ratios)
            print(f"== per corpus, one core (each shipped corpus on its own; best of {self.args.rounds} rounds)")
            print(render(table, right=set(range(1, len(table[0])))))
            print()
        for enc, patho in results["pathological"].items():
            cols = ["tok"] + [p for p in PEERS if any(p in row for row in patho.values())]
            table = [("input (" + enc + ")", "bytes") + tuple(f"{c} s/MB" for c in cols)]
            for name, row in patho.items():
                cells = []
                for c in cols:
                    r = row.get(c) or {}
                    if r.get("ok"):
                        s = f"{r['s_per_mb']:.3f}"
                        if r.get("mismatches"):
                            s += f" ({r['mismatches']} mm)"
                        cells.append(s)
                    elif r.get("timeout"):
                        cells.append("timeout")
                    else:
                        cells.append("n/a")
                table.append((name, str(row["bytes"])) + tuple(cells))
            print(f"== pathological inputs, seconds per MB (1 thread, timeout {self.args.patho_timeout:.0f}s per peer; mm = mismatches vs tiktoken)")
            print(render(table, right=set(range(1, len(table[0])))))
            xs = [(n, row["tok"]["x_ordinary"]) for n, row in patho.items() if (row.get("tok") or {}).get("x_ordinary")]
            if xs:
                print("   tok per byte / tok per byte on the bench input, measured right before each row: "
                      + ", ".join(f"{n} {x:.2f}x" for n, x in xs))
            errs = [(n, c, row[c].get("error")) for n, row in patho.items() for c in cols
                    if isinstance(row.get(c), dict) and not row[c].get("ok") and not row[c].get("timeout")]
            for n, c, e in errs:
                print(f"   {n} {c}: {e}")
            print()
        mf = results.get("many_files") or {}
        for enc, table in (mf.get("rows") or {}).items():
            f = lambda v: f"{v:.1f}" if v else "failed"
            t = [("inputs (" + enc + ")", "MB/s 1 thread", f"MB/s {self.ncpu} threads", "scaling")]
            for r in table:
                sc = f"{r['mb_per_s'] / r['mb_per_s_1t']:.2f}x" if r["mb_per_s"] and r["mb_per_s_1t"] else "n/a"
                t.append((r["inputs"], f(r["mb_per_s_1t"]), f(r["mb_per_s"]), sc))
            print(f"== tok encode over many files (the bench input cut up, ids written to /dev/null, best of {self.args.runs})")
            print(render(t, right={1, 2, 3}))
            print()
        ev = results.get("eval") or {}
        if ev.get("rows"):
            print("\n== tok eval throughput (every metric, %.2f MB)" % (ev["bytes"] / MB))
            t = [("tokenizer", "MB/s 1 thread", "MB/s all threads")]
            f = lambda v: f"{v:.1f}" if v else "failed"
            for r in ev["rows"]:
                t.append((r["tokenizer"], f(r["mb_per_s_1t"]), f(r["mb_per_s"])))
            print(render(t, right={1, 2}))
            if ev.get("ratio"):
                print(f"   {len(ev['tokenizers'])} tokenizers in one tok eval: {ev['together_seconds']:.2f} s; "
                      f"tok encode once per tokenizer: {ev['encode_each_seconds']:.2f} s writing ids "
                      f"(ratio {ev['ratio']:.2f}x), {ev['count_each_seconds']:.2f} s with --count (ratio {ev['ratio_count']:.2f}x)")


def render(rows, right=frozenset()) -> str:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for k, r in enumerate(rows):
        cells = [str(c).rjust(widths[i]) if i in right else str(c).ljust(widths[i]) for i, c in enumerate(r)]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tok", default=str(REPO / ".build" / "release" / "tok"), help="path to the tok binary")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per row (best is reported)")
    ap.add_argument("--rounds", type=int, default=2,
                    help="measure every encode row this many times, one row after another, and keep each row's best")
    ap.add_argument("--input-mb", type=float, default=10.0, help="input size in MB (10^6 bytes), at least")
    ap.add_argument("--encodings", default=",".join(ENCODINGS))
    ap.add_argument("--peers", default=",".join(PEERS), help="comma-separated subset of " + ",".join(PEERS))
    ap.add_argument("--timeout", type=float, default=240.0, help="seconds per encode row subprocess")
    ap.add_argument("--row-budget", type=float, default=40.0,
                    help="stop a peer's timed runs early once this many seconds have passed (keeps slow peers such as HF to 1-2 runs)")
    ap.add_argument("--patho-timeout", type=float, default=60.0, help="seconds per pathological peer call")
    ap.add_argument("--patho-all-encodings", action="store_true", help="pathological inputs for every encoding (default: first only)")
    ap.add_argument("--skip-pathological", action="store_true")
    ap.add_argument("--skip-per-corpus", action="store_true", help="skip the table of each shipped corpus on its own")
    ap.add_argument("--skip-eval", action="store_true")
    ap.add_argument("--skip-many-files", action="store_true", help="skip tok encode over the bench input cut into many files")
    ap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    # worker mode (internal)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--enc", help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    ap.add_argument("--ref", help=argparse.SUPPRESS)
    ap.add_argument("--save-ref", help=argparse.SUPPRESS)
    ap.add_argument("--budget", type=float, default=0.0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args)
        return
    Bench(args).run()


if __name__ == "__main__":
    main()
