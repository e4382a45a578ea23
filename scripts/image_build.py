#!/usr/bin/env python3
"""Build-time helper of the Dockerfile: strip the venv, assemble the runtime root filesystem.

    python image_build.py check-imports SRC... [--optional MOD]...
    python image_build.py prune VENV           # strip VENV in place, verify botocore still resolves
    python image_build.py rootfs DEST VENV [--optional MOD]...   # the final image's tree

``prune`` makes the entrypoints run Python isolated (``-I``: no ``PYTHONPATH`` or user site from the
job's environment) and removes what the action never uses: pip/setuptools, every botocore service model except
the few the action and botocore's credential chain can load (sts, sso, sso-oidc, signin), those
services' examples, the endpoints.json entries of the other services, and every ``__pycache__``
(the Dockerfile compiles fresh bytecode afterwards). Before pruning it resolves the endpoint of each
kept service in regions of every partition; afterwards it resolves them again in a fresh
interpreter and fails the build if any answer changed.

``rootfs`` assembles the final image's root filesystem (the Dockerfile's last stage is
``FROM scratch`` + this tree, one layer): Debian's python3.11 with the stdlib minus the parts no
code path imports, the shared libraries that python, its extension modules and the venv's
extension modules link (found with ldd, mapped to their Debian packages), those packages' files
(without docs and glibc's iconv modules), /bin/sh, the venv, a dpkg status that lists exactly the
packages whose files are there (so image scanners see the truth), and ld.so.cache. Python modules
are kept as bytecode only (``sourceless``: the sources are about a quarter of the image), the
stdlib's packed into ``/usr/lib/python311.zip`` (``zip_stdlib``: one file for a pull to unpack
instead of ~240), and so are the pure-Python dependencies that read no file of their own
(``zip_packages``). Then it runs a
smoke test inside the new tree (chroot): imports every module of the action, builds STS clients,
loads the CA bundle, runs ``py-aws-oidc --version``.

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
import zipfile
from pathlib import Path

# Services botocore may build a client for while the action runs: STS for every call, and SSO,
# SSO-OIDC and Signin for the SDK credential chain (role-chaining / use-existing-credentials with an
# SSO or `aws login` profile). Everything else in botocore/data is dead weight for this image.
KEEP_SERVICES = ("sts", "sso", "sso-oidc", "signin")
# Regions from each partition (and the region-less global endpoint cases) for the resolve check.
CHECK_REGIONS = (
    "us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1", "il-central-1",
    "cn-north-1", "cn-northwest-1", "us-gov-west-1", "us-gov-east-1",
    "us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1", "eusc-de-east-1", "aws-global",
)
REMOVE_DISTS = ("pip", "setuptools", "wheel", "pkg_resources", "_distutils_hack",
                # Only the host uses it (tls.py: the OS store on a runner host; the container
                # trusts the image's certifi): it stays in refresh-lib.zip, packed before prune.
                "truststore")
# Top-level packages that only serve a dependency's console scripts (python-hcl2 ships its
# hcl2tojson/jsontohcl2/hq tools as a top-level package named `cli`): name -> owning distribution.
REMOVE_SCRIPT_PACKAGES = {"cli": "python_hcl2"}
# Console scripts kept in the venv's bin/ (the rest belong to dependencies: normalizer, hq, ...).
ENTRYPOINTS = ("py-aws-oidc", "py-aws-oidc-post")
KEEP_SCRIPTS = ("python", "python3", "python3.*", *ENTRYPOINTS)

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
                out[key] = f"{ep.url} | {client.meta.endpoint_url} | {client.meta.region_name}"
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


def prune_dead_weight(site: Path) -> None:
    """Files of kept distributions that nothing at run time reads (issue 20, docs/container.md).

    * botocore/cacert.pem: botocore takes certifi's bundle when certifi is importable (it is).
    * every RECORD (pip's uninstall list; pip is gone), pip's other bookkeeping (INSTALLER,
      REQUESTED, WHEEL, direct_url.json, zip-safe: each a file for a pull to unpack) and our own
      long description (the README inside METADATA): the headers that scanners read, the
      licences, top_level.txt and entry_points.txt stay.
    * charset_normalizer's mypyc builds (md/cd .so): its pure-Python modules of the same names
      do the same work; requests calls it only to guess the charset of a text body, which the
      action never asks for (it decodes bytes as UTF-8 itself). Its console script package too.
    * dateutil's bundled zoneinfo tarball: botocore uses dateutil.tz, never dateutil.zoneinfo.
    """
    if importlib.util.find_spec("certifi") is None:
        raise SystemExit("image_build: certifi is missing; botocore/cacert.pem would be needed")
    rm(site / "botocore" / "cacert.pem")
    for name in ("RECORD", "INSTALLER", "REQUESTED", "WHEEL", "direct_url.json", "zip-safe"):
        for bookkeeping in site.glob(f"*.dist-info/{name}"):
            rm(bookkeeping)
    for metadata in site.glob("py_aws_oidc-*.dist-info/METADATA"):
        headers = metadata.read_text(encoding="utf-8").split("\n\n", 1)[0]
        metadata.write_text(headers + "\n", encoding="utf-8")
    charset = site / "charset_normalizer"
    for ext in charset.glob("*.so"):
        if (charset / (ext.name.split(".")[0] + ".py")).is_file():
            rm(ext)
    rm(charset / "cli")
    rm(charset / "__main__.py")
    for tarball in (site / "dateutil" / "zoneinfo").glob("*.tar.gz"):
        rm(tarball)


def isolate_entrypoints(venv: Path) -> None:
    """Run the console scripts with ``python -IBu``: isolated from the job's environment.

    The runner passes every variable of the job (GITHUB_ENV included) into the container, so an
    earlier step's ``PYTHONPATH`` (or ``PYTHONSTARTUP``, ``PYTHONHOME``, a user site-packages
    under ``HOME``) would otherwise load its code into our process, ahead of our own packages.
    ``-I`` ignores them all; ``-B -u`` stand in for the image's ``PYTHONDONTWRITEBYTECODE`` and
    ``PYTHONUNBUFFERED``, which ``-I`` ignores too."""
    for name in ENTRYPOINTS:
        script = venv / "bin" / name
        first, rest = script.read_text(encoding="utf-8").split("\n", 1)
        shebang = first.rstrip()
        # pip writes "#!<venv>/bin/python3.11": the interpreter alone, no options yet.
        if not shebang.startswith(f"#!{venv}/bin/python") or " " in shebang:
            raise SystemExit(f"image_build: unexpected first line in {script}: {first!r}")
        script.write_text(f"{shebang} -IBu\n{rest}", encoding="utf-8")


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
    for name, dist in REMOVE_SCRIPT_PACKAGES.items():
        owners = [d for d in site.glob(f"{dist}-*.dist-info")
                  if name in (d / "top_level.txt").read_text().split()]
        if owners:
            rm(site / name)
    for script in (venv / "bin").iterdir():
        if not any(script.match(pattern) for pattern in KEEP_SCRIPTS):
            rm(script)
    isolate_entrypoints(venv)
    prune_dead_weight(site)
    for tests in [p for p in site.rglob("*") if p.is_dir() and p.name in ("tests", "test")]:
        rm(tests)  # test suites shipped inside wheels (certifi/tests)
    for cache in list(venv.rglob("__pycache__")):
        rm(cache)

    after = resolve_endpoints(python)
    changed = {k: (before[k], after.get(k)) for k in before if before[k] != after.get(k)}
    if changed:
        for key, (old, new) in sorted(changed.items()):
            print(f"image_build: endpoint changed: {key}: {old} -> {new}", file=sys.stderr)
        return 1
    ok = sum(1 for v in after.values() if not v.startswith("error"))
    print(f"image_build: {len(after)} endpoint resolutions unchanged ({ok} resolve to a URL)")
    print(f"image_build: venv {before_size / 1e6:.1f} MB -> {tree_size(venv) / 1e6:.1f} MB")
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
        print(f"image_build: not in the image: {line}", file=sys.stderr)
    if missing:
        print("image_build: add the distribution to requirements/image.in and run "
              "python requirements/pin.py", file=sys.stderr)
        return 1
    print("image_build: every module the sources import is present")
    return 0


# ------------------------------------------------------------------------------------------- rootfs
STDLIB = Path(f"/usr/lib/python{sys.version_info.major}.{sys.version_info.minor}")
# Stdlib parts that neither the action nor its dependencies import (``rootfs`` proves it: it scans
# every import statement in the venv and fails if one names a pruned module, then smoke-tests).
PRUNE_STDLIB = frozenset({
    "__phello__", "__hello__", "antigravity", "asyncio", "curses", "dbm", "distutils", "doctest",
    "ensurepip", "idlelib", "lib2to3", "multiprocessing", "pdb", "pydoc", "pydoc_data", "sqlite3",
    "test", "this", "tkinter", "turtle", "turtledemo", "unittest", "venv", "crypt", "xmlrpc",
    # Issue 20: no import statement of the action, its dependencies or the stdlib modules they
    # import (at any depth, lazy ones included) names these (docs/container.md, "What was cut").
    "_distutils_system_mod", "_pyio", "aifc", "asynchat", "asyncore", "cProfile", "cgi", "cgitb",
    "chunk", "colorsys", "compileall", "filecmp", "fileinput", "graphlib", "imaplib", "imghdr",
    "imp", "mailbox", "mailcap", "modulefinder", "nntplib", "optparse", "pickletools", "pipes",
    "poplib", "profile", "pstats", "pty", "pyclbr", "rlcompleter", "sched", "shelve", "smtpd",
    "smtplib", "sndhdr", "sunau", "symtable", "tabnanny", "telnetlib", "timeit", "tomllib",
    "trace", "uu", "wave", "wsgiref", "xdrlib", "zipapp", "zoneinfo",
    # decimal imports it only when the C module _decimal is missing; _decimal is kept.
    "_pydecimal",
})
# Sub-packages and modules of kept packages that nothing imports (same proof as above).
PRUNE_STDLIB_PATHS = ("xml/dom", "xml/sax", "logging/handlers", "logging/config")
# The codecs kept (the rest of encodings/ goes, ~100 files): every text the action reads or
# writes is UTF-8 or ASCII; Latin-1 (HTTP headers), cp437 (zip member names), cp1252, IDNA and
# punycode (host names), UTF-16/32 (BOM detection) and the escape/binary codecs stay.
KEEP_ENCODINGS = frozenset({
    "__init__", "aliases", "ascii", "base64_codec", "charmap", "cp1252", "cp437", "hex_codec",
    "idna", "latin_1", "punycode", "raw_unicode_escape", "undefined", "unicode_escape",
    "utf_16", "utf_16_be", "utf_16_le", "utf_32", "utf_32_be", "utf_32_le", "utf_8", "utf_8_sig",
})
# Extension modules to drop, with the libraries they alone pull in (sqlite, ncurses, readline,
# libnsl/libtirpc/krb5, Berkeley DB, libcrypt).
PRUNE_DYNLOAD = ("_sqlite3", "_curses", "readline", "_dbm", "_gdbm", "nis", "_tkinter",
                 "_ctypes_test", "_test", "xxlimited", "_xxtestfuzz", "_xxsubinterpreters",
                 "ossaudiodev", "_crypt", "_asyncio", "_multiprocessing", "_posixshmem",
                 # The CJK codecs (~0.9 MB): every text the action reads is UTF-8 (JSON, XML,
                 # policies); "x".encode("shift_jis") becomes an unknown encoding.
                 "_codecs_", "_multibytecodec",
                 # the profiler, audio and zoneinfo (no tz database in the image)
                 "_lsprof", "audioop", "_zoneinfo")
# Files of kept packages that nothing here links or loads: glibc's vector math library,
# expat's wide-character build (pyexpat links libexpat.so.1) and OpenSSL's legacy provider
# (loaded only when a program asks for it by name).
SKIP_UNLINKED = ("libmvec.so", "libexpatw.so", "legacy.so")
PYV = f"{sys.version_info.major}.{sys.version_info.minor}"
# libgcc-s1: glibc dlopen()s libgcc_s for pthread_exit (Python's daemon threads at exit).
ALWAYS_KEEP_PACKAGES = ("base-files", "dash", "libgcc-s1", f"python{PYV}-minimal",
                        f"libpython{PYV}-minimal", f"libpython{PYV}-stdlib", "media-types")
SKIP_PREFIXES = ("/usr/share/doc/", "/usr/share/man/", "/usr/share/info/", "/usr/share/lintian/",
                 "/usr/share/locale/", "/usr/lib/x86_64-linux-gnu/gconv/",
                 "/usr/lib/aarch64-linux-gnu/gconv/", "/usr/share/binfmts/",
                 "/usr/share/applications/", "/usr/share/pixmaps/")
ETC_FILES = ("passwd", "group", "shadow", "gshadow", "nsswitch.conf", "host.conf",
             "ld.so.conf", "ld.so.conf.d", "debian_version", "os-release", "mime.types")

SMOKE = r"""
import importlib, importlib.util, pkgutil, ssl, sys
import json  # the stdlib comes from the zip (zip_stdlib)
assert json.__file__.startswith(tuple(p + "/" for p in sys.path if p.endswith(".zip"))), json.__file__
import requests, urllib3  # the dependencies from theirs (zip_packages)
assert ".zip/" in requests.__file__ and ".zip/" in urllib3.__file__, requests.__file__
import py_aws_oidc
names = [m.name for m in pkgutil.walk_packages(py_aws_oidc.__path__, "py_aws_oidc.")
         if not m.name.endswith(".__main__")]
