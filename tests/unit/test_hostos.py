"""hostos: the POSIX and Windows sides of locks, modes, ownership and paths (issue 20).

The Windows side runs here on Linux: its functions are called directly, with ``msvcrt`` faked and
POSIX-only names removed; and every module of the package is imported in a fresh interpreter with
``os.name`` patched to ``nt`` and ``fcntl``/``pwd``/``grp`` blocked, proving that no POSIX-only
name is touched at import time.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from py_aws_oidc import config, profiles, safefiles
from py_aws_oidc.errors import InputError, TokenFileError
from py_aws_oidc.hostos import locks, modes, ownership
from py_aws_oidc.hostos import paths as hostos_paths
from py_aws_oidc.runner import Runner, input_env_name
from tests.support.as_windows import prelude

REPO = Path(__file__).resolve().parents[2]
ROLE = "arn:aws:iam::111122223333:role/gha"

# Run twice: once as on Linux (which modules do ours import?), then as on Windows.
IMPORT_ALL = r"""
import importlib, json, os, pkgutil, sys
if sys.argv[1] == "nt":  # what ours import is loaded first, as on the real platform
    exec(WINDOWS_PRELUDE)
before = set(sys.modules)
import py_aws_oidc
failed = {}
names = [m.name for m in pkgutil.walk_packages(py_aws_oidc.__path__, "py_aws_oidc.")
         if not m.name.endswith("__main__")]
