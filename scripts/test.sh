#!/usr/bin/env bash
# The project's test command (README.md "Set-up"): builds .venv if needed, installs the pinned
# dev dependencies and the package, then runs ruff, mypy and pytest. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import py_aws_oidc, moto, pytest' 2>/dev/null \
   || [ requirements/dev.txt -nt "$VENV/.installed" ]; then
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements/dev.txt
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e .
  touch "$VENV/.installed"
fi
export PATH="$PWD/$VENV/bin:$PATH"
echo "== ruff"
ruff check .
echo "== mypy"
mypy
echo "== pytest"
exec python -m pytest "$@"
