"""Policy parsing: operators, value types, and robustness (malformed input is never a crash)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from py_aws_oidc.trust.errors import MalformedPolicyError
from py_aws_oidc.trust.evaluate import Request, evaluate
from py_aws_oidc.trust.lint import lint_policy
from py_aws_oidc.trust.policy import parse_operator, parse_policy_document, parse_policy_text
from tests.trust.helpers import MAIN, SUB, claims, policy, statement


@pytest.mark.parametrize(
    ("text", "base", "qualifier", "if_exists", "negated"),
    [
        ("StringEquals", "StringEquals", None, False, False),
        ("StringNotLikeIfExists", "StringNotLike", None, True, True),
        ("ForAllValues:StringLike", "StringLike", "ForAllValues", False, False),
        (
            "ForAnyValue:StringNotEqualsIgnoreCase",
            "StringNotEqualsIgnoreCase",
            "ForAnyValue",
            False,
            True,
        ),
        ("NumericLessThanEqualsIfExists", "NumericLessThanEquals", None, True, False),
        ("Null", "Null", None, False, False),
        ("ArnNotLike", "ArnNotLike", None, False, True),
        ("NotIpAddress", "NotIpAddress", None, False, True),
    ],
)
def test_parse_operator(
    text: str, base: str, qualifier: str | None, if_exists: bool, negated: bool
) -> None:
    op = parse_operator(text)
    assert op is not None
    assert (op.base, op.qualifier, op.if_exists, op.negated) == (
        base,
        qualifier,
        if_exists,
        negated,
    )


@pytest.mark.parametrize(
    "text",
    [
        "StringEqualz",
        "ForSomeValues:StringLike",
        "NullIfExists",
        "ForAllValues:Null",
        "IfExists",
        "",
        "StringLike:x",
    ],
)
def test_unknown_operators(text: str) -> None:
    assert parse_operator(text) is None


def test_values_of_every_json_type_become_strings() -> None:
    doc = policy(statement({"StringEquals": {SUB: [MAIN, 5, True, 1.5]}}))
    cond = parse_policy_document(doc, "p").statements[0].conditions[0]
    assert cond.values == (MAIN, "5", "true", "1.5")


def test_statement_object_and_version_absent() -> None:
    parsed = parse_policy_document({"Statement": statement({"StringEquals": {SUB: MAIN}})}, "p")
    assert parsed.version is None and len(parsed.statements) == 1


def test_duplicate_paths() -> None:
    text = (
        '{"Version": "2012-10-17", "Version": "2012-10-17", "Statement": [{"Effect": "Allow",'
        '"Principal": {"Federated": "x", "Federated": "y"}, "Action": "*"}]}'
    )
    dups = parse_policy_text(text, "p").duplicate_keys
    assert [(d.path, d.key, d.statement_index) for d in dups] == [
        ("(top level)", "Version", None),
        ("Statement[0].Principal", "Federated", 0),
    ]


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=8)
    | st.sampled_from(
        [
            "Allow",
            "Deny",
            "*",
            "sts:AssumeRoleWithWebIdentity",
            SUB,
            MAIN,
            "StringLike",
            "ForAllValues:StringEquals",
            "Null",
            "true",
        ]
    ),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "Effect",
                    "Principal",
                    "Federated",
                    "Action",
                    "NotAction",
                    "Condition",
                    "StringLike",
                    "StringEquals",
                    SUB,
                    "Sid",
                    "Statement",
                    "Version",
                    "AWS",
                    "Null",
                    "x",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(doc=JSON)
def test_parser_raises_only_malformed_and_the_rest_never_crashes(doc: Any) -> None:
    try:
        parsed = parse_policy_document(doc, "fuzz")
    except MalformedPolicyError:
        return
    evaluate(parsed, Request.from_claims(claims()))
    lint_policy(parsed)


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=40))
def test_any_text_is_parsed_or_malformed(text: str) -> None:
    with contextlib.suppress(MalformedPolicyError):
        parse_policy_text(text, "fuzz")


def test_deeply_nested_json_is_malformed_not_a_crash() -> None:
    with pytest.raises(MalformedPolicyError):
        parse_policy_text("[" * 100000 + "]" * 100000, "deep")
