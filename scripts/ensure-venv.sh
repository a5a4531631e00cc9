#!/bin/sh
# Makes sure .venv/ (git-ignored) is a Python venv with pip, creating it when missing or left broken by an earlier
# failed attempt; installs python3 and python3-venv (Debian: ensurepip lives there) when they are missing.
# Used by setup-venv.sh (test peers) and bench/setup.sh (bench peers).
#   scripts/ensure-venv.sh [VENV]
set -e
cd "$(dirname "$0")/.."
VENV=${1:-.venv}
"$VENV/bin/python" -m pip --version >/dev/null 2>&1 && exit 0
py=${PYTHON:-$(command -v python3 || true)}
if [ -z "$PYTHON" ]; then
    scripts/ensure-packages.sh python3 python3-venv
    py=$(command -v python3)
fi
[ -n "$py" ] || { echo "ensure-venv: python3 not found" >&2; exit 1; }
rm -rf "$VENV"
"$py" -m venv "$VENV" || { echo "ensure-venv: '$py -m venv $VENV' failed" >&2; exit 1; }
