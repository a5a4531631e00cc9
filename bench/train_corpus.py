#!/usr/bin/env python3
"""Builds the training benchmark's corpus from text installed on a Debian machine (see bench/README.md).

    bench/train_corpus.py OUT_DIR [--mb 100]

Writes OUT_DIR/train.txt (about --mb MB) and OUT_DIR/heldout.txt (about 5 MB), both UTF-8 with `\\n` line ends,
and OUT_DIR/train-corpus.json describing what went in. Deterministic for the same installed files: sources are
listed in sorted order, every 20th file goes to the held-out set instead of the training set, and each category
stops at its byte budget. Files that are not UTF-8 are skipped.

Categories and budgets (fractions of --mb):
  prose   0.45  man page sources (/usr/share/man/man*/, roff markup included) and documentation in /usr/share/doc
  code    0.45  Python sources (the interpreter's standard library), C headers (/usr/include), Perl modules
  multi   0.10  the shipped corpora/multilingual.txt.zst, repeated in full lines until the budget is met
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def files_under(root: str, suffixes: tuple[str, ...]) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for f in sorted(filenames):
            if f.endswith(suffixes):
                out.append(os.path.join(dirpath, f))
    return out


def read_text(path: str) -> str | None:
    try:
        data = open(path, "rb").read()
        if path.endswith(".gz"):
            data = gzip.decompress(data)
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
        return None
    if "\0" in text:
        return None
    return text.replace("\r\n", "\n")


def sources() -> dict[str, list[str]]:
    man = []
    for d in sorted(Path("/usr/share/man").glob("man[1-8]")):
        man += files_under(str(d), (".gz",))
    doc = files_under("/usr/share/doc", (".txt", ".md", ".rst", "README", "NEWS", "README.gz", "NEWS.gz",
                                         "changelog.gz", "changelog.Debian.gz", ".txt.gz", ".md.gz"))
    stdlib = sysconfig.get_paths()["stdlib"]
    py = [f for f in files_under(stdlib, (".py",)) if "site-packages" not in f and "/test" not in f]
    py += [f for f in files_under("/usr/lib/python3", (".py",))]
    c = files_under("/usr/include", (".h",))
    perl = files_under("/usr/share/perl", (".pm",))
    # Interleave the two halves of each category so that a budget takes some of each.
    return {"prose": interleave(man, doc), "code": interleave(py, c, perl)}


def interleave(*lists: list[str]) -> list[str]:
    out = []
    for k in range(max(len(l) for l in lists)):
        for l in lists:
            if k < len(l):
                out.append(l[k])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--mb", type=float, default=100)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    budget = int(args.mb * 1_000_000)
    heldout_budget = 5_000_000
    train_path, held_path = args.out / "train.txt", args.out / "heldout.txt"
    meta_path = args.out / "train-corpus.json"
    if train_path.exists() and held_path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("mb") == args.mb:
            print(f"train corpus: {train_path} ({meta['train_bytes'] / 1e6:.1f} MB, cached)", file=sys.stderr)
            return
    meta = {"mb": args.mb, "categories": {}}
    th, hh = hashlib.sha256(), hashlib.sha256()
    train_total = held_total = 0
    with open(train_path, "w", encoding="utf-8") as train, open(held_path, "w", encoding="utf-8") as held:
        for cat, files in sources().items():
            cat_budget = int(budget * 0.45)
            used = files_used = 0
            held_cat = 0
            for k, f in enumerate(files):
                if used >= cat_budget:
                    break
                text = read_text(f)
                if not text:
                    continue
                if not text.endswith("\n"):
                    text += "\n"
                b = text.encode("utf-8")
                if k % 20 == 19:
                    if held_cat < heldout_budget * 0.45:
                        held.write(text)
                        hh.update(b)
                        held_cat += len(b)
                        held_total += len(b)
                    continue
                train.write(text)
                th.update(b)
                used += len(b)
                files_used += 1
            meta["categories"][cat] = {"bytes": used, "files": files_used, "heldout_bytes": held_cat}
            train_total += used
        # Multilingual: the shipped corpus, its first 90% of lines for training (repeated), the rest held out.
        multi = subprocess.run(["zstd", "-dcq", str(REPO / "corpora" / "multilingual.txt.zst")], check=True,
                               stdout=subprocess.PIPE).stdout.decode("utf-8").splitlines(keepends=True)
        cut = len(multi) * 9 // 10
        held_text = "".join(multi[cut:])
        held.write(held_text)
        hh.update(held_text.encode("utf-8"))
        held_total += len(held_text.encode("utf-8"))
        part, used = multi[:cut], 0
        target = budget - train_total
        while used < target:
            for line in part:
                b = line.encode("utf-8")
                train.write(line)
                th.update(b)
                used += len(b)
                if used >= target:
                    break
        meta["categories"]["multi"] = {"bytes": used, "heldout_bytes": len(held_text.encode("utf-8"))}
        train_total += used
    meta.update(train_bytes=train_total, heldout_bytes=held_total, train_sha256=th.hexdigest(),
                heldout_sha256=hh.hexdigest())
    meta_path.write_text(json.dumps(meta, indent=1))
    print(f"train corpus: {train_path} ({train_total / 1e6:.1f} MB), held out {held_path} ({held_total / 1e6:.1f} MB)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
