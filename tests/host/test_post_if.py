"""``post-if`` of both action.yml files, evaluated as the runner evaluates it.

The runner (actions/runner ``ActionManifestManager``: ``CleanupCondition = post-if ?? "always()"``;
``StepsRunner``: ``EvaluateStepIf`` on it as written, with the job's ``env`` context: the
workflow's env plus everything earlier steps exported through GITHUB_ENV) evaluates the
expression verbatim; only a workflow step's ``if:`` gets ``success() &&`` prepended when it names
no status function. Both action.yml files start with ``always() &&`` so that cleanup runs after a
failed step under either reading. Comparison follows the runner: strings compare ignoring case, a
missing variable is null (coerced to a number: never equal to a string), ``&&``/``||`` return an
operand and a value is truthy when it is not null, false, 0, NaN or "".
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from tests.conftest import RunAction
from tests.support.action_yml import REPO_ROOT, load_action

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/deploy"
ACTIONS = (REPO_ROOT / "action.yml", REPO_ROOT / "host" / "action.yml")
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))|"
                    r"(?P<fn>[A-Za-z_][\w-]*)\(\)|(?P<ref>[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*))")
_FUNCTIONS = {"always": True}  # the job status functions that the expressions may use


def _tokens(expression: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(expression.rstrip()):
        match = _TOKEN.match(expression, pos)
        assert match, f"cannot evaluate {expression[pos:]!r}"
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _number(value: Any) -> float:
    if value is None or value is False:
        return 0.0
    if value is True:
        return 1.0
    try:
        return float(value) if str(value).strip() else 0.0
    except ValueError:
        return math.nan


def _equals(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    return _number(left) == _number(right)


def _truthy(value: Any) -> bool:
    if isinstance(value, float):
        return not (value == 0 or math.isnan(value))
    return value not in (None, False, "")


def evaluate(expression: str, env: dict[str, str], *, job_ok: bool = True) -> bool:
    """The subset of the runner's expression language that post-if uses."""
    tokens = _tokens(expression)
    pos = 0

    def peek() -> str:
        return tokens[pos][1] if pos < len(tokens) else ""

    def primary() -> Any:
        nonlocal pos
        kind, text = tokens[pos]
        pos += 1
        if text == "!":
            return not _truthy(primary())
        if text == "(":
            value = disjunction()
            assert peek() == ")"
            pos += 1
            return value
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "fn":
            assert text in (*_FUNCTIONS, "success"), f"unexpected function {text}"
            return True if text == "always" else job_ok
        context, _, name = text.partition(".")
        assert context == "env", f"only the env context: {text}"
        return env.get(name)

    def comparison() -> Any:
        nonlocal pos
        left = primary()
        while peek() in ("==", "!="):
            op = peek()
            pos += 1
            right = primary()
            left = _equals(left, right) == (op == "==")
        return left

    def logical(op: str, operand: Any) -> Any:
        """``a && b``: b when a is truthy, else a; ``a || b``: a when truthy, else b."""
        nonlocal pos
        left = operand()
        while peek() == op:
            pos += 1
            right = operand()
            left = right if _truthy(left) == (op == "&&") else left
        return left

    def disjunction() -> Any:
        return logical("||", lambda: logical("&&", comparison))

    result = disjunction()
    assert pos == len(tokens), f"trailing tokens in {expression!r}"
    return _truthy(result)


def post_if(action_yml: Any) -> str:
    value = load_action(action_yml)["runs"].get("post-if", "always()")
    assert isinstance(value, str)
    return value


@pytest.mark.parametrize("action_yml", ACTIONS, ids=["container", "host"])
@pytest.mark.parametrize(
    ("env", "job_ok", "runs"),
    [
        pytest.param({}, True, False, id="plain-run"),
        pytest.param({"PY_AWS_OIDC_POST": "true"}, True, True, id="files-left"),
        pytest.param({"PY_AWS_OIDC_POST": "true"}, False, True, id="files-left-job-failed"),
        pytest.param({"PY_AWS_OIDC_POST": "TRUE"}, True, True, id="case-insensitive"),
        pytest.param({"PY_AWS_OIDC_POST": "true", "AWS_SKIP_CLEANUP_STEP": "true"}, True, False,
                     id="skip-wins"),
        pytest.param({"PY_AWS_OIDC_POST": "true", "AWS_SKIP_CLEANUP_STEP": "True"}, True, False,
                     id="skip-wins-any-case"),
        pytest.param({"PY_AWS_OIDC_POST": "true", "AWS_SKIP_CLEANUP_STEP": "false"}, True, True,
                     id="skip-false"),
        pytest.param({"PY_AWS_OIDC_POST": ""}, True, False, id="blanked"),
    ],
)
def test_post_if_as_the_runner_evaluates_it(action_yml: Any, env: dict[str, str], job_ok: bool,
                                            runs: bool) -> None:
    assert evaluate(post_if(action_yml), env, job_ok=job_ok) is runs


def test_the_evaluator_follows_the_runner_on_its_own_default() -> None:
    assert evaluate("always()", {}, job_ok=False)
    assert not evaluate("env.X == 'true'", {})
    assert evaluate("env.X != 'true'", {})
    assert evaluate("env.X == 'a' || env.Y == 'B'", {"Y": "b"})
    assert not evaluate("!(env.X == 'a')", {"X": "A"})


def _job_env(*steps: dict[str, str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for exported in steps:
        env.update(exported)
    return env


@pytest.mark.parametrize(
    ("inputs", "runs"),
    [
        pytest.param({}, False, id="plain"),
        pytest.param({"output-credentials": "true"}, False, id="outputs"),
        pytest.param({"aws-profile": "dev"}, True, id="aws-profile"),
        pytest.param({"refresh-credentials": "true"}, True, id="refresh"),
    ],
)
def test_the_main_step_turns_the_post_step_on_only_when_it_left_files(
    run_action: RunAction, inputs: dict[str, str], runs: bool
) -> None:
    step = run_action({"aws-region": REGION, "role-to-assume": ROLE, **inputs})
    assert step.ok, step.explain()
    assert step.env.get("PY_AWS_OIDC_POST") == ("true" if runs else None)
    for action_yml in ACTIONS:
        assert evaluate(post_if(action_yml), _job_env(step.env)) is runs
        # AWS_SKIP_CLEANUP_STEP set by the job still wins.
        assert not evaluate(post_if(action_yml), {**step.env, "AWS_SKIP_CLEANUP_STEP": "true"})


def test_a_later_plain_use_does_not_switch_the_first_ones_cleanup_off(
    run_action: RunAction,
) -> None:
    first = run_action({"aws-region": REGION, "role-to-assume": ROLE, "aws-profile": "dev"})
    second = run_action({"aws-region": REGION, "role-to-assume": ROLE},
                        env={"PY_AWS_OIDC_POST": "true"})
    assert first.ok and second.ok, second.explain()
    assert "PY_AWS_OIDC_POST" not in second.env
    job = _job_env(first.env, second.env)
    assert all(evaluate(post_if(a), job) for a in ACTIONS)
    # The post step itself never blanks it either.
    post = run_action({"aws-region": REGION, "aws-profile": "dev"}, argv=("post",),
                      env={**first.env, **first.post_env()})
    assert post.ok, post.explain()
    assert "PY_AWS_OIDC_POST" not in post.env
