"""host/dist/: the zip application is reproducible byte for byte, equal to the committed one,
built from the lock's pure-Python wheels at the image's versions, and runs on Python 3.10+."""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.support.action_yml import REPO_ROOT
from tests.support.host_runtime import builder
from tests.support.later_steps import find_python

DIST = REPO_ROOT / "host" / "dist"
PYZ = DIST / "py-aws-oidc.pyz"
REBUILD = "run `bash scripts/build-host.sh` and commit host/dist/"


def _tree(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    build = builder()
    cache = REPO_ROOT / ".cache" / "host-wheels"
    try:
        first = build.build(tmp_path_factory.mktemp("one"), cache)
    except build.MissingInterpreterError as exc:
        # CI's host-zip job (ubuntu-22.04, the exact CPythons) rebuilds and compares instead.
        pytest.skip(str(exc))
    second = build.build(tmp_path_factory.mktemp("two"), cache)
    return first, second


def test_building_twice_gives_the_same_bytes(built: tuple[Path, Path]) -> None:
    first, second = built
    assert first.read_bytes() == second.read_bytes()
    assert _tree(first.with_suffix(".data")) == _tree(second.with_suffix(".data"))


def test_the_committed_zip_is_a_fresh_build(built: tuple[Path, Path]) -> None:
    fresh, _ = built
    assert PYZ.is_file(), f"host/dist/py-aws-oidc.pyz is missing: {REBUILD}"
    assert PYZ.read_bytes() == fresh.read_bytes(), f"host/dist/py-aws-oidc.pyz is stale: {REBUILD}"
    committed, new = _tree(DIST / "py-aws-oidc.data"), _tree(fresh.with_suffix(".data"))
    assert committed == new, f"host/dist/py-aws-oidc.data is stale: {REBUILD}"


def test_members_are_stored_dated_and_sorted() -> None:
    with zipfile.ZipFile(PYZ) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names[0] == "__main__.py" and names[1:] == sorted(names[1:])
    assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}
    sources = [n for n in names if not n.startswith("cpython-")]
    assert not [n for n in sources if n.endswith((".pyc", ".so", ".pyd", ".pem"))
                or "/__pycache__/" in n or n.startswith("botocore/data/")]
    # Each CPython of the builder's BYTECODE has every module precompiled, nothing else.
    tags = sorted({n.split("/")[0] for n in names if n.startswith("cpython-")})
    assert tags == [f"cpython-{v.replace('.', '')}" for v in builder().BYTECODE]
    modules = sorted(n + "c" for n in sources if n.endswith(".py") and n != "__main__.py")
    for tag in tags:
        assert sorted(n.split("/", 1)[1] for n in names if n.startswith(tag + "/")) == modules
    tops = {n.split("/")[0] for n in sources}
    assert {"py_aws_oidc", "botocore", "requests", "urllib3", "certifi"} <= tops
    assert "py_aws_oidc/trust/cli.py" in names  # `py-aws-oidc trust ...` runs from it
    data = DIST / "py-aws-oidc.data"
    assert (data / "certifi" / "cacert.pem").is_file()
    for service in ("sts", "sso", "sso-oidc"):
        assert list((data / "botocore" / "data" / service).glob("*/service-2.json*")), service


def _pins(lock: str) -> dict[str, str]:
    found = {}
    for line in (REPO_ROOT / "requirements" / lock).read_text().splitlines():
        name, sep, rest = line.partition("==")
        if sep and not line.startswith((" ", "#")):
            found[name.lower()] = rest.split()[0]
    return found


def test_the_host_lock_pins_the_image_versions() -> None:
    host, image = _pins("host.txt"), _pins("image.txt")
    assert host
    shared = set(host) & set(image)
    assert {"botocore", "requests", "urllib3", "certifi", "idna"} <= shared
    assert {n: host[n] for n in shared} == {n: image[n] for n in shared}
    assert "--hash=sha256:" in (REPO_ROOT / "requirements" / "host.txt").read_text()


