"""The locked development environment: the lock, not the index, decides every version.

requirements/dev.txt is written by ``python requirements/pin.py`` from requirements/dev.in (with
requirements/image.txt as constraints); scripts/venv.sh installs it with --require-hashes --no-deps.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REQ = REPO / "requirements"

_PIN = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", re.MULTILINE)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path) -> dict[str, str]:
    return {_norm(name): version for name, version in _PIN.findall(path.read_text())}


def _entries(path: Path) -> list[str]:
    """A lock's requirement entries (continuation lines joined)."""
    text = path.read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("lock", ["dev.txt", "image.txt", "build.txt"])
def test_every_entry_of_a_lock_is_exact_and_hashed(lock: str) -> None:
    entries = _entries(REQ / lock)
    assert entries
    for entry in entries:
        assert _PIN.match(entry), entry
        assert "--hash=sha256:" in entry, entry


def test_the_top_level_pins_are_what_the_lock_holds() -> None:
    top = _pins(REQ / "dev.in")
    lock = _pins(REQ / "dev.txt")
    assert top, "dev.in pins its top-level packages"
    for name, version in top.items():
        assert lock.get(name) == version, f"{name}: dev.in {version}, dev.txt {lock.get(name)}"


def test_the_tests_run_the_versions_the_image_ships() -> None:
    dev = _pins(REQ / "dev.txt")
    image = _pins(REQ / "image.txt")
    shared = set(dev) & set(image)
    assert {"botocore", "requests", "urllib3", "idna"} <= shared
    assert {name: (dev[name], image[name]) for name in shared if dev[name] != image[name]} == {}


def test_this_environment_is_exactly_the_lock() -> None:
    """Every locked package is installed at its locked version, and nothing else is (pip,
    the build backend of requirements/build.txt and the project itself aside)."""
    lock = _pins(REQ / "dev.txt")
    allowed = lock | _pins(REQ / "build.txt") | {"py-aws-oidc": "*", "pip": "*"}
    installed = {_norm(d.metadata["Name"]): d.version for d in metadata.distributions()}
    missing = {n: v for n, v in lock.items() if installed.get(n) != v}
    assert missing == {}, "run `bash scripts/test.sh` (scripts/venv.sh installs the lock)"
    extra = {n for n in installed if n not in allowed}
    assert extra == set(), f"installed but not locked: {sorted(extra)}"


def _fake_wheel(directory: Path, name: str, version: str) -> Path:
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    dist_info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(f"{name}/__init__.py", "")
        zf.writestr(f"{dist_info}/METADATA",
                    f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        zf.writestr(f"{dist_info}/WHEEL",
                    "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        zf.writestr(f"{dist_info}/RECORD", "")
    return wheel


def _dry_run(requirements: Path, find_links: Path, tmp: Path, *extra: str) -> dict[str, str]:
    report = tmp / "report.json"
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "-q",
           "--disable-pip-version-check", "--report", str(report), "--target", str(tmp / "t"),
           "--find-links", str(find_links), *extra, "-r", str(requirements)]
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300)
    data = json.loads(report.read_text())
    return {_norm(i["metadata"]["name"]): i["metadata"]["version"] for i in data["install"]}


def test_a_newer_release_on_the_index_changes_nothing(tmp_path: Path) -> None:
    """The day PyPI serves a newer transitive release: venv.sh's install (--require-hashes
    --no-deps on the lock) still takes the locked version; an unlocked requirement would not."""
    links = tmp_path / "links"
    links.mkdir()
    _fake_wheel(links, "idna", "99.0")
    locked = tmp_path / "locked.txt"
    entry = next(e for e in _entries(REQ / "dev.txt") if e.startswith("idna=="))
    locked.write_text(entry + "\n")
    chosen = _dry_run(locked, links, tmp_path, "--require-hashes", "--no-deps")
    assert chosen == {"idna": _pins(REQ / "dev.txt")["idna"]}
    # The control: a requirement the lock does not decide takes the newest release offered.
    loose = tmp_path / "loose.txt"
    loose.write_text("idna\n")
    assert _dry_run(loose, links, tmp_path, "--no-deps") == {"idna": "99.0"}


def test_venv_sh_installs_the_lock_only() -> None:
    text = (REPO / "scripts" / "venv.sh").read_text()
    install = [line for line in text.splitlines() if "pip install" in line or "-r requirements" in line]
    assert any("--require-hashes" in line and "--no-deps" in line for line in install), install
    assert "--no-build-isolation" in text and "--no-index -e ." in text
    assert "dev.in" not in text
