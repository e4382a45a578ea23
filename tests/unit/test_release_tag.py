"""release.yml moves the major tag only to the highest release of that major (SPEC 1.2): the
decision is scripts/release_tag.py, tested here as a table, and the workflow calls it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "release_tag.py"
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("release_tag", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


release_tag = _load()

HISTORY = ["v1.0.0", "v1.2.8", "v1.5.0", "v1", "v2.0.0-rc.1", "v0.9.0"]


@pytest.mark.parametrize(("tag", "existing", "moves"), [
    # A new highest release moves its major.
    ("v1.5.1", [*HISTORY, "v1.5.1"], "v1"),
    ("v1.6.0", [*HISTORY, "v1.6.0"], "v1"),
    ("v1.10.0", ["v1.9.0", "v1.10.0"], "v1"),  # numbers, not text: 10 > 9
    ("v0.9.1", [*HISTORY, "v0.9.1"], "v0"),
    ("v3.0.0", [], "v3"),  # the first release; also when the list lacks the tag itself
    # A backport leaves the major on the highest release.
    ("v1.2.9", [*HISTORY, "v1.2.9"], None),
    ("v1.4.99", [*HISTORY, "v1.4.99"], None),
    ("v1.0.0", HISTORY, None),  # re-running an old release
    # The highest of another major does not count.
    ("v1.5.1", [*HISTORY, "v2.0.0", "v2.1.0", "v1.5.1"], "v1"),
    # Pre-releases (and anything that is not vX.Y.Z) never move a major...
    ("v2.0.0-rc.1", HISTORY, None),
    ("v1.6.0-rc.1", HISTORY, None),
    ("v1.6.0rc1", HISTORY, None),
    ("v1.6.0+build.5", HISTORY, None),
    ("v1.2.3.4", HISTORY, None),
    ("v01.6.0", HISTORY, None),
    ("v1.6", HISTORY, None),
    ("1.6.0", HISTORY, None),
    # ...nor hold one back.
    ("v1.5.1", [*HISTORY, "v1.99.0-rc.1", "v1.6.0rc1", "v1.5.1"], "v1"),
    # The API's refs/tags/ prefix is understood.
    ("v1.5.1", ["refs/tags/v1.5.0", "refs/tags/v1.5.1"], "v1"),
    ("v1.5.0", ["refs/tags/v1.5.0", "refs/tags/v1.5.1"], None),
])
def test_the_major_tag_moves_only_to_the_highest_release_of_its_major(
    tag: str, existing: list[str], moves: str | None
) -> None:
    major, why = release_tag.major_tag_move(tag, existing)
    assert major == moves, why
    assert tag in why


def _run(tag: str, tags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-I", str(SCRIPT), tag], input=tags,
                          capture_output=True, text=True, check=False)


def test_the_script_prints_step_outputs() -> None:
    done = _run("v1.2.9", "refs/tags/v1\nrefs/tags/v1.5.0\nrefs/tags/v1.2.9\n")
    assert done.returncode == 0 and done.stdout == "major=\nprerelease=false\n"
    assert "v1.5.0" in done.stderr
    done = _run("v1.5.1", "refs/tags/v1.5.0\nrefs/tags/v1.5.1\n")
    assert done.stdout == "major=v1\nprerelease=false\n"
    done = _run("v1.6.0-rc.1", "v1.5.0\n")
    assert done.stdout == "major=\nprerelease=true\n"
    assert _run("", "").returncode == 0 and subprocess.run(
        [sys.executable, "-I", str(SCRIPT)], capture_output=True, check=False).returncode == 2


def _release_commit_job() -> dict[str, Any]:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    job: dict[str, Any] = workflow["jobs"]["release-commit"]
    return job


def test_the_workflow_decides_with_the_script_and_moves_only_what_it_says() -> None:
    job = _release_commit_job()
    scripts = "\n".join(step.get("run", "") for step in job["steps"])
    assert "python3 scripts/release_tag.py" in scripts
    assert 'major="${TAG%%.*}"' not in scripts  # the old rule: any vX.Y.Z moved vX
    [tagging] = [s for s in job["steps"] if "git tag -f -a" in s.get("run", "")]
    assert tagging["env"]["MAJOR"] == "${{ steps.major.outputs.major }}"
    assert 'if [[ -n "$MAJOR" ]]' in tagging["run"]


def test_the_release_commit_waits_for_every_publishing_job() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    needs = _release_commit_job()["needs"]
    needs = [needs] if isinstance(needs, str) else needs
    publishing = {name for name in workflow["jobs"] if name != "release-commit"}
    assert publishing <= set(needs), needs
