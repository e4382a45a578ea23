"""``trust generate``: least-privilege output that lints clean and allows exactly what was asked."""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from py_aws_oidc.trust.errors import GenerateError
from py_aws_oidc.trust.evaluate import Request, evaluate
from py_aws_oidc.trust.generate import GenerateOptions, generate
from py_aws_oidc.trust.lint import lint_policy
from py_aws_oidc.trust.policy import Policy, parse_policy_document
from py_aws_oidc.trust.terraform import parse_terraform
from tests.trust.helpers import AUD, JWR, SUB, claims, run_cli


def decide(doc: dict[str, Any], **claim_overrides: Any) -> bool:
    parsed = parse_policy_document(doc, "generated")
    return evaluate(parsed, Request.from_claims(claims(**claim_overrides))).allowed


def conditions(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [s["Condition"] for s in doc["Statement"]]


def test_default_is_branch_main_only_and_says_so() -> None:
    code, out, err = run_cli("generate", "--repo", "octo-org/octo-repo")
    assert code == 0
    doc = json.loads(out)
    assert doc["Version"] == "2012-10-17"
    [cond] = conditions(doc)
    assert cond == {
        "StringEquals": {
            AUD: "sts.amazonaws.com",
            SUB: ["repo:octo-org/octo-repo:ref:refs/heads/main"],
        }
    }
    assert "allowing branch 'main' only" in err
    assert "placeholder account 123456789012" in err
    assert doc["Statement"][0]["Principal"] == {
        "Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    }
    assert doc["Statement"][0]["Action"] == "sts:AssumeRoleWithWebIdentity"


def test_no_default_branch_note_when_subjects_are_given() -> None:
    code, _, err = run_cli(
        "generate", "--repo", "o/r", "--environment", "prod", "--account", "210987654321"
    )
    assert code == 0
    assert "main" not in err and "placeholder" not in err


def test_exact_and_pattern_subjects_get_separate_statements() -> None:
    gen = generate(
        GenerateOptions(
            repo="octo-org/octo-repo",
            branches=["main", "release/1.x"],
            tags=["v*", "stable"],
            environments=["prod"],
            pull_request=True,
        )
    )
    exact, patterns = conditions(gen.policy)
    assert exact == {
        "StringEquals": {
            AUD: "sts.amazonaws.com",
            SUB: [
                "repo:octo-org/octo-repo:ref:refs/heads/main",
                "repo:octo-org/octo-repo:ref:refs/heads/release/1.x",
                "repo:octo-org/octo-repo:ref:refs/tags/stable",
                "repo:octo-org/octo-repo:environment:prod",
                "repo:octo-org/octo-repo:pull_request",
            ],
        }
    }
    assert patterns == {
        "StringEquals": {AUD: "sts.amazonaws.com"},
        "StringLike": {SUB: ["repo:octo-org/octo-repo:ref:refs/tags/v*"]},
    }
    # No set operator anywhere, and aud always pinned with StringEquals.
    text = json.dumps(gen.policy)
    assert "ForAllValues" not in text and "ForAnyValue" not in text
    assert decide(gen.policy, sub="repo:octo-org/octo-repo:ref:refs/tags/v1.2.3")
    assert not decide(gen.policy, sub="repo:octo-org/octo-repo:ref:refs/tags/x1")
    assert decide(gen.policy, sub="repo:octo-org/octo-repo:pull_request")
    assert not decide(gen.policy, sub="repo:octo-org/octo-repo:ref:refs/heads/feature")


def test_job_workflow_ref_is_anded() -> None:
    ref = "octo-org/automation/.github/workflows/deploy.yml@" + "a" * 40
    gen = generate(GenerateOptions(repo="octo-org/octo-repo", job_workflow_refs=[ref]))
    [cond] = conditions(gen.policy)
    assert cond["StringEquals"][JWR] == [ref]
    assert decide(gen.policy, job_workflow_ref=ref)
    assert not decide(gen.policy, job_workflow_ref=ref.replace("deploy", "other"))
    assert not decide(gen.policy, job_workflow_ref=ref, sub="repo:octo-org/x:ref:refs/heads/main")
    findings = lint_policy(parse_policy_document(gen.policy, "g"))
    assert [f.rule for f in findings] == ["name-based-subject"]


def test_job_workflow_ref_on_a_branch_gets_a_note() -> None:
    code, _, err = run_cli(
        "generate",
        "--repo",
        "o/r",
        "--job-workflow-ref",
        "o/a/.github/workflows/d.yml@refs/heads/main",
    )
    assert code == 0 and "commit SHA" in err


def test_immutable_ids() -> None:
    gen = generate(
        GenerateOptions(
            repo="octo-org/octo-repo",
            immutable_ids="123456/7891011",
            environments=["Production:V1"],
        )
    )
    [cond] = conditions(gen.policy)
    assert cond["StringEquals"][SUB] == [
        "repo:octo-org@123456/octo-repo@7891011:environment:Production%3AV1"
    ]
    assert decide(
        gen.policy, sub="repo:octo-org@123456/octo-repo@7891011:environment:Production%3AV1"
    )
    assert lint_policy(parse_policy_document(gen.policy, "g")) == []


@pytest.mark.parametrize(
    ("partition", "audience"),
    [
        ("aws", "sts.amazonaws.com"),
        ("aws-cn", "sts.amazonaws.com.cn"),
        ("aws-us-gov", "sts.amazonaws.com"),
    ],
)
def test_partitions(partition: str, audience: str) -> None:
    gen = generate(GenerateOptions(repo="o/r", partition=partition, account="210987654321"))
    [stmt] = gen.policy["Statement"]
    assert stmt["Principal"]["Federated"] == (
        f"arn:{partition}:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"
    )
    assert stmt["Condition"]["StringEquals"][AUD] == audience
    assert f'client_id_list = ["{audience}"]' in gen.to_terraform()


@pytest.mark.parametrize(
    "argv",
    [
        ["--repo", "octo-org/*"],
        ["--repo", "octo-org"],
        ["--repo", "o/r", "--branch", "feature/*"],
        ["--repo", "o/r", "--branch", "refs/heads/main"],
        ["--repo", "o/r", "--environment", "prod*"],
        ["--repo", "o/r", "--tag", "refs/tags/v1"],
        ["--repo", "o/r", "--account", "123"],
        ["--repo", "o/r", "--immutable-ids", "abc/def"],
        ["--repo", "o/r", "--job-workflow-ref", "o/a/deploy.yml"],
        ["--repo", "o/r", "--role-name", "has space"],
    ],
)
def test_refuses_what_it_cannot_express_safely(argv: list[str]) -> None:
    code, out, err = run_cli("generate", *argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and "Traceback" not in err


def test_generate_error_is_a_trust_error() -> None:
    with pytest.raises(GenerateError):
        generate(GenerateOptions(repo="x"))


def test_policy_variable_characters_are_escaped() -> None:
    gen = generate(GenerateOptions(repo="o/r", branches=["a${b}"]))
    assert decide(gen.policy, sub="repo:o/r:ref:refs/heads/a${b}")
    assert '"repo:o/r:ref:refs/heads/a$${$}{b}"' in gen.to_terraform()


# --- the property: generated policies lint clean and allow exactly the subjects asked for ------

NAME = st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=12).filter(
    lambda s: not s.startswith("-") and not s.endswith("-")
)
REPO_NAME = st.text(string.ascii_letters + string.digits + "-_.", min_size=1, max_size=12).filter(
    lambda s: s not in (".", "..")
)
BRANCH = st.text(string.ascii_letters + string.digits + "-_./", min_size=1, max_size=16).filter(
    lambda s: not s.startswith(("/", "refs/"))
)
ENVIRONMENT = st.text(string.ascii_letters + string.digits + "-_ :", min_size=1, max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    owner=NAME,
    repo=REPO_NAME,
    branches=st.lists(BRANCH, max_size=3, unique=True),
    environments=st.lists(ENVIRONMENT, max_size=2, unique=True),
    pull_request=st.booleans(),
    immutable=st.booleans(),
)
def test_generated_policy_allows_exactly_the_subjects(
    owner: str,
    repo: str,
    branches: list[str],
    environments: list[str],
    pull_request: bool,
    immutable: bool,
) -> None:
    gen = generate(
        GenerateOptions(
            repo=f"{owner}/{repo}",
            branches=branches,
            environments=environments,
            pull_request=pull_request,
            immutable_ids="1/2" if immutable else None,
        )
    )
    doc = gen.policy
    findings = lint_policy(parse_policy_document(doc, "generated"))
    # Clean: name-based subjects are low (none with immutable ids); the one thing above low is
    # what --pull-request asks for: the exact pull_request subject (medium, and said on stderr).
    expected = ([] if immutable else [("name-based-subject", "low")]) + (
        [("subject-pull-request", "medium")] if pull_request else []
    )
    assert sorted((f.rule, f.severity) for f in findings) == sorted(expected), findings
    assert any(note.startswith("--pull-request:") for note in gen.notes) is pull_request

    prefix = f"repo:{owner}@1/{repo}@2" if immutable else f"repo:{owner}/{repo}"
    default = [] if branches or environments or pull_request else ["main"]
    asked = [f"{prefix}:ref:refs/heads/{b}" for b in branches + default]
    asked += [f"{prefix}:environment:{e.replace(':', '%3A')}" for e in environments]
    if pull_request:
        asked.append(f"{prefix}:pull_request")
    for sub in asked:
        assert decide(doc, sub=sub), sub
    # Neighbours: another repository, another owner, another branch, other events, wrong aud.
    first = asked[0]
    neighbours = [
        first.replace(f"/{repo}", f"/{repo}x", 1),
        first.replace(f"repo:{owner}", f"repo:{owner}x", 1),
        f"{prefix}:ref:refs/heads/" + "".join(branches) + "-other",
        f"{prefix}:ref:refs/tags/v1",
        f"{prefix}:environment:other-" + "".join(environments),
        f"{prefix}:ref:refs/heads/main-hotfix",
        f"{prefix}:ref:refs/heads/main",
    ]
    if not pull_request:
        neighbours.append(f"{prefix}:pull_request")
    if immutable:
        neighbours.append(first.replace(f"repo:{owner}@1/{repo}@2", f"repo:{owner}/{repo}"))
    for sub in neighbours:
        if sub not in asked:
            assert not decide(doc, sub=sub), sub
    assert not decide(doc, sub=first, aud="https://github.com/" + owner)


PREVIOUS = "arn:aws:iam::111122223333:role/deploy"


def _chained(*extra: str) -> dict[str, Any]:
    code, out, err = run_cli("generate", "--chained-from", PREVIOUS, *extra)
    assert code == 0, err
    assert "sts:AssumeRole" in err and "1 hour" in err  # the caller's side and the chain limit
    parsed: dict[str, Any] = json.loads(out)
    return parsed


def _allows(doc: Policy, role: str, action: str) -> bool:
    return evaluate(doc, Request.from_role(role, action)).allowed


@pytest.mark.parametrize("source_identity", [False, True])
def test_chained_from_allows_exactly_the_previous_role_with_tag_session(
    source_identity: bool,
) -> None:
    doc = parse_policy_document(
        _chained(*(["--source-identity"] if source_identity else [])), "chained"
    )
    for action in ("sts:AssumeRole", "sts:TagSession"):
        assert _allows(doc, PREVIOUS, action), action
    assert _allows(doc, PREVIOUS, "sts:SetSourceIdentity") is source_identity
    for other in (
        "arn:aws:iam::111122223333:role/deploy-x",
        "arn:aws:iam::111122223333:role/other",
        "arn:aws:iam::444455556666:role/deploy",
    ):
        assert not _allows(doc, other, "sts:AssumeRole"), other
    for action in ("sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML", "iam:PassRole"):
        assert not _allows(doc, PREVIOUS, action), action
    # GitHub's token cannot use it directly: the chain must go through the previous role.
    assert not evaluate(doc, Request.from_claims(claims())).allowed


def test_chained_from_terraform_reads_back_to_the_same_decisions(tmp_path: Path) -> None:
    code, out, _ = run_cli(
        "generate", "--chained-from", PREVIOUS, "--source-identity", "--format", "terraform"
    )
    assert code == 0
    assert 'type        = "AWS"' in out and "oidc-provider" not in out
    [read] = parse_terraform(out, "chained.tf").policies
    assert read.unresolved == ()
    for action in ("sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"):
        assert _allows(read.policy, PREVIOUS, action), action
    assert not _allows(read.policy, "arn:aws:iam::111122223333:role/other", "sts:AssumeRole")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--chained-from", "deploy"], "expected the ARN of the role"),
        (["--chained-from", "arn:aws:iam::111122223333:user/deploy"], "expected the ARN"),
        (["--chained-from", PREVIOUS, "--branch", "main"], "--branch"),
        (["--chained-from", PREVIOUS, "--account", "111122223333"], "--account"),
        (["--chained-from", PREVIOUS, "--partition", "aws-cn"], "does not match the partition"),
        (["--repo", "o/r", "--source-identity"], "use it with --chained-from"),
    ],
)
def test_chained_from_refuses_what_it_would_ignore(argv: list[str], needle: str) -> None:
    code, out, err = run_cli("generate", *argv)
    assert code == 2 and out == ""
    assert needle in err, err


def test_chained_from_and_repo_are_exclusive() -> None:
    assert run_cli("generate", "--repo", "o/r", "--chained-from", PREVIOUS)[0] == 2
    assert run_cli("generate")[0] == 2
