"""hostpaths: container paths mapped back to the runner host (ContainerActionHandler mounts)."""

from __future__ import annotations

from py_aws_oidc.hostpaths import host_path, in_container_action

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
