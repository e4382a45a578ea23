"""An independent check: the CC0 ``github-aws`` vectors of PyPI ``subvectors``.

Each vector is one (or, for ``aws-all``, several AND-ed) IAM condition(s) on a GitHub claim, a
token's claims and the expected match; ``observed`` vectors carry the IAM policy simulator's
recorded decision. We turn each into a one-statement trust policy (GitHub provider principal,
``sts:AssumeRoleWithWebIdentity``) and assert that our evaluator decides the same.
"""

from __future__ import annotations

from typing import Any

import pytest

from py_aws_oidc.trust.evaluate import Request, evaluate
from py_aws_oidc.trust.policy import parse_policy_document
from tests.trust.helpers import K, policy, statement

corpus = pytest.importorskip("subvectors.corpus")

SUITE = corpus.load_suite("github-aws")
VECTORS: list[dict[str, Any]] = SUITE["vectors"]
OPERATORS = {"aws-stringequals": "StringEquals", "aws-stringlike": "StringLike"}
# Vectors whose shape we do not model, with the reason (none today; counted by the test below).
OUT_OF_SCOPE: dict[str, str] = {}


def _leaves(condition: dict[str, Any]) -> list[dict[str, Any]]:
    if condition["consumer"] == "aws-all":
        return [leaf for part in condition["of"] for leaf in _leaves(part)]
    return [condition]


def _policy(vector: dict[str, Any]) -> dict[str, Any]:
    block: dict[str, dict[str, Any]] = {}
    for leaf in _leaves(vector["condition"]):
        operator = OPERATORS[leaf["consumer"]]
        if leaf.get("qualifier"):
            operator = f"{leaf['qualifier']}:{operator}"
        key = K + leaf["claim"]
        assert key not in block.get(operator, {}), "a vector tests one key twice per operator"
        block.setdefault(operator, {})[key] = leaf["pattern"]
    return policy(statement(block))


def _claims(vector: dict[str, Any]) -> dict[str, Any]:
    claims = dict(vector.get("claims") or {"sub": vector["subject"]})
    claims.setdefault("sub", vector["subject"])
    return claims


def _expected(vector: dict[str, Any]) -> bool:
    """The recorded AWS simulator decision where there is one, else the documented result."""
    evidence = (vector.get("observation") or {}).get("evidence", "")
    if "EvalDecision=allowed" in evidence:
        return True
    if "EvalDecision=implicitDeny" in evidence or "EvalDecision=explicitDeny" in evidence:
        return False
    return bool(vector["expect"] == "match")


def test_corpus_is_the_expected_one() -> None:
    assert SUITE["suite"] == "github-aws"
    assert len(VECTORS) >= 32
    in_scope = [v for v in VECTORS if v["id"] not in OUT_OF_SCOPE]
    assert len(in_scope) == len(VECTORS) - len(OUT_OF_SCOPE)
    # The observed ones agree with the documented expectation (so _expected reads them right).
    for vector in VECTORS:
        assert _expected(vector) == (vector["expect"] == "match"), vector["id"]
    simulated = [
        v for v in VECTORS if "EvalDecision=" in (v.get("observation") or {}).get("evidence", "")
    ]
    assert len(simulated) >= 10


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector(vector: dict[str, Any]) -> None:
    if vector["id"] in OUT_OF_SCOPE:
        pytest.skip(OUT_OF_SCOPE[vector["id"]])
    parsed = parse_policy_document(_policy(vector), vector["id"])
    decision = evaluate(parsed, Request.from_claims(_claims(vector)))
    assert decision.allowed is _expected(vector), decision.reason
