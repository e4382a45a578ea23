# Sourced by scripts/test.sh, scripts/demo.sh and bench/run.sh (from the repository root):
# makes $VENV (default .venv) from the lock, once, and again when the lock changes.
# The lock (requirements/dev.txt, written by `python requirements/pin.py`) pins every package,
# transitive ones included, with hashes, and is installed as it is (--require-hashes --no-deps):
# a release on PyPI can never change what the tests run. The build backend comes from
# requirements/build.txt (no build isolation: nothing unpinned is fetched for `pip install -e .`).
# uv, itself pinned in the lock and installed first by pip, installs the rest: a first venv takes
# ~17 s instead of ~150 s with pip (docs/development.md); pip does it if uv cannot.
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import py_aws_oidc, moto, pytest, cryptography, jwt' 2>/dev/null \
   || [ requirements/dev.txt -nt "$VENV/.installed" ] \
   || [ requirements/build.txt -nt "$VENV/.installed" ]; then
  echo "Installing the locked dependencies (requirements/dev.txt) into $VENV ..." >&2
  _pip() { "$VENV/bin/python" -m pip -q --disable-pip-version-check "$@" 2>&1 \
             | grep -v "^WARNING: Location " >&2; return "${PIPESTATUS[0]}"; }
  # The lock's uv entry (its line and hash lines), installed with pip from the lock.
  awk '/^uv==/{p=1} p{print} p && !/\\$/{exit}' requirements/dev.txt > "$VENV/uv-lock.txt"
  if _pip install --require-hashes --no-deps --only-binary=:all: -r "$VENV/uv-lock.txt" \
     && "$VENV/bin/uv" pip install -q --python "$VENV/bin/python" --require-hashes --no-deps \
          --only-binary=:all: -r requirements/build.txt -r requirements/dev.txt; then
    "$VENV/bin/uv" pip install -q --python "$VENV/bin/python" --no-deps --no-build-isolation \
      --no-index -e .
  else
    echo "uv could not install the lock; pip installs it instead (slower)" >&2
    _pip install --require-hashes --no-deps --only-binary=:all: \
      -r requirements/build.txt -r requirements/dev.txt
    _pip install --no-deps --no-build-isolation --no-index -e .
  fi
  touch "$VENV/.installed"
fi
