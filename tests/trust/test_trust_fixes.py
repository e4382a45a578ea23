"""Every finding's fix agrees with the other findings on the same condition (issue 21): for each
pair of rules that can fire on one condition, a policy where both do, and the fixes checked."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from py_aws_oidc.trust.lint import Finding, lint_policy
from py_aws_oidc.trust.policy import parse_policy_document
from tests.trust.helpers import AUD, JWR, SUB, K, policy, statement

ENT = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com/acme"
ISS = K + "iss"
# The operator a fix prescribes for this condition ("StringEquals on repository_id" is about
# another condition, to add).
_OPERATOR = re.compile(r"\bString[A-Za-z]+\b(?! on )")


def _lint(doc: dict[str, Any]) -> list[Finding]:
    return lint_policy(parse_policy_document(doc, "policy.json"))


def _on_one_condition(findings: list[Finding]) -> dict[tuple[object, str], list[Finding]]:
    groups: dict[tuple[object, str], list[Finding]] = {}
    for finding in findings:
        if finding.condition is not None:
            key = (finding.statement_index, finding.condition.describe())
            groups.setdefault(key, []).append(finding)
    return groups


def _assert_agree(group: list[Finding]) -> None:
    fixes = {f.rule: f.fix for f in group}
    deleting = {rule for rule, fix in fixes.items() if fix.startswith("Delete")}
    if deleting:  # a condition to delete: nothing else may be done to it
        assert len(set(fixes.values())) == 1, fixes
        return
    prescribed = set()
    for fix in fixes.values():
        named = _OPERATOR.search(fix)
        if named:
            prescribed.add(named.group())
    assert len(prescribed) <= 1, fixes  # never "use StringLike" next to "use StringEquals"


PAIRS: list[tuple[frozenset[str], dict[str, Any]]] = [
    (  # the article's policy: ForAllValues on iss
        frozenset({"set-operator-single-valued", "unknown-claim-key"}),
        policy(
            statement(
                {
                    "ForAllValues:StringEquals": {
                        ISS: "https://token.actions.githubusercontent.com",
                    },
                    "StringEquals": {SUB: "repo:o/r:ref:refs/heads/main", AUD: "sts.amazonaws.com"},
                }
            )
        ),
    ),
    (
        frozenset({"set-operator-single-valued", "negated-or-ifexists-identity"}),
        policy(statement({"ForAllValues:StringNotLike": {SUB: "repo:evil/*"}})),
    ),
    (
        frozenset({"set-operator-single-valued", "subject-org-wide"}),
        policy(statement({"ForAnyValue:StringLike": {SUB: "repo:o/*"}})),
    ),
    (
        frozenset({"set-operator-single-valued", "stringequals-wildcard"}),
        policy(statement({"ForAllValues:StringEquals": {SUB: "repo:o/r:*"}})),
    ),
    (
        frozenset({"set-operator-single-valued", "stringlike-question-mark"}),
        policy(statement({"ForAnyValue:StringLike": {SUB: "repo:o/r:ref:refs/tags/v?"}})),
    ),
    (
        frozenset({"set-operator-single-valued", "subject-never-matches"}),
        policy(statement({"ForAnyValue:StringEquals": {SUB: "repo:o/r.git:ref:refs/heads/main"}})),
    ),
    (
        frozenset({"set-operator-single-valued", "jwr-mutable-ref"}),
        policy(statement({"ForAnyValue:StringEquals": {JWR: "o/r/.github/workflows/d.yml@refs/heads/main"}})),
    ),
    (
        frozenset({"set-operator-single-valued", "name-based-subject"}),
        policy(statement({"ForAnyValue:StringLike": {SUB: "repo:o/r:ref:refs/heads/main"}})),
    ),
    (
        frozenset({"set-operator-single-valued", "key-prefix-mismatch"}),
        policy(statement({"ForAnyValue:StringEquals": {SUB: "repo:o/r:environment:p"}}, principal={"Federated": ENT})),
    ),
    (
        frozenset({"unknown-claim-key", "stringlike-question-mark"}),
        policy(statement({"StringLike": {ISS: "https://token.actions.githubusercontent.co?"}})),
    ),
    (
        frozenset({"unknown-claim-key", "subject-never-matches"}),
        policy(statement({"StringEquals": {"token.action.githubusercontent.com:iss": "x"}})),
    ),
    (
        frozenset({"unknown-claim-key", "key-prefix-mismatch"}),
        policy(statement({"StringEquals": {ISS: "x"}}, principal={"Federated": ENT})),
    ),
    (
        frozenset({"key-prefix-mismatch", "subject-org-wide"}),
        policy(statement({"StringLike": {SUB: "repo:o/*"}}, principal={"Federated": ENT})),
    ),
    (
        frozenset({"negated-or-ifexists-identity", "subject-org-wide"}),
        policy(statement({"StringLikeIfExists": {SUB: "repo:o/*"}})),
    ),
    (
        frozenset({"subject-repo-wide", "name-based-subject"}),
        policy(statement({"StringLike": {SUB: "repo:o/r:*"}})),
    ),
    (
        frozenset({"subject-prefix-wildcard", "stringlike-question-mark"}),
        policy(statement({"StringLike": {SUB: "repo:o/r:ref:refs/heads/rel-?*"}})),
    ),
    (
        frozenset({"subject-tag-pattern", "stringlike-question-mark"}),
        policy(statement({"StringLike": {SUB: "repo:o/r:ref:refs/tags/v?.*"}})),
    ),
    (
        frozenset({"subject-never-matches", "name-based-subject"}),
        policy(statement({"StringEquals": {SUB: "repo:o/r:refs/heads/main"}})),
    ),
    (
        frozenset({"subject-never-matches", "negated-or-ifexists-identity"}),
        policy(statement({"StringEqualsIfExists": {SUB: "repo:o/r.git:ref:refs/heads/main"}})),
    ),
    (
        frozenset({"environment-literal-colon", "name-based-subject"}),
        policy(statement({"StringEquals": {SUB: "repo:o/r:environment:prod:eu"}})),
    ),
    (
        frozenset({"stringequals-wildcard", "name-based-subject"}),
        policy(statement({"StringEquals": {SUB: "repo:o/r:ref:refs/heads/*"}})),
    ),
    (
        frozenset({"subject-pull-request", "mixed-subject-forms"}),
        policy(statement({"StringEquals": {SUB: ["repo:o/r:pull_request", "repo:o@1/r@2:pull_request"]}})),
    ),
    (
        frozenset({"subject-org-wide", "subject-any-repository"}),
        policy(statement({"StringLike": {SUB: ["repo:o/*", "repo:*"]}})),
    ),
]  # fmt: skip


@pytest.mark.parametrize("rules, doc", PAIRS, ids=["+".join(sorted(r)) for r, _ in PAIRS])
def test_fixes_on_one_condition_agree(rules: frozenset[str], doc: dict[str, Any]) -> None:
    groups = _on_one_condition(_lint(doc))
    together = [g for g in groups.values() if rules <= {f.rule for f in g}]
    assert together, {k: [f.rule for f in g] for k, g in groups.items()}
    for group in groups.values():
        _assert_agree(group)


def test_the_articles_iss_condition_is_fixed_by_deleting_it() -> None:
    doc = PAIRS[0][1]
    on_iss = [f for f in _lint(doc) if f.condition is not None and f.condition.key == ISS]
    assert {f.rule for f in on_iss} == {"set-operator-single-valued", "unknown-claim-key"}
    for finding in on_iss:
        assert finding.fix.startswith("Delete the iss condition")
        assert "StringEquals" not in finding.fix


def test_a_set_operator_defers_to_the_operator_another_finding_prescribes() -> None:
    (finding,) = [
        f for f in _lint(PAIRS[2][1]) if f.rule == "set-operator-single-valued"
    ]  # ForAnyValue:StringLike on repo:o/*: org-wide says "pin with StringEquals"
    assert finding.fix.startswith("Remove the `ForAnyValue:` qualifier, then: Pin the exact")
    (alone,) = [
        f
        for f in _lint(policy(statement({"ForAllValues:StringEquals": {AUD: "sts.amazonaws.com"}})))
        if f.rule == "set-operator-single-valued"
    ]
    assert alone.fix == "Use StringEquals without the qualifier."


def test_a_misspelled_key_is_reported_once_and_linted_as_meant() -> None:
    doc = policy(statement({"StringLike": {"token.actions.githubusercontent.co:sub": "repo:o/*"}}))
    found = _lint(doc)
    rules = {f.rule: f for f in found}
    assert "no-subject-condition" not in rules  # the subject is there, under a misspelled key
    never = rules["subject-never-matches"]
    assert never.fix == "Write the key as token.actions.githubusercontent.com:sub."
    assert never.condition is not None
    assert never.condition.key == "token.actions.githubusercontent.co:sub"
    assert rules["subject-org-wide"].condition == never.condition  # points at the key as written
    negated = policy(
        statement(
            {
                "StringNotLike": {"https://token.actions.githubusercontent.com:sub": "repo:evil/*"},
                "StringEquals": {SUB: "repo:o/r:ref:refs/heads/main"},
            }
        )
    )
    rules = {f.rule for f in _lint(negated)}
    assert "key-prefix-mismatch" in rules and "subject-never-matches" not in rules


def test_every_rule_case_trigger_has_agreeing_fixes() -> None:
    """Beyond the listed pairs: every trigger and near miss of the rule table."""
    from tests.trust.test_trust_lint import CASES

    for case in CASES:
        for doc in (case.trigger, case.near_miss):
            for group in _on_one_condition(_lint(doc)).values():
                _assert_agree(group)


_OPERATORS = [
    "StringEquals", "StringLike", "StringNotEquals", "StringNotLike", "StringEqualsIfExists",
    "StringLikeIfExists", "ForAllValues:StringEquals", "ForAnyValue:StringLike",
    "ForAllValues:StringNotLike", "StringEqualsIgnoreCase",
]  # fmt: skip
_KEYS = [SUB, AUD, JWR, ISS, K + "repository_owner", "token.action.githubusercontent.com:sub"]
_VALUES = [
    "repo:o/r:ref:refs/heads/main", "repo:o/*", "repo:*", "*", "repo:o/r:*", "repo:o/r.git:*",
    "repo:o/r:refs/heads/main", "repo:o/r:ref:refs/tags/v?", "repo:o/r:pull_request",
    "repo:o/r:environment:prod:eu", "o/r/.github/workflows/d.yml@refs/heads/main",
    "sts.amazonaws.com", "repo:o@1/r@2:ref:refs/heads/main",
]  # fmt: skip


@given(
    st.lists(
        st.tuples(
            st.sampled_from(_OPERATORS),
            st.sampled_from(_KEYS),
            st.lists(st.sampled_from(_VALUES), min_size=1, max_size=3),
        ),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from([None, {"Federated": ENT}]),
)
@settings(max_examples=300, deadline=None)
def test_fixes_agree_on_any_condition(
    blocks: list[tuple[str, str, list[str]]], principal: dict[str, str] | None
) -> None:
    condition: dict[str, dict[str, list[str]]] = {}
    for operator, key, values in blocks:
        condition.setdefault(operator, {})[key] = values
    for group in _on_one_condition(
        _lint(policy(statement(condition, principal=principal)))
    ).values():
        _assert_agree(group)