for name in names:
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed[name] = repr(exc)
from py_aws_oidc.hostos import locks, modes, ownership, paths
print(json.dumps({
    "failed": failed, "count": len(names),
    "imported": sorted(n for n in set(sys.modules) - before
                       if not n.startswith("py_aws_oidc") and sys.modules[n] is not None),
    "sides": [locks.try_lock.__name__, ownership.euid.__name__, paths.unsupported_inputs.__name__,
              modes.is_private.__name__],
    "nofollow": modes.FLAGS.nofollow,
}))
"""


def _import_all(*args: str) -> dict[str, object]:
    script = IMPORT_ALL.replace("WINDOWS_PRELUDE", repr(prelude("json.loads(sys.argv[2])")))
    proc = subprocess.run([sys.executable, "-I", "-c", script, *args], capture_output=True,
                          text=True, check=False, cwd=REPO,
                          env={"PATH": os.environ.get("PATH", ""), "HOME": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def test_every_module_imports_on_windows_without_posix_only_names() -> None:
    posix = _import_all("posix")
    assert posix["failed"] == {}
    assert posix["sides"] == ["posix_try_lock", "posix_euid", "posix_unsupported_inputs",
                              "posix_is_private"]
    names = [n for n in posix["imported"]  # type: ignore[attr-defined]
             if n.split(".")[0] not in ("fcntl", "pwd", "grp", "termios", "resource")]
    windows = _import_all("nt", json.dumps(names))
    assert windows["failed"] == {}, windows["failed"]
    assert windows["count"] == posix["count"] and isinstance(windows["count"], int)
    assert windows["count"] > 40
    assert windows["sides"] == ["windows_try_lock", "windows_euid", "windows_unsupported_inputs",
                                "windows_is_private"]
    assert windows["nofollow"] == 0


# --- locks --------------------------------------------------------------------------------------


def test_windows_lock_takes_the_first_byte_without_blocking(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, int, int]] = []
    held = {"by_other": False}

    def locking(fd: int, mode: int, nbytes: int) -> None:
        calls.append((fd, mode, nbytes))
        if held["by_other"]:
            raise PermissionError(13, "Permission denied")

    fake = types.SimpleNamespace(LK_NBLCK=2, locking=locking)
    monkeypatch.setitem(sys.modules, "msvcrt", fake)
    assert locks.windows_try_lock(7) is True
    held["by_other"] = True
    assert locks.windows_try_lock(7) is False
    assert calls == [(7, 2, 1), (7, 2, 1)]


def test_posix_lock_is_exclusive(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    first = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    second = os.open(path, os.O_RDWR)
    try:
        assert locks.posix_try_lock(first) is True
        assert locks.posix_try_lock(second) is False
    finally:
        os.close(first)
    try:
        assert locks.posix_try_lock(second) is True  # released with its descriptor
    finally:
        os.close(second)


# --- modes --------------------------------------------------------------------------------------


def test_windows_flags_need_no_posix_names(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("O_NOFOLLOW", "O_DIRECTORY", "O_NONBLOCK", "O_PATH", "O_CLOEXEC"):
        monkeypatch.delattr(os, name, raising=False)
    monkeypatch.setattr(os, "O_BINARY", 0x8000, raising=False)
    monkeypatch.setattr(os, "O_NOINHERIT", 0x80, raising=False)
    flags = modes.windows_flags()
    assert (flags.nofollow, flags.directory, flags.nonblock, flags.path) == (0, 0, 0, 0)
    assert (flags.binary, flags.cloexec) == (0x8000, 0x80)


def test_private_files(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("x")
    path.chmod(0o600)
    assert modes.posix_is_private(path.stat())
    path.chmod(0o640)
    assert not modes.posix_is_private(path.stat())
    assert modes.windows_is_private(path.stat())  # ACLs: not what st_mode shows


# --- ownership ----------------------------------------------------------------------------------


def test_windows_ownership_is_a_no_op(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "geteuid")
    monkeypatch.delattr(os, "fchown")
    st = tmp_path.stat()
    assert ownership.windows_euid() == -1
    assert ownership.windows_should_adopt(st) is False
    ownership.windows_adopt_owner(0, st)  # touches no POSIX name


def test_posix_adopts_the_directory_owner_only_as_root(monkeypatch: pytest.MonkeyPatch) -> None:
    other = os.stat_result((0o40700, 0, 0, 0, 4242, 4343, 0, 0, 0, 0))
    roots = os.stat_result((0o40700, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    monkeypatch.setattr(os, "geteuid", lambda: 1001)  # the host runtime: the runner's user
    assert ownership.posix_should_adopt(other) is False
    monkeypatch.setattr(os, "geteuid", lambda: 0)  # root in the action's container
    assert ownership.posix_should_adopt(other) is True
    assert ownership.posix_should_adopt(roots) is False


# --- paths --------------------------------------------------------------------------------------


def test_profile_files_go_under_runner_temp_on_a_host() -> None:
    host = {"HOME": "/home/runner", "RUNNER_TEMP": "/home/runner/work/_temp"}
    assert profiles.profile_paths(host) == (
        Path("/home/runner/work/_temp/_github_home/.aws/credentials"),
        Path("/home/runner/work/_temp/_github_home/.aws/config"),
    )
    # The job's variables win, one by one.
    chosen = {**host, "AWS_CONFIG_FILE": "/srv/aws/config"}
    assert profiles.profile_paths(chosen)[1] == Path("/srv/aws/config")
    assert profiles.profile_paths(chosen)[0].parent == Path("/home/runner/work/_temp/_github_home/.aws")
    # The container keeps 1.1's $HOME/.aws; without RUNNER_TEMP (a shell), $HOME/.aws.
    container = {"HOME": "/github/home", "RUNNER_TEMP": "/github/runner_temp"}
    assert profiles.profile_paths(container)[0] == Path("/github/home/.aws/credentials")
    assert profiles.profile_paths({"HOME": "/home/dev"})[1] == Path("/home/dev/.aws/config")
    assert hostos_paths.profile_dir_on_host({"RUNNER_TEMP": "relative"}) is None


@pytest.mark.parametrize(
    ("inputs", "named"),
    [
        ({"aws-profile": "deploy"}, "aws-profile"),
        ({"profiles": f"dev = {ROLE}"}, "profiles"),
        ({"refresh-credentials": "true"}, "refresh-credentials"),
    ],
)
def test_file_inputs_are_input_errors_on_windows(
    inputs: dict[str, str], named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hostos_paths, "unsupported_inputs", hostos_paths.windows_unsupported_inputs)
    environ = {input_env_name(k): v for k, v in
               {"aws-region": "us-east-1", "role-to-assume": ROLE, **inputs}.items()}
    environ.update({"ACTIONS_ID_TOKEN_REQUEST_URL": "https://t.example/x",
                    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t", "RUNNER_TEMP": "/tmp"})
    with pytest.raises(InputError) as caught:
        config.load_settings(Runner(environ, io.StringIO()))
    assert caught.value.input_name == named
    assert "Windows" in str(caught.value)
    # The environment-and-outputs path is fine there.
    plain = {k: v for k, v in environ.items() if not k.startswith(
        tuple(input_env_name(k) for k in inputs))}
    assert config.load_settings(Runner(plain, io.StringIO())).roles == (ROLE,)


def test_windows_token_file_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Windows side of the token-file read: a regular file is read, a link is refused."""
    monkeypatch.setattr(safefiles, "IS_WINDOWS", True)
    token = tmp_path / "token.jwt"
    token.write_text("header.payload.sig")
    assert safefiles.read_regular_file(token, what="Web identity token file") == (
        "header.payload.sig")
    link = tmp_path / "link.jwt"
    link.symlink_to(token)
    with pytest.raises(TokenFileError, match="symbolic link"):
        safefiles.read_regular_file(link, what="Web identity token file")
    with pytest.raises(TokenFileError, match="does not exist"):
        safefiles.read_regular_file(tmp_path / "missing", what="Web identity token file")
    with pytest.raises(TokenFileError, match="not a regular file"):
        safefiles.read_regular_file(tmp_path, what="Web identity token file")
