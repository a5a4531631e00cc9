#!/usr/bin/env bash
# Run the tiktoken compatibility suite: set up .venv, then pytest -q tests/compat.
#   tests/compat/run.sh [pytest args...]     e.g.  -m "not cli"   or   -k o200k -x
# TOK_BIN: the tok binary (default .build/release/tok). Exits with pytest's status.
set -uo pipefail
cd "$(dirname "$0")/../.."
scripts/setup-venv.sh || exit $?
export PYTHONDONTWRITEBYTECODE=1
export TOK_BIN=${TOK_BIN:-$PWD/.build/release/tok}
[[ -x $TOK_BIN ]] || echo "run.sh: note: $TOK_BIN does not exist; CLI tests will fail" \
  "(make build)" >&2
.venv/bin/python -m pytest -q --tb=short tests/compat "$@"
exit $?
