"""The step's half of ``refresh-credentials``: the directory later steps run the process from.

Where: a new directory ``py-aws-oidc-refresh-<random>`` (0700) under ``RUNNER_TEMP`` on the
runner's host. In the action's container ``RUNNER_TEMP`` is a container path and the host's is
not visible, but ``/github/home`` is the host's ``$RUNNER_TEMP/_github_home`` (the runner mounts
it so): the directory goes there, and every path handed to later steps is the host's. The host's
``_temp`` is ``<work>/_temp`` beside ``RUNNER_WORKSPACE`` (``<work>/<repository>``, which the
runner passes untranslated, as no mount holds it); failing that, the mount table's source of
``/github/home`` (:func:`..hostpaths.host_mounts`, the detector the shared files use too).

What (all files 0600, directories 0700, owned by the owner of the directory they are created
in, so the runner's user can read, lock and replace them when the container ran as root):

* ``lib/``: this package (without the trust doctor) and its pure-Python dependencies, copied
  from the interpreter that runs the step; ``lib/__main__.py`` (the launcher, run as a file or
  through its directory) checks the Python version first;
* ``settings.json`` (:mod:`.settingsfile`), ``session.json`` (the step's session: the first
  call is a cache hit), ``lock``;
* ``config``: the AWS config file, ``[profile NAME]`` with ``region`` and
  ``credential_process = /usr/bin/env -u LD_LIBRARY_PATH ... python3 -I -S <dir>/lib/__main__.py``
  (``env -u``: no caller's library path or preload, :data:`LOADER_VARS`; ``-I``: no ``PYTHON*``
  variables, no user site, no current directory; ``-S``: no site-packages).
"""

from __future__ import annotations

import errno
import importlib.util
import json
import os
import posixpath
import secrets
import shlex
import shutil
import stat
import sys
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import hostpaths, profiles
from ..assume import Outcome
from ..config import Settings
from ..errors import RunnerEnvironmentError
from ..hostos import ownership
from ..hostos.modes import FLAGS as _F
from ..sts import iso8601
from . import layout
from .settingsfile import document

CONTAINER_HOME = hostpaths.CONTAINER_HOME
# The image keeps its own modules as bytecode for its Python only (scripts/image_build.py), which
# the host's python3 cannot load: the image's build packs the sources here (Dockerfile).
ARCHIVE = Path(sys.prefix) / "share" / "py-aws-oidc" / "refresh-lib.zip"
# Top-level modules the mint path imports (requests, botocore and what they import; not pyjwt,
# which needs typing_extensions on Python 3.10). charset_normalizer: requests warns on stderr
# without a character-detection module.
LIB_MODULES = (
    "py_aws_oidc",
    "requests",
    "urllib3",
    "idna",
    "certifi",
    "charset_normalizer",
    "botocore",
    "dateutil",
    "jmespath",
    "six",
    # The step's TLS rule on a host (tls.py): the operating system's store.
    "truststore",
)
# Left out of the copy: the trust doctor, compiled extensions (built for another Python),
# caches, and botocore's models except STS's (botocore reads them from the file system).
_SKIP_DIRS = {"__pycache__", "tests", "cli"}
_SKIP_PACKAGE_DIRS = {("py_aws_oidc", "trust")}
_BOTOCORE_DATA_KEEP = ("sts",)
_COPY_SUFFIXES = (".py", ".pem", ".json", ".gz", ".typed")

# The caller's variables that change which libraries the host's python3 loads, unset before it
# starts: the AWS CLI v2 (a PyInstaller bundle) passes LD_LIBRARY_PATH=<its dist> to child
# processes, so python3 would load the CLI's libssl/libcrypto/libz. /usr/bin/env is on every
# Linux and macOS runner (GNU, BusyBox and BSD env all take -u) and links libc only; SDKs split
# the line themselves (no shell), and a shell that runs it (Go, JavaScript SDKs) runs it alike.
# -I already makes python3 ignore PYTHONHOME/PYTHONPATH; they are unset for the loader's sake
# (a python3 that is a wrapper) too.
LOADER_VARS = (
    "LD_LIBRARY_PATH",
    "LD_PRELOAD",
    "LD_AUDIT",
    "PYTHONHOME",
    "PYTHONPATH",
    "DYLD_LIBRARY_PATH",
    "DYLD_INSERT_LIBRARIES",
    "DYLD_FALLBACK_LIBRARY_PATH",
)
CLEAN_START = ("/usr/bin/env", *(arg for name in LOADER_VARS for arg in ("-u", name)))

