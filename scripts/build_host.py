#!/usr/bin/env python3
"""Build the host runtime's zip application, reproducibly (run it as ``bash scripts/build-host.sh``).

    python scripts/build_host.py [--out host/dist] [--wheels .cache/host-wheels]

1. ``pip download --only-binary=:all: --require-hashes --no-deps`` of ``requirements/host.txt``
   (pure-Python wheels, hash-pinned) into the wheel cache; every wheel's sha256 is checked again
   here against the lock.
2. The wheels are unpacked to a temporary directory; the files to pack are chosen with the refresh
   bundle's walk (``py_aws_oidc.refresh.bundle.lib_files``: same modules, same filters), this
   package from ``src/`` (with the trust doctor).
3. Bytecode: a zip's modules are compiled at every start (zipimport writes no cache), which
   costs more than the action's own work. So each module is also compiled, once per CPython of
   :data:`BYTECODE` (each in a fresh ``python3.X -S`` with ``PYTHONHASHSEED=0``: the same
   interpreter gives the same bytes), into ``cpython-3XY/`` of the zip as an unchecked
   hash-based ``.pyc``; ``__main__.py`` puts its interpreter's tree first on ``sys.path``. Other
   Pythons (3.14 until it is in :data:`BYTECODE`) compile the sources at the root.
4. ``OUT/py-aws-oidc.pyz``: ``__main__.py`` then every member in sorted order, each stored
   (no compression: no zlib version can change a byte), dated 1980-01-01, mode 0644, made on
   "Unix". ``OUT/py-aws-oidc.data/``: what must be read from the file system (botocore's data files
   for the SDK credential chain's clients, certifi's ``cacert.pem``; see ``py_aws_oidc.zipapp``).

The bytecode makes the build depend on the exact interpreters (:data:`BYTECODE`: the patch
versions too, as a compiler fix in a patch release can change a byte); they are found as
``python3.X`` on PATH or under pyenv, or named by ``PY_AWS_OIDC_BUILD_PYTHON_3_X``.

Building twice gives the same bytes (``tests/host/test_host_build.py``), so CI and the release
compare a fresh build with the committed one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import marshal
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from py_aws_oidc import zipapp  # noqa: E402
from py_aws_oidc.refresh import bundle  # noqa: E402

LOCK = ROOT / "requirements" / "host.txt"
PYZ_NAME = "py-aws-oidc.pyz"
# The clients the SDK credential chain creates (credentials.py, tokens.py): their models and
# botocore's root data files (endpoints, partitions, defaults, retries) go beside the zip.
DATA_SERVICES = ("signin", "sso", "sso-oidc", "sts")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# The CPythons whose bytecode the zip carries, at the exact versions that build it.
BYTECODE = {"3.10": "3.10.13", "3.11": "3.11.7", "3.12": "3.12.1", "3.13": "3.13.0"}
# The start of __main__.py: parseable by any Python 3, so that an old one (found as python3 on
# PATH) answers the launcher (host/launch.js: -X py-aws-oidc-ready=FD) instead of failing in an
# import. The launcher then tries the next candidate.
HANDSHAKE = """\
# py-aws-oidc host runtime: python -I -S -X utf8 py-aws-oidc.pyz ARGS (host/action.yml)
import os
import sys

# host/launch.js asks the version through the program's own start: MAJOR.MINOR on this fd.
_ready = getattr(sys, "_xoptions", {}).get("py-aws-oidc-ready")
if _ready:
    os.write(int(_ready), ("%d.%d\\n" % sys.version_info[:2]).encode("ascii"))
    os.close(int(_ready))
if sys.version_info < (3, 10):
    if not _ready:
        sys.stderr.write("py-aws-oidc needs Python 3.10 or newer; this is %d.%d\\n"
                         % sys.version_info[:2])
    sys.exit(1)
"""
MAIN = HANDSHAKE + """
# This interpreter's precompiled modules first (scripts/build_host.py), then the sources.
if sys.implementation.cache_tag in {tags!r}:
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), sys.implementation.cache_tag))

from py_aws_oidc.zipapp import main

main()
"""
COMPILE = r"""
import importlib.util, json, marshal, sys, zipfile
names = json.loads(sys.stdin.read())
out = {}
with zipfile.ZipFile(sys.argv[1]) as archive:
    for name in names:
        source = archive.read(name)
        code = compile(source, name, "exec", dont_inherit=True, optimize=0)
        out[name + "c"] = (importlib.util.MAGIC_NUMBER + (1).to_bytes(4, "little")
                           + importlib.util.source_hash(source) + marshal.dumps(code))
sys.stdout.buffer.write(marshal.dumps([sys.implementation.cache_tag, out]))
"""


def locked() -> dict[str, set[str]]:
    """Package name (normalised) -> the sha256 digests the lock allows."""
    hashes: dict[str, set[str]] = {}
    current = ""
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==", line)
        if match:
            current = re.sub(r"[-_.]+", "_", match.group(1)).lower()
            hashes[current] = set()
        if current:
            hashes[current].update(re.findall(r"--hash=sha256:([0-9a-f]{64})", line))
    return hashes


def download(cache: Path) -> list[Path]:
    """The lock's wheels from the cache (fetched when missing), each checked against the lock."""
    cache.mkdir(parents=True, exist_ok=True)
    wanted = locked()
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--only-binary=:all:", "--require-hashes", "--no-deps", "--python-version", "3.10",
         "--implementation", "py", "--abi", "none", "--platform", "any",
         "--dest", str(cache), "-r", str(LOCK)],
        check=True,
    )
    chosen: dict[str, Path] = {}
    for wheel in sorted(cache.glob("*.whl")):
        name = wheel.name.split("-")[0].lower()
        if name in wanted and hashlib.sha256(wheel.read_bytes()).hexdigest() in wanted[name]:
            chosen[name] = wheel
    missing = sorted(set(wanted) - set(chosen))
    if missing:
        raise SystemExit(f"build_host: no wheel matching the lock's hash for {', '.join(missing)}")
    return [chosen[name] for name in sorted(chosen)]


