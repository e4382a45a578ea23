"""Who can assume a role, in plain words (``trust/admits.py``): the words per subject form, and
"any repository on GitHub" decided by the evaluator with a stranger's token, not by the text."""

from __future__ import annotations

from typing import Any

import pytest

from py_aws_oidc.trust.admits import ANY_REPOSITORY, admits
from py_aws_oidc.trust.policy import parse_policy_document
from tests.trust.helpers import AUD, GH, JWR, SUB, policy, statement

ENTERPRISE = GH + "/acme"
OWNER_ID = "token.actions.githubusercontent.com:repository_owner_id"
WF = "octo-org/shared/.github/workflows/deploy.yml@refs/heads/main"


def words(*statements: dict[str, Any]) -> tuple[list[str], bool]:
    found = admits(parse_policy_document(policy(*statements), "p"))
    return found.words, found.any_repository


@pytest.mark.parametrize(
    ("condition", "expected", "anyone"),
    [
        ({"StringEquals": {SUB: "repo:o/r:ref:refs/heads/main"}}, ["o/r: branch main"], False),
        ({"StringEquals": {SUB: "repo:o/r:ref:refs/tags/v1"}}, ["o/r: tag v1"], False),
        ({"StringLike": {SUB: "repo:o/r:ref:refs/tags/v*"}}, ["o/r: tags matching v*"], False),
        ({"StringLike": {SUB: "repo:o/r:ref:refs/heads/*"}}, ["o/r: branches matching *"], False),
        ({"StringEquals": {SUB: "repo:o/r:environment:prod%3Aeu"}},
         ["o/r: environment prod:eu"], False),
        ({"StringEquals": {SUB: "repo:o/r:pull_request"}},
         ["o/r: pull requests (any head branch)"], False),
        ({"StringLike": {SUB: "repo:o/r:*"}},
         ["o/r: every branch, tag, environment and pull request"], False),
        ({"StringLike": {SUB: "repo:o/*"}},
         ["every repository of o: every branch, tag, environment and pull request"], False),
        ({"StringLike": {SUB: "repo:*:ref:refs/heads/main"}},
         [f'{ANY_REPOSITORY} (sub "repo:*:ref:refs/heads/main")'], True),
        ({"StringLike": {SUB: "repo:octo-*/app:*"}},
         [f'{ANY_REPOSITORY} (sub "repo:octo-*/app:*")'], True),
        ({"StringEquals": {AUD: "sts.amazonaws.com"}}, [ANY_REPOSITORY], True),
        ({"StringNotLike": {SUB: "repo:evil/*"}},
         [f"{ANY_REPOSITORY} when sub StringNotLike repo:evil/*"], True),
        ({"StringEquals": {JWR: WF}}, [f"any repository via the reusable workflow {WF}"], False),
        # A wildcard sub, but the owner's id is pinned: the stranger's token is refused.
        ({"StringLike": {SUB: "*"}, "StringEquals": {OWNER_ID: "123"}},
         ['any subject ("*") when repository_owner_id StringEquals 123'], False),
    ],
)
def test_words(condition: dict[str, Any], expected: list[str], anyone: bool) -> None:
    assert words(statement(condition)) == (expected, anyone)


def test_a_deny_statement_closes_what_an_allow_opens() -> None:
    allow = statement({"StringEquals": {AUD: "sts.amazonaws.com"}})
    deny = statement({"StringNotLike": {SUB: "repo:octo-org/*"}}, effect="Deny")
    text, anyone = words(allow, deny)
    assert not anyone and text == ["any subject, less what Deny statement #1 excludes"]


def test_conditions_no_token_meets_are_nobody() -> None:
    literal = statement({"StringEquals": {SUB: "repo:o/*"}})
    assert words(literal) == (
        ["nobody: StringEquals takes * and ? literally, and no subject GitHub mints holds them"],
        False,
    )
    # The key names the enterprise issuer, the principal github.com's: the key is absent.
    wrong_prefix = statement(
        {"StringEquals": {"token.actions.githubusercontent.com/acme:sub": "repo:o/r:pull_request"}}
    )
    [text], anyone = words(wrong_prefix)
    assert text.startswith("nobody: StringEquals token.actions.githubusercontent.com/acme:sub")
    assert not anyone


def test_an_enterprise_issuer_uses_its_own_keys() -> None:
    found = statement(
        {"StringEquals": {"token.actions.githubusercontent.com/acme:sub": "repo:acme/x:pull_request"}},
        principal={"Federated": ENTERPRISE},
    )
    assert words(found) == (["acme/x: pull requests (any head branch)"], False)


def test_no_statement_for_github_tokens() -> None:
    wrong_action = statement({"StringEquals": {SUB: "repo:o/r:pull_request"}}, action="sts:AssumeRole")
    assert words(wrong_action) == (["nobody: no Allow statement lets a GitHub token in"], False)
