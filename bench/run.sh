#!/usr/bin/env bash
# The speed benchmark: `bash bench/run.sh [options]` = `python bench/run.py [options]` with the
# dev venv (VENV, default .venv; built like scripts/test.sh when missing). See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import moto, jwt, cryptography' 2>/dev/null; then
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements/dev.txt
fi
exec "$VENV/bin/python" bench/run.py "$@"