LAUNCHER = '''\
# The py-aws-oidc credential process (written by the py-aws-oidc step; see its README).
# Kept parseable by old Pythons, so that a too old python3 gets a message, not a SyntaxError.
import sys

if sys.version_info < {min_python!r}:
    sys.stderr.write(
        "py-aws-oidc credential process: python3 here is %d.%d; the credential process needs "
        "Python {min_text} or newer. Install it on the runner (self-hosted runners), or put it "
        "first on PATH.\\n" % sys.version_info[:2]
    )
    sys.exit(1)

import os  # noqa: E402

# Run as a file (no runpy to import): -I leaves the script's directory off sys.path.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from py_aws_oidc.refresh.process import run  # noqa: E402

sys.exit(run(__file__))
'''


@dataclass(frozen=True)
class RefreshSetup:
    """What the step made: ``local`` is this process's path of the directory, ``host`` the
    path later steps use; ``config_file`` and ``profile`` are what they are exported as."""

    local: Path
    host: Path
    profile: str
    expiration: str
    duration_s: int

    @property
    def config_file(self) -> Path:
        return self.host / layout.CONFIG_FILE

    @property
    def credential_process(self) -> str:
        launcher = self.host / layout.LIB_DIR / layout.LAUNCHER_FILE
        return shlex.join([*CLEAN_START, "python3", "-I", "-S", str(launcher)])


# --- where ---------------------------------------------------------------------------------------


def in_container(environ: Mapping[str, str], container_home: str = CONTAINER_HOME) -> bool:
    """True in the action's container (HOME is the runner's /github/home mount)."""
    home = environ.get("HOME", "")
    return home.rstrip("/") == container_home and os.path.isdir(container_home)


def local_parent(environ: Mapping[str, str]) -> Path | None:
    """Where this process makes (and the post step finds) the directory; None if nowhere."""
    if in_container(environ):
        return Path(CONTAINER_HOME)
    temp = environ.get("RUNNER_TEMP", "")
    return Path(temp) if temp.startswith("/") else None


def host_parent(
    environ: Mapping[str, str],
    *,
    container_home: str = CONTAINER_HOME,
    mountinfo: str | None = None,
) -> tuple[Path, Path]:
    """(where this process creates the directory, the same place on the runner's host)."""
    if in_container(environ, container_home):
        below = {container_home: hostpaths.TEMP_MOUNTS[CONTAINER_HOME]}
        host = hostpaths.host_mounts(environ, mountinfo=mountinfo, mounts=below).get(container_home)
        if host is not None:
            return Path(container_home), Path(host)
        raise RunnerEnvironmentError(
            "Input 'refresh-credentials': cannot tell where /github/home is on the runner's host "
            "(RUNNER_WORKSPACE is not set and the mount table does not say).",
            remedy="Run the action on a GitHub runner (or act), or set refresh-credentials: false.",
        )
    temp = environ.get("RUNNER_TEMP", "")
    if not temp.startswith("/"):
        raise RunnerEnvironmentError(
            "Input 'refresh-credentials': RUNNER_TEMP is not set (or not absolute), so there is "
            "no place for the credential process's files.",
            remedy="Run the action on a GitHub runner, which sets it, or set "
            "refresh-credentials: false.",
        )
    return Path(temp), Path(temp)


# --- the copy of the package ---------------------------------------------------------------------


