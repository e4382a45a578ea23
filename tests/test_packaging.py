"""The package as a user installs it: ``python -m build`` makes the sdist and the wheel, ``twine
check`` passes, and the wheel installed into a fresh venv (with the ``trust`` extra) runs
``py-aws-oidc --version`` and ``py-aws-oidc trust lint``. A packaging mistake (a module or a
dependency left out, a broken entry point, metadata PyPI would refuse) fails here, not at the
first release. Needs a package index (or pip's cache) for the build backend and the dependencies;
their versions come from the locks (requirements/build.txt, requirements/image.txt)."""

from __future__ import annotations

import email
import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
FIXTURE = ROOT / "tests" / "data" / "forallvalues-trust.tf"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, check=False,
                          env=env, timeout=600)


def locked_versions() -> str:
    """``name==version`` of every locked package (pip's constraints take no hashes)."""
    lines = []
    for lock in ("build.txt", "image.txt"):
        text = (ROOT / "requirements" / lock).read_text(encoding="utf-8")
        lines += re.findall(r"^([A-Za-z0-9_.\-\[\]]+==[^\s\\;]+)", text, re.M)
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("packaging")
    constraints = tmp / "constraints.txt"
    constraints.write_text(locked_versions(), encoding="utf-8")
    env = {**os.environ, "PIP_CONSTRAINT": str(constraints), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    out = tmp / "dist"
    built = run(sys.executable, "-m", "build", "--outdir", out, ROOT, env=env)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return out, env


def test_build_makes_the_sdist_and_the_wheel_and_twine_check_passes(
    dist: tuple[Path, dict[str, str]],
) -> None:
    out, _ = dist
    version = PROJECT["version"]
    wheel = out / f"py_aws_oidc-{version}-py3-none-any.whl"
    sdist = out / f"py_aws_oidc-{version}.tar.gz"
    assert wheel.is_file() and sdist.is_file(), sorted(out.iterdir())
    checked = run(sys.executable, "-m", "twine", "check", "--strict", wheel, sdist)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2, checked.stdout


def test_the_wheel_holds_the_package_its_entry_points_and_metadata(
    dist: tuple[Path, dict[str, str]],
) -> None:
    out, _ = dist
    [wheel] = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = f"py_aws_oidc-{PROJECT['version']}.dist-info"
        metadata = email.message_from_string(archive.read(f"{info}/METADATA").decode())
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    sources = {p.relative_to(ROOT / "src").as_posix() for p in (ROOT / "src").rglob("*.py")}
    assert sources <= set(names), sorted(sources - set(names))
    assert "py_aws_oidc/py.typed" in names
    assert f"{info}/licenses/LICENSE" in names  # the Apache-2.0 text travels with the wheel
    assert metadata["License-Expression"] == PROJECT["license"]
    assert {name.split("/")[0] for name in names} == {"py_aws_oidc", info}  # no tests, no localdev
    assert "py-aws-oidc = py_aws_oidc.cli:console_main" in entry_points
    assert "py-aws-oidc-post = py_aws_oidc.cli:post_console_main" in entry_points
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL") or [])
    assert {"Homepage", "Changelog", "Issues", "Security"} <= set(urls), urls
    assert set(metadata.get_all("Classifier") or []) == set(PROJECT["classifiers"])
    assert metadata["Requires-Python"] == PROJECT["requires-python"]
    assert metadata["Description-Content-Type"] == "text/markdown"


def test_the_wheel_installs_into_a_fresh_venv_and_runs(
    dist: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    out, env = dist
    [wheel] = out.glob("*.whl")
    venv = tmp_path / "venv"
    made = run(sys.executable, "-m", "venv", venv)
    assert made.returncode == 0, made.stderr
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    installed = run(bin_dir / "python", "-m", "pip", "install", "--quiet", f"{wheel}[trust]",
                    env=env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert run(bin_dir / "python", "-m", "pip", "check", env=env).returncode == 0

    version = run(bin_dir / "py-aws-oidc", "--version")
    assert (version.returncode, version.stdout) == (0, f"py-aws-oidc {PROJECT['version']}\n")

    linted = run(bin_dir / "py-aws-oidc", "trust", "lint", "--format", "json", FIXTURE)
    assert linted.returncode == 1, linted.stdout + linted.stderr  # a high finding
    rules = {finding["rule"] for finding in json.loads(linted.stdout)["findings"]}
    assert "set-operator-single-valued" in rules, linted.stdout

    generated = run(bin_dir / "py-aws-oidc", "trust", "generate", "--repo", "octo-org/octo-repo")
    assert generated.returncode == 0, generated.stderr
    assert json.loads(generated.stdout)["Statement"][0]["Action"] == "sts:AssumeRoleWithWebIdentity"
