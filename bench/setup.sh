#!/usr/bin/env bash
# Create/reuse the repo venv (.venv/) and install the encode-bench peers
# pinned in bench/requirements.txt. Idempotent: pip is only run when a pin is
# not already satisfied. Needs python3 (with venv), zstd and taskset.
set -euo pipefail
cd "$(dirname "$0")/.."

REQ=bench/requirements.txt
VENV=.venv

scripts/ensure-venv.sh "$VENV"

for tool in zstd taskset; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      pkg=$tool; [ "$tool" = taskset ] && pkg=util-linux
      apt-get install -y -qq "$pkg" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$pkg" >/dev/null; }
    else
      echo "bench/setup.sh: warning: $tool not found" >&2
    fi
  fi
done

# Are all pins already satisfied? (no network when they are)
if "$VENV/bin/python" - "$REQ" <<'PY'
import sys
from importlib import metadata
try:
    from packaging.requirements import Requirement
except ImportError:
    sys.exit(1)
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    req = Requirement(line)
    try:
        have = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        sys.exit(1)
    if req.specifier and not req.specifier.contains(have, prereleases=True):
        sys.exit(1)
sys.exit(0)
PY
then
  exit 0
fi

echo "bench/setup.sh: installing bench peers into $VENV" >&2
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