for name in names:
    try:
        importlib.import_module(name)
    except ImportError as exc:
        if exc.name not in OPTIONAL:
            raise
import botocore.session, certifi, charset_normalizer, requests, urllib3
from importlib.metadata import distributions
tops = sorted({t for d in distributions() for t in (d.read_text("top_level.txt") or "").split()
               if importlib.util.find_spec(t) is not None})  # minus the pruned script packages
for top in tops:
    importlib.import_module(top)
import decimal, email.parser, hashlib, http.client, http.cookiejar, json, netrc, uuid
import xml.etree.ElementTree, concurrent.futures, secrets, ipaddress, tempfile
session = botocore.session.Session()
for region in ("us-east-1", "cn-north-1", "us-gov-west-1"):
    session.create_client("sts", region_name=region, aws_access_key_id="k",
                          aws_secret_access_key="s")
ssl.create_default_context(cafile=certifi.where())
"x".encode("idna"); "é".encode("cp1252"); hashlib.sha256(b"").hexdigest()
try:
    import hcl2
except ImportError:
    pass
else:
    hcl2.loads('data "x" "y" {\n  a = "b"\n}\n')
print(f"smoke: {len(names)} action modules, {len(tops)} top-level packages, STS clients, ssl: ok")
"""


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, text=True, **kwargs)  # type: ignore[call-overload]


def pruned(path: Path) -> bool:
    """Is this stdlib path (file or dir) pruned?"""
    rel = path.relative_to(STDLIB)
    first = rel.parts[0]
    if first == "lib-dynload" and len(rel.parts) > 1:
        return rel.parts[1].startswith(PRUNE_DYNLOAD)
    if first == "__pycache__" and len(rel.parts) > 1:
        return rel.parts[1].split(".")[0] in PRUNE_STDLIB
    module = "/".join(p for p in rel.parts if p != "__pycache__").split(".")[0]
    if any(module == q or module.startswith(q + "/") for q in PRUNE_STDLIB_PATHS):
        return True
    if first == "encodings" and len(rel.parts) > 1 and rel.suffix in (".py", ".pyc"):
        return module.split("/")[-1] not in KEEP_ENCODINGS
    return first.removesuffix(".py") in PRUNE_STDLIB or first.startswith("config-3")


def elf_files(paths: list[Path]) -> list[Path]:
    out = []
    for p in paths:
        if p.is_file() and not p.is_symlink():
            with p.open("rb") as fh:
                if fh.read(4) == b"\x7fELF":
                    out.append(p)
    return out


def shared_libs(elves: list[Path]) -> set[str]:
    libs: set[str] = set()
    for elf in elves:
        out = run(["ldd", str(elf)], capture_output=True).stdout
        for raw in out.splitlines():
            line = raw.strip()
            if "not found" in line:
                raise SystemExit(f"image_build: {elf}: {line}")
            if "=>" in line:
                target = line.split("=>", 1)[1].split("(")[0].strip()
            else:
                target = line.split("(")[0].strip()
            if target.startswith("/"):
                libs.add(target)
    return libs


def dpkg_owners() -> tuple[dict[str, str], dict[str, list[str]]]:
    """realpath -> package, and package -> listed paths, from /var/lib/dpkg/info/*.list."""
    owner: dict[str, str] = {}
    via_symlink: dict[str, str] = {}
    files: dict[str, list[str]] = {}
    for listing in sorted(Path("/var/lib/dpkg/info").glob("*.list")):
        pkg = listing.stem.split(":")[0]
        paths = listing.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
        files[pkg] = paths
        for p in paths:
            # The package that ships the file itself wins over one that ships a symlink to it
            # (libc-bin's /usr/bin/ld.so -> libc6's ld-linux-x86-64.so.2).
            target = owner if not os.path.islink(p) else via_symlink
            target.setdefault(os.path.realpath(p), pkg)
    return {**via_symlink, **owner}, files


def copy_entry(src: str, dest_root: Path) -> None:
    s = Path(src)
    if not (s.exists() or s.is_symlink()):
        return  # a path-excluded file (docs) or a diverted one
    if s.is_dir() and not s.is_symlink():
        d = dest_root / os.path.realpath(s).lstrip("/")
        d.mkdir(parents=True, exist_ok=True)
        shutil.copystat(s, d)
        return
    d = dest_root / os.path.realpath(s.parent).lstrip("/") / s.name
    if d.exists() or d.is_symlink():
        return
    d.parent.mkdir(parents=True, exist_ok=True)
    if s.is_symlink():
        d.symlink_to(os.readlink(s))
    else:
        shutil.copy2(s, d)


def imports_in(root: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for file in root.rglob("*.py"):
        try:
            tree = ast.parse(file.read_bytes(), filename=str(file))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], f"{file}:{node.lineno}")
    return found


def sourceless(root: Path) -> int:
    """Keep each module's bytecode (compiled by the Dockerfile) in place of its source.

    ``__pycache__/NAME.cpython-3XY.pyc`` becomes ``NAME.pyc`` next to where ``NAME.py`` was,
    which Python imports without a source (about 12 MB less; nothing here reads sources at run
    time, and the action never shows a traceback). Returns how many modules were converted."""
    tag = sys.implementation.cache_tag
    converted = 0
    for cache in sorted(root.rglob("__pycache__")):
        for pyc in cache.iterdir():
            name, _, rest = pyc.name.partition(".")
            source = cache.parent / f"{name}.py"
            if rest == f"{tag}.pyc" and source.is_file():
                os.replace(pyc, cache.parent / f"{name}.pyc")
                source.unlink()
                converted += 1
            else:
                pyc.unlink()  # optimised levels, or bytecode of a source that is not here
        cache.rmdir()
    return converted


# Stays a file beside the zip: the landmark by which Python finds its prefix (getpath.py).
STDLIB_ON_DISK = ("os.pyc",)
# Pure-Python dependencies that read no file of their own at run time, packed into one zip on
# the venv's sys.path (a .pth line). Not py_aws_oidc (zipapp.archive() would take the image for
# the host runtime's zip), botocore (its data/ directory) or certifi (cacert.pem is a path).
ZIP_PACKAGES = ("charset_normalizer", "dateutil", "idna", "jmespath", "requests", "six",
                "urllib3")
PACKED_ZIP = "py-aws-oidc-deps.zip"


def pack(root: Path, members: list[Path], archive: Path) -> None:
    """Store MEMBERS (paths under ROOT) in ARCHIVE, uncompressed (no zlib at import; the image
    layer is compressed anyway), sorted, with a fixed timestamp; delete them and the directories
    left empty."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for path in sorted(members):
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), (1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o100644 << 16
            zf.writestr(info, path.read_bytes())
            path.unlink()
    archive.chmod(0o644)
    for d in sorted((d for d in root.rglob("*") if d.is_dir()), reverse=True):
        if not any(d.iterdir()):
            d.rmdir()


def zip_stdlib(stdlib: Path) -> int:
    """Pack the stdlib's bytecode into ``pythonXY.zip`` beside it, the archive CPython puts first
    on ``sys.path`` (``/usr/lib/python311.zip``): a pull unpacks one file instead of ~240 (each
    costs it ~0.4 ms, docs/container.md). Extension modules (lib-dynload) and the prefix
    landmark stay files. Returns how many modules were packed."""
    archive = stdlib.parent / f"python{sys.version_info.major}{sys.version_info.minor}.zip"
    members = [p for p in stdlib.rglob("*.pyc")
               if "lib-dynload" not in p.relative_to(stdlib).parts
               and p.relative_to(stdlib).as_posix() not in STDLIB_ON_DISK]
    pack(stdlib, members, archive)
    return len(members)


def zip_packages(site: Path) -> int:
    """Pack ZIP_PACKAGES (every file of each: bytecode, py.typed) into ``PACKED_ZIP`` in
    site-packages, put on ``sys.path`` by a ``.pth`` line (site reads it under ``-I`` too: only
    ``-S`` skips it). Their dist-info stays a directory. Returns how many files were packed."""
    members = []
    for name in ZIP_PACKAGES:
        package = site / name
        module = site / f"{name}.pyc"
        if package.is_dir():
            members += [p for p in package.rglob("*") if p.is_file()]
        elif module.is_file():
            members.append(module)
        else:
            raise SystemExit(f"image_build: {name} (ZIP_PACKAGES) is not in {site}")
    pack(site, members, site / PACKED_ZIP)
    (site / "py-aws-oidc-deps.pth").write_text(PACKED_ZIP + "\n", encoding="utf-8")
    return len(members)


def rootfs(dest: Path, venv: Path, optional: set[str]) -> int:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(mode=0o755)
    # 1. Nothing in the venv may import a pruned stdlib module.
    bad = {n: w for n, w in imports_in(site_packages(venv)).items() if n in PRUNE_STDLIB}
    if bad:
        for name, where in sorted(bad.items()):
            print(f"image_build: {where} imports pruned stdlib module {name}", file=sys.stderr)
        return 1
    # 2. merged-/usr top-level symlinks, then the skeleton.
    for top in ("bin", "lib", "lib32", "lib64", "libx32", "sbin"):
        src = Path("/") / top
        if src.is_symlink():
            (dest / top).symlink_to(os.readlink(src))
    for name, mode in (("tmp", 0o1777), ("var/tmp", 0o1777), ("root", 0o700), ("run", 0o755),
                       ("home", 0o755), ("proc", 0o555), ("sys", 0o555), ("dev", 0o755),
                       ("etc", 0o755), ("var/lib/dpkg/info", 0o755), ("usr/local/bin", 0o755)):
        path = dest / name
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(mode)
    # 3. The stdlib (pre-compiled by the Dockerfile), minus the pruned parts.
    for src in sorted(STDLIB.rglob("*")):
        if not pruned(src):
            copy_entry(str(src), dest)
    # 4. Packages: the always-kept ones plus the owners of every shared library the ELF files of
    #    python, the kept extension modules, the venv and /bin/sh link.
    owner, listed = dpkg_owners()
    elves = elf_files([Path(os.path.realpath(sys.executable)), Path(os.path.realpath("/bin/sh"))]
                      + [p for p in (dest / STDLIB.relative_to("/")).rglob("*.so")]
                      + list(venv.rglob("*.so")))
    packages = set(ALWAYS_KEEP_PACKAGES)
    for lib in sorted(shared_libs(elves)):
        pkg = owner.get(os.path.realpath(lib))
        if pkg is None:
            raise SystemExit(f"image_build: no Debian package owns {lib}")
        packages.add(pkg)
    for pkg in sorted(packages):
        for path in listed[pkg]:
            if path.startswith(str(STDLIB)) or path.startswith(SKIP_PREFIXES) or path == "/.":
                continue
            if path.startswith("/usr/share/doc/") and not path.endswith("/copyright"):
                continue
            if Path(path).name.startswith(SKIP_UNLINKED):
                continue
            copy_entry(path, dest)
        for path in listed[pkg]:  # licences
            if path.startswith("/usr/share/doc/") and path.endswith("/copyright"):
                d = dest / path.lstrip("/")
                d.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, d)
    sh = dest / "usr/bin/sh"
    if not sh.exists():
        sh.symlink_to("dash")
    # 5. /etc basics, the venv.
    for name in ETC_FILES:
        src = Path("/etc") / name
        if src.is_dir() and not src.is_symlink():
            shutil.copytree(src, dest / "etc" / name, symlinks=True, dirs_exist_ok=True)
        elif src.exists() or src.is_symlink():
            copy_entry(str(src), dest)
    shutil.copytree(venv, dest / venv.relative_to("/"), symlinks=True)
    sourceless(dest / STDLIB.relative_to("/"))
    sourceless(dest / venv.relative_to("/") / "lib")
    zip_stdlib(dest / STDLIB.relative_to("/"))
    zip_packages(site_packages(dest / venv.relative_to("/")))
    # 6. dpkg status with exactly the kept packages, their file lists and checksums.
    stanzas = Path("/var/lib/dpkg/status").read_text(encoding="utf-8").split("\n\n")
    kept = [s for s in stanzas if s.strip() and s.split("\n", 1)[0].removeprefix("Package: ")
            in packages]
    (dest / "var/lib/dpkg/status").write_text("\n\n".join(kept).strip() + "\n\n")
    for info in Path("/var/lib/dpkg/info").iterdir():
        if info.name.split(".")[0].split(":")[0] in packages and info.suffix in (".list",
                                                                                ".md5sums"):
            shutil.copy2(info, dest / "var/lib/dpkg/info" / info.name)
    arch = Path("/var/lib/dpkg/arch")
    if arch.exists():
        shutil.copy2(arch, dest / "var/lib/dpkg/arch")
    run(["ldconfig", "-r", str(dest)])
    # 7. Smoke test inside the new tree.
    env = {"PATH": "/opt/venv/bin:/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8",
           "HOME": "/root", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    smoke = SMOKE.replace("OPTIONAL", repr(sorted(optional)))
    chroot = shutil.which("chroot") or "/usr/sbin/chroot"
    run([chroot, str(dest), str(venv / "bin/python"), "-c", smoke], env=env)
    run([chroot, str(dest), str(venv / "bin/py-aws-oidc"), "--version"], env=env)
    run([chroot, str(dest), "/bin/sh", "-c", "exit 0"], env=env)
    print(f"image_build: rootfs {tree_size(dest) / 1e6:.1f} MB, packages: {' '.join(sorted(packages))}")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "prune":
        return prune(Path(argv[1]))
    if argv and argv[0] == "rootfs":
        rest, optional = argv[1:], set()
        while "--optional" in rest:
            i = rest.index("--optional")
            optional.add(rest[i + 1])
            del rest[i : i + 2]
        if len(rest) != 2:
            print(__doc__, file=sys.stderr)
            return 2
        return rootfs(Path(rest[0]), Path(rest[1]), optional)
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
