"""Later steps of a job, run as the GitHub runner runs them on its host (``refresh-credentials``).

On GitHub-hosted runners the action's container runs as root while ``run:`` steps run as the
runner's user (uid 1001), who owns ``RUNNER_TEMP``, the workspace and HOME. :func:`runner_layout`
lays a job out that way (under a directory uid 1001 can traverse: pytest's own temp root is
0700 root), and :class:`LaterStep` runs host processes as that user with the environment a later
step gets: the job's variables plus what the step exported to ``GITHUB_ENV``.

* :meth:`LaterStep.credential_process` runs the profile's ``credential_process`` line split as
  the SDKs split it (``shlex``, no shell), with the host's ``python3``;
* :meth:`LaterStep.botocore` runs a real botocore session in a child process (the host's
  ``python3`` with this venv's site-packages on ``PYTHONPATH``, which ``-I`` keeps out of the
  credential process) that resolves the exported profile and calls STS with it.
"""

from __future__ import annotations

import configparser
import json
import os
import shlex
import shutil
import subprocess
import sysconfig
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localdev.runner_context import RUNNER_CONTEXT

RUNNER_UID = 1001
RUNNER_GID = 1001
HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def host_python3() -> str | None:
    """The host's ``python3`` as a later step finds it on PATH (not a venv's, not pyenv's)."""
    return shutil.which("python3", path=HOST_PATH)


def find_python(minor: int) -> str | None:
    """A real ``python3.<minor>`` binary (the host's, else pyenv's; never a pyenv shim)."""
    found = shutil.which(f"python3.{minor}", path=HOST_PATH)
    if found:
        return found
    versions = sorted(Path("/root/.pyenv/versions").glob(f"3.{minor}.*/bin/python3.{minor}"))
    return str(versions[-1]) if versions else None


def host_python_version() -> tuple[int, int] | None:
    found = host_python3()
    if found is None:
        return None
    out = subprocess.run([found, "-I", "-S", "-c", "import sys; print(*sys.version_info[:2])"],
                         capture_output=True, text=True, check=False).stdout.split()
    return (int(out[0]), int(out[1])) if len(out) == 2 else None


@dataclass(frozen=True)
class RunnerLayout:
    """A job's directories, owned by the runner's user like on GitHub."""

    base: Path
    harness_dir: Path  # ActionHarness(base_dir=...): job/home and job/temp live under it
    job: Path
    runner_temp: Path
    job_home: Path  # the step's HOME (what the container sees as /github/home)
    workspace: Path
    user_home: Path  # HOME of later steps on the host


@contextmanager
def runner_layout(*, nested: bool = False) -> Iterator[RunnerLayout]:
    """A job layout whose directories belong to uid 1001. ``nested``: the runner's real layout
    (``<work>/_temp``, ``<work>/_temp/_github_home``, ``RUNNER_WORKSPACE=<work>/<repo>``)."""
    base = Path(tempfile.mkdtemp(prefix="py-aws-oidc-refresh-test-"))
    try:
        base.chmod(0o755)
        harness_dir = base / "runner"
        job = harness_dir / "job"
        if nested:
            work = base / "work"
            runner_temp = work / "_temp"
            job_home = runner_temp / "_github_home"
            workspace = work / "octo-repo" / "octo-repo"
        else:
            runner_temp = job / "temp"
            job_home = job / "home"
            workspace = base / "workspace"
        user_home = base / "home-runner"
        for directory in (job, runner_temp, job_home, workspace, user_home):
            directory.mkdir(parents=True, exist_ok=True)
        for directory in (runner_temp, job_home, workspace, workspace.parent, user_home):
            os.chown(directory, RUNNER_UID, RUNNER_GID)
        yield RunnerLayout(base, harness_dir, job, runner_temp, job_home, workspace, user_home)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def step_overrides(layout: RunnerLayout, *, nested: bool) -> dict[str, str | None]:
    """``env=`` for ``run_action`` so the step sees this layout."""
    env: dict[str, str | None] = {
        "RUNNER_TEMP": str(layout.runner_temp),
        "HOME": str(layout.job_home),
        "GITHUB_WORKSPACE": str(layout.workspace),
    }
    if nested:
        env["RUNNER_WORKSPACE"] = str(layout.workspace.parent)
    return env


def read_profile(config_file: Path, profile: str) -> dict[str, str]:
    parser = configparser.RawConfigParser()
    parser.read_string(config_file.read_text(encoding="utf-8"))
    section = "default" if profile == "default" else f"profile {profile}"
    return dict(parser.items(section))


