"""Values that carry workflow commands (issue 12, item 1; SPEC.md "1.1 / Hardening").

The runner executes ``::name::data`` at the start of a line and the legacy ``##[name]data``
anywhere in a line. A ``stop-commands`` smuggled in by a value we print (a role ARN's path, a
claim, an STS message, an input in an error) would switch off the ``::add-mask::`` lines that
follow, so the session keys would print in clear. Each test runs the real action against the real
issuer and moto; the per-run leak check (``tests/support/leakcheck.py``) reads stdout with the
runner's two parsers and its stop/resume rule, so a mask that the runner would skip leaks there,
and any command the action did not mean to write fails the run (rule 6).
"""

from __future__ import annotations

import json

import pytest

from localdev.oidc_issuer import OidcIssuer
from localdev.runner_files import parse_commands, split_lines
from localdev.sts_faults import ARWWI, StsFaultProxy
from py_aws_oidc.runner import restore_line
from tests.conftest import RunAction
from tests.support.harness import ActionResult

REGION = "us-east-1"
ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/gha-entry"
TARGET = "arn:aws:iam::444455556666:role/target"
TOKEN = "resumeToken42"  # longer than 6: the runner would also mask it

# Both command forms, each as a stop (the worst case) and as another forgeable command.
LEGACY = [f"##[stop-commands]{TOKEN}", "x ##[set-env name=EVIL]1", "##[ADD-MASK]AKIA"]
V2 = [f"\n::stop-commands::{TOKEN}", "\n  ::add-path::/evil", "\r::Stop-Commands::t0ken"]


def assert_inert(result: ActionResult) -> None:
    """Nothing in stdout acts as a command but what the action writes (the leak check also runs
    on every result; these assertions say the same thing in the test's own words)."""
    commands = parse_commands(result.stdout)
    assert not [c for c in commands if c.legacy], commands
    assert {c.key for c in commands} <= {"add-mask", "notice", "warning", "error", "debug"}
    assert "##[" not in "".join(
        line for line in split_lines(result.stdout) if not line.startswith("::add-mask::"))


@pytest.mark.parametrize("payload", [f"##[stop-commands]{TOKEN}", "a##[add-path]/evil"])
def test_a_role_arns_path_cannot_stop_the_masks(
    run_action: RunAction, payload: str
) -> None:
    """The ARN is printed ("Assuming role ...") before STS answers and the keys are masked."""
    role = f"arn:aws:iam::{ACCOUNT}:role/ci/{payload}/gha-entry"
    result = run_action({"aws-region": REGION, "role-to-assume": role,
                         "output-credentials": "true"})
    assert result.ok, result.explain()
    assert_inert(result)
    # Still readable, and exactly recoverable: the escape is one backslash.
    [line] = [ln for ln in split_lines(result.stdout) if ln.startswith("Assuming role")]
    assert "##\\[" in line
    assert restore_line(line).endswith(role)
    assert result.outputs["aws-secret-access-key"] in result.masks


@pytest.mark.parametrize("payload", LEGACY + V2)
def test_a_claim_printed_between_two_hops_cannot_stop_the_masks(
    run_action: RunAction, oidc_issuer: OidcIssuer, payload: str
) -> None:
    """``Token accepted: sub=...`` comes after hop 1 and before hop 2's keys are masked."""
    oidc_issuer.claims["sub"] = f"repo:octo-org/octo-repo:ref:refs/heads/main{payload}"
    result = run_action({"aws-region": REGION, "role-to-assume": f"{ROLE}\n{TARGET}"})
    assert result.ok, result.explain()
    assert_inert(result)
    assert result.env["AWS_SECRET_ACCESS_KEY"] in result.masks


def test_an_audience_cannot_stop_the_masks(run_action: RunAction, sts: StsFaultProxy) -> None:
    audience = f"sts.amazonaws.com##[stop-commands]{TOKEN}"
    sts.allowed_audiences.add(audience)
    result = run_action({"aws-region": REGION, "role-to-assume": f"{ROLE}\n{TARGET}",
                         "audience": audience})
    assert result.ok, result.explain()
    assert_inert(result)