_SMOKE = r"""
import os, sys
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, os.path.join(sys.argv[1], sys.implementation.cache_tag))  # as __main__.py
from pathlib import Path
from py_aws_oidc import zipapp
assert sys.implementation.cache_tag in zipapp.__spec__.origin, zipapp.__spec__.origin
zip_path = zipapp.archive()
assert zip_path == Path(sys.argv[1]), zip_path
zipapp.prepare(zip_path, os.environ)
import botocore.session, requests, certifi
assert os.path.isfile(certifi.where()), certifi.where()
s = botocore.session.Session()
c = s.create_client("sts", region_name="eu-west-1", aws_access_key_id="AKIDEXAMPLE",
                    aws_secret_access_key="secret")
assert c.meta.endpoint_url.startswith("https://sts."), c.meta.endpoint_url
for service in ("sso", "sso-oidc"):
    s.create_client(service, region_name="eu-west-1")
import py_aws_oidc.action, py_aws_oidc.refresh.bundle, py_aws_oidc.refresh.mint
import py_aws_oidc.trust.cli, py_aws_oidc.sts
print("ok", *sys.version_info[:2])
"""


@pytest.mark.parametrize("minor", [10, 12, 13])
def test_the_zip_runs_on_python(minor: int, tmp_path: Path) -> None:
    python = find_python(minor)
    if python is None:
        pytest.skip(f"no python3.{minor} here")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([python, "-I", "-S", "-X", "utf8", str(PYZ), "--help"], env=env,
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("usage: py-aws-oidc"), done.stderr
    done = subprocess.run([python, "-I", "-S", "-X", "utf8", str(PYZ), "trust", "generate",
                           "--repo", "octo/repo"], env=env, capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.returncode == 0 and '"token.actions.githubusercontent.com:sub"' in done.stdout, (
        done.stdout + done.stderr)
    done = subprocess.run([python, "-I", "-S", "-X", "utf8", "-c", _SMOKE, str(PYZ)],
                          env={**env, "AWS_CONFIG_FILE": os.devnull}, capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.stdout.strip() == f"ok 3 {minor}", done.stdout + done.stderr


def test_the_refresh_lib_from_the_zip_is_the_bundles_file_list() -> None:
    """A refresh run from the zip copies lib/ from it and its data directory: the same files,
    by the same filter, as the refresh bundle takes from an installed interpreter."""
    from py_aws_oidc import zipapp
    from py_aws_oidc.refresh import bundle

    from_zip = dict(zipapp.entries(PYZ, bundle.wanted))
    installed = {rel: src for src, rel in bundle.lib_files()}
    assert "py_aws_oidc/refresh/process.py" in from_zip and "certifi/cacert.pem" in from_zip
    assert any(rel.startswith("botocore/data/sts/") for rel in from_zip)
    assert not [rel for rel in from_zip if rel.startswith(("py_aws_oidc/trust/",
                                                           "botocore/data/sso/"))]
    # charset_normalizer: the installed wheel may be the compiled one (other file names).
    def plain(names: set[str]) -> set[str]:
        return {n for n in names if not n.startswith("charset_normalizer/")}
    assert plain(set(from_zip)) == plain(set(installed))
    ours = {rel for rel in installed if rel.startswith("py_aws_oidc/")}
    assert all(from_zip[rel] == installed[rel].read_bytes() for rel in ours)


def test_every_module_of_the_package_stays_within_python_3_10() -> None:
    """requires-python is >=3.10 and the zip runs every module on the host's Python: vermin
    checks the standard-library API and syntax of all of src/ (the refresh tests do lib/)."""
    import sys

    vermin = Path(sys.executable).parent / "vermin"
    assert vermin.exists(), "vermin is pinned in requirements/dev.txt"
    sources = sorted(str(p) for p in (REPO_ROOT / "src").rglob("*.py"))
    done = subprocess.run([str(vermin), "--no-tips", "--violations", "-t=3.10-",
                           "--eval-annotations", *sources], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
