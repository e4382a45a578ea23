# Sourced by scripts/test.sh, scripts/demo.sh and bench/run.sh (from the repository root):
# makes $VENV (default .venv) from the lock, once, and again when the lock changes.
# The lock (requirements/dev.txt, written by `python requirements/pin.py`) pins every package,
# transitive ones included, with hashes: pip installs exactly it (--require-hashes --no-deps), so
# a release on PyPI can never change what the tests run. The build backend comes from
# requirements/build.txt (no build isolation: nothing unpinned is fetched for `pip install -e .`).
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import py_aws_oidc, moto, pytest, cryptography, jwt' 2>/dev/null \
   || [ requirements/dev.txt -nt "$VENV/.installed" ] \
   || [ requirements/build.txt -nt "$VENV/.installed" ]; then
  echo "Installing the locked dependencies (requirements/dev.txt) into $VENV ..." >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --require-hashes --no-deps \
    --only-binary=:all: -r requirements/build.txt -r requirements/dev.txt
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps \
    --no-build-isolation --no-index -e .
  touch "$VENV/.installed"
fi
