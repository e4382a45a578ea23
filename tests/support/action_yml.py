"""``action.yml`` as the runner applies it: every declared input gets ``INPUT_<NAME>``.

The runner (``ActionRunner.cs`` + ``ActionManifestManager.ConvertInputs``) gives each declared
input its ``default`` when the workflow's ``with:`` omits the key, and ``""`` when the input has no
default; a key given in ``with:`` keeps its value, even ``""``. Undeclared keys are passed too
(with a warning on a real runner).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from py_aws_oidc.runner import input_env_name

REPO_ROOT = Path(__file__).resolve().parents[2]
ACTION_YML = REPO_ROOT / "action.yml"


@cache
def load_action(path: Path = ACTION_YML) -> dict[str, Any]:
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
                f"input {name!r} has an expression default ({default!r}); teach the harness it"
            )
        # YAML scalars (true, 3600) arrive as strings on the runner.
        if default is None:
            result[name] = ""
        elif isinstance(default, bool):
            result[name] = "true" if default else "false"
        else:
            result[name] = str(default)
    return result


def input_environment(
    given: Mapping[str, str | None], path: Path = ACTION_YML
) -> dict[str, str]:
    """``INPUT_*`` variables for a step whose ``with:`` is ``given`` (``None`` = key omitted)."""
    values = runner_defaults(path)
    for name, value in given.items():
        if value is not None:
            values[name] = value
    return {input_env_name(name): value for name, value in values.items()}
