#!/usr/bin/env python3
"""Writes vocabularies/o200k_harmony.json from tiktoken's own definition of o200k_harmony.

tiktoken defines o200k_harmony in code (tiktoken_ext/openai_public.py) as o200k_base's ranks and pattern with the
special tokens of the harmony chat format. Its loader would download o200k_base; here it reads the shipped
vocabularies/o200k_base.tiktoken instead (checked against tiktoken's expected hash), so the sidecar holds exactly
tiktoken's pattern and special tokens, in tiktoken's order (which decides what an id two strings share decodes to).

Run with the test venv: .venv/bin/python scripts/gen_harmony_sidecar.py
"""
import json
import pathlib
import sys

import tiktoken

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "compat"))
import peers  # noqa: E402  (the compat suite's offline tiktoken loader)


def main():
    d = peers.tiktoken_definition("o200k_harmony")
    out = {
        "ranks": "o200k_base.tiktoken",
        "pat_str": d["pat_str"],
        "special_tokens": d["special_tokens"],
        "source": f"tiktoken {tiktoken.__version__} tiktoken_ext.openai_public.o200k_harmony(), "
                  "with o200k_base's ranks read from the shipped file (scripts/gen_harmony_sidecar.py)",
    }
    path = REPO / "vocabularies" / "o200k_harmony.json"
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}: {len(d['special_tokens'])} special tokens")


if __name__ == "__main__":
    main()
