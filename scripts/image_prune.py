#!/usr/bin/env python3
"""Build-time helper of the Dockerfile (builder stage): strip the venv, then prove nothing broke.

    python image_prune.py prune VENV           # strip VENV in place, verify botocore still resolves
    python image_prune.py check-imports SRC... [--optional MOD]...

``prune`` removes what the action never uses: pip/setuptools, every botocore service model except
the few the action and botocore's credential chain can load (sts, sso, sso-oidc, signin), those
services' examples, the endpoints.json entries of the other services, and every ``__pycache__``
(the Dockerfile compiles fresh bytecode afterwards). Before pruning it resolves the endpoint of each
kept service in regions of every partition; afterwards it resolves them again in a fresh
interpreter and fails the build if any answer changed.

``check-imports`` parses the project's sources and fails if any module they import (at any depth:
lazy imports count) cannot be found in this interpreter, e.g. a new dependency that the image lock
(requirements/image.in) lacks.
"""

from __future__ import annotations

import ast
import gzip
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

# Services botocore may build a client for while the action runs: STS for every call, and SSO,
# SSO-OIDC and Signin for the SDK credential chain (role-chaining / use-existing-credentials with an
# SSO or `aws login` profile). Everything else in botocore/data is dead weight for this image.
KEEP_SERVICES = ("sts", "sso", "sso-oidc", "signin")
# Regions from each partition (and the region-less global endpoint cases) for the resolve check.
CHECK_REGIONS = (
    "us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1", "il-central-1",
    "cn-north-1", "cn-northwest-1", "us-gov-west-1", "us-gov-east-1",
    "us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1", "eusc-de-east-1",
)
REMOVE_DISTS = ("pip", "setuptools", "wheel", "pkg_resources", "_distutils_hack")

RESOLVE_SNIPPET = r"""
import json, sys
import botocore.session
from botocore.config import Config
from botocore import UNSIGNED
services, regions = json.loads(sys.argv[1])
session = botocore.session.Session()
out = {}
for svc in services:
    for region in regions:
        for fips in (False, True):
            key = f"{svc} {region} fips={fips}"
            try:
                client = session.create_client(
                    svc, region_name=region, config=Config(signature_version=UNSIGNED,
                    use_fips_endpoint=fips), aws_access_key_id="x", aws_secret_access_key="y")
                ep = client._ruleset_resolver.construct_endpoint(
                    operation_model=client.meta.service_model.operation_model(
                        client.meta.service_model.operation_names[0]),
                    call_args={}, request_context={})
                out[key] = ep.url
            except Exception as exc:  # noqa: BLE001 - the type is the answer
                out[key] = f"error: {type(exc).__name__}"
print(json.dumps(out, sort_keys=True))
"""


def site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages"))
    if len(found) != 1:
        raise SystemExit(f"expected one site-packages under {venv}, found {found}")
    return found[0]


def resolve_endpoints(python: Path) -> dict[str, str]:
    proc = subprocess.run(
        [str(python), "-c", RESOLVE_SNIPPET, json.dumps([KEEP_SERVICES, CHECK_REGIONS])],
        check=True, capture_output=True, text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "AWS_CONFIG_FILE": "/dev/null",
             "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"},
    )
    return json.loads(proc.stdout)


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def rm(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def load_json(path: Path) -> object:
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return json.load(fh)
    return json.loads(path.read_text(encoding="utf-8"))


def prune_botocore(site: Path) -> None:
    data = site / "botocore" / "data"
    prefixes: set[str] = set()
    for entry in sorted(data.iterdir()):
        if entry.is_dir() and entry.name not in KEEP_SERVICES:
            rm(entry)
    for svc in KEEP_SERVICES:
        versions = sorted(p for p in (data / svc).iterdir() if p.is_dir())
        for old in versions[:-1]:
            rm(old)  # botocore loads the newest API version
        latest = versions[-1]
        for f in latest.iterdir():
            if f.name.startswith("examples-"):
                rm(f)  # documentation examples only
        model = next(latest.glob("service-2.json*"))
        meta = load_json(model)["metadata"]  # type: ignore[index]
        prefixes.add(meta["endpointPrefix"])
    # endpoints.json: keep every partition (regions, defaults, variants) but only the services kept.
    endpoints_file = data / "endpoints.json"
    endpoints = load_json(endpoints_file)
    for partition in endpoints["partitions"]:  # type: ignore[index]
        partition["services"] = {
            name: spec for name, spec in partition["services"].items() if name in prefixes
        }
    endpoints_file.write_text(json.dumps(endpoints, separators=(",", ":")), encoding="utf-8")
    # The small root files stay as they are (_retry.json, partitions.json, sdk-default-...).


def prune(venv: Path) -> int:
    site = site_packages(venv)
    python = venv / "bin" / "python"
    before_size = tree_size(venv)
    before = resolve_endpoints(python)

    prune_botocore(site)
    for entry in list(site.iterdir()):
        stem = entry.name.split("-")[0].split(".")[0]
        if stem in REMOVE_DISTS or entry.name == "distutils-precedence.pth":
            rm(entry)
    for pattern in ("pip", "pip3*", "Activate.ps1", "activate", "activate.*", "normalizer"):
        for script in (venv / "bin").glob(pattern):
            rm(script)
    for cache in list(venv.rglob("__pycache__")):
        rm(cache)

    after = resolve_endpoints(python)
    changed = {k: (before[k], after.get(k)) for k in before if before[k] != after.get(k)}
    if changed:
        for key, (old, new) in sorted(changed.items()):
            print(f"image_prune: endpoint changed: {key}: {old} -> {new}", file=sys.stderr)
        return 1
    ok = sum(1 for v in after.values() if not v.startswith("error"))
    print(f"image_prune: {len(after)} endpoint resolutions unchanged ({ok} resolve to a URL)")
    print(f"image_prune: venv {before_size / 1e6:.1f} MB -> {tree_size(venv) / 1e6:.1f} MB")
    return 0


def imported_modules(paths: list[Path]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for root in paths:
        for file in sorted(root.rglob("*.py")):
            tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    found.setdefault(name, []).append(f"{file}:{node.lineno}")
    return found


def check_imports(paths: list[Path], optional: set[str]) -> int:
    missing = []
    for name, where in sorted(imported_modules(paths).items()):
        if name.split(".")[0] in optional or name == "__future__":
            continue
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError:
            spec = None
        if spec is None:
            missing.append(f"{name} (imported at {where[0]})")
    for line in missing:
        print(f"image_prune: not in the image: {line}", file=sys.stderr)
    if missing:
        print("image_prune: add the distribution to requirements/image.in and run "
              "python requirements/pin.py", file=sys.stderr)
        return 1
    print("image_prune: every module the sources import is present")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "prune":
        return prune(Path(argv[1]))
    if argv and argv[0] == "check-imports":
        paths, optional, rest = [], set(), argv[1:]
        while rest:
            arg = rest.pop(0)
            if arg == "--optional":
                optional.add(rest.pop(0))
            else:
                paths.append(Path(arg))
        return check_imports(paths, optional)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
