"""Run the action the way a GitHub runner runs a container action, and read what it left behind.

:class:`ActionHarness` builds the step's environment from scratch (never the host's): the runner's
``GITHUB_*`` context, empty file-command files, ``INPUT_*`` for every declared input, the OIDC
request variables of the local issuer, and ``sts-endpoint`` pointing at the fault layer. It runs
the ``py-aws-oidc`` console script as a subprocess and parses stdout, ``GITHUB_ENV``,
``GITHUB_OUTPUT``, ``GITHUB_STATE`` and the summary with the runner's own parsers
(:mod:`localdev.runner_files`); a file the runner would reject fails the test.

In tests use the ``run_action`` fixture (``tests/conftest.py``), which also feeds every result to
the leak check (:mod:`tests.support.leakcheck`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localdev.oidc_issuer import OidcIssuer, TokenRequest
from localdev.runner_files import (
    Command,
    FileCommandError,
    check_env_entries,
    mask_values,
    parse_commands,
    read_file_commands,
)
from localdev.runner_step import (
    SYSTEM_PATH,
    RunnerPaths,
    console_script,
    make_runner_paths,
    step_environment,
)
from localdev.sts_faults import StsCall, StsFaultProxy

SECRET_INPUTS = ("aws-access-key-id", "aws-secret-access-key", "aws-session-token")
SECRET_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")



class ActionTimeout(AssertionError):
    """The step ran longer than ``timeout``; the process group was killed."""


@dataclass
class ActionResult:
    """Everything one step run left behind, parsed as the runner parses it."""

    argv: list[str]
    inputs: dict[str, str | None]
    environ: dict[str, str]  # the environment the step got
    paths: RunnerPaths
    returncode: int | None
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False
    env_entries: list[tuple[str, str]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    output_entries: list[tuple[str, str]] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    state: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    commands: list[Command] = field(default_factory=list)
    masks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    sts_calls: list[StsCall] = field(default_factory=list)
    token_requests: list[TokenRequest] = field(default_factory=list)
    file_errors: dict[str, str] = field(default_factory=dict)
    # (kind, value) the test declared secret for this run (token-file contents, ...)
    extra_secrets: list[tuple[str, str]] = field(default_factory=list)
    # (kind, value) snapshot of the servers' secrets when the run ended (survives a reset)
    server_secrets: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def is_action_step(self) -> bool:
        """The main or post step (not a CLI subcommand such as ``trust``)."""
        return not self.argv or self.argv[0] == "post"

    @property
    def raw_env_text(self) -> str:
        return _read_text(self.paths.env_file)

    @property
    def raw_output_text(self) -> str:
        return _read_text(self.paths.output_file)

    def add_secret(self, value: str, kind: str = "declared") -> None:
        """Declare ``value`` a secret for the leak check of this result."""
        self.extra_secrets.append((kind, value))

    def commands_named(self, name: str) -> list[Command]:
        return [c for c in self.commands if c.key == name]

    def post_env(self) -> dict[str, str]:
        """``STATE_*`` for the post step, as the runner passes saved state."""
        return {f"STATE_{k}": v for k, v in self.state.items()}

    def explain(self) -> str:
        """A short description for assertion messages (no parsed secrets beyond the log)."""
        return (
            f"exit {self.returncode} in {self.duration_s:.2f}s; errors={self.errors!r}\n"
            f"--- stdout ---\n{self.stdout[-4000:]}\n--- stderr ---\n{self.stderr[-4000:]}"
        )


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


class ActionHarness:
    """Runs the action against the local servers; ``run_action`` is the entry point."""

    def __init__(
        self,
        *,
        base_dir: Path,
        issuer: OidcIssuer | None = None,
        sts: StsFaultProxy | None = None,
        workspace: Path | None = None,
        command: Sequence[str] | None = None,
        on_result: Callable[[ActionResult], None] | None = None,
        post_command: Sequence[str] | None = None,
    ) -> None:
        self.base_dir = base_dir
        self.issuer = issuer
        self.sts = sts
        self.workspace = workspace
        self.command = list(command) if command is not None else console_script()
        # The post step's own command (the host runtime's post.js); else ``command post``.
        self.post_command = list(post_command) if post_command is not None else None
        self.on_result = on_result
        self.results: list[ActionResult] = []

    def derive(self, *, base_dir: Path, workspace: Path | None = None) -> ActionHarness:
        """The same servers, runtime and leak check for a job laid out elsewhere."""
        return ActionHarness(base_dir=base_dir, issuer=self.issuer, sts=self.sts,
                             workspace=workspace, command=self.command,
                             on_result=self.on_result, post_command=self.post_command)

    def argv_for(self, argv: Sequence[str]) -> list[str]:
        """The process of a step: ``argv`` ``("post", ...)`` runs the post command if any."""
        if self.post_command is not None and list(argv[:1]) == ["post"]:
            return [*self.post_command, *argv[1:]]
        return [*self.command, *argv]

    # -- environment -----------------------------------------------------------------------------

    def _paths(self, cwd: Path | None) -> RunnerPaths:
        return make_runner_paths(
            self.base_dir / f"step-{len(self.results) + 1}-{uuid.uuid4().hex[:6]}",
            cwd or self.workspace,
            job_dir=self.base_dir / "job",
        )

    def build_env(
        self,
        inputs: Mapping[str, str | None],
        paths: RunnerPaths,
        *,
        env: Mapping[str, str | None] | None = None,
        oidc: bool = True,
    ) -> dict[str, str]:
        given = dict(inputs)
        if "sts-endpoint" not in given and self.sts is not None:
            given["sts-endpoint"] = self.sts.url
        if oidc and self.issuer is None:
            raise ValueError("oidc=True needs an issuer")
        environ = step_environment(
            paths,
            given,
            oidc=(self.issuer.token_url, self.issuer.request_token)
            if oidc and self.issuer is not None
            else None,
            command=self.command,
            search_path=f"{Path(sys.executable).parent}:{SYSTEM_PATH}",
        )
        for name, value in (env or {}).items():
            if value is None:
                environ.pop(name, None)
            else:
                environ[name] = value
        return environ

    # -- running ---------------------------------------------------------------------------------

    def run_action(
        self,
        inputs: Mapping[str, str | None] | None = None,
        *,
        env: Mapping[str, str | None] | None = None,
        argv: Sequence[str] = (),
        oidc: bool = True,
        timeout: float = 60,
        cwd: str | os.PathLike[str] | None = None,
    ) -> ActionResult:
        """Run one step; see the module docstring. ``inputs`` values of ``None`` mean "omitted"
        (the runner then passes the declared default, ``""`` here); ``env`` adds to or (with
        ``None``) removes from the step's environment."""
        given: dict[str, str | None] = dict(inputs or {})
        paths = self._paths(Path(cwd) if cwd is not None else None)
        environ = self.build_env(given, paths, env=env, oidc=oidc)
        t_wall = time.time()
        t0 = time.monotonic()
        proc = subprocess.Popen(
            self.argv_for(argv),
            cwd=paths.workspace,
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        timed_out = False
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            out, err = proc.communicate()
        duration = time.monotonic() - t0
        result = ActionResult(
            argv=list(argv),
            inputs=given,
            environ=environ,
            paths=paths,
            returncode=None if timed_out else proc.returncode,
            stdout=out.decode("utf-8", "replace"),
            stderr=err.decode("utf-8", "replace"),
            duration_s=duration,
            timed_out=timed_out,
        )
        self._collect(result, t_wall)
        self.results.append(result)
        if self.on_result is not None:
            self.on_result(result)
        if timed_out:
            raise ActionTimeout(f"the step did not finish within {timeout}s\n{result.explain()}")
        if result.file_errors:
            problems = "; ".join(f"{k}: {v}" for k, v in result.file_errors.items())
            raise FileCommandError(f"the runner would reject the step's files: {problems}")
        return result

    def _collect(self, result: ActionResult, since: float) -> None:
        collect_files(result)
        # Records are timestamped on arrival; a run owns those that arrived after it started.
        if self.sts is not None:
            result.sts_calls = [c for c in list(self.sts.calls) if c.time >= since]
        if self.issuer is not None:
            result.token_requests = [r for r in self.issuer.token_requests if r.time >= since]
            result.server_secrets += [("oidc-jwt", t) for t in list(self.issuer.minted)]
            result.server_secrets.append(("oidc-request-token", self.issuer.request_token))
        if self.sts is not None:
            result.server_secrets += [("sts-credential", s) for s in list(self.sts.issued_secrets)]


def collect_files(result: ActionResult) -> ActionResult:
    """Parse the step's files and stdout into ``result`` (as the runner would); a file the
    runner would reject is noted in ``result.file_errors``."""
    paths = result.paths
    for key, path in (("GITHUB_ENV", paths.env_file), ("GITHUB_OUTPUT", paths.output_file),
                      ("GITHUB_STATE", paths.state_file)):
        try:
            entries = read_file_commands(path)
            if key == "GITHUB_ENV":
                check_env_entries(entries)
        except FileCommandError as exc:
            result.file_errors[key] = str(exc)
            continue
        if key == "GITHUB_ENV":
            result.env_entries = entries
            result.env = dict(entries)
        elif key == "GITHUB_OUTPUT":
            result.output_entries = entries
            result.outputs = dict(entries)
        else:
            result.state = dict(entries)
    result.summary = _read_text(paths.summary_file)
    result.commands = parse_commands(result.stdout)
    result.masks = mask_values(result.commands)
    result.errors = [c.data for c in result.commands if c.key == "error"]
    result.warnings = [c.data for c in result.commands if c.key == "warning"]
    result.notices = [c.data for c in result.commands if c.key == "notice"]
    return result


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def make_sts_client(
    endpoint_url: str,
    *,
    credentials: Mapping[str, Any] | None = None,
    unsigned: bool = False,
    region: str = "us-east-1",
    max_attempts: int = 1,
    read_timeout: float = 10,
    connect_timeout: float = 5,
    proxies: Mapping[str, str] | None = None,
) -> Any:
    """A boto3 STS client for the local layer (no retries unless asked; host config ignored).

    ``credentials`` takes an STS ``Credentials`` dict (AccessKeyId, SecretAccessKey,
    SessionToken) or boto3-style ``aws_access_key_id`` keys.
    """
    import boto3
    import botocore
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        read_timeout=read_timeout,
        connect_timeout=connect_timeout,
        signature_version=botocore.UNSIGNED if unsigned else None,
        proxies=dict(proxies) if proxies else None,
    )
    kwargs: dict[str, Any] = {}
    if credentials is not None:
        kwargs = {
            "aws_access_key_id": credentials.get("AccessKeyId",
                                                 credentials.get("aws_access_key_id")),
            "aws_secret_access_key": credentials.get(
                "SecretAccessKey", credentials.get("aws_secret_access_key")),
            "aws_session_token": credentials.get("SessionToken",
                                                 credentials.get("aws_session_token")),
        }
    elif not unsigned:
        kwargs = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE",
                  "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
    session = boto3.session.Session()
    return session.client("sts", region_name=region, endpoint_url=endpoint_url, config=config,
                          **kwargs)
