"""action.yml is a drop-in for configure-aws-credentials, the README documents exactly what it
declares, and every declared input is exercised by at least one integration test."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.support.action_yml import REPO_ROOT, declared_inputs, declared_outputs, load_action

README = REPO_ROOT / "README.md"
INTEGRATION = REPO_ROOT / "tests" / "integration"

# configure-aws-credentials v6.3.0: the v6.2.3 action.yml inputs plus translate-env-variables.
CAC_INPUTS = (
    "aws-region", "role-to-assume", "aws-access-key-id", "aws-secret-access-key",
    "aws-session-token", "web-identity-token-file", "role-chaining", "audience", "http-proxy",
    "no-proxy", "mask-aws-account-id", "role-duration-seconds", "role-external-id",
    "role-session-name", "role-skip-session-tagging", "transitive-tag-keys", "custom-tags",
    "inline-session-policy", "managed-session-policies", "output-credentials",
    "output-env-credentials", "unset-current-credentials", "disable-retry", "retry-max-attempts",
    "special-characters-workaround", "use-existing-credentials", "allowed-account-ids",
    "force-skip-oidc", "action-timeout-s", "sts-endpoint", "aws-profile", "overwrite-aws-profile",
    "translate-env-variables",
)
CAC_OUTPUTS = ("aws-account-id", "aws-access-key-id", "aws-secret-access-key",
               "aws-session-token", "aws-expiration")


# -- action.yml ----------------------------------------------------------------------------------


def test_runs_as_a_docker_action_with_a_post_entrypoint() -> None:
    runs: dict[str, Any] = load_action()["runs"]
    assert runs["using"] == "docker"
    assert runs["image"] == "Dockerfile"
    assert (REPO_ROOT / "Dockerfile").is_file()
    post = runs["post-entrypoint"]
    # The runner passes it to `docker run --entrypoint` as one path: no arguments possible.
    assert isinstance(post, str) and post and not re.search(r"\s", post)
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert Path(post).name in scripts
    assert scripts["py-aws-oidc"] == "py_aws_oidc.cli:console_main"
    assert scripts["py-aws-oidc-post"] == "py_aws_oidc.cli:post_console_main"
    assert runs.get("post-if") == (
        "always() && env.PY_AWS_OIDC_POST == 'true' && env.AWS_SKIP_CLEANUP_STEP != 'true'"
    )


def test_every_input_and_output_has_a_description_and_no_input_a_default() -> None:
    inputs = declared_inputs()
    assert inputs
    for name, meta in inputs.items():
        assert str(meta.get("description") or "").strip(), f"input {name} has no description"
        assert "default" not in meta, f"input {name} has a default in action.yml"
        assert meta.get("required") in (True, False), f"input {name}: required must be a bool"
    assert [n for n, m in inputs.items() if m["required"]] == ["aws-region"]
    outputs = load_action()["outputs"]
    for name, meta in outputs.items():
        assert str((meta or {}).get("description") or "").strip(), f"output {name}"


def test_every_cac_input_and_output_is_declared() -> None:
    missing = [name for name in CAC_INPUTS if name not in declared_inputs()]
    assert missing == [], f"CAC inputs not declared in action.yml: {missing}"
    outputs = declared_outputs()
    assert [name for name in CAC_OUTPUTS if name not in outputs] == []
    assert "authenticated-arn" in outputs  # set by CAC but undeclared there (quirk 7)


# -- README tables ---------------------------------------------------------------------------------


def _table(section: str) -> list[list[str]]:
    """The rows (cells, stripped) of the first table under ``## <section>`` in the README."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(section)}\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README has no '## {section}' section"
    rows = []
    for line in match.group(1).splitlines():
        if not line.startswith("|"):
            if rows:
                break  # the first table only
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if all(re.fullmatch(r":?-+:?", c) for c in cells):
            continue
        rows.append(cells)
    assert len(rows) > 1, f"README '## {section}' has no table"
    return rows[1:]  # without the header


def _name(cell: str) -> str:
    match = re.fullmatch(r"`([a-z0-9-]+)`", cell)
    assert match, f"README table cell {cell!r} is not a `name`"
    return match.group(1)


def test_readme_inputs_table_matches_action_yml() -> None:
    rows = _table("Inputs")
    assert [_name(r[0]) for r in rows] == list(declared_inputs())
    for row in rows:
        required = declared_inputs()[_name(row[0])]["required"]
        assert row[1] == ("yes" if required else "no"), f"{row[0]}: required column {row[1]!r}"
        assert row[2], f"{row[0]} has no description in the README"


def test_readme_outputs_table_matches_action_yml() -> None:
    rows = _table("Outputs")
    assert [_name(r[0]) for r in rows] == declared_outputs()
    assert all(row[-1] for row in rows)


# -- every input is exercised ------------------------------------------------------------------------


def _dict_keys(path: Path) -> set[str]:
    """String constants used as dict keys in a Python file (``{"role-chaining": ...}``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    keys: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys |= {k.value for k in node.keys
                     if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    return keys


def test_every_input_is_exercised_by_an_integration_test() -> None:
    files = sorted(INTEGRATION.glob("*.py"))
    if not files:
        pytest.fail("tests/integration has no Python files")
    used: set[str] = set()
    for path in files:
        used |= _dict_keys(path)
    unexercised = [name for name in declared_inputs() if name not in used]
    assert unexercised == [], (
        "inputs declared in action.yml that no integration test passes as an input key: "
        f"{unexercised}"
    )
