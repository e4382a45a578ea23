#!/usr/bin/env bash
# README "Set-up", first command: run the action end to end on this machine, with the embedded
# local OIDC issuer and local STS (moto). No AWS account, no GitHub. Arguments go to the demo,
# e.g.  bash scripts/demo.sh role-duration-seconds=2h
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import py_aws_oidc, moto, cryptography, jwt' 2>/dev/null \
   || [ requirements/dev.txt -nt "$VENV/.installed" ]; then
  echo "Installing the pinned dependencies into $VENV (first run only)..."
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements/dev.txt
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e .
  touch "$VENV/.installed"
fi
exec "$VENV/bin/python" -m localdev.demo "$@"
