"""Builders for trust-policy tests: statements, policies and GitHub claims."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from py_aws_oidc.trust.cli import main

K = "token.actions.githubusercontent.com:"
SUB = K + "sub"
AUD = K + "aud"
JWR = K + "job_workflow_ref"
GH = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
ACTION = "sts:AssumeRoleWithWebIdentity"
MAIN = "repo:octo-org/octo-repo:ref:refs/heads/main"

BASE_CLAIMS: dict[str, Any] = {
    "iss": "https://token.actions.githubusercontent.com",
    "aud": "sts.amazonaws.com",
    "sub": MAIN,
    "repository": "octo-org/octo-repo",
    "repository_owner": "octo-org",
    "repository_id": "7891011",
    "repository_owner_id": "123456",
    "ref": "refs/heads/main",
    "ref_type": "branch",
    "event_name": "push",
    "actor": "octocat",
    "workflow": "CI",
    "workflow_ref": "octo-org/octo-repo/.github/workflows/ci.yml@refs/heads/main",
    "job_workflow_ref": "octo-org/octo-repo/.github/workflows/ci.yml@refs/heads/main",
    "runner_environment": "github-hosted",
}


def claims(**overrides: Any) -> dict[str, Any]:
    """BASE_CLAIMS with overrides; an override of None removes the claim."""
    out = dict(BASE_CLAIMS)
    for key, value in overrides.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def statement(
    condition: dict[str, Any] | None = None,
    *,
    effect: str = "Allow",
    principal: Any = None,
    action: Any = ACTION,
    sid: str | None = None,
    not_action: Any = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if sid:
        out["Sid"] = sid
    out["Effect"] = effect
    out["Principal"] = {"Federated": GH} if principal is None else principal
    if not_action is not None:
        out["NotAction"] = not_action
    else:
        out["Action"] = action
    if condition is not None:
        out["Condition"] = condition
    return out


def policy(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if version is not None:
        out["Version"] = version
    out["Statement"] = list(statements)
    return out


def write_json(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def run_cli(*argv: str) -> tuple[int, str, str]:
    """The CLI in-process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()