@dataclass
class ProcessRun:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    def document(self) -> dict[str, Any]:
        assert self.returncode == 0, f"exit {self.returncode}: {self.stderr!r}"
        assert self.stderr == "", self.stderr
        doc: dict[str, Any] = json.loads(self.stdout)
        assert self.stdout.count("\n") == 1 and self.stdout.endswith("\n"), self.stdout
        return doc


class LaterStep:
    """A ``run:`` step after the action's step, on the host, as the runner's user."""

    def __init__(self, layout: RunnerLayout, exported: Mapping[str, str], *,
                 issuer_url: str | None, request_token: str | None,
                 uid: int = RUNNER_UID) -> None:
        self.layout = layout
        self.uid = uid
        env: dict[str, str] = dict(RUNNER_CONTEXT)
        env.update({
            "PATH": HOST_PATH,
            "HOME": str(layout.user_home),
            "RUNNER_TEMP": str(layout.runner_temp),
            "GITHUB_WORKSPACE": str(layout.workspace),
            # A later step is another action/run step: its own GITHUB_ACTION.
            "GITHUB_ACTION": "__run_2",
            "AWS_SHARED_CREDENTIALS_FILE": str(layout.user_home / "no-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        if issuer_url is not None and request_token is not None:
            env["ACTIONS_ID_TOKEN_REQUEST_URL"] = issuer_url
            env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = request_token
        env.update(exported)
        self.env = env

    @property
    def config_file(self) -> Path:
        return Path(self.env["AWS_CONFIG_FILE"])

    def argv(self) -> list[str]:
        """The profile's credential_process, split as botocore splits it (no shell)."""
        line = read_profile(self.config_file, self.env["AWS_PROFILE"])["credential_process"]
        return shlex.split(line)

    def _run(self, argv: list[str], env: Mapping[str, str], timeout: float,
             uid: int | None) -> subprocess.CompletedProcess[str]:
        user = self.uid if uid is None else uid
        return subprocess.run(
            argv, env=dict(env), cwd=self.layout.user_home if user != 0 else None,
            capture_output=True, text=True, timeout=timeout, check=False,
            user=user, group=RUNNER_GID if user == RUNNER_UID else user, extra_groups=[],
        )

    def credential_process(self, env: Mapping[str, str | None] | None = None, *,
                           argv: list[str] | None = None, timeout: float = 90,
                           uid: int | None = None) -> ProcessRun:
        full = self.with_env(env)
        command = argv or self.argv()
        done = self._run(command, full, timeout, uid)
        return ProcessRun(command, done.returncode, done.stdout, done.stderr)

    def popen(self, env: Mapping[str, str | None] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(), env=self.with_env(env), cwd=self.layout.user_home,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            user=self.uid, group=RUNNER_GID, extra_groups=[],
        )

    def with_env(self, env: Mapping[str, str | None] | None) -> dict[str, str]:
        full = dict(self.env)
        for name, value in (env or {}).items():
            if value is None:
                full.pop(name, None)
            else:
                full[name] = value
        return full

    def botocore(self, sts_url: str, env: Mapping[str, str | None] | None = None) -> dict[str, Any]:
        """A real botocore session resolving the exported profile, then GetCallerIdentity."""
        script = (
            "import json, botocore.session\n"
            "s = botocore.session.Session()\n"
            "c = s.get_credentials()\n"
            "f = c.get_frozen_credentials()\n"
            f"client = s.create_client('sts', endpoint_url={sts_url!r})\n"
            "ident = client.get_caller_identity()\n"
            "print(json.dumps({'method': c.method, 'access_key_id': f.access_key,\n"
            "                  'region': s.get_config_variable('region'),\n"
            "                  'profile': s.profile, 'arn': ident['Arn']}))\n"
        )
        full = self.with_env(env)
        full["PYTHONPATH"] = sysconfig.get_paths()["purelib"]
        python = host_python3()
        assert python is not None
        done = self._run([python, "-c", script], full, 90, None)
        assert done.returncode == 0, f"botocore child failed: {done.stderr[-3000:]}"
        result: dict[str, Any] = json.loads(done.stdout)
        return result


def tree_modes(root: Path) -> list[tuple[str, int, int, bool]]:
    """(relative path, mode, uid, is_dir) for everything under ``root`` (links not followed)."""
    found = []
    for path in [root, *sorted(root.rglob("*"))]:
        st = path.lstat()
        found.append((str(path.relative_to(root)), st.st_mode & 0o7777, st.st_uid, path.is_dir()
                      and not path.is_symlink()))
    return found