def _source_of(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin in (None, "built-in", "frozen"):
        return None
    origin = Path(spec.origin)
    # Not submodule_search_locations: six sets __path__ = [] on a plain module.
    return origin.parent if origin.name == "__init__.py" else origin


def _wanted(top: str, relative: tuple[str, ...], name: str) -> bool:
    if not name.endswith(_COPY_SUFFIXES):
        return False
    if top == "botocore" and relative == () and name == "cacert.pem":
        return False  # botocore takes certifi's bundle, which lib/ holds
    if top == "botocore" and relative[:1] == ("data",):
        return (len(relative) == 1 and name.endswith(".json")) or (
            len(relative) > 1 and relative[1] in _BOTOCORE_DATA_KEEP
        )
    return name.endswith((".py", ".pem", ".typed"))


def lib_files() -> list[tuple[Path, str]]:
    """(source file, path inside lib/) for every file the process may import."""
    found: list[tuple[Path, str]] = []
    for module in LIB_MODULES:
        source = _source_of(module)
        if source is None:
            continue
        if source.is_file():
            found.append((source, source.name))
            continue
        for root, dirs, files in os.walk(source):
            relative = Path(root).relative_to(source).parts
            dirs[:] = sorted(
                d
                for d in dirs
                if d not in _SKIP_DIRS
                and (module, *relative, d)[:2] not in _SKIP_PACKAGE_DIRS
                and not (module == "botocore" and relative == ("data",)
                         and d not in _BOTOCORE_DATA_KEEP)
            )
            for name in sorted(files):
                if _wanted(module, relative, name):
                    found.append((Path(root, name), posixpath.join(module, *relative, name)))
    return found


# --- writing -------------------------------------------------------------------------------------


# POSIX flags (hostos.modes; 0 on Windows, where refresh-credentials is an input error).
_DIR_FLAGS = os.O_RDONLY | _F.directory | _F.nofollow | _F.cloexec
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _F.nofollow | _F.cloexec


class _Tree:
    """Writes below one directory through descriptors (``openat``), never through a path.

    The step makes the directory inside RUNNER_TEMP (or /github/home), which belongs to the
    runner's user: a process of that user could rename it and put a symbolic link in its place.
    Holding a descriptor makes every later write land in the directory that was made, and while
    it is this process's own 0700 directory (until :meth:`give`) no one else can enter it."""

    def __init__(self, parent: Path, name: str) -> None:
        parent_fd = os.open(parent, os.O_RDONLY | _F.directory | _F.cloexec)
        try:
            self.fd = self._mkdir(parent_fd, name)
        finally:
            os.close(parent_fd)
        self._dirs: dict[str, int] = {"": self.fd}

    @staticmethod
    def _mkdir(parent_fd: int, name: str) -> int:
        os.mkdir(name, 0o700, dir_fd=parent_fd)
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
        try:
            # Between mkdir and open, the parent's owner can rename the new directory away and
            # put another in its place (another step's, root's): only an empty directory of
            # this process's is changed, written into and, at the end, given away (chown).
            if os.fstat(fd).st_uid != os.geteuid() or os.listdir(fd):
                raise OSError(errno.EEXIST, "it was replaced while it was being made")
            os.fchmod(fd, 0o700)  # mkdir's mode is reduced by the umask
            if os.listdir(fd):  # entries made before the chmod closed it
                raise OSError(errno.EEXIST, "it was replaced while it was being made")
        except BaseException:
            os.close(fd)
            raise
        return fd

    def directory(self, relative: str) -> int:
        """The descriptor of ``relative`` (``a/b``), made (0700) with its parents if needed."""
        if relative not in self._dirs:
            parent, _, name = relative.rpartition("/")
            self._dirs[relative] = self._mkdir(self.directory(parent), name)
        return self._dirs[relative]

    def write(self, relative: str, data: bytes) -> None:
        parent, _, name = relative.rpartition("/")
        fd = os.open(name, _NEW_FILE_FLAGS, 0o600, dir_fd=self.directory(parent))
        try:
            os.fchmod(fd, 0o600)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)

    def give(self, owner: os.stat_result) -> None:
        """Hand the finished tree to ``owner`` (the parent's owner), the directory itself last;
        nothing is followed. Only root changes owners (hostos.ownership: the container; the
        host runtime runs as the runner's user); root's own parent keeps root's files."""
        if not ownership.should_adopt(owner):
            return
        uid, gid = owner.st_uid, owner.st_gid
        for _root, dirs, files, root_fd in os.fwalk(dir_fd=self.fd, topdown=False):
            for name in [*files, *dirs]:
                os.chown(name, uid, gid, dir_fd=root_fd, follow_symlinks=False)
        os.fchown(self.fd, uid, gid)

    def close(self) -> None:
        for fd in self._dirs.values():
            os.close(fd)
        self._dirs = {}


def pack(dest: Path) -> int:
    """Write the process's sources to the archive :data:`ARCHIVE` (at the image's build, before
    its modules become bytecode for the image's Python only); returns how many files."""
    files = lib_files()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for source, relative in files:
            archive.write(source, relative)
    return len(files)


def lib_entries(archive_path: Path = ARCHIVE) -> Iterator[tuple[str, bytes]]:
    """(path inside lib/, content): from the archive the image carries, else from the sources
    of the interpreter running the step (a ``pip install`` on a host)."""
    if not archive_path.is_file():
        for source, relative in lib_files():
            yield relative, source.read_bytes()
        return
    with zipfile.ZipFile(archive_path) as archive:
        for info in archive.infolist():
            parts = info.filename.split("/")
            if info.is_dir() or info.filename.startswith("/") or "" in parts or ".." in parts:
                continue  # only plain relative file names (we wrote them)
            yield info.filename, archive.read(info)


