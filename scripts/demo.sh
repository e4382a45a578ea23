#!/usr/bin/env bash
# README "Set-up", first command: run the action end to end on this machine, with the embedded
# local OIDC issuer and local STS (moto). No AWS account, no GitHub. Arguments go to the demo,
# e.g.  bash scripts/demo.sh role-duration-seconds=2h
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
exec "$VENV/bin/python" -m localdev.demo "$@"
