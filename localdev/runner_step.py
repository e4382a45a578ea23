"""One step as the GitHub runner starts it: its directories and file-command files, its
environment (the workflow context, ``INPUT_*`` for every input ``action.yml`` declares, the OIDC
request variables) and the console script. The test harness, the demo and the benchmark all
build their steps here, so they run the action in the same environment.

Inputs follow the runner (``ActionRunner.cs`` + ``ActionManifestManager.ConvertInputs``): each
declared input gets its ``default`` when the workflow's ``with:`` omits the key, and ``""`` when
it has none; a key given in ``with:`` keeps its value, even ``""``. Undeclared keys are passed too
(with a warning on a real runner). The variable name is :func:`py_aws_oidc.runner.input_env_name`.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from py_aws_oidc.runner import input_env_name

from .runner_context import RUNNER_CONTEXT

REPO_ROOT = Path(__file__).resolve().parents[1]
ACTION_YML = REPO_ROOT / "action.yml"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


# -- action.yml ------------------------------------------------------------------------------------


@cache
def load_action(path: Path = ACTION_YML) -> dict[str, Any]:
    import yaml  # type: ignore[import-untyped,unused-ignore]

    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a mapping")
    return data


def declared_inputs(path: Path = ACTION_YML) -> dict[str, dict[str, Any]]:
    """Input name -> its metadata (``description``, ``required``, ``default``...)."""
    inputs = load_action(path).get("inputs") or {}
    return {str(name): dict(meta or {}) for name, meta in inputs.items()}


def declared_outputs(path: Path = ACTION_YML) -> list[str]:
    return [str(name) for name in (load_action(path).get("outputs") or {})]


def runner_defaults(path: Path = ACTION_YML) -> dict[str, str]:
    """Input name -> the value the runner uses when ``with:`` omits it."""
    result: dict[str, str] = {}
    for name, meta in declared_inputs(path).items():
        default = meta.get("default")
        if isinstance(default, str) and "${{" in default:
            raise NotImplementedError(
                f"input {name!r} has an expression default ({default!r}); teach runner_step it"
            )
        # YAML scalars (true, 3600) arrive as strings on the runner.
        if default is None:
            result[name] = ""
        elif isinstance(default, bool):
            result[name] = "true" if default else "false"
        else:
            result[name] = str(default)
    return result


def input_environment(given: Mapping[str, str | None], path: Path = ACTION_YML) -> dict[str, str]:
    """``INPUT_*`` variables for a step whose ``with:`` is ``given`` (``None`` = key omitted)."""
    values = runner_defaults(path)
    for name, value in given.items():
        if value is not None:
            values[name] = value
    return {input_env_name(name): value for name, value in values.items()}


# -- the step's files and environment ------------------------------------------------------------


@dataclass(frozen=True)
class RunnerPaths:
    root: Path
    home: Path
    temp: Path
    runner_workspace: Path
    workspace: Path
    env_file: Path
    output_file: Path
    state_file: Path
    summary_file: Path
    path_file: Path
    event_file: Path
    aws_config: Path
    aws_credentials: Path


def make_runner_paths(
    root: Path, workspace: Path | None = None, job_dir: Path | None = None
) -> RunnerPaths:
    """A runner-like layout for one step under ``root``: fresh file-command files, created empty
    as the runner does before each step. HOME, RUNNER_TEMP and the (absent) AWS config paths
    live in ``job_dir`` (default ``root``): like ``/github/home``, they are shared by the steps of
    a job, so a post step sees what the main step left there.

    The job directory is laid out as the runner's work directory: ``RUNNER_TEMP`` is
    ``<job>/_temp``, HOME is ``<job>/_temp/_github_home`` (what a container action sees as
    ``/github/home``) and ``RUNNER_WORKSPACE`` is ``<job>/octo-repo``, beside ``_temp``."""
    job = job_dir or root
    commands = root / "_runner_file_commands"
    for d in (root, job / "_temp" / "_github_home", job / "octo-repo", commands):
        d.mkdir(parents=True, exist_ok=True)
    workspace = workspace or (root / "workspace")
    workspace.mkdir(parents=True, exist_ok=True)
    suffix = str(uuid.uuid4())
    paths = RunnerPaths(
        root=root,
        home=job / "_temp" / "_github_home",
        temp=job / "_temp",
        runner_workspace=job / "octo-repo",
        workspace=workspace,
        env_file=commands / f"set_env_{suffix}",
        output_file=commands / f"set_output_{suffix}",
        state_file=commands / f"save_state_{suffix}",
        summary_file=commands / f"step_summary_{suffix}",
        path_file=commands / f"add_path_{suffix}",
        event_file=root / "event.json",
        aws_config=job / "aws-absent" / "config",
        aws_credentials=job / "aws-absent" / "credentials",
    )
    # The runner creates every file-command file empty before the step.
    for f in (
        paths.env_file,
        paths.output_file,
        paths.state_file,
        paths.summary_file,
        paths.path_file,
    ):
        f.touch()
    paths.event_file.write_text(json.dumps({"ref": "refs/heads/main"}), encoding="utf-8")
    return paths


def console_script() -> list[str]:
    """The installed console script (the venv's, else PATH's), else ``python -m py_aws_oidc``."""
    beside = Path(sys.executable).parent / "py-aws-oidc"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("py-aws-oidc")
    if found:
        return [found]
    return [sys.executable, "-m", "py_aws_oidc"]


def host_command(action_dir: Path, *, post: bool = False) -> list[str]:
    """A step of the host runtime as the runner runs a node action: ``node DIR/main.js``
    (``post.js`` for the post step); ``action_dir`` holds host/'s files and a built dist/."""
    node = shutil.which("node", path="/usr/local/bin:/usr/bin") or "node"
    return [node, str(action_dir / ("post.js" if post else "main.js"))]


