#!/usr/bin/env bash
# Create .venv with the locked dependencies on a machine that has only Python 3.11+ and PyPI.
# Fast path: uv (found on PATH, or installed into .tools/ with pip) syncs uv.lock exactly.
# Fallback: pip installs requirements-lock.txt (exported from uv.lock), then the project.
# SALESBOOST_INSTALLER=pip skips uv; =uv fails rather than fall back.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
INSTALLER="${SALESBOOST_INSTALLER:-auto}"
UV_VERSION="0.13.9"
export UV_PYTHON_DOWNLOADS=never   # use this machine's Python; never fetch one

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "install: salesboost needs Python 3.11 or newer as '$PYTHON' (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi
if ! command -v uv >/dev/null 2>&1 && ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "install: '$PYTHON' has no venv/ensurepip module (Debian: apt install python3-venv), and uv is not on PATH" >&2
  exit 1
fi

find_uv() {
  if command -v uv >/dev/null 2>&1; then command -v uv; return 0; fi
  if [ -x .tools/bin/uv ]; then echo .tools/bin/uv; return 0; fi
  echo "install: bootstrapping uv $UV_VERSION into .tools/ ..." >&2
  if "$PYTHON" -m venv .tools >/dev/null 2>&1 && .tools/bin/python -m pip install -q "uv==$UV_VERSION" >&2; then
    echo .tools/bin/uv; return 0
  fi
  return 1
}

if [ "$INSTALLER" != pip ] && UV="$(find_uv)"; then
  echo "install: uv sync (locked) into .venv" >&2
  if "$UV" sync --frozen --python "$PYTHON"; then
    exit 0
  fi
  [ "$INSTALLER" = uv ] && exit 1
  echo "install: uv sync failed; falling back to pip" >&2
fi

echo "install: pip install of requirements-lock.txt into .venv (slower)" >&2
"$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r requirements-lock.txt
.venv/bin/python -m pip install -q --no-deps -e .
