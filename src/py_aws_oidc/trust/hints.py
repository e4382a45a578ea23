"""What to tell a user whose token a role refused, without seeing the role's trust policy.

Used by the action on ``AccessDenied`` / ``InvalidIdentityToken``: it prints
:func:`claims_summary` (non-secret claims, in an order that reads well, and as a JSON object that
``py-aws-oidc trust check --claims`` takes back) and :func:`denial_hints` (the trust-policy
conditions this token most likely failed, in the evaluator's vocabulary).

Only light imports here: the action imports this module on its failure path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from .claims import ABSENT, parse_subject
from .evaluate import GITHUB_KEY_PREFIX, issuer_key_prefix

SUMMARY_CLAIMS = (
    "iss",
    "sub",
    "aud",
    "repository",
    "ref",
    "environment",
    "job_workflow_ref",
    "event_name",
    "runner_environment",
)
CHECK_COMMAND = "py-aws-oidc trust check POLICY.json --claims claims.json"
_STS_AUDIENCES = ("sts.amazonaws.com", "sts.amazonaws.com.cn")


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def claims_summary(claims: Mapping[str, object]) -> list[tuple[str, str]]:
    """``[(claim, value), ...]`` for :data:`SUMMARY_CLAIMS`; missing ones as ``"(absent)"``."""
    return [
        (name, ABSENT if claims.get(name) in (None, "") else _text(claims[name]))
        for name in SUMMARY_CLAIMS
    ]


def claims_json(claims: Mapping[str, object]) -> str:
    """The summary claims that are present, as one line of JSON (``trust check --claims``)."""
    return json.dumps(
        {name: claims[name] for name in SUMMARY_CLAIMS if claims.get(name) not in (None, "")},
        separators=(", ", ": "),
    )


def _audiences(claims: Mapping[str, object]) -> list[str]:
    aud = claims.get("aud")
    if isinstance(aud, list):
        return [str(item) for item in aud]
    return [aud] if isinstance(aud, str) else []


def denial_hints(claims: Mapping[str, object], audience: str | None = None) -> list[str]:
    """The trust-policy conditions this token most likely failed, most likely first.

    ``audience``: the audience the action asked for (None: ``sts.amazonaws.com``). The last hint
    is always how to test it offline with ``trust check``.
    """
    prefix = issuer_key_prefix(claims)
    key = f"{prefix}:sub"
    hints: list[str] = []
    auds = _audiences(claims)
    expected = audience or "sts.amazonaws.com"
    if not auds:
        hints.append(
            "The token has no aud claim: STS matches aud against the OIDC provider's audiences "
            f"(client IDs) and a StringEquals {prefix}:aud condition."
        )
    elif not any(a in _STS_AUDIENCES or a == expected for a in auds):
        hints.append(
            f"The token's aud is {_text(claims.get('aud'))}, not sts.amazonaws.com: the IAM OIDC "
            "provider must list it as an audience (client ID) and the policy's StringEquals "
            f"{prefix}:aud condition must name it; or request audience sts.amazonaws.com "
            "(sts.amazonaws.com.cn in China)."
        )
    elif "sts.amazonaws.com.cn" in auds:
        hints.append(
            "The token's aud is sts.amazonaws.com.cn (aws-cn): the provider in the China account "
            f"must list it, and StringEquals {prefix}:aud must be sts.amazonaws.com.cn."
        )
    elif "sts.amazonaws.com" in auds and expected == "sts.amazonaws.com.cn":
        hints.append(
            "The role is in aws-cn but the token's aud is sts.amazonaws.com: request audience "
            "sts.amazonaws.com.cn."
        )
    if prefix != GITHUB_KEY_PREFIX:
        hints.append(
            f"The issuer is {_text(claims.get('iss'))} (enterprise or GHES): the role must trust "
            f"the OIDC provider for that URL and its condition keys are {prefix}:sub and "
            f"{prefix}:aud, not {GITHUB_KEY_PREFIX}:..."
        )
    sub = claims.get("sub")
    if isinstance(sub, str) and sub:
        hints.extend(_subject_hints(sub, key))
    else:
        hints.append(
            f"The token has no sub claim: every StringEquals/StringLike {key} condition fails."
        )
    job_ref, workflow_ref = claims.get("job_workflow_ref"), claims.get("workflow_ref")
    if (
        isinstance(job_ref, str)
        and job_ref
        and isinstance(workflow_ref, str)
        and job_ref != workflow_ref
    ):
        hints.append(
            f"This job runs the reusable workflow {job_ref}; sub describes the caller. To trust "
            f'the reusable workflow, add StringEquals {prefix}:job_workflow_ref = "{job_ref}" '
            "(pin a commit SHA rather than a branch or tag)."
        )
    repository = claims.get("repository")
    if isinstance(repository, str) and repository != repository.lower():
        hints.append(
            f"Names are case-sensitive in StringEquals/StringLike: write {repository} exactly "
            "as in the token."
        )
    hints.append(
        f"Test it offline: save the claims above as claims.json and run `{CHECK_COMMAND}`; "
        "it names the statement and the condition that decided."
    )
    return hints


def _subject_hints(sub: str, key: str) -> list[str]:
    subject = parse_subject(sub)
    prefix = subject.prefix or "repo:OWNER/REPO"
    hints: list[str] = []
    if subject.immutable:
        hints.append(
            f"The sub is in the immutable form ({prefix}:...), so a name-based value such as "
            f'repo:{subject.repository}:... no longer matches: add "{sub}" to the {key} values '
            "(or pin repository_id)."
        )
    if subject.kind == "environment":
        hints.append(
            f'This job uses the environment {subject.environment!r}, so sub is "{sub}": a '
            f'branch pin ({prefix}:ref:refs/heads/...) does not match. Allow "{sub}" with '
            f"StringEquals {key}."
        )
    elif subject.kind == "pull_request":
        hints.append(
            f'pull_request events get sub "{sub}": a branch pin ({prefix}:ref:refs/heads/...) '
            f'does not match. Allow "{sub}" with StringEquals {key} if pull requests may assume '
            "the role."
        )
    elif subject.kind == "tag":
        hints.append(
            f'This run is for a tag, so sub is "{sub}": a branch pin does not match. Allow the '
            f"tag with StringEquals (or StringLike {prefix}:ref:refs/tags/v* for a pattern)."
        )
    elif subject.kind == "branch":
        hints.append(
            f'sub is "{sub}": the policy\'s StringEquals/StringLike {key} values must include '
            "exactly this (case-sensitive; StringEquals takes * literally)."
        )
    if subject.custom:
        hints.append(
            f'The sub "{sub}" comes from a customised subject template, so values in the '
            f"default form ({prefix}:ref:...) do not match: write the {key} values in the "
            "template's form."
        )
    return hints
