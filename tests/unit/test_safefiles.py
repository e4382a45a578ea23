"""safefiles: symlink-safe reads (token file, profile files) and private atomic writes.

Mirrors CAC's helpers.test.ts (readFileUtf8 / writeFileUtf8 / isSymlink / mkdir / isAllowListed)
on a real filesystem, plus what CAC cannot do: refusing links in any directory component,
atomic replacement, and refusing a link swapped in after the check.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from py_aws_oidc import safefiles
from py_aws_oidc.errors import ProfileError, TokenFileError

WHAT = "Web identity token file"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def umask_277() -> Iterator[None]:
    """A umask that would leave 0400 files and 0500 directories if modes were not forced."""
    old = os.umask(0o277)
    try:
        yield
    finally:
        os.umask(old)


# --- read_regular_file ----------------------------------------------------------------------


def test_read_returns_exact_utf8_content(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_bytes("eyJhbGciOi.päyload.sig\n".encode())
    assert safefiles.read_regular_file(token, what=WHAT) == "eyJhbGciOi.päyload.sig\n"


def test_read_missing_file_says_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(TokenFileError) as info:
        safefiles.read_regular_file(missing, what=WHAT)
    assert str(info.value).startswith(f"{WHAT} does not exist: {missing}")


def test_read_missing_parent_says_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(TokenFileError, match="does not exist"):
        safefiles.read_regular_file(tmp_path / "no-dir" / "token", what=WHAT)


def test_read_refuses_symlink_and_leaves_target_untouched(tmp_path: Path) -> None:
    target = tmp_path / "passwd"
    target.write_text("root:x:0:0\n")
    link = tmp_path / "token"
    link.symlink_to(target)
    with pytest.raises(TokenFileError) as info:
        safefiles.read_regular_file(link, what=WHAT)
    message = str(info.value)
    assert "symbolic link" in message and str(link) in message
    assert "root:x" not in message
    assert target.read_text() == "root:x:0:0\n"


def test_read_refuses_dangling_symlink(tmp_path: Path) -> None:
    link = tmp_path / "token"
    link.symlink_to(tmp_path / "absent")
    with pytest.raises(TokenFileError, match="symbolic link"):
        safefiles.read_regular_file(link, what=WHAT)


def test_read_refuses_symlinked_parent_directory(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "token").write_text("jwt")
    linked = tmp_path / "linked"
    linked.symlink_to(real, target_is_directory=True)
    with pytest.raises(TokenFileError) as info:
        safefiles.read_regular_file(linked / "token", what=WHAT)
    assert f"directory {linked} is a symbolic link" in str(info.value)


def test_read_refuses_symlink_in_any_ancestor(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / "a" / "b").mkdir(parents=True)
    (real / "a" / "b" / "token").write_text("jwt")
    (tmp_path / "top").symlink_to(real, target_is_directory=True)
    with pytest.raises(TokenFileError, match="symbolic link"):
        safefiles.read_regular_file(tmp_path / "top" / "a" / "b" / "token", what=WHAT)


def test_read_refuses_directory(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(TokenFileError, match="is a directory"):
        safefiles.read_regular_file(tmp_path / "dir", what=WHAT)


@pytest.mark.timeout(10)
def test_read_refuses_fifo_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(TokenFileError, match="not a regular file"):
        safefiles.read_regular_file(fifo, what=WHAT)


def test_read_refuses_invalid_utf8(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(TokenFileError, match="not UTF-8"):
        safefiles.read_regular_file(token, what=WHAT)


def test_read_normalises_dot_dot_lexically(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "token").write_text("jwt")
    assert safefiles.read_regular_file(tmp_path / "sub" / ".." / "token", what=WHAT) == "jwt"


def test_read_relative_path_is_relative_to_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "token").write_text("jwt")
    monkeypatch.chdir(tmp_path)
    assert safefiles.read_regular_file(Path("token"), what=WHAT) == "jwt"


# --- the kubelet allow-list -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
        "/var/run/secrets/kubernetes.io/serviceaccount/token",
        "/var/run/secrets/x/serviceaccount/../serviceaccount/token",
        "/var/run/secrets/../secrets/x/serviceaccount/token",
        "/var/run//secrets/x/serviceaccount/./token",
    ],
)
def test_allow_list_accepts_one_segment_projected_token(path: str) -> None:
    assert safefiles.is_allow_listed(path)


@pytest.mark.parametrize(
    "path",
    [
        "/var/run/secrets/x/serviceaccount/token2",  # look-alike
        "/var/run/secrets/x/serviceaccount/tokens",
        "/var/run/secrets/a/b/serviceaccount/token",  # nested: two segments
        "/var/run/secrets/serviceaccount/token",  # no segment
        "/var/run/secrets/x/serviceaccount",  # the directory
        "/var/run/secrets/x/other/token",  # unrelated
        "/tmp/var/run/secrets/x/serviceaccount/token",  # prefixed
        "/run/secrets/x/serviceaccount/token",
        "/var/run/secrets/x/serviceaccount/token/../../../../../etc/passwd",  # traversal
        "/var/run/secrets/x/../../../etc/passwd",
        "/etc/passwd",
    ],
)
def test_allow_list_rejects_everything_else(path: str) -> None:
    assert not safefiles.is_allow_listed(path)


def _kubelet_layout(root: Path) -> Path:
    """serviceaccount/{..2024_01_01/token, ..data -> ..2024_01_01, token -> ..data/token}."""
    account = root / "serviceaccount"
    (account / "..2024_01_01").mkdir(parents=True)
    (account / "..2024_01_01" / "token").write_text("projected-jwt")
    (account / "..data").symlink_to("..2024_01_01", target_is_directory=True)
    (account / "token").symlink_to("..data/token")
    return account / "token"


def test_allow_listed_path_follows_the_kubelet_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "run"
    token = _kubelet_layout(real / "secrets" / "eks.amazonaws.com")
    # /var/run -> /run, as on most distributions
    (tmp_path / "var-run").symlink_to(real, target_is_directory=True)
    via_link = tmp_path / "var-run" / token.relative_to(real)
    allowed = {str(token), str(via_link)}
    monkeypatch.setattr(safefiles, "is_allow_listed", lambda path: str(path) in allowed)
    assert safefiles.read_regular_file(token, what=WHAT) == "projected-jwt"
    assert safefiles.read_regular_file(via_link, what=WHAT) == "projected-jwt"


def test_kubelet_chain_is_refused_when_not_allow_listed(tmp_path: Path) -> None:
    token = _kubelet_layout(tmp_path / "secrets" / "x")
    with pytest.raises(TokenFileError, match="symbolic link"):
        safefiles.read_regular_file(token, what=WHAT)


def test_allow_listed_link_leaving_serviceaccount_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "outside"
    secret.write_text("host secret")
    account = tmp_path / "secrets" / "x" / "serviceaccount"
    account.mkdir(parents=True)
    token = account / "token"
    token.symlink_to(secret)
    monkeypatch.setattr(safefiles, "is_allow_listed", lambda path: str(path) == str(token))
    with pytest.raises(TokenFileError, match="outside its serviceaccount directory"):
        safefiles.read_regular_file(token, what=WHAT)


def test_allow_listed_path_must_still_be_a_regular_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = tmp_path / "serviceaccount"
    (account / "token").mkdir(parents=True)
    monkeypatch.setattr(safefiles, "is_allow_listed", lambda path: True)
    with pytest.raises(TokenFileError, match="is a directory"):
        safefiles.read_regular_file(account / "token", what=WHAT)
    with pytest.raises(TokenFileError, match="does not exist"):
        safefiles.read_regular_file(account / "absent", what=WHAT)


# --- read_optional_file ---------------------------------------------------------------------


def test_read_optional_missing_file_or_parent_is_none(tmp_path: Path) -> None:
    assert safefiles.read_optional_file(tmp_path / "credentials", what="f") is None
    assert safefiles.read_optional_file(tmp_path / ".aws" / "credentials", what="f") is None


def test_read_optional_returns_content(tmp_path: Path) -> None:
    (tmp_path / "config").write_text("[default]\n")
    assert safefiles.read_optional_file(tmp_path / "config", what="f") == "[default]\n"


def test_read_optional_refuses_symlink_with_profile_error(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").write_text("x")
    (tmp_path / "credentials").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ProfileError, match="symbolic link"):
        safefiles.read_optional_file(tmp_path / "credentials", what="AWS credentials file")


# --- write_private_file ---------------------------------------------------------------------


def test_write_creates_file_0600_and_parents_0700(tmp_path: Path, umask_277: None) -> None:
    path = tmp_path / "home" / ".aws" / "credentials"
    safefiles.write_private_file(path, "[dev]\n")
    assert path.read_text() == "[dev]\n"
    assert mode(path) == 0o600
    assert mode(tmp_path / "home") == 0o700
    assert mode(tmp_path / "home" / ".aws") == 0o700
    assert not path.is_symlink()


def test_write_tightens_existing_0644_file(tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    path.write_text("old")
    path.chmod(0o644)
    safefiles.write_private_file(path, "new")
    assert path.read_text() == "new"
    assert mode(path) == 0o600


def test_write_keeps_mode_of_existing_directories(tmp_path: Path) -> None:
    aws = tmp_path / ".aws"
    aws.mkdir()
    aws.chmod(0o755)
    safefiles.write_private_file(aws / "config", "x")
    safefiles.write_private_file(aws / "config", "y")  # idempotent
    assert mode(aws) == 0o755
    assert (aws / "config").read_text() == "y"


def test_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    safefiles.write_private_file(tmp_path / "config", "a")
    safefiles.write_private_file(tmp_path / "config", "b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config"]


def test_write_refuses_symlink_and_leaves_target_untouched(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_text("original")
    target.chmod(0o644)
    link = tmp_path / "credentials"
    link.symlink_to(target)
    with pytest.raises(ProfileError) as info:
        safefiles.write_private_file(link, "SECRET-VALUE")
    assert "symbolic link" in str(info.value)
    assert "SECRET-VALUE" not in str(info.value)
    assert link.is_symlink()
    assert target.read_text() == "original"
    assert mode(target) == 0o644


def test_write_refuses_dangling_symlink_without_creating_target(tmp_path: Path) -> None:
    link = tmp_path / "credentials"
    link.symlink_to(tmp_path / "created-through-link")
    with pytest.raises(ProfileError, match="symbolic link"):
        safefiles.write_private_file(link, "x")
    assert not (tmp_path / "created-through-link").exists()


def test_write_refuses_symlinked_aws_directory(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    (home / ".aws").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(ProfileError) as info:
        safefiles.write_private_file(home / ".aws" / "credentials", "x")
    assert f"directory {home / '.aws'} is a symbolic link" in str(info.value)
    assert list(elsewhere.iterdir()) == []


def test_write_refuses_symlinked_ancestor(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "home").symlink_to(real, target_is_directory=True)
    with pytest.raises(ProfileError, match="symbolic link"):
        safefiles.write_private_file(tmp_path / "home" / ".aws" / "credentials", "x")
    assert list(real.iterdir()) == []


def test_write_refuses_directory_at_path(tmp_path: Path) -> None:
    (tmp_path / "credentials").mkdir()
    with pytest.raises(ProfileError, match="is a directory"):
        safefiles.write_private_file(tmp_path / "credentials", "x")


def test_write_refuses_file_as_parent(tmp_path: Path) -> None:
    (tmp_path / ".aws").write_text("not a dir")
    with pytest.raises(ProfileError, match="not a directory"):
        safefiles.write_private_file(tmp_path / ".aws" / "credentials", "x")


def test_write_failure_keeps_old_file_and_removes_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "credentials"
    path.write_text("old")

    def broken_replace(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(ProfileError, match="No space left") as info:
        safefiles.write_private_file(path, "SECRET-VALUE")
    assert "SECRET-VALUE" not in str(info.value)
    monkeypatch.undo()
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["credentials"]


def test_symlink_swapped_in_after_the_check_is_replaced_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CAC checks with lstat, then opens: a link created in between is written through.
    Here the file is renamed into place, which replaces the link itself."""
    target = tmp_path / "victim"
    target.write_text("untouched")
    path = tmp_path / "credentials"
    real_open = os.open

    def racing_open(name: str, flags: int, *args: object, **kwargs: object) -> int:
        if str(name).startswith(".credentials.") and not path.is_symlink():
            path.symlink_to(target)  # the attacker wins the race
        return real_open(name, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", racing_open)
    safefiles.write_private_file(path, "new")
    monkeypatch.undo()
    assert target.read_text() == "untouched"
    assert not path.is_symlink()
    assert path.read_text() == "new"


@pytest.mark.skipif(os.geteuid() != 0, reason="ownership inheritance needs root")
def test_as_root_new_directories_and_file_take_the_home_owner(tmp_path: Path) -> None:
    """The container runs as root; the runner user on the host must be able to read the files."""
    home = tmp_path / "github-home"
    home.mkdir()
    os.chown(home, 4242, 4343)
    path = home / ".aws" / "credentials"
    safefiles.write_private_file(path, "x")
    for item in (home / ".aws", path):
        st = item.lstat()
        assert (st.st_uid, st.st_gid) == (4242, 4343)


@pytest.mark.skipif(os.geteuid() != 0, reason="ownership inheritance needs root")
def test_as_root_existing_file_keeps_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    path.write_text("old")
    os.chown(path, 4545, 4646)
    safefiles.write_private_file(path, "new")
    st = path.lstat()
    assert (st.st_uid, st.st_gid) == (4545, 4646)
