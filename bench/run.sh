#!/usr/bin/env bash
# The speed benchmark: `bash bench/run.sh [options]` = `python bench/run.py [options]` with the
# dev venv (VENV, default .venv; scripts/venv.sh builds it). See docs/development.md, section "Benchmarks".
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
exec "$VENV/bin/python" bench/run.py "$@"
