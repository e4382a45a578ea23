"""The offline IAM evaluator against a table of policy x claims cases (sts-oidc-facts 5.4, 5.5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from py_aws_oidc.trust.evaluate import Request, evaluate, wildcard_match
from py_aws_oidc.trust.policy import parse_policy_document
from tests.trust.helpers import AUD, GH, JWR, MAIN, SUB, K, claims, policy, statement

ENV = K + "environment"
PR = "repo:octo-org/octo-repo:pull_request"
OTHER_REPO_PR = "repo:octo-org/anything:pull_request"


@dataclass
class Case:
    id: str
    policy: dict[str, Any]
    claims: dict[str, Any]
    expect: str  # "allow" | "deny"
    kind: str | None = None  # the decision kind when it matters
    statement: int | None = None  # index of the deciding statement
    failed_key: str | None = None  # key of the deciding condition (deny) when it matters
    context: dict[str, Any] = field(default_factory=dict)  # extra request keys (aws:...)
    provider_arn: str | None = None


def allow(cond: dict[str, Any] | None, **kw: Any) -> dict[str, Any]:
    return policy(statement(cond, **kw))


def pinned(extra: dict[str, Any]) -> dict[str, Any]:
    """An Allow with sub pinned to main and aud pinned, plus ``extra`` operator blocks."""
    cond: dict[str, Any] = {"StringEquals": {SUB: MAIN, AUD: "sts.amazonaws.com"}}
    for op, block in extra.items():
        cond.setdefault(op, {}).update(block)
    return allow(cond)


C = claims()
CASES: list[Case] = [
    # --- StringEquals / StringLike basics -------------------------------------------------
    Case("equals-exact", allow({"StringEquals": {SUB: MAIN}}), C, "allow", "allow", 0),
    Case(
        "equals-other-branch",
        allow({"StringEquals": {SUB: MAIN}}),
        claims(sub="repo:octo-org/octo-repo:ref:refs/heads/feature-x"),
        "deny",
        "implicit-deny",
        0,
        SUB,
    ),
    Case("equals-star-is-literal", allow({"StringEquals": {SUB: "repo:octo-org/*"}}), C, "deny"),
    Case("equals-lone-star-is-literal", allow({"StringEquals": {SUB: "*"}}), C, "deny"),
    Case(
        "equals-matches-literal-star",
        allow({"StringEquals": {SUB: "repo:octo-org/*"}}),
        claims(sub="repo:octo-org/*"),
        "allow",
    ),
    Case(
        "like-org-wildcard-spans-slash-and-colon",
        allow({"StringLike": {SUB: "repo:octo-org/*"}}),
        C,
        "allow",
    ),
    Case("like-lone-star", allow({"StringLike": {SUB: "*"}}), C, "allow"),
    Case("like-repo-star", allow({"StringLike": {SUB: "repo:*"}}), C, "allow"),
    Case(
        "like-repo-wide-admits-pull-request",
        allow({"StringLike": {SUB: "repo:octo-org/octo-repo:*"}}),
        claims(sub=PR),
        "allow",
    ),
    Case("like-star-matches-empty", allow({"StringLike": {SUB: MAIN + "*"}}), C, "allow"),
    Case(
        "like-prefix-collision",
        allow({"StringLike": {SUB: MAIN + "*"}}),
        claims(sub=MAIN + "-hotfix"),
        "allow",
    ),
    Case(
        "like-star-spans-nested-branch",
        allow({"StringLike": {SUB: "repo:octo-org/octo-repo:ref:refs/heads/*"}}),
        claims(sub="repo:octo-org/octo-repo:ref:refs/heads/feature/x"),
        "allow",
    ),
    Case(
        "like-star-spans-colon", allow({"StringLike": {SUB: "*:ref:refs/heads/main"}}), C, "allow"
    ),
    Case("like-stars-both-ends-empty", allow({"StringLike": {SUB: "*" + MAIN + "*"}}), C, "allow"),
    Case(
        "like-question-one-char",
        allow({"StringLike": {SUB: "repo:octo-org/octo-repo:ref:refs/heads/mai?"}}),
        C,
        "allow",
    ),
    Case(
        "like-question-not-zero-chars",
        allow({"StringLike": {SUB: "repo:octo-org/octo-repo:ref:refs/heads/main?"}}),
        C,
        "deny",
    ),
    Case(
        "like-question-not-two-chars",
        allow({"StringLike": {SUB: "repo:octo-org/octo-repo:ref:refs/heads/ma?"}}),
        C,
        "deny",
    ),
    Case("like-lone-question-vs-long-value", allow({"StringLike": {SUB: "?"}}), C, "deny"),
    Case(
        "like-no-bracket-classes",
        allow({"StringLike": {SUB: "repo:octo-org/octo-repo:ref:refs/heads/[m]ain"}}),
        C,
        "deny",
    ),
    Case(
        "like-brackets-are-literal",
        allow({"StringLike": {SUB: "repo:octo-org/octo-repo:ref:refs/heads/[m]ain"}}),
        claims(sub="repo:octo-org/octo-repo:ref:refs/heads/[m]ain"),
        "allow",
    ),
    Case(
        "like-without-wildcard-is-exact",
        allow({"StringLike": {SUB: "repo:octo-org/octo-repo"}}),
        C,
        "deny",
    ),
    # --- case sensitivity of values ---------------------------------------------------------
    Case("like-value-case-sensitive", allow({"StringLike": {SUB: "repo:Octo-Org/*"}}), C, "deny"),
    Case(
        "equals-value-case-sensitive",
        allow({"StringEquals": {SUB: MAIN}}),
        claims(sub=MAIN.replace("octo-org", "Octo-Org")),
        "deny",
    ),
    Case("equals-ignore-case", allow({"StringEqualsIgnoreCase": {SUB: MAIN.upper()}}), C, "allow"),
    Case(
        "not-equals-ignore-case-nor",
        pinned({"StringNotEqualsIgnoreCase": {K + "actor": "OCTOCAT"}}),
        C,
        "deny",
    ),
    # --- key names are case-insensitive -----------------------------------------------------
    Case("key-name-upper", allow({"StringEquals": {SUB.upper(): MAIN}}), C, "allow"),
    Case("key-name-mixed", allow({"StringEquals": {K + "Sub": MAIN}}), C, "allow"),
    # --- OR across values, AND across keys and operators ------------------------------------
    Case(
        "or-values-second-matches",
        allow({"StringEquals": {SUB: ["repo:octo-org/other:ref:refs/heads/main", MAIN]}}),
        C,
        "allow",
    ),
    Case(
        "or-values-none-match",
        allow(
            {
                "StringEquals": {
                    SUB: [
                        "repo:octo-org/a:ref:refs/heads/main",
                        "repo:octo-org/b:ref:refs/heads/main",
                    ]
                }
            }
        ),
        C,
        "deny",
    ),
    Case(
        "or-poisoned-list-admits-org",
        allow({"StringLike": {SUB: [MAIN, "repo:octo-org/*"]}}),
        claims(sub=OTHER_REPO_PR),
        "allow",
    ),
    Case(
        "and-keys-both-true",
        allow({"StringEquals": {SUB: MAIN, AUD: "sts.amazonaws.com"}}),
        C,
        "allow",
    ),
    Case(
        "and-keys-aud-wrong",
        allow({"StringEquals": {SUB: MAIN, AUD: "sts.amazonaws.com"}}),
        claims(aud="https://github.com/octo-org"),
        "deny",
        "implicit-deny",
        0,
        AUD,
    ),
    Case(
        "and-operators-one-false",
        allow(
            {
                "StringEquals": {AUD: "sts.amazonaws.com"},
                "StringLike": {SUB: "repo:octo-org/other:*"},
            }
        ),
        C,
        "deny",
        None,
        0,
        SUB,
    ),
    Case(
        "and-operators-both-true",
        allow(
            {
                "StringEquals": {AUD: "sts.amazonaws.com"},
                "StringLike": {SUB: "repo:octo-org/octo-repo:*"},
            }
        ),
        C,
        "allow",
    ),
    Case(
        "aud-list-any-value",
        allow({"StringEquals": {AUD: "sts.amazonaws.com"}}),
        claims(aud=["x", "sts.amazonaws.com"]),
        "allow",
    ),
    # --- missing keys, per operator family ----------------------------------------------------
    Case("missing-string-equals", pinned({"StringEquals": {ENV: "prod"}}), C, "deny", None, 0, ENV),
    Case("missing-string-like", pinned({"StringLike": {ENV: "prod*"}}), C, "deny"),
    Case("missing-string-not-equals", pinned({"StringNotEquals": {ENV: "prod"}}), C, "allow"),
    Case("missing-string-not-like", pinned({"StringNotLike": {ENV: "prod*"}}), C, "allow"),
    Case("missing-if-exists", pinned({"StringEqualsIfExists": {ENV: "prod"}}), C, "allow"),
    Case(
        "present-if-exists-mismatch",
        pinned({"StringEqualsIfExists": {ENV: "prod"}}),
        claims(environment="staging"),
        "deny",
    ),
    Case(
        "present-if-exists-match",
        pinned({"StringEqualsIfExists": {ENV: "prod"}}),
        claims(environment="prod"),
        "allow",
    ),
    Case("missing-numeric", pinned({"NumericEquals": {"aws:MultiFactorAuthAge": 5}}), C, "deny"),
    Case(
        "missing-numeric-negated",
        pinned({"NumericNotEquals": {"aws:MultiFactorAuthAge": 5}}),
        C,
        "allow",
    ),
    Case(
        "missing-numeric-if-exists",
        pinned({"NumericLessThanIfExists": {"aws:MultiFactorAuthAge": 5}}),
        C,
        "allow",
    ),
    Case(
        "missing-date",
        pinned({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}),
        C,
        "deny",
    ),
    Case(
        "missing-date-negated",
        pinned({"DateNotEquals": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}),
        C,
        "allow",
    ),
    Case("missing-bool", pinned({"Bool": {"aws:SecureTransport": "true"}}), C, "deny"),
    Case(
        "missing-bool-if-exists",
        pinned({"BoolIfExists": {"aws:SecureTransport": "true"}}),
        C,
        "allow",
    ),
    Case("missing-arn-like", pinned({"ArnLike": {"aws:SourceArn": "arn:aws:*"}}), C, "deny"),
    Case(
        "missing-arn-not-like", pinned({"ArnNotLike": {"aws:SourceArn": "arn:aws:*"}}), C, "allow"
    ),
    Case(
        "missing-ip-address", pinned({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}), C, "deny"
    ),
    Case(
        "missing-not-ip-address",
        pinned({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
        C,
        "allow",
    ),
    # --- Null ------------------------------------------------------------------------------
    Case("null-true-absent", pinned({"Null": {ENV: "true"}}), C, "allow"),
    Case("null-false-absent", pinned({"Null": {ENV: "false"}}), C, "deny"),
    Case("null-false-present", pinned({"Null": {SUB: "false"}}), C, "allow"),
    Case("null-true-present", pinned({"Null": {SUB: "true"}}), C, "deny"),
    Case("null-bool-value", pinned({"Null": {ENV: True}}), C, "allow"),
    # --- set operators ------------------------------------------------------------------------
    Case(
        "forall-absent-vacuous",
        pinned({"ForAllValues:StringEquals": {ENV: "Production"}}),
        C,
        "allow",
    ),
    Case(
        "forany-absent-false", pinned({"ForAnyValue:StringEquals": {ENV: "Production"}}), C, "deny"
    ),
    Case(
        "forall-present-listed",
        pinned({"ForAllValues:StringEquals": {ENV: ["Production", "Staging"]}}),
        claims(environment="Production"),
        "allow",
    ),
    Case(
        "forall-present-unlisted",
        pinned({"ForAllValues:StringEquals": {ENV: ["Production", "Staging"]}}),
        claims(environment="Sandbox"),
        "deny",
    ),
    Case(
        "forall-does-not-tighten-poisoned-list",
        allow({"ForAllValues:StringLike": {SUB: [MAIN, "repo:octo-org/*"]}}),
        claims(sub=OTHER_REPO_PR),
        "allow",
    ),
    Case(
        "forany-poisoned-list",
        allow({"ForAnyValue:StringLike": {SUB: [MAIN, "repo:octo-org/*"]}}),
        claims(sub=OTHER_REPO_PR),
        "allow",
    ),
    Case(
        "forall-multivalued-all-must-match",
        allow({"ForAllValues:StringEquals": {AUD: "sts.amazonaws.com"}}),
        claims(aud=["sts.amazonaws.com", "other"]),
        "deny",
    ),
    Case(
        "forany-multivalued-one-suffices",
        allow({"ForAnyValue:StringEquals": {AUD: "sts.amazonaws.com"}}),
        claims(aud=["sts.amazonaws.com", "other"]),
        "allow",
    ),
    Case("forany-negated-absent", pinned({"ForAnyValue:StringNotEquals": {ENV: "x"}}), C, "deny"),
    Case("forall-negated-absent", pinned({"ForAllValues:StringNotEquals": {ENV: "x"}}), C, "allow"),
    Case(
        "forall-seed-article-missing-sub",
        allow({"ForAllValues:StringEquals": {SUB: MAIN, AUD: "sts.amazonaws.com"}}),
        claims(sub=None),
        "allow",
    ),
    # --- NOR for negated operators ------------------------------------------------------------
    Case(
        "nor-one-listed-value-matches",
        allow({"StringNotEquals": {SUB: [MAIN, "repo:x/y:pull_request"]}}),
        C,
        "deny",
    ),
    Case(
        "nor-no-listed-value-matches",
        allow(
            {"StringNotEquals": {SUB: ["repo:a/b:ref:refs/heads/main", "repo:x/y:pull_request"]}}
        ),
        C,
        "allow",
    ),
    Case(
        "negated-in-allow-admits-rest", allow({"StringNotLike": {SUB: "repo:evil/*"}}), C, "allow"
    ),
    Case(
        "nor-like-second-value-matches",
        allow({"StringNotLike": {SUB: ["repo:evil/*", "repo:octo-org/*"]}}),
        C,
        "deny",
    ),
    # --- other operator families with present keys --------------------------------------------
    Case(
        "value-number-compared-as-string",
        pinned({"StringEquals": {K + "repository_id": 7891011}}),
        C,
        "allow",
    ),
    Case(
        "claim-number-compared-as-string",
        pinned({"StringEquals": {K + "repository_id": "42"}}),
        claims(repository_id=42),
        "allow",
    ),
    Case(
        "bool-json-true",
        pinned({"Bool": {"aws:SecureTransport": True}}),
        C,
        "allow",
        context={"aws:SecureTransport": "true"},
    ),
    Case(
        "bool-json-false",
        pinned({"Bool": {"aws:SecureTransport": False}}),
        C,
        "deny",
        context={"aws:SecureTransport": "true"},
    ),
    Case(
        "numeric-less-than", pinned({"NumericLessThan": {K + "repository_id": 8000000}}), C, "allow"
    ),
    Case(
        "numeric-greater-than",
        pinned({"NumericGreaterThan": {K + "repository_id": "8000000"}}),
        C,
        "deny",
    ),
    Case(
        "date-less-than",
        pinned({"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}),
        C,
        "allow",
        context={"aws:CurrentTime": "2026-06-01T12:00:00Z"},
    ),
    Case(
        "date-epoch",
        pinned({"DateGreaterThan": {"aws:EpochTime": "1700000000"}}),
        C,
        "allow",
        context={"aws:EpochTime": "1800000000"},
    ),
    Case(
        "ip-in-range",
        pinned({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
        C,
        "allow",
        context={"aws:SourceIp": "203.0.113.9"},
    ),
    Case(
        "ip-not-in-range",
        pinned({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
        C,
        "deny",
        context={"aws:SourceIp": "203.0.113.9"},
    ),
    Case(
        "arn-like-components",
        pinned({"ArnLike": {"aws:SourceArn": "arn:aws:iam::*:role/*"}}),
        C,
        "allow",
        context={"aws:SourceArn": "arn:aws:iam::123456789012:role/deploy"},
    ),
    Case(
        "arn-equals-other-account",
        pinned({"ArnEquals": {"aws:SourceArn": "arn:aws:iam::111111111111:role/deploy"}}),
        C,
        "deny",
        context={"aws:SourceArn": "arn:aws:iam::123456789012:role/deploy"},
    ),
    # --- unsupported claims are absent --------------------------------------------------------
    Case(
        "unsupported-claim-positive",
        pinned({"StringEquals": {K + "event_name": "push"}}),
        C,
        "deny",
    ),
    Case(
        "unsupported-claim-negated",
        pinned({"StringNotEquals": {K + "event_name": "pull_request"}}),
        claims(event_name="pull_request"),
        "allow",
    ),
    Case(
        "supported-reusable-workflow-key",
        pinned(
            {"StringEquals": {JWR: "octo-org/octo-repo/.github/workflows/ci.yml@refs/heads/main"}}
        ),
        C,
        "allow",
    ),
    # --- Deny wins, several Allow statements --------------------------------------------------
    Case(
        "deny-wins",
        policy(
            statement({"StringEquals": {SUB: MAIN}}),
            statement({"StringEquals": {SUB: MAIN}}, effect="Deny", sid="NoMain"),
        ),
        C,
        "deny",
        "explicit-deny",
        1,
    ),
    Case(
        "deny-pull-requests",
        policy(
            statement({"StringLike": {SUB: "repo:octo-org/octo-repo:*"}}),
            statement({"StringLike": {SUB: "*:pull_request"}}, effect="Deny"),
        ),
        claims(sub=PR),
        "deny",
        "explicit-deny",
        1,
    ),
    Case(
        "deny-not-applying",
        policy(
            statement({"StringLike": {SUB: "repo:octo-org/octo-repo:*"}}),
            statement({"StringLike": {SUB: "*:pull_request"}}, effect="Deny"),
        ),
        C,
        "allow",
        "allow",
        0,
    ),
    Case(
        "deny-negated-guard",
        policy(
            statement({"StringLike": {SUB: "repo:octo-org/*"}}),
            statement({"StringNotEquals": {K + "repository_id": "7891011"}}, effect="Deny"),
        ),
        claims(repository_id="999"),
        "deny",
        "explicit-deny",
        1,
    ),
    Case(
        "second-allow-permissive",
        policy(
            statement({"StringEquals": {SUB: MAIN}}, sid="Strict"),
            statement({"StringLike": {SUB: "repo:octo-org/*"}}, sid="Loose"),
        ),
        claims(sub=OTHER_REPO_PR),
        "allow",
        "allow",
        1,
    ),
    Case(
        "closest-allow-fewest-failures",
        policy(
            statement({"StringEquals": {SUB: "repo:a/b:pull_request", AUD: "x"}}),
            statement({"StringEquals": {SUB: "repo:a/b:pull_request", AUD: "sts.amazonaws.com"}}),
        ),
        C,
        "deny",
        "implicit-deny",
        1,
        SUB,
    ),
    Case(
        "no-allow-statement",
        policy(statement({"StringEquals": {SUB: "x"}}, effect="Deny")),
        C,
        "deny",
        "implicit-deny",
    ),
    # --- principal and action -----------------------------------------------------------------
    Case(
        "action-assume-role-never-matches",
        allow({"StringEquals": {SUB: MAIN}}, action="sts:AssumeRole"),
        C,
        "deny",
        "implicit-deny",
        0,
    ),
    Case("action-wildcard", allow({"StringEquals": {SUB: MAIN}}, action="sts:*"), C, "allow"),
    Case(
        "action-case-insensitive",
        allow({"StringEquals": {SUB: MAIN}}, action=["STS:assumerolewithwebidentity"]),
        C,
        "allow",
    ),
    Case(
        "not-action", allow({"StringEquals": {SUB: MAIN}}, not_action="sts:AssumeRole"), C, "allow"
    ),
    Case(
        "principal-other-provider",
        allow(
            {"StringEquals": {SUB: MAIN}},
            principal={"Federated": "arn:aws:iam::123456789012:oidc-provider/gitlab.com"},
        ),
        C,
        "deny",
    ),
    Case(
        "principal-any-account-and-partition",
        allow(
            {"StringEquals": {SUB: MAIN}},
            principal={
                "Federated": [
                    "arn:aws-cn:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"
                ]
            },
        ),
        C,
        "allow",
    ),
    Case("principal-star", allow({"StringEquals": {SUB: MAIN}}, principal="*"), C, "allow"),
    Case(
        "principal-given-arn-matches",
        allow({"StringEquals": {SUB: MAIN}}),
        C,
        "allow",
        provider_arn=GH,
    ),
    Case(
        "principal-given-arn-other-account",
        allow({"StringEquals": {SUB: MAIN}}),
        C,
        "deny",
        provider_arn=GH.replace("123456789012", "210987654321"),
    ),
    # --- issuers: enterprise and GHES prefixes ------------------------------------------------
    Case(
        "enterprise-issuer-default-keys-absent",
        allow(
            {"StringEquals": {SUB: MAIN}},
            principal={
                "Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com/acme"
            },
        ),
        claims(iss="https://token.actions.githubusercontent.com/acme"),
        "deny",
    ),
    Case(
        "enterprise-issuer-own-keys",
        allow(
            {"StringEquals": {"token.actions.githubusercontent.com/acme:sub": MAIN}},
            principal={
                "Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com/acme"
            },
        ),
        claims(iss="https://token.actions.githubusercontent.com/acme"),
        "allow",
    ),
    Case(
        "enterprise-issuer-needs-its-provider",
        allow({"StringEquals": {"token.actions.githubusercontent.com/acme:sub": MAIN}}),
        claims(iss="https://token.actions.githubusercontent.com/acme"),
        "deny",
    ),
    Case(
        "ghes-issuer",
        allow(
            {"StringEquals": {"ghes.example.com/_services/token:sub": MAIN}},
            principal={
                "Federated": "arn:aws:iam::123456789012:oidc-provider/ghes.example.com/_services/token"
            },
        ),
        claims(iss="https://ghes.example.com/_services/token"),
        "allow",
    ),
    # --- GitHub subject formats ---------------------------------------------------------------
    Case(
        "immutable-sub-vs-name-policy",
        allow({"StringEquals": {SUB: MAIN}}),
        claims(sub="repo:octo-org@123456/octo-repo@7891011:ref:refs/heads/main"),
        "deny",
    ),
    Case(
        "immutable-sub-exact",
        allow(
            {"StringEquals": {SUB: "repo:octo-org@123456/octo-repo@7891011:ref:refs/heads/main"}}
        ),
        claims(sub="repo:octo-org@123456/octo-repo@7891011:ref:refs/heads/main"),
        "allow",
    ),
    Case(
        "custom-sub-breaks-default-pattern",
        allow({"StringLike": {SUB: "repo:octo-org/octo-repo:*"}}),
        claims(sub="job_workflow_ref:octo-org/auto/.github/workflows/oidc.yml@refs/heads/main"),
        "deny",
    ),
    Case(
        "environment-colon-encoded",
        allow({"StringEquals": {SUB: "repo:octo-org/octo-repo:environment:Production:V1"}}),
        claims(sub="repo:octo-org/octo-repo:environment:Production%3AV1"),
        "deny",
    ),
    Case(
        "environment-sub-vs-branch-pin",
        allow({"StringEquals": {SUB: MAIN}}),
        claims(sub="repo:octo-org/octo-repo:environment:prod", environment="prod"),
        "deny",
    ),
    # --- policy variables (Version 2012-10-17 only) -------------------------------------------
    Case(
        "variable-substituted",
        allow({"StringLike": {SUB: "repo:${token.actions.githubusercontent.com:repository}:*"}}),
        C,
        "allow",
    ),
    Case(
        "variable-literal-under-2008",
        policy(
            statement(
                {"StringLike": {SUB: "repo:${token.actions.githubusercontent.com:repository}:*"}}
            ),
            version="2008-10-17",
        ),
        C,
        "deny",
    ),
    Case(
        "variable-missing-key-never-matches",
        allow({"StringLike": {SUB: "repo:${token.actions.githubusercontent.com:nope}*"}}),
        C,
        "deny",
    ),
    Case(
        "variable-default",
        allow({"StringEquals": {SUB: "repo:octo-org/octo-repo:ref:refs/heads/${aws:foo, 'main'}"}}),
        C,
        "allow",
    ),
    Case(
        "variable-escaped-dollar",
        allow({"StringEquals": {SUB: "repo:o/r:ref:refs/heads/a${$}{b}"}}),
        claims(sub="repo:o/r:ref:refs/heads/a${b}"),
        "allow",
    ),
    Case(
        "variable-escaped-star-is-literal",
        allow({"StringLike": {SUB: "repo:o/r:ref:refs/heads/${*}"}}),
        claims(sub="repo:o/r:ref:refs/heads/main"),
        "deny",
    ),
    # --- no condition at all --------------------------------------------------------------------
    Case(
        "no-condition-any-repo", allow(None), claims(sub="repo:evil/x:ref:refs/heads/main"), "allow"
    ),
]


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_decision(case: Case) -> None:
    parsed = parse_policy_document(case.policy, case.id)
    request = Request.from_claims(
        case.claims, provider_arn=case.provider_arn, extra_context=case.context
    )
    decision = evaluate(parsed, request)
    assert ("allow" if decision.allowed else "deny") == case.expect, decision.reason
    if case.kind is not None:
        assert decision.kind == case.kind
    if case.statement is not None:
        assert decision.statement is not None
        assert decision.statement.index == case.statement
    if case.failed_key is not None:
        assert decision.condition is not None
        assert decision.condition.condition.key == case.failed_key
        assert decision.condition.passed is (case.expect == "allow")


def test_allow_names_the_sub_condition() -> None:
    parsed = parse_policy_document(
        allow({"StringEquals": {AUD: "sts.amazonaws.com"}, "StringLike": {SUB: "repo:octo-org/*"}}),
        "p",
    )
    decision = evaluate(parsed, Request.from_claims(claims()))
    assert decision.allowed and decision.condition is not None
    assert decision.condition.condition.key == SUB
    assert decision.condition.condition.operator.text == "StringLike"


def test_deny_names_first_failing_condition_of_closest_allow() -> None:
    parsed = parse_policy_document(
        allow(
            {
                "StringEquals": {AUD: "sts.amazonaws.com", SUB: "repo:o/r:pull_request"},
                "StringLike": {K + "ref": "refs/tags/*"},
            }
        ),
        "p",
    )
    decision = evaluate(parsed, Request.from_claims(claims()))
    assert decision.kind == "implicit-deny"
    assert decision.condition is not None
    assert decision.condition.condition.key == SUB  # the first false one, in document order
    assert decision.condition.request_values == (MAIN,)
    assert "matches none of" in decision.condition.reason


def test_deny_for_wrong_action_names_the_statement_not_a_condition() -> None:
    parsed = parse_policy_document(
        allow({"StringEquals": {SUB: MAIN}}, action="sts:AssumeRole"), "p"
    )
    decision = evaluate(parsed, Request.from_claims(claims()))
    assert decision.condition is None
    assert "sts:AssumeRole" in decision.reason


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("*", "", True),
        ("a*b", "ab", True),
        ("a*b", "a/x:y/b", True),
        ("a?b", "ab", False),
        ("a?b", "a/b", True),
        ("a.b", "axb", False),  # regex metacharacters are literal
        ("a+", "aa", False),
        ("[ab]", "a", False),
        ("[ab]", "[ab]", True),
        ("x\\*", "x\\anything", True),  # no backslash escapes either
        ("a*", "a\nb", True),
    ],
)
def test_wildcard_semantics(pattern: str, value: str, expected: bool) -> None:
    assert wildcard_match(pattern, value) is expected
