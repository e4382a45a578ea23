"""A later ``run:`` step of the same job, as the runner runs it on a GitHub-hosted machine.

The action's container runs as root, while later steps run on the host as the runner's user
(uid 1001, not root), with that user's HOME, and with the variables earlier steps exported
through GITHUB_ENV. :func:`job_dir_for_runner_user` lays out a job whose RUNNER_TEMP, workspace
and HOME belong to that user (as on GitHub); :func:`resolve_profiles` runs a real botocore
session in a child process as that user and reports, per profile, a fingerprint of the
credentials it resolved (never the keys themselves) and the ARN STS answers for them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sysconfig
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from localdev.sts_faults import StsFaultProxy

from .harness import ActionHarness, ActionResult

RUNNER_UID = 1001
RUNNER_GID = 1001
# The step's environment without the harness's own AWS file variables: the files' default place.
DEFAULT_PLACE: dict[str, str | None] = {"AWS_SHARED_CREDENTIALS_FILE": None,
                                        "AWS_CONFIG_FILE": None}

_RESOLVE = r"""
import hashlib, json, sys
sys.path.insert(0, sys.argv[1])  # the test venv's botocore (pure Python)
import botocore.session

endpoint, names = sys.argv[2], sys.argv[3:]
report = {}
for name in names:
    # "" means: no --profile, only what the environment says (AWS_PROFILE).
    session = botocore.session.Session(profile=name or None)
    creds = session.get_credentials()
    if creds is None:
        report[name] = {"error": "no credentials"}
        continue
    frozen = creds.get_frozen_credentials()
    material = "\n".join([frozen.access_key, frozen.secret_key, frozen.token or ""])
    client = session.create_client(
        "sts", region_name=session.get_config_variable("region") or "us-east-1",
        endpoint_url=endpoint)
    report[name] = {
        "fingerprint": hashlib.sha256(material.encode()).hexdigest(),
        "region": session.get_config_variable("region"),
        "arn": client.get_caller_identity()["Arn"],
    }
print(json.dumps(report))
"""


def host_python() -> str:
    """The host's own python3, as a ``run:`` step finds it (the test venv's interpreter may live
    under root's 0700 home, out of the runner user's reach)."""
    found = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")
    if found is None:
        raise AssertionError("a later step needs the host's python3 (/usr/bin/python3)")
    return found


def fingerprint(sts_credentials: Mapping[str, str]) -> str:
    """The fingerprint :func:`resolve_profiles` reports for an STS ``Credentials`` answer."""
    material = "\n".join([sts_credentials["AccessKeyId"], sts_credentials["SecretAccessKey"],
                          sts_credentials.get("SessionToken", "")])
    return hashlib.sha256(material.encode()).hexdigest()


def job_dir_for_runner_user() -> Path:
    """A fresh directory for a job's runner files, reachable by the runner user (the
    test's tmp_path is 0700 root); the harness lays out the job below it."""
    root = Path(tempfile.mkdtemp(prefix="py-aws-oidc-job-"))
    root.chmod(0o755)
    return root


def give_to_runner_user(*paths: Path) -> None:
    """chown the directories (created if needed) to the runner user, as on GitHub."""
    for path in paths:
        path.mkdir(parents=True, exist_ok=True)
        os.chown(path, RUNNER_UID, RUNNER_GID)


def later_step_env(job_env: Mapping[str, str], *, home: Path, runner_temp: Path,
                   workspace: Path, step_env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a later ``run:`` step: the host's basics, the variables earlier
    steps exported (``job_env``), then the step's own ``env:``. Nothing from the test process."""
    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(home),
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_WORKSPACE": str(workspace),
        "AWS_EC2_METADATA_DISABLED": "true",
        "LANG": "C.UTF-8",
    }
    env.update(job_env)
    env.update(step_env or {})
    return env


def resolve_profiles(names: Sequence[str], *, env: Mapping[str, str], cwd: Path,
                     sts_endpoint: str, as_runner_user: bool = True) -> dict[str, dict[str, str]]:
    """Resolve each profile (``""``: the environment's choice) with botocore in a child process
    running as the runner user; ``{name: {fingerprint, region, arn} | {error}}``."""
    proc = subprocess.run(
        [host_python(), "-I", "-c", _RESOLVE, sysconfig.get_paths()["purelib"], sts_endpoint,
         *names],
        env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=60, check=False,
        stdin=subprocess.DEVNULL,
        user=RUNNER_UID if as_runner_user else None,
        group=RUNNER_GID if as_runner_user else None,
        extra_groups=[] if as_runner_user else None,
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.splitlines()[-15:])
        raise AssertionError(f"the later step failed (exit {proc.returncode}):\n{tail}")
    report: dict[str, dict[str, str]] = json.loads(proc.stdout)
    return report


class RunnerUserJob:
    """One job on a runner whose files belong to the runner user (uid 1001)."""

    def __init__(self, harness: ActionHarness, root: Path, sts: StsFaultProxy,
                 region: str = "us-east-1") -> None:
        self.harness = harness
        self.region = region
        self.root = root
        self.sts = sts
        self.job_dir = root / "runner" / "job"
        self.workspace = root / "workspace"
        give_to_runner_user(self.root / "runner", self.job_dir, self.job_dir / "_temp",
                            self.job_dir / "_temp" / "_github_home", self.job_dir / "octo-repo",
                            self.workspace)
        self.exported: dict[str, str] = {}

    @property
    def home(self) -> Path:
        return self.job_dir / "_temp" / "_github_home"

    def run(self, inputs: dict[str, str | None], **kwargs: Any) -> ActionResult:
        env = {**DEFAULT_PLACE, **self.exported, **kwargs.pop("env", {})}
        result = self.harness.run_action({"aws-region": self.region, **inputs}, env=env,
                                         **kwargs)
        if result.ok:
            self.exported.update(result.env)
        return result

    def post(self, main: ActionResult) -> ActionResult:
        return self.run(dict(main.inputs), argv=("post",), oidc=False,
                        env={**main.post_env()})

    def later_step(self, names: list[str], step_env: dict[str, str] | None = None,
                   home: Path | None = None) -> dict[str, dict[str, str]]:
        env = later_step_env(self.exported, home=home or self.home,
                             runner_temp=self.job_dir / "_temp", workspace=self.workspace,
                             step_env=step_env)
        return resolve_profiles(names, env=env, cwd=self.workspace, sts_endpoint=self.sts.url)
