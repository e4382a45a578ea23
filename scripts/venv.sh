# Sourced by scripts/test.sh, scripts/demo.sh and bench/run.sh (from the repository root):
# makes $VENV (default .venv) with the pinned dev dependencies and the project, once, and again
# when requirements/dev.txt changes.
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import py_aws_oidc, moto, pytest, cryptography, jwt' 2>/dev/null \
   || [ requirements/dev.txt -nt "$VENV/.installed" ]; then
  echo "Installing the pinned dependencies into $VENV ..." >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements/dev.txt
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e .
  touch "$VENV/.installed"
fi
