#!/usr/bin/env bash
# Rebuild host/dist/py-aws-oidc.pyz and host/dist/py-aws-oidc.data/ from requirements/host.txt
# and src/, byte for byte (scripts/build_host.py). Commit both after a change to src/ or the lock.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; fi
exec "$PYTHON" scripts/build_host.py "$@"
