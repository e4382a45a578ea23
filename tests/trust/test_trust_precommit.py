"""The pre-commit hook (``.pre-commit-hooks.yaml``) run by the real ``pre-commit`` in a temporary
git repository: a commit with a failing trust policy is refused, one with a clean policy (and
files that are not trust policies) goes through.

Two ways to run it:
* offline, always: the hook definition as published (id, entry, files pattern, arguments) in a
  ``repo: local`` config, with ``language: unsupported`` and our own venv's ``py-aws-oidc``;
  ``language: python`` would have pre-commit pip-install the package, which needs a package index;
* ``language: python`` exactly as users get it, from a git repository holding this work tree's
  package: pre-commit builds its own virtualenv and pip-installs it (CI has PyPI; it is slower).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from py_aws_oidc.trust.generate import GenerateOptions, generate
from tests.trust.helpers import AUD, SUB, policy, statement, write_json

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]
CLEAN = policy(
    statement(
        {
            "StringEquals": {
                AUD: "sts.amazonaws.com",
                SUB: "repo:octo-org@1/octo-repo@2:ref:refs/heads/main",
            }
        }
    )
)
ORG_WIDE = policy(
    statement({"StringEquals": {AUD: "sts.amazonaws.com"}, "StringLike": {SUB: "repo:octo-org/*"}})
)


def hook() -> dict[str, Any]:
    [definition] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert definition["id"] == "py-aws-oidc-trust-lint"
    return dict(definition)


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False, timeout=600
    )


def make_repo(path: Path, env: dict[str, str]) -> Path:
    path.mkdir()
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.email", "dev@example.com"],
        ["config", "user.name", "dev"],
        ["config", "commit.gpgsign", "false"],
    ):
        assert git(path, *args).returncode == 0
    return path


def env_for(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), PRE_COMMIT_COLOR="never")
    env.pop("PRE_COMMIT", None)
    return env


def commit(repo: Path, env: dict[str, str], *files: str) -> subprocess.CompletedProcess[str]:
    assert git(repo, "add", *files).returncode == 0
    return subprocess.run(
        ["git", "-C", str(repo), "commit", "-q", "-m", "change"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=900,
    )


def run_commits(repo: Path, env: dict[str, str]) -> None:
    installed = subprocess.run(
        [*PRE_COMMIT, "install"], cwd=repo, env=env, capture_output=True, text=True, check=False
    )
    assert installed.returncode == 0, installed.stderr
    git(repo, "add", ".pre-commit-config.yaml")
    # A clean policy, a JSON file and a Terraform file that are not trust policies: accepted.
    write_json(repo / "trust.json", CLEAN)
    terraform = generate(GenerateOptions(repo="octo-org/octo-repo", immutable_ids="1/2"))
    (repo / "trust.tf").write_text(terraform.to_terraform(), encoding="utf-8")  # needs python-hcl2
    write_json(repo / "package.json", {"name": "web", "version": "1.0.0"})
    (repo / "bucket.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n')
    passed = commit(
        repo, env, ".pre-commit-config.yaml", "trust.json", "trust.tf", "package.json", "bucket.tf"
    )
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout + passed.stderr
    verbose = subprocess.run(
        [*PRE_COMMIT, "run", "--verbose", "--files", "package.json", "bucket.tf"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert verbose.returncode == 0
    assert "package.json: skipped" in verbose.stdout and "bucket.tf: skipped" in verbose.stdout
    # An org-wide subject: the commit is refused, with the finding and its line of fix.
    write_json(repo / "deploy-role.json", ORG_WIDE)
    failed = commit(repo, env, "deploy-role.json")
    assert failed.returncode != 0
    output = failed.stdout + failed.stderr
    assert "Failed" in output and "[HIGH] subject-org-wide" in output
    assert "fix: Pin the exact subject" in output
    log = git(repo, "log", "--name-only", "--format=%s")
    assert "deploy-role.json" not in log.stdout
    assert "trust.json" in log.stdout and "trust.tf" in log.stdout


def test_hook_definition() -> None:
    definition = hook()
    assert definition["entry"] == "py-aws-oidc trust lint --skip-non-policies"
    assert definition["language"] == "python"
    assert definition["files"] == r"\.(json|tf|ya?ml|template)$"  # CloudFormation too (issue 21)
    assert any(dep.startswith("python-hcl2") for dep in definition["additional_dependencies"])
    assert any(dep.startswith("PyYAML") for dep in definition["additional_dependencies"])


def test_hook_offline_with_this_venv(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    repo = make_repo(tmp_path / "repo", env)
    definition = hook()
    script = Path(sys.executable).parent / "py-aws-oidc"
    assert script.exists()
    definition.update(
        entry=definition["entry"].replace("py-aws-oidc", str(script), 1),
        language="unsupported",
    )
    definition.pop("additional_dependencies")
    config = {"repos": [{"repo": "local", "hooks": [definition]}]}
    (repo / ".pre-commit-config.yaml").write_text(json.dumps(config), encoding="utf-8")
    run_commits(repo, env)


def _package_repo(path: Path) -> str:
    """A git repository holding this work tree's package and hook manifest; its HEAD SHA."""
    path.mkdir()
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(ROOT / name, path / name)
    for license_file in ROOT.glob("LICEN[CS]E*"):
        shutil.copy2(license_file, path / license_file.name)
    shutil.copytree(
        ROOT / "src", path / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.email", "dev@example.com"],
        ["config", "user.name", "dev"],
        ["config", "commit.gpgsign", "false"],
        ["add", "-A"],
        ["commit", "-q", "-m", "package"],
    ):
        assert git(path, *args).returncode == 0, args
    return git(path, "rev-parse", "HEAD").stdout.strip()


@pytest.mark.slow
def test_hook_as_published_language_python(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    package = tmp_path / "py-aws-oidc"
    sha = _package_repo(package)
    repo = make_repo(tmp_path / "repo", env)
    config = {
        "repos": [{"repo": str(package), "rev": sha, "hooks": [{"id": "py-aws-oidc-trust-lint"}]}]
    }
    (repo / ".pre-commit-config.yaml").write_text(json.dumps(config), encoding="utf-8")
    run_commits(repo, env)
