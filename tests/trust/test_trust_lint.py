"""``trust lint``: every rule fires on a policy that has the problem and not on a near miss."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from py_aws_oidc.trust.evaluate import Request, evaluate
from py_aws_oidc.trust.lint import RULES, Finding, exit_code, lint_policy
from py_aws_oidc.trust.policy import parse_policy_document, parse_policy_text
from tests.trust.helpers import (
    AUD,
    GH,
    JWR,
    MAIN,
    SUB,
    K,
    claims,
    policy,
    run_cli,
    statement,
    write_json,
)

SHA = "0123456789abcdef0123456789abcdef01234567"
JWR_SHA = f"octo-org/automation/.github/workflows/deploy.yml@{SHA}"
ACME = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com/acme"


def good(**extra: Any) -> dict[str, Any]:
    """aud pinned, sub pinned exactly (immutable form: no findings at all), plus ``extra`` blocks."""
    cond: dict[str, Any] = {
        "StringEquals": {
            AUD: "sts.amazonaws.com",
            SUB: "repo:octo-org@123456/octo-repo@7891011:ref:refs/heads/main",
        }
    }
    for op, block in extra.items():
        cond.setdefault(op, {}).update(block)
    return policy(statement(cond))


def with_sub(operator: str, values: Any, **kw: Any) -> dict[str, Any]:
    """aud pinned (and nothing that narrows the sub: an AND-ed repository or owner pin would)
    plus ``values`` on sub."""
    cond: dict[str, Any] = {"StringEquals": {AUD: "sts.amazonaws.com"}}
    cond.setdefault(operator, {})[SUB] = values
    return policy(statement(cond, **kw))


def findings_for(doc: dict[str, Any]) -> list[Finding]:
    return lint_policy(parse_policy_document(doc, "policy.json"))


def rules_of(findings: list[Finding]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in findings:
        out.setdefault(f.rule, set()).add(f.severity)
    return out


@dataclass
class RuleCase:
    rule: str
    severity: str
    trigger: dict[str, Any]
    near_miss: dict[str, Any]
    id: str = ""


CASES: list[RuleCase] = [
    RuleCase(
        "no-subject-condition",
        "critical",
        policy(statement({"StringEquals": {AUD: "sts.amazonaws.com"}})),
        good(),
        "aud-only",
    ),
    RuleCase(
        "no-subject-condition",
        "critical",
        policy(
            statement(
                {"StringEquals": {AUD: "sts.amazonaws.com"}, "StringNotLike": {SUB: "repo:evil/*"}}
            )
        ),
        policy(statement({"StringEquals": {AUD: "sts.amazonaws.com", JWR: JWR_SHA}})),
        "negated-only-vs-jwr-pin",
    ),
    RuleCase(
        "subject-any-repository",
        "critical",
        with_sub("StringLike", "repo:*"),
        with_sub("StringLike", "repo:octo-org/octo-repo:ref:refs/heads/main"),
        "repo-star",
    ),
    RuleCase(
        "subject-any-repository",
        "critical",
        with_sub("StringLike", "*"),
        with_sub("StringEquals", MAIN),
        "star",
    ),
    RuleCase(
        "subject-any-repository",
        "critical",
        with_sub("StringLike", "repo:octo-org*/octo-repo*:ref:refs/heads/main"),
        with_sub("StringLike", "repo:octo-org/octo-repo*:ref:refs/heads/main"),
        "owner-prefix",
    ),
    RuleCase(
        "subject-any-repository",
        "critical",
        with_sub("StringEquals", "environment:prod"),
        with_sub("StringEquals", "repository:octo-org/octo-repo:environment:prod"),
        "custom-without-repo",
    ),
    RuleCase(
        "principal-wildcard",
        "critical",
        policy(statement({"StringEquals": {SUB: MAIN}}, principal="*")),
        policy(statement({"StringEquals": {SUB: MAIN}})),
        "star",
    ),
    RuleCase(
        "principal-wildcard",
        "critical",
        policy(statement({"StringEquals": {SUB: MAIN}}, principal={"AWS": "*"})),
        policy(
            statement(
                {"StringEquals": {SUB: MAIN}}, principal={"AWS": "arn:aws:iam::123456789012:root"}
            ),
            statement({"StringEquals": {SUB: MAIN}}),
        ),
        "aws-star",
    ),
    RuleCase(
        "subject-org-wide",
        "high",
        with_sub("StringLike", "repo:octo-org/*"),
        with_sub("StringLike", "repo:octo-org/octo-repo:ref:refs/heads/main"),
        "org-star",
    ),
    RuleCase(
        "subject-org-wide",
        "high",
        with_sub("StringEquals", "repository_owner:octo-org:environment:prod"),
        with_sub("StringEquals", "repository_owner:octo-org:repository:octo-org/x"),
        "custom-owner-only",
    ),
    RuleCase(
        "set-operator-single-valued",
        "high",
        policy(statement({"ForAllValues:StringEquals": {SUB: MAIN, AUD: "sts.amazonaws.com"}})),
        policy(statement({"StringEquals": {SUB: MAIN, AUD: "sts.amazonaws.com"}})),
        "seed",
    ),
    RuleCase(
        "set-operator-single-valued",
        "high",
        good(**{"ForAnyValue:StringEquals": {K + "environment": "prod"}}),
        good(StringEquals={K + "environment": "prod"}),
        "forany-env",
    ),
    RuleCase(
        "negated-or-ifexists-identity",
        "high",
        policy(
            statement(
                {
                    "StringEquals": {AUD: "sts.amazonaws.com", JWR: JWR_SHA},
                    "StringNotLike": {SUB: "repo:evil/*"},
                }
            )
        ),
        policy(
            statement({"StringEquals": {SUB: MAIN, AUD: "sts.amazonaws.com"}}),
            statement({"StringNotLike": {SUB: "repo:octo-org/*"}}, effect="Deny"),
        ),
        "negated",
    ),
    RuleCase(
        # philips-labs' deny_pull_request: the StringNotLike is AND-ed with a positive pin on
        # the same key, so it only narrows what that pin admits.
        "negated-or-ifexists-identity",
        "high",
        policy(
            statement(
                {
                    "StringEquals": {AUD: "sts.amazonaws.com"},
                    "StringLikeIfExists": {SUB: "repo:octo-org/octo-repo:*"},
                    "StringNotLike": {SUB: "repo:octo-org/octo-repo:pull_request"},
                }
            )
        ),
        policy(
            statement(
                {
                    "StringEquals": {AUD: "sts.amazonaws.com"},
                    "StringLike": {SUB: "repo:octo-org/octo-repo:*"},
                    "StringNotLike": {SUB: "repo:octo-org/octo-repo:pull_request"},
                }
            )
        ),
        "negated-next-to-a-positive-pin",
    ),
    RuleCase(
        "subject-any-repository",
        "critical",
        with_sub("StringLike", "repo:*:environment:develop"),
        policy(
            statement(
                {
                    "StringEquals": {AUD: "sts.amazonaws.com", K + "repository": "acme/shop"},
                    "StringLike": {SUB: "repo:*:environment:develop"},
                }
            )
        ),
        "repository-key-pins-the-owner-wildcard",
    ),
    RuleCase(
        # An owner pin leaves the owner's repositories: org-wide, not any repository.
        "subject-any-repository",
        "critical",
        with_sub("StringLike", "repo:*:ref:refs/heads/main"),
        policy(
            statement(
                {
                    "StringEquals": {AUD: "sts.amazonaws.com", K + "repository_owner_id": "1"},
                    "StringLike": {SUB: "repo:*:ref:refs/heads/main"},
                }
            )
        ),
        "repository-owner-key-pins-the-owner",
    ),
    RuleCase(
        "subject-any-repository",
        "critical",
        with_sub("StringLike", "repo:acme*@*/shop@*:*"),
        with_sub("StringLike", "repo:acme@*/shop@*:ref:refs/heads/main"),
        "immutable-id-wildcards-keep-the-names",
    ),
    RuleCase(
        "no-subject-condition",
        "critical",
        policy(statement({"StringEquals": {AUD: "sts.amazonaws.com"}})),
        policy(
            statement(
                {
                    "StringEquals": {
                        "://githubusercontent.com:aud": "sts.amazonaws.com",
                        "://githubusercontent.com:sub": MAIN,
                    }
                }
            )
        ),
        "mangled-github-key-is-a-subject",
    ),
    RuleCase(
        "subject-never-matches",
        "medium",
        with_sub("StringEquals", "repo:acme/https://github.com/acme/shop.git:ref:refs/heads/x"),
        with_sub("StringEquals", "repo:acme/shop:ref:refs/heads/x"),
        "clone-url-pasted-in-the-subject",
    ),
    RuleCase(
        "negated-or-ifexists-identity",
        "high",
        policy(statement({"StringEqualsIfExists": {SUB: MAIN, AUD: "sts.amazonaws.com"}})),
        policy(statement({"StringEquals": {SUB: MAIN, AUD: "sts.amazonaws.com"}})),
        "ifexists",
    ),
    RuleCase(
        "subject-repo-wide",
        "medium",
        with_sub("StringLike", "repo:octo-org/octo-repo:*"),
        with_sub("StringEquals", "repo:octo-org/octo-repo:pull_request"),
        "colon-star",
    ),
    RuleCase(
        "subject-repo-wide",
        "medium",
        with_sub("StringEquals", "repo:octo-org/octo-repo"),
        with_sub("StringEquals", "repo:octo-org/octo-repo:environment:prod"),
        "repo-only",
    ),
    RuleCase(
        "subject-prefix-wildcard",
        "medium",
        with_sub("StringLike", "repo:octo-org/octo-repo:ref:refs/heads/main*"),
        with_sub("StringLike", "repo:octo-org/octo-repo:ref:refs/heads/main"),
        "branch",
    ),
    RuleCase(
        "subject-prefix-wildcard",
        "medium",
        with_sub("StringLike", "repo:octo-org/octo-repo:environment:prod*"),
        with_sub("StringEquals", "repo:octo-org/octo-repo:environment:prod*"),
        "environment",
    ),
    RuleCase(
        "stringequals-wildcard",
        "medium",
        with_sub("StringEquals", "repo:octo-org/*"),
        with_sub("StringEquals", MAIN),
        "star",
    ),
    RuleCase(
        "jwr-mutable-ref",
        "medium",
        policy(
            statement(
                {
                    "StringEquals": {
                        AUD: "sts.amazonaws.com",
                        JWR: "octo-org/a/.github/workflows/d.yml@refs/heads/main",
                    }
                }
            )
        ),
        policy(statement({"StringEquals": {AUD: "sts.amazonaws.com", JWR: JWR_SHA}})),
        "branch",
    ),
    RuleCase(
        "jwr-mutable-ref",
        "low",
        policy(
            statement(
                {
                    "StringEquals": {
                        AUD: "sts.amazonaws.com",
                        JWR: "octo-org/a/.github/workflows/d.yml@refs/tags/v1",
                    }
                }
            )
        ),
        policy(statement({"StringEquals": {AUD: "sts.amazonaws.com", JWR: JWR_SHA}})),
        "tag",
    ),
    RuleCase(
        "action-missing-web-identity",
        "medium",
        policy(statement({"StringEquals": {SUB: MAIN}}, action="sts:AssumeRole")),
        policy(statement({"StringEquals": {SUB: MAIN}})),
        "assume-role",
    ),
    RuleCase(
        "action-missing-web-identity",
        "medium",
        policy(statement({"StringEquals": {SUB: MAIN}}, not_action="iam:*")),
        policy(statement({"StringEquals": {SUB: MAIN}}, action=["sts:AssumeRoleWithWebIdentity"])),
        "not-action",
    ),
    RuleCase(
        "principal-not-github",
        "medium",
        policy(
            statement(
                {"StringEquals": {SUB: MAIN}},
                principal={"Federated": "arn:aws:iam::123456789012:oidc-provider/gitlab.com"},
            )
        ),
        policy(statement({"StringEquals": {SUB: MAIN}})),
        "other-provider",
    ),
    RuleCase(
        "unknown-claim-key",
        "medium",
        good(StringEquals={K + "event_name": "push"}),
        good(StringEquals={K + "repository_id": "7891011"}),
        "event-name",
    ),
    RuleCase(
        "key-prefix-mismatch",
        "medium",
        policy(statement({"StringEquals": {SUB: MAIN}}, principal={"Federated": ACME})),
        policy(
            statement(
                {"StringEquals": {"token.actions.githubusercontent.com/acme:sub": MAIN}},
                principal={"Federated": ACME},
            )
        ),
        "enterprise",
    ),
    RuleCase(
        "subject-tag-pattern",
        "low",
        with_sub("StringLike", "repo:octo-org/octo-repo:ref:refs/tags/v*"),
        with_sub("StringEquals", "repo:octo-org/octo-repo:ref:refs/tags/v1.0"),
        "tag",
    ),
    RuleCase(
        "action-too-broad",
        "low",
        policy(statement({"StringEquals": {SUB: MAIN}}, action="sts:*")),
        policy(statement({"StringEquals": {SUB: MAIN}})),
        "sts-star",
    ),
    RuleCase(
        "aud-not-pinned",
        "low",
        with_sub("StringEquals", MAIN) | {"Statement": [statement({"StringEquals": {SUB: MAIN}})]},
        with_sub("StringEquals", MAIN),
        "no-aud",
    ),
    RuleCase(
        "aud-not-pinned",
        "low",
        policy(statement({"StringEquals": {SUB: MAIN}, "StringLike": {AUD: "*"}})),
        policy(statement({"StringEquals": {SUB: MAIN}, "StringLike": {AUD: "sts.amazonaws.com"}})),
        "aud-star",
    ),
    RuleCase(
        "subject-pull-request",
        "medium",
        with_sub("StringEquals", "repo:octo-org/octo-repo:pull_request"),
        with_sub("StringEquals", "repo:octo-org/octo-repo:ref:refs/pull/1/merge"),
        "exact-pr-vs-a-ref",
    ),
    RuleCase(
        "subject-pull-request",
        "medium",
        with_sub("StringEquals", [MAIN, "repo:octo-org@1/octo-repo@2:pull_request"]),
        with_sub("StringEquals", [MAIN, "repo:octo-org/octo-repo:environment:pull_request"]),
        "immutable-pr-in-a-list-vs-environment-named-pull_request",
    ),
    RuleCase(
        "environment-literal-colon",
        "medium",
        with_sub("StringEquals", "repo:octo-org/octo-repo:environment:prod:eu"),
        with_sub("StringEquals", "repo:octo-org/octo-repo:environment:prod%3Aeu"),
        "literal-colon-vs-encoded",
    ),
    RuleCase(
        "environment-literal-colon",
        "medium",
        with_sub("StringLike", "repo:octo-org/octo-repo:environment:stage:eu-*"),
        with_sub(
            "StringEquals",
            "repo:octo-org/octo-repo:environment:prod:job_workflow_ref:"
            f"octo-org/automation/.github/workflows/deploy.yml@{SHA}",
        ),
        "like-vs-custom-template-claim",
    ),
    RuleCase(
        "stringlike-question-mark",
        "low",
        with_sub("StringLike", "repo:octo-org/octo-repo:ref:refs/tags/v?"),
        with_sub("StringLike", "repo:octo-org/octo-repo:ref:refs/tags/v${?}"),
        "question-mark-vs-literal",
    ),
    RuleCase(
        "stringlike-question-mark",
        "low",
        with_sub("StringLike", "repo:octo-org/octo-repo:ref:refs/tags/v?.*"),
        with_sub("StringEquals", "repo:octo-org/octo-repo:ref:refs/tags/v1"),
        "like-vs-equals",
    ),
    RuleCase(
        "mixed-subject-forms",
        "low",
        with_sub(
            "StringEquals", [MAIN, "repo:octo-org@123456/octo-repo@7891011:ref:refs/heads/main"]
        ),
        with_sub("StringEquals", [MAIN, "repo:octo-org@123456/other-repo@42:ref:refs/heads/main"]),
        "same-repo-both-forms-vs-two-repos",
    ),
    RuleCase(
        "mixed-subject-forms",
        "low",
        policy(
            statement({"StringEquals": {AUD: "sts.amazonaws.com", SUB: MAIN}}),
            statement(
                {
                    "StringEquals": {
                        AUD: "sts.amazonaws.com",
                        SUB: "repo:Octo-Org@1/Octo-Repo@2:pull_request",
                    }
                }
            ),
        ),
        policy(
            statement({"StringEquals": {AUD: "sts.amazonaws.com", SUB: MAIN}}),
            statement(
                {
                    "StringEquals": {
                        AUD: "sts.amazonaws.com",
                        SUB: "repo:octo-org@1/octo-repo@2:pull_request",
                    }
                },
                effect="Deny",
            ),
        ),
        "across-statements-vs-deny",
    ),
    RuleCase(
        "name-based-subject",
        "low",
        policy(statement({"StringEquals": {SUB: MAIN, AUD: "sts.amazonaws.com"}})),
        policy(
            statement(
                {"StringEquals": {SUB: MAIN, AUD: "sts.amazonaws.com", K + "repository_id": "1"}}
            )
        ),
        "name-vs-repository-id",
    ),
    RuleCase(
        "name-based-subject",
        "low",
        policy(statement({"StringEquals": {SUB: MAIN, AUD: "sts.amazonaws.com"}})),
        good(),
        "name-vs-immutable",
    ),
    RuleCase(
        "subject-never-matches",
        "medium",
        with_sub("StringLike", "repo:octo-org/octo-repo.git:*"),
        with_sub("StringLike", ["repo:octo-org/octo-repo.github:*", "repo:octo-org/.github:*"]),
        "dot-git-suffix",
    ),
    RuleCase(
        "subject-never-matches",
        "medium",
        with_sub("StringEquals", "repo:octo-org/octo-repo.GIT:ref:refs/heads/main"),
        with_sub("StringLike", "repo:octo-org/octo-repo.git*:ref:refs/heads/main"),
        "dot-git-exact-vs-pattern",
    ),
    RuleCase(
        "subject-never-matches",
        "medium",
        with_sub("StringEquals", "repo:"),
        with_sub("StringEquals", "repo:o/r:ref:refs/heads/main"),
        "empty",
    ),
    RuleCase(
        "subject-never-matches",
        "medium",
        with_sub("StringLike", "repo:/octo-repo:*"),
        with_sub("StringLike", "repo:*/octo-repo:*"),  # a wildcard owner: critical, not never
        "empty-owner",
    ),
    RuleCase(
        "subject-never-matches",
        "medium",
        with_sub("StringLike", ["repo:octo-org/:*"]),
        with_sub("StringLike", "repo:octo-org/octo-repo:*"),
        "empty-repository",
    ),
    RuleCase(
        "subject-never-matches",
        "medium",
        with_sub("StringEquals", "repo:octo-org/octo-repo:refs/heads/main"),
        with_sub("StringEquals", "repo:octo-org/octo-repo:ref:refs/heads/main"),
        "ref-without-ref-prefix",
    ),
    RuleCase(
        "subject-never-matches",
        "medium",
        policy(
            statement(
                {
                    "StringEquals": {
                        "token.actions.githubusercontent.co:sub": MAIN,
                        AUD: "sts.amazonaws.com",
                    }
                }
            )
        ),
        policy(statement({"StringEquals": {SUB: MAIN, AUD: "sts.amazonaws.com"}})),
        "misspelled-host-co",
    ),
    RuleCase(
        "subject-never-matches",
        "medium",
        policy(
            statement(
                {
                    "StringEquals": {
                        "token.action.githubusercontent.com:sub": MAIN,
                        "https://token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                    }
                }
            )
        ),
        policy(
            statement(
                {"StringEquals": {"token.actions.githubusercontent.com/acme:sub": MAIN}},
                principal={"Federated": ACME},
            )
        ),
        "misspelled-host-action-vs-enterprise",
    ),
]


def _id(case: RuleCase) -> str:
    return f"{case.rule}-{case.id}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_rule_fires_and_near_miss_does_not(case: RuleCase) -> None:
    fired = rules_of(findings_for(case.trigger))
    assert case.rule in fired, fired
    assert case.severity in fired[case.rule]
    missed = rules_of(findings_for(case.near_miss))
    assert case.rule not in missed, missed


def test_every_rule_is_covered() -> None:
    covered = {case.rule for case in CASES} | {"duplicate-json-key", "unresolved"}
    assert covered == {rule.id for rule in RULES}


def test_an_owner_pin_makes_an_any_owner_subject_org_wide() -> None:
    doc = policy(
        statement(
            {
                "StringEquals": {AUD: "sts.amazonaws.com", K + "repository_owner_id": "42"},
                "StringLike": {SUB: ["repo:*:ref:refs/heads/main", "repo:acme*/app:*"]},
            }
        )
    )
    assert rules_of(findings_for(doc)) == {
        "subject-org-wide": {"high"},
        "subject-repo-wide": {"medium"},
    }


def test_near_misses_that_are_fully_tight_have_no_findings() -> None:
    assert findings_for(good()) == []
    doc = policy(
        statement(
            {
                "StringEquals": {
                    AUD: "sts.amazonaws.com",
                    JWR: JWR_SHA,
                    SUB: "repo:octo-org@1/x@2:environment:prod",
                }
            }
        )
    )
    assert findings_for(doc) == []


def test_duplicate_json_key() -> None:
    text = f"""{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow",
      "Principal": {{"Federated": "{GH}"}}, "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {{"StringLike": {{"{SUB}": "repo:octo-org/*"}},
                    "StringLike": {{"{SUB}": "repo:octo-org/octo-repo:ref:refs/heads/main"}}}}}}]}}"""
    findings = lint_policy(parse_policy_text(text, "dup.json"))
    dup = [f for f in findings if f.rule == "duplicate-json-key"]
    assert len(dup) == 1 and dup[0].severity == "high"
    assert dup[0].statement == "#0"
    assert "StringLike" in dup[0].message and "Statement[0].Condition" in dup[0].message
    assert exit_code(findings) == 1
    merged = text.replace(f'"StringLike": {{"{SUB}": "repo:octo-org/*"}},', "")
    assert "duplicate-json-key" not in rules_of(lint_policy(parse_policy_text(merged, "ok.json")))


def test_duplicate_key_in_single_statement_object() -> None:
    text = (
        '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Effect": "Allow", '
        f'"Principal": {{"Federated": "{GH}"}}, "Action": "sts:AssumeRoleWithWebIdentity", '
        f'"Condition": {{"StringEquals": {{"{SUB}": "{MAIN}"}}}}}}}}'
    )
    findings = [
        f for f in lint_policy(parse_policy_text(text, "d.json")) if f.rule == "duplicate-json-key"
    ]
    assert findings and findings[0].statement == "#0"


def test_loose_value_poisons_the_or_list() -> None:
    doc = with_sub("StringLike", [MAIN, "repo:octo-org/*"])
    findings = findings_for(doc)
    org = [f for f in findings if f.rule == "subject-org-wide"]
    assert len(org) == 1 and org[0].severity == "high"
    assert "as loose as its loosest value" in org[0].message
    assert org[0].condition is not None and org[0].condition.values == (MAIN, "repo:octo-org/*")
    assert exit_code(findings) == 1
    # Every value is graded, not only the first (AWS's own guardrail only reads the first).
    late = with_sub("StringLike", ["repo:octo-org/octo-repo:ref:refs/heads/main", "*"])
    assert "subject-any-repository" in rules_of(findings_for(late))


def test_one_loose_statement_among_strict_ones() -> None:
    doc = policy(
        statement({"StringEquals": {SUB: MAIN, AUD: "sts.amazonaws.com"}}, sid="Strict"),
        statement({"StringLike": {SUB: "repo:octo-org/*"}}, sid="Loose"),
    )
    findings = findings_for(doc)
    org = [f for f in findings if f.rule == "subject-org-wide"]
    assert [f.statement for f in org] == ['"Loose" (#1)']
    assert exit_code(findings) == 1


def test_jwr_pin_narrows_an_org_wide_subject() -> None:
    doc = policy(
        statement(
            {
                "StringEquals": {AUD: "sts.amazonaws.com", JWR: JWR_SHA},
                "StringLike": {SUB: "repo:octo-org/*"},
            }
        )
    )
    findings = findings_for(doc)
    org = [f for f in findings if f.rule == "subject-org-wide"]
    assert org and org[0].severity == "low" and "narrowed" in org[0].message
    assert exit_code(findings) == 0
    # ...but a subject open to all of GitHub stays critical even then.
    wide = policy(
        statement(
            {
                "StringEquals": {AUD: "sts.amazonaws.com", JWR: JWR_SHA},
                "StringLike": {SUB: "repo:*"},
            }
        )
    )
    assert "critical" in rules_of(findings_for(wide))["subject-any-repository"]


def test_no_github_statement_at_all() -> None:
    doc = policy(
        statement(None, principal={"Service": "ec2.amazonaws.com"}, action="sts:AssumeRole")
    )
    findings = findings_for(doc)
    assert [f.rule for f in findings] == ["principal-not-github"]
    assert findings[0].statement is None


def test_not_principal_in_allow_is_critical() -> None:
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {SUB: MAIN}},
            }
        ],
    }
    assert "critical" in rules_of(findings_for(doc))["principal-wildcard"]


def test_findings_carry_statement_condition_why_and_fix() -> None:
    doc = policy(statement({"StringLike": {SUB: "repo:octo-org/octo-repo:*"}}, sid="Deploy"))
    finding = next(f for f in findings_for(doc) if f.rule == "subject-repo-wide")
    assert finding.statement == '"Deploy" (#0)'
    assert finding.condition is not None
    assert finding.condition.operator.text == "StringLike" and finding.condition.key == SUB
    assert "pull" in finding.why.lower() and finding.fix
    data = finding.to_dict()
    assert data["condition"] == {
        "operator": "StringLike",
        "key": SUB,
        "values": ["repo:octo-org/octo-repo:*"],
    }


def test_findings_are_sorted_by_severity() -> None:
    doc = with_sub("StringLike", ["repo:*", "repo:octo-org/octo-repo:ref:refs/tags/v*"])
    severities = [f.severity for f in findings_for(doc)]
    order = ["critical", "high", "medium", "low"]
    assert severities == sorted(severities, key=order.index)


# --- the seed article's policy, and the CLI ---------------------------------------------------

SEED_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Federated": GH},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "ForAllValues:StringEquals": {
                    SUB: "repo:octo-org/octo-repo:ref:refs/heads/main",
                    AUD: "sts.amazonaws.com",
                }
            },
        }
    ],
}


def test_seed_article_policy_is_flagged_high(tmp_path: Path) -> None:
    path = write_json(tmp_path / "seed.json", SEED_POLICY)
    code, out, err = run_cli("lint", str(path))
    assert code == 1, out
    assert "[HIGH] set-operator-single-valued" in out
    assert "ForAllValues:StringEquals token.actions.githubusercontent.com:sub" in out
    assert err == ""


def test_lint_json_format(tmp_path: Path) -> None:
    path = write_json(tmp_path / "seed.json", SEED_POLICY)
    code, out, _ = run_cli("lint", str(path), "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["exit_code"] == 1
    assert report["counts"]["high"] == 2
    rules = {(f["rule"], f["severity"]) for f in report["findings"]}
    assert ("set-operator-single-valued", "high") in rules
    first = report["findings"][0]
    assert set(first) == {
        "rule",
        "severity",
        "source",
        "statement",
        "condition",
        "message",
        "why",
        "fix",
    }


def test_lint_exit_zero_for_medium_and_low_only(tmp_path: Path) -> None:
    path = write_json(tmp_path / "p.json", with_sub("StringLike", "repo:octo-org/octo-repo:*"))
    code, out, _ = run_cli("lint", str(path))
    assert code == 0
    assert "[MEDIUM] subject-repo-wide" in out


def test_environment_colon_value_never_matches_and_is_not_loose() -> None:
    # A value that never matches does not make the list "as loose as" it, and stays medium.
    doc = with_sub(
        "StringEquals",
        ["repo:octo-org/octo-repo:environment:prod:eu", "repo:octo-org/octo-repo:environment:dev"],
    )
    found = [f for f in findings_for(doc) if f.rule == "environment-literal-colon"]
    assert len(found) == 1
    assert "environment:prod%3Aeu" in found[0].message and "loosest" not in found[0].message
    # The evaluator agrees: GitHub's encoded form is denied by the literal value.
    parsed = parse_policy_document(doc, "policy.json")
    encoded = claims(sub="repo:octo-org/octo-repo:environment:prod%3Aeu", repository_owner_id="1")
    assert not evaluate(parsed, Request.from_claims(encoded)).allowed


def test_question_mark_is_one_character_in_the_evaluator() -> None:
    parsed = parse_policy_document(
        with_sub("StringLike", "repo:octo-org/octo-repo:ref:refs/tags/v?"), "policy.json"
    )
    for tag, allowed in (("v1", True), ("v10", False), ("v", False)):
        request = Request.from_claims(
            claims(sub=f"repo:octo-org/octo-repo:ref:refs/tags/{tag}", repository_owner_id="1")
        )
        assert evaluate(parsed, request).allowed is allowed, tag


PREVIOUS_ROLE = "arn:aws:iam::123456789012:role/gha-entry"


@pytest.mark.parametrize("source_identity", [False, True])
def test_a_chained_hop_policy_from_generate_has_no_principal_finding(source_identity: bool) -> None:
    from py_aws_oidc.trust.generate import GenerateOptions, generate

    generated = generate(
        GenerateOptions(chained_from=PREVIOUS_ROLE, source_identity=source_identity)
    )
    assert findings_for(generated.policy) == []


@pytest.mark.parametrize(
    "principal",
    [
        {"AWS": "arn:aws:iam::123456789012:root"},  # a whole account, not one role
        {"AWS": "arn:aws:iam::123456789012:user/deployer"},
        {"AWS": [PREVIOUS_ROLE], "Service": ["ec2.amazonaws.com"]},
    ],
)
def test_a_near_chained_hop_policy_still_has_the_principal_finding(principal: Any) -> None:
    doc = policy(statement(None, principal=principal, action="sts:AssumeRole"))
    assert "principal-not-github" in {f.rule for f in findings_for(doc)}


def _google_beside_github(operator: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": [
                "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
                "accounts.google.com",
            ]},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {operator: {"accounts.google.com:sub": "1234567890"}},
        }],
    }


def test_a_statement_requiring_another_providers_key_admits_no_github_token() -> None:
    """GitHub's provider beside Google's, only Google's sub tested: a GitHub token lacks that
    key, so the positive condition is false and no GitHub token gets in (the evaluator agrees):
    no critical "no subject condition". With ...IfExists the absent key passes: critical."""
    doc = _google_beside_github("StringEquals")
    assert not [f for f in findings_for(doc) if f.severity in ("critical", "high")]
    parsed = parse_policy_document(doc, "policy.json")
    stranger = claims(sub="repo:evil/repo:ref:refs/heads/main", repository="evil/repo")
    assert evaluate(parsed, Request.from_claims(stranger)).allowed is False
    loose = _google_beside_github("StringEqualsIfExists")
    assert "no-subject-condition" in rules_of(findings_for(loose))
    # Trusting GitHub's provider alone, a foreign key makes the role unusable: it fails closed.
    alone = policy(statement({"StringEquals": {AUD: "sts.amazonaws.com", "example.com:sub": MAIN}}))
    found = {f.rule: f.severity for f in findings_for(alone)}
    assert found.get("subject-never-matches") == "medium" and "no-subject-condition" not in found
