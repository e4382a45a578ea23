#!/usr/bin/env bash
# The speed benchmark: `bash bench/run.sh [options]` = `python bench/run.py [options]` with the
# dev venv (VENV, default .venv; scripts/venv.sh builds it). See docs/development.md, section "Benchmarks".
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
if [ "${1:-}" = job ]; then  # one job's use of the action against CAC (bench/job.py)
  shift
  exec "$VENV/bin/python" bench/job.py "$@"
fi
exec "$VENV/bin/python" bench/run.py "$@"
