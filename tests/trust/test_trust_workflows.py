"""The workflows around the trust doctor: the code-scanning example runs the linter as written,
and the release publishes to PyPI with trusted publishing from one job only, after the image."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.trust.helpers import AUD, SUB, policy, statement, write_json

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "trust-lint" / "trust-lint-code-scanning.yml"
RELEASE = ROOT / ".github" / "workflows" / "release.yml"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return doc


def test_example_lint_step_writes_sarif_and_the_status(tmp_path: Path) -> None:
    [job] = load(EXAMPLE)["jobs"].values()
    assert job["permissions"] == {"contents": "read", "security-events": "write"}
    step = next(s for s in job["steps"] if s.get("id") == "lint")
    infra = tmp_path / "infra"
    infra.mkdir()
    write_json(
        infra / "deploy.json",
        policy(statement({"StringEquals": {AUD: "sts.amazonaws.com"}, "StringLike": {SUB: "*"}})),
    )
    write_json(infra / "package.json", {"name": "x"})
    output = tmp_path / "github_output"
    env = dict(os.environ)
    env.update(
        POLICY_PATHS=job["env"]["POLICY_PATHS"],
        GITHUB_OUTPUT=str(output),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
    )
    run = subprocess.run(  # the shell GitHub uses for `run:` on Linux
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert output.read_text(encoding="utf-8") == "status=1\n"
    log = json.loads((tmp_path / "trust-lint.sarif").read_text(encoding="utf-8"))
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert uris == {"infra/deploy.json"}
    upload = next(s for s in job["steps"] if "upload-sarif" in s.get("uses", ""))
    assert upload["with"]["sarif_file"] == "trust-lint.sarif"


def test_every_action_is_pinned_by_sha() -> None:
    for path in (EXAMPLE, RELEASE):
        for job in load(path)["jobs"].values():
            for step in job["steps"]:
                if "uses" in step:
                    assert PINNED.match(step["uses"]), (path.name, step["uses"])


def test_release_publishes_to_pypi_with_trusted_publishing_after_the_image() -> None:
    jobs = load(RELEASE)["jobs"]
    assert load(RELEASE)["permissions"] == {}
    with_id_token = [name for name, job in jobs.items() if "id-token" in job.get("permissions", {})]
    assert with_id_token == ["pypi"]
    pypi = jobs["pypi"]
    assert pypi["permissions"] == {"id-token": "write"}
    assert "image" in pypi["needs"] and "dist" in pypi["needs"]
    assert jobs["dist"]["needs"] == "image"
    publish = pypi["steps"][-1]
    assert publish["uses"].startswith("pypa/gh-action-pypi-publish@")
    assert not {"password", "user", "username"} & set(publish.get("with", {}))
