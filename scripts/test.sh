#!/usr/bin/env bash
# Install what the tests need and run them all. Used by the README and by CI.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[test]'

# Cloudflare workerd, the reference for the conformance suite (npm registry).
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

.venv/bin/ruff check .
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
