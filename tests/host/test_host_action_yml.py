"""host/action.yml: the host runtime declares exactly the inputs and outputs of action.yml (names,
``required``, defaults; descriptions may differ where the runtime does) and runs the launchers."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.support.action_yml import REPO_ROOT, declared_inputs, declared_outputs, load_action

HOST = REPO_ROOT / "host"
HOST_YML = HOST / "action.yml"
NODE = "/usr/bin/node"


def _shape(meta: dict[str, Any]) -> tuple[Any, Any]:
    return meta.get("required"), meta.get("default")


def test_same_inputs_as_action_yml() -> None:
    ours, theirs = declared_inputs(HOST_YML), declared_inputs()
    assert list(ours) == list(theirs)
    assert {n: _shape(m) for n, m in ours.items()} == {n: _shape(m) for n, m in theirs.items()}
    assert all(str(m.get("description") or "").strip() for m in ours.values())


def test_same_outputs_as_action_yml() -> None:
    assert declared_outputs(HOST_YML) == declared_outputs()


def test_runs_the_launchers_on_node24_with_the_same_post_if() -> None:
    runs = load_action(HOST_YML)["runs"]
    assert runs["using"] == "node24"
    assert (runs["main"], runs["post"]) == ("main.js", "post.js")
    assert runs["post-if"] == load_action()["runs"]["post-if"]
    for script in ("main.js", "post.js", "launch.js"):
        lines = (HOST / script).read_text(encoding="utf-8").splitlines()
        assert len(lines) <= 120, f"{script}: a launcher of a few dozen lines"
        assert not any("require('" in line and "require('./" not in line
                       and not any(f"require('{m}')" in line
                                   for m in ("child_process", "fs", "os", "path"))
                       for line in lines), f"{script}: node's own modules only"
    assert not (HOST / "package.json").exists()


@pytest.mark.skipif(not (HOST / "dist" / "py-aws-oidc.pyz").is_file(), reason="no pyz")
def test_node_main_js_help_prints_the_cli_help() -> None:
    done = subprocess.run([NODE, str(HOST / "main.js"), "--help"], capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("usage: py-aws-oidc")