def unpack(wheels: list[Path], site: Path) -> None:
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                top = info.filename.split("/")[0]
                if info.is_dir() or top.endswith((".dist-info", ".data")):
                    continue
                target = site / info.filename
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(info))


def _is_data(relative: str) -> bool:
    return relative.startswith(zipapp.BOTOCORE_DATA + "/") or relative.endswith(".pem")


def select(site: Path) -> tuple[list[tuple[Path, str]], list[tuple[Path, str]]]:
    """(files for the zip, files for the data directory), each as (source, relative path)."""
    search = [str(ROOT / "src"), str(site)]
    code = bundle.lib_files(search, skip_packages=frozenset(), botocore_data=None)
    data = bundle.lib_files([str(site)], modules=("botocore", "certifi"),
                            botocore_data=DATA_SERVICES)
    return ([item for item in code if not _is_data(item[1])],
            [item for item in data if _is_data(item[1])])


class MissingInterpreterError(SystemExit):
    """One of BYTECODE's CPythons is not on this machine: no reproducible build here."""


def interpreter(minor: str, patch: str, *, strict: bool = True) -> str | None:
    """The CPython ``patch`` for ``python3.X``: named, on PATH or under pyenv. Not ``strict``
    (a test's build, not one to commit): any ``python3.X`` of that minor, or None."""
    named = os.environ.get("PY_AWS_OIDC_BUILD_PYTHON_" + minor.replace(".", "_"))
    pyenv = Path.home() / ".pyenv" / "versions" / patch / "bin" / f"python{minor}"
    for candidate in (named, shutil.which(f"python{minor}"), str(pyenv)):
        if not candidate or not Path(candidate).is_file():
            continue
        found = subprocess.run([candidate, "-I", "-S", "-c", "import platform; print("
                                "platform.python_implementation(), platform.python_version())"],
                               capture_output=True, text=True, check=False).stdout.split()
        if found == ["CPython", patch] or (not strict and found[:1] == ["CPython"]
                                           and found[1:2] and found[1].startswith(minor + ".")):
            return candidate
    if not strict:
        return None
    raise MissingInterpreterError(
        f"build_host: the bytecode needs CPython {patch} (python{minor}); install it (pyenv "
        f"install {patch}, actions/setup-python) or name it with "
        f"PY_AWS_OIDC_BUILD_PYTHON_{minor.replace('.', '_')}")


def bytecode(sources_zip: Path, names: list[str], strict: bool) -> list[tuple[str, bytes]]:
    """(``cpython-3XY/NAME.pyc``, bytes) of every module, for each CPython of BYTECODE."""
    members: list[tuple[str, bytes]] = []
    env = {"PYTHONHASHSEED": "0", "PATH": os.environ.get("PATH", "")}
    for minor, patch in BYTECODE.items():
        python = interpreter(minor, patch, strict=strict)
        if python is None:
            continue
        done = subprocess.run([python, "-S", "-s", "-B", "-c", COMPILE,
                               str(sources_zip)], input=json.dumps(names).encode(), env=env,
                              capture_output=True, check=True)
        tag, compiled = marshal.loads(done.stdout)  # noqa: S302 (our own child's output)
        members += [(f"{tag}/{name}", data) for name, data in compiled.items()]
    return members


def write_zip(path: Path, files: list[tuple[Path, str]], strict: bool = True) -> None:
    sources = sorted((relative, source.read_bytes()) for source, relative in files)
    staged = path.with_suffix(".sources")
    _write_members(staged, sources)
    try:
        compiled = bytecode(staged, [name for name, _ in sources if name.endswith(".py")],
                            strict)
    finally:
        staged.unlink()
    tags = sorted({name.split("/")[0] for name, _ in compiled})
    main = MAIN.replace("{tags!r}", repr(tuple(tags))).encode("utf-8")
    _write_members(path, [("__main__.py", main), *sorted(sources + compiled)])


def _write_members(path: Path, members: list[tuple[str, bytes]]) -> None:
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
        for relative, content in members:
            info = zipfile.ZipInfo(relative, date_time=ZIP_DATE)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_STORED
            archive.writestr(info, content)
    tmp.replace(path)


def write_data(directory: Path, files: list[tuple[Path, str]]) -> None:
    if directory.exists():
        shutil.rmtree(directory)
    for source, relative in sorted(files, key=lambda item: item[1]):
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
        target.chmod(0o644)


def build(out: Path, cache: Path, *, strict: bool = True) -> Path:
    """``strict=False``: bytecode for the BYTECODE minors found here, at any patch version (a
    test's build from the current sources, never committed)."""
    wheels = download(cache)
    out.mkdir(parents=True, exist_ok=True)
    pyz = out / PYZ_NAME
    with tempfile.TemporaryDirectory(prefix="py-aws-oidc-host-") as tmp:
        site = Path(tmp)
        unpack(wheels, site)
        code, data = select(site)
        write_zip(pyz, code, strict)
        write_data(zipapp.data_dir(pyz), data)
    return pyz


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "host" / "dist")
    parser.add_argument("--wheels", type=Path, default=ROOT / ".cache" / "host-wheels")
    args = parser.parse_args()
    pyz = build(args.out.resolve(), args.wheels.resolve())
    digest = hashlib.sha256(pyz.read_bytes()).hexdigest()
    print(f"build_host: {pyz} ({pyz.stat().st_size} bytes, sha256 {digest})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
