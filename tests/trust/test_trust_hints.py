"""``sub`` parsing, the action's AccessDenied hints and the claims summary it prints."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from py_aws_oidc.trust.claims import parse_subject
from py_aws_oidc.trust.hints import CHECK_COMMAND, claims_json, claims_summary, denial_hints
from tests.trust.helpers import MAIN, claims, policy, run_cli, statement, write_json

IMMUTABLE = "repo:octo-org@123456/octo-repo@7891011:ref:refs/heads/main"


@pytest.mark.parametrize(
    ("sub", "kind", "repository", "ref", "environment", "immutable"),
    [
        (MAIN, "branch", "octo-org/octo-repo", "refs/heads/main", None, False),
        ("repo:o/r:ref:refs/tags/v1.2", "tag", "o/r", "refs/tags/v1.2", None, False),
        ("repo:o/r:ref:refs/pull/1/merge", "ref", "o/r", "refs/pull/1/merge", None, False),
        (
            "repo:o/r:environment:Production%3AV1",
            "environment",
            "o/r",
            None,
            "Production:V1",
            False,
        ),
        ("repo:o/r:pull_request", "pull_request", "o/r", None, None, False),
        (IMMUTABLE, "branch", "octo-org/octo-repo", "refs/heads/main", None, True),
        ("repo:o@1/r@2", "repository", "o/r", None, None, True),
        (
            "job_workflow_ref:o/a/.github/workflows/x.yml@refs/heads/main",
            "custom",
            None,
            None,
            None,
            False,
        ),
        (
            "repo:o/r:environment:prod:job_workflow_ref:o/a/.github/workflows/x.yml@refs/heads/main",
            "environment",
            "o/r",
            None,
            "prod",
            False,
        ),
        ("repository_owner:o:repository_visibility:private", "custom", None, None, None, False),
        ("nonsense", "unknown", None, None, None, False),
    ],
)
def test_parse_subject(
    sub: str,
    kind: str,
    repository: str | None,
    ref: str | None,
    environment: str | None,
    immutable: bool,
) -> None:
    subject = parse_subject(sub)
    assert subject.kind == kind
    assert subject.repository == repository
    assert subject.ref == ref
    assert subject.environment == environment
    assert subject.immutable is immutable


def test_custom_flag() -> None:
    assert not parse_subject(MAIN).custom
    assert not parse_subject("repo:o/r:pull_request").custom
    assert parse_subject("repo:o/r").custom
    assert parse_subject("repo:o/r:environment:prod:job_workflow_ref:x").custom


def _joined(**overrides: object) -> str:
    return "\n".join(denial_hints(claims(**overrides)))


def test_environment_job_hint() -> None:
    text = _joined(sub="repo:octo-org/octo-repo:environment:prod", environment="prod")
    assert "environment 'prod'" in text
    assert "repo:octo-org/octo-repo:ref:refs/heads/..." in text and "does not match" in text


def test_pull_request_hint() -> None:
    text = _joined(sub="repo:octo-org/octo-repo:pull_request", event_name="pull_request")
    assert '"repo:octo-org/octo-repo:pull_request"' in text and "branch pin" in text


def test_tag_hint() -> None:
    text = _joined(sub="repo:octo-org/octo-repo:ref:refs/tags/v1", ref="refs/tags/v1")
    assert "tag" in text and "refs/tags/v*" in text


def test_immutable_hint() -> None:
    text = _joined(sub=IMMUTABLE)
    assert "immutable" in text and "repo:octo-org/octo-repo:..." in text and IMMUTABLE in text


def test_custom_subject_hint() -> None:
    text = _joined(sub="repository_owner:octo-org:repository_visibility:private")
    assert "customised subject template" in text
    both = _joined(sub="repo:o/r:environment:prod:job_workflow_ref:o/a/.github/workflows/x.yml@v1")
    assert "customised subject template" in both and "environment 'prod'" in both
    assert "customised" not in _joined()


def test_audience_hints() -> None:
    assert "not sts.amazonaws.com" in _joined(aud="https://github.com/octo-org")
    assert "client ID" in _joined(aud="https://github.com/octo-org")
    assert "aws-cn" in _joined(aud="sts.amazonaws.com.cn")
    china = "\n".join(denial_hints(claims(), audience="sts.amazonaws.com.cn"))
    assert "sts.amazonaws.com.cn" in china
    assert "The token's aud" not in _joined()  # the usual audience: nothing to say


def test_reusable_workflow_hint() -> None:
    jwr = "octo-org/automation/.github/workflows/deploy.yml@refs/heads/main"
    text = _joined(job_workflow_ref=jwr)
    assert "token.actions.githubusercontent.com:job_workflow_ref" in text and jwr in text
    assert "job_workflow_ref" not in _joined()  # jwr == workflow_ref: not a reusable workflow


def test_enterprise_issuer_hint() -> None:
    text = _joined(iss="https://token.actions.githubusercontent.com/acme")
    assert "token.actions.githubusercontent.com/acme:sub" in text


def test_case_hint() -> None:
    assert "case-sensitive" in _joined(repository="Octo-Org/Repo")
    assert "Names are case-sensitive" not in _joined()


def test_always_ends_with_the_offline_check() -> None:
    for overrides in ({}, {"sub": None}, {"aud": None}):
        hints = denial_hints(claims(**overrides))
        assert CHECK_COMMAND in hints[-1]
        assert len(hints) >= 2


def test_claims_summary_order_and_absent() -> None:
    summary = claims_summary(claims(environment=None, aud=["a", "b"]))
    assert [name for name, _ in summary] == [
        "iss",
        "sub",
        "aud",
        "repository",
        "ref",
        "environment",
        "job_workflow_ref",
        "event_name",
        "runner_environment",
    ]
    values = dict(summary)
    assert values["environment"] == "(absent)"
    assert values["aud"] == '["a", "b"]'
    assert values["sub"] == MAIN


def test_claims_json_round_trips_through_check(tmp_path: Path) -> None:
    token_claims = claims(sub="repo:octo-org/octo-repo:environment:prod", environment="prod")
    printed = claims_json(token_claims)
    assert "\n" not in printed and json.loads(printed)["environment"] == "prod"
    assert "actor" not in json.loads(printed)  # only the summary claims
    path = tmp_path / "claims.json"
    path.write_text(printed, encoding="utf-8")
    pol = write_json(
        tmp_path / "p.json",
        policy(
            statement(
                {
                    "StringEquals": {
                        "token.actions.githubusercontent.com:sub": "repo:octo-org/octo-repo:environment:prod"
                    }
                }
            )
        ),
    )
    code, out, _ = run_cli("check", str(pol), "--claims", str(path))
    assert code == 0 and "ALLOW" in out


def test_importing_hints_stays_light() -> None:
    code = (
        "import sys; import py_aws_oidc.trust.hints, py_aws_oidc.trust.cli; "
        "heavy = [m for m in ('hcl2', 'requests', 'jwt', 'boto3', 'lark') if m in sys.modules]; "
        "print(heavy)"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": src},
        check=True,
    )
    assert result.stdout.strip() == "[]"