@pytest.mark.parametrize("payload", [f"##[stop-commands]{TOKEN}", f"\n::stop-commands::{TOKEN}"])
def test_an_sts_message_in_a_retry_line_cannot_stop_the_masks(
    run_action: RunAction, sts: StsFaultProxy, payload: str
) -> None:
    """A throttled first attempt is logged with STS's message; the keys come after."""
    sts.fail_next(ARWWI, "Throttling", f"Rate exceeded {payload}", status=400)
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "output-credentials": "true"})
    assert result.ok, result.explain()
    assert len(sts.calls) == 2
    assert_inert(result)


def test_claims_printed_on_access_denied_are_inert(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    oidc_issuer.claims["sub"] = f"repo:octo-org/octo-repo:ref:refs/heads/##[stop-commands]{TOKEN}"
    oidc_issuer.claims["job_workflow_ref"] = "o/r/.github/workflows/x.yml@##[add-mask]refs"
    sts.trust = lambda claims: False
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE})
    assert result.returncode == 1
    assert_inert(result)
    assert any("##\\[stop-commands]" in line for line in split_lines(result.stdout))


@pytest.mark.parametrize("payload", LEGACY)
def test_an_sts_error_message_is_inert(
    run_action: RunAction, sts: StsFaultProxy, payload: str
) -> None:
    sts.fail_next(ARWWI, "AccessDenied", f"Not authorized {payload}", status=403)
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE})
    assert result.returncode == 1
    assert_inert(result)
    [error] = result.errors
    assert "Not authorized" in error


@pytest.mark.parametrize(("name", "value"), [
    ("aws-region", f"us-east-1##[stop-commands]{TOKEN}"),
    ("role-session-name", "s##[set-env name=X]1"),
    ("role-duration-seconds", "##[error]900"),
    ("role-to-assume", f"{ROLE}\n::stop-commands::{TOKEN}"),
])
def test_an_input_value_in_an_error_is_inert(
    run_action: RunAction, name: str, value: str
) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE, name: value})
    assert result.returncode == 1
    assert_inert(result)
    [error] = result.errors
    assert name in error


def test_the_trust_cli_output_is_inert(run_action: RunAction, tmp_path: object) -> None:
    """``trust check`` in a ``run:`` step prints claims and policy values the runner reads."""
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    claims = tmp_path / "claims.json"
    claims.write_text(
        '{"sub": "repo:o/r:ref:refs/heads/##[stop-commands]' + TOKEN + '", '
        '"aud": "sts.amazonaws.com", "repository": "o/r"}', encoding="utf-8")
    policy = tmp_path / "policy.json"
    policy.write_text(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": '
        '"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}, '
        '"Action": "sts:AssumeRoleWithWebIdentity", "Condition": {"StringEquals": {'
        '"token.actions.githubusercontent.com:aud": "sts.amazonaws.com", '
        '"token.actions.githubusercontent.com:sub": "repo:o/r:ref:refs/heads/##[add-path]x"}}}]}',
        encoding="utf-8")
    for fmt in ("text", "json"):
        result = run_action(argv=["trust", "check", str(policy), "--claims", str(claims),
                                  "--format", fmt], oidc=False)
        assert result.returncode in (0, 1), result.explain()
        assert_inert(result)
        assert "stop-commands" in result.stdout
        if fmt == "json":  # still valid JSON, with the very same values
            assert "##[stop-commands]" + TOKEN in json.dumps(json.loads(result.stdout),
                                                             ensure_ascii=False)


@pytest.mark.parametrize("argv", [
    ["trust", "check", "--format", f"##[stop-commands]{TOKEN}", "policy.json"],  # argparse
    ["trust", "lint", f"##[stop-commands]{TOKEN}.json"],  # our own error line
    [f"##[stop-commands]{TOKEN}"],  # unknown command
])
def test_usage_errors_quoting_arguments_are_inert(run_action: RunAction, argv: list[str]) -> None:
    """The runner reads stderr for commands too."""
    result = run_action(argv=argv, oidc=False)
    assert result.returncode == 2, result.explain()
    assert parse_commands(result.stderr) == []
    assert f"##\\[stop-commands]{TOKEN}" in result.stderr