def step_environment(
    paths: RunnerPaths,
    inputs: Mapping[str, str | None] | None,
    *,
    oidc: tuple[str, str] | None = None,
    command: list[str] | None = None,
    search_path: str = SYSTEM_PATH,
) -> dict[str, str]:
    """The environment of one step, built from scratch (never the host's). ``oidc``: the token
    endpoint and its bearer token (``ACTIONS_ID_TOKEN_REQUEST_URL``/``_TOKEN``), set only for
    jobs with ``id-token: write``; ``command``: the step's command (``python -m`` then needs the
    source tree on PYTHONPATH). ``inputs`` None: not an action step (no ``INPUT_*``)."""
    environ: dict[str, str] = dict(RUNNER_CONTEXT)
    environ.update(
        {
            "PATH": search_path,
            "HOME": str(paths.home),
            "RUNNER_TEMP": str(paths.temp),
            "RUNNER_WORKSPACE": str(paths.runner_workspace),
            "RUNNER_TOOL_CACHE": str(paths.temp / "toolcache"),
            "GITHUB_WORKSPACE": str(paths.workspace),
            "GITHUB_ENV": str(paths.env_file),
            "GITHUB_OUTPUT": str(paths.output_file),
            "GITHUB_STATE": str(paths.state_file),
            "GITHUB_STEP_SUMMARY": str(paths.summary_file),
            "GITHUB_PATH": str(paths.path_file),
            "GITHUB_EVENT_PATH": str(paths.event_file),
            "AWS_CONFIG_FILE": str(paths.aws_config),
            "AWS_SHARED_CREDENTIALS_FILE": str(paths.aws_credentials),
        }
    )
    if command is not None and command[1:3] == ["-m", "py_aws_oidc"]:
        environ["PYTHONPATH"] = str(REPO_ROOT / "src")
    if oidc is not None:
        environ["ACTIONS_ID_TOKEN_REQUEST_URL"], environ["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = oidc
    if inputs is not None:
        environ.update(input_environment(inputs))
    return environ