def _copy_lib(tree: _Tree, archive_path: Path = ARCHIVE) -> None:
    lib = layout.LIB_DIR
    tree.directory(lib)
    for relative, content in lib_entries(archive_path):
        tree.write(f"{lib}/{relative}", content)
    # Python writes bytecode beside the sources on first import: give it private directories.
    for directory in sorted(d for d in tree._dirs if d.startswith(lib)):
        tree.directory(f"{directory}/__pycache__")
    launcher = LAUNCHER.format(
        min_python=layout.MIN_PYTHON, min_text=".".join(map(str, layout.MIN_PYTHON))
    )
    tree.write(f"{lib}/{layout.LAUNCHER_FILE}", launcher.encode("utf-8"))


def config_text(profile: str, region: str, credential_process: str,
                also: Sequence[RefreshSetup] = ()) -> str:
    """The config file: ``profile``, then one profile per setup of ``also`` (``profiles``)."""
    processes = {profile: credential_process, **{s.profile: s.credential_process for s in also}}
    return profiles.render_ini(
        {
            profiles.config_section_name(name): {"region": region, "credential_process": command}
            for name, command in processes.items()
        }
    )


def _mounts(
    environ: Mapping[str, str], local_parent: Path, host_parent_dir: Path
) -> dict[str, str]:
    """Container path -> host path of the runner's mounts under RUNNER_TEMP (a token file may
    be under any of them: config.py), from the one detector (hostpaths); on the host, nothing
    to translate."""
    if local_parent == host_parent_dir:
        return {}
    return {**hostpaths.host_mounts(environ), str(local_parent): str(host_parent_dir)}


def write(
    settings: Settings,
    outcome: Outcome,
    environ: Mapping[str, str],
    profile: str | None,
    also: Sequence[RefreshSetup] = (),
) -> RefreshSetup:
    """Make the refresh directory for this run; on failure nothing is left behind. Its config
    file lists the profiles of ``also`` too (written before it is given away: nothing is written
    into a directory once it is the runner user's)."""
    creds = outcome.credentials
    if creds.session_token is None or creds.expiration is None:
        raise RunnerEnvironmentError("STS answered without a session token or an expiration.")
    local_parent, host_parent_dir = host_parent(environ)
    name = layout.DIR_PREFIX + secrets.token_hex(8)
    local = local_parent / name
    setup = RefreshSetup(
        local=local,
        host=host_parent_dir / name,
        profile=profile or layout.DEFAULT_PROFILE,
        expiration=iso8601(creds.expiration),
        duration_s=outcome.hops[-1].duration_s if outcome.hops else 0,
    )
    tree: _Tree | None = None
    try:
        owner = os.stat(local_parent)
        if not stat.S_ISDIR(owner.st_mode):
            raise NotADirectoryError(str(local_parent))
        tree = _Tree(local_parent, name)
        _copy_lib(tree)
        session = {
            "Version": 1,
            "AccessKeyId": creds.access_key_id,
            "SecretAccessKey": creds.secret_access_key,
            "SessionToken": creds.session_token,
            "Expiration": setup.expiration,
        }
        files = {
            layout.SETTINGS_FILE: json.dumps(
                document(settings, outcome, environ, _mounts(environ, local_parent, host_parent_dir)),
                indent=1,
            ),
            layout.CACHE_FILE: json.dumps(session),
            layout.LOCK_FILE: "",
            layout.CONFIG_FILE: config_text(setup.profile, settings.region,
                                            setup.credential_process, also),
        }
        for file_name, text in files.items():
            tree.write(file_name, text.encode("utf-8"))
        tree.give(owner)
    except OSError as exc:
        if tree is not None:
            remove(local)
        raise RunnerEnvironmentError(
            f"Input 'refresh-credentials': could not write {local} ({exc.strerror or exc}). "
            "Nothing was exported.",
            remedy="Check the free space and permissions of RUNNER_TEMP.",
        ) from None
    except BaseException:
        if tree is not None:
            remove(local)
        raise
    finally:
        if tree is not None:
            tree.close()
    return setup


def remove(local: Path) -> bool:
    """Delete a refresh directory (symbolic links inside are removed, never followed)."""
    if not local.name.startswith(layout.DIR_PREFIX):
        return False
    try:
        if not stat.S_ISDIR(os.lstat(local).st_mode):
            return False
        shutil.rmtree(local)  # fd-based: refuses a top that became a link, follows none inside
    except OSError:
        return False
    return True


__all__ = [
    "ARCHIVE", "RefreshSetup", "config_text", "host_parent", "local_parent", "pack", "remove",
    "write",
]


if __name__ == "__main__":  # the image's build: python -m py_aws_oidc.refresh.bundle ARCHIVE
    count = pack(Path(sys.argv[1]) if len(sys.argv) > 1 else ARCHIVE)
    print(f"py_aws_oidc.refresh.bundle: packed {count} files for the credential process")
