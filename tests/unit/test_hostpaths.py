"""hostpaths: container paths mapped back to the runner host (ContainerActionHandler mounts)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from py_aws_oidc import export, hostpaths, profiles
from py_aws_oidc.hostpaths import host_mounts, host_path, in_container_action
from py_aws_oidc.refresh import bundle
from py_aws_oidc.runner import Runner

CONTAINER = {"HOME": "/github/home", "RUNNER_TEMP": "/github/runner_temp",
             "RUNNER_WORKSPACE": "/home/runner/work/octo-repo"}


def test_on_a_host_a_path_is_its_own_host_path() -> None:
    env = {"HOME": "/home/runner", "RUNNER_TEMP": "/home/runner/work/_temp"}
    assert not in_container_action(env)
    assert host_path("/home/runner/.aws/credentials", env) == "/home/runner/.aws/credentials"
    assert host_path("/home/runner/x/../.aws/config", env) == "/home/runner/.aws/config"


def test_github_home_maps_to_the_runner_temp_github_home() -> None:
    assert in_container_action(CONTAINER)
    assert (host_path("/github/home/.aws/credentials", CONTAINER)
            == "/home/runner/work/_temp/_github_home/.aws/credentials")
    assert host_path("/github/runner_temp/x/y", CONTAINER) == "/home/runner/work/_temp/x/y"
    assert host_path("/github/home", CONTAINER) == "/home/runner/work/_temp/_github_home"


def test_self_hosted_work_directories_follow_runner_workspace() -> None:
    env = {**CONTAINER, "RUNNER_WORKSPACE": "/opt/actions-runner/_work/repo/"}
    assert (host_path("/github/home/.aws/config", env)
            == "/opt/actions-runner/_work/_temp/_github_home/.aws/config")


def test_unknown_when_the_host_cannot_see_it_or_the_layout_is_unknown() -> None:
    assert host_path("/root/.aws/config", CONTAINER) is None
    assert host_path("/github/homework/x", CONTAINER) is None
    for workspace in ("", "relative/dir", "/github/workspace"):
        env = {**CONTAINER, "RUNNER_WORKSPACE": workspace}
        assert host_path("/github/home/.aws/config", env) is None


def test_every_mount_of_the_runner_temp_maps_back() -> None:
    assert host_path("/github/workflow/event.json", CONTAINER) == (
        "/home/runner/work/_temp/_github_workflow/event.json")
    assert host_path("/github/file_commands/set_env_1", CONTAINER) == (
        "/home/runner/work/_temp/_runner_file_commands/set_env_1")
    assert host_path("/github/workspace/x", CONTAINER) is None  # another mount: not under temp


def test_the_token_file_check_accepts_exactly_the_mounted_directories() -> None:
    from py_aws_oidc.config import CONTAINER_MOUNTS

    assert sorted(CONTAINER_MOUNTS) == sorted([
        "/github/workspace", "/github/home", "/github/runner_temp", "/github/workflow",
        "/github/file_commands"])


# -- one detector, two sources: the environment first, the mount table as fallback --------------

def _mountinfo(tmp_path: Path, *mounts: tuple[str, str]) -> str:
    """A mount table with ``(host source, mount point)`` bind mounts (octal escapes as the
    kernel writes them)."""
    lines = ["1 0 0:1 / / rw - overlay overlay rw"]
    for n, (source, point) in enumerate(mounts, start=2):
        lines.append(f"{n} 1 8:1 {source.replace(' ', chr(92) + '040')} {point} rw - ext4 /dev/sda1 rw")
    path = tmp_path / "mountinfo"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


NO_WORKSPACE = {"HOME": "/github/home", "RUNNER_TEMP": "/github/runner_temp"}


def test_without_runner_workspace_the_mount_table_places_each_mount(tmp_path: Path) -> None:
    table = _mountinfo(
        tmp_path,
        ("/srv/actions runner/_work/_temp/_github_home", "/github/home"),
        ("/srv/actions runner/_work/_temp", "/github/runner_temp"),
    )
    assert host_path("/github/home/.aws/config", NO_WORKSPACE, mountinfo=table) == (
        "/srv/actions runner/_work/_temp/_github_home/.aws/config")
    assert host_path("/github/runner_temp/x", NO_WORKSPACE, mountinfo=table) == (
        "/srv/actions runner/_work/_temp/x")
    # A mount the table does not list stays unknown; so does everything without a table.
    assert host_path("/github/workflow/event.json", NO_WORKSPACE, mountinfo=table) is None
    missing = str(tmp_path / "none")
    assert host_path("/github/home/.aws/config", NO_WORKSPACE, mountinfo=missing) is None
    assert host_mounts(NO_WORKSPACE, mountinfo=missing) == {}


def test_the_environment_wins_over_the_mount_table(tmp_path: Path) -> None:
    table = _mountinfo(tmp_path, ("/elsewhere/_github_home", "/github/home"))
    assert host_path("/github/home/.aws/config", CONTAINER, mountinfo=table) == (
        "/home/runner/work/_temp/_github_home/.aws/config")
    assert host_mounts(CONTAINER, mountinfo=table) == {
        "/github/home": "/home/runner/work/_temp/_github_home",
        "/github/runner_temp": "/home/runner/work/_temp",
        "/github/workflow": "/home/runner/work/_temp/_github_workflow",
        "/github/file_commands": "/home/runner/work/_temp/_runner_file_commands",
    }


def test_a_mount_of_the_root_or_a_relative_source_is_not_a_place(tmp_path: Path) -> None:
    table = _mountinfo(tmp_path, ("/", "/github/home"), ("relative", "/github/runner_temp"))
    assert host_mounts(NO_WORKSPACE, mountinfo=table) == {}


def _prepared(home: str) -> profiles.PreparedWrite:
    record = profiles.WriteRecord(files=(), created_dirs=())
    return profiles.PreparedWrite(
        credentials_path=Path(home, ".aws", "credentials"), config_path=Path(home, ".aws", "config"),
        texts={}, labels={}, record=record)


def test_the_shared_files_use_the_same_detector_as_the_refresh_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No RUNNER_WORKSPACE: the shared files are exported at the mount table's host path, as the
    refresh directory is placed (they used to be left unexported with a warning)."""
    table = _mountinfo(tmp_path, ("/srv/work/_temp/_github_home", "/github/home"))
    monkeypatch.setattr(hostpaths, "MOUNTINFO", table)
    out = io.StringIO()
    runner = Runner(environ=dict(NO_WORKSPACE), stream=out)
    export.stage_files(_prepared("/github/home"), runner)
    assert dict(runner.pending_env()) == {
        "AWS_SHARED_CREDENTIALS_FILE": "/srv/work/_temp/_github_home/.aws/credentials",
        "AWS_CONFIG_FILE": "/srv/work/_temp/_github_home/.aws/config",
    }
    assert "::warning" not in out.getvalue()
    # The refresh directory's place comes from the same table.
    home = tmp_path / "github-home"
    home.mkdir()
    table = _mountinfo(tmp_path, ("/srv/work/_temp/_github_home", str(home)))
    assert bundle.host_parent({"HOME": str(home)}, container_home=str(home), mountinfo=table) == (
        home, Path("/srv/work/_temp/_github_home"))


def test_the_shared_files_warn_when_no_source_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hostpaths, "MOUNTINFO", str(tmp_path / "none"))
    out = io.StringIO()
    runner = Runner(environ=dict(NO_WORKSPACE), stream=out)
    export.stage_files(_prepared("/github/home"), runner)
    assert runner.pending_env() == []
    assert "::warning" in out.getvalue() and "mount table" in out.getvalue()
