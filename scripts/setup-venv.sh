#!/usr/bin/env bash
# Create/refresh the Python peer environment for tests/compat in .venv/ (git-ignored).
# Idempotent: does nothing (quickly) when .venv already has exactly these requirements.
# Needs only PyPI. Override the interpreter with PYTHON=/path/to/python3.
set -euo pipefail
cd "$(dirname "$0")/.."

REQS=(
  tiktoken==0.14.0
  tokenizers==0.23.3
  regex==2026.11.19
  pytest==9.2.0
  zstandard==0.25.0
)
VENV=.venv
STAMP=$VENV/.tok-requirements
want=$(printf '%s\n' "${REQS[@]}")

if [[ -x $VENV/bin/python && -f $STAMP && "$(cat "$STAMP")" == "$want" ]]; then
  exit 0
fi
scripts/ensure-venv.sh "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input "${REQS[@]}"
printf '%s\n' "$want" >"$STAMP"
echo "setup-venv: $VENV ready ($(echo "${REQS[*]}"))" >&2
