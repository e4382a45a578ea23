#!/usr/bin/env bash
# The project's test command (README.md "Set-up"): builds .venv if needed, installs the pinned
# dev dependencies and the package, then runs ruff, mypy and pytest. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
export PATH="$PWD/$VENV/bin:$PATH"
echo "== ruff"
ruff check .
echo "== mypy"
mypy
echo "== pytest"
exec python -m pytest "$@"
