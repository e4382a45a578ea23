"""``action.yml`` as the runner applies it: every declared input gets ``INPUT_<NAME>``
(the rule lives in :mod:`localdev.runner_step`, shared with the demo and the benchmark)."""

from __future__ import annotations

from localdev.runner_step import (
    ACTION_YML,
    REPO_ROOT,
    declared_inputs,
    declared_outputs,
    input_environment,
    load_action,
    runner_defaults,
)

__all__ = [
    "ACTION_YML",
    "REPO_ROOT",
    "declared_inputs",
    "declared_outputs",
    "input_environment",
    "load_action",
    "runner_defaults",
]
