"""The OIDC path end to end (issue 2): runner token -> AssumeRoleWithWebIdentity -> exports.

Every test runs the real ``py-aws-oidc`` console script against the local issuer and the STS
fault layer (in front of moto) and checks what the runner would see: GITHUB_ENV, GITHUB_OUTPUT,
the workflow commands on stdout, and the HTTP requests both servers received.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
import pytest

from localdev.oidc_issuer import OidcIssuer
from localdev.sts_faults import StsFaultProxy
from tests.integration.cac_support import (
    ACCOUNT,
    ARWWI,
    CREDENTIAL_VARS,
    ISO_UTC,
    REGION,
    ROLE,
    assert_exports_credentials,
    assert_failed_cleanly,
    log_lines,
)
from tests.support.host_runtime import BOTH_RUNTIMES

RunAction = Any

pytestmark = BOTH_RUNTIMES  # every test also runs on the host runtime (node + the zip)


def _expected_expiration(sts_expiration: str) -> str:
    """STS answers e.g. ``2026-11-25T20:34:17.982379Z``; the output is second-precision."""
    return sts_expiration[:19] + "Z"


def test_oidc_run_exports_outputs_masks_and_requests(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE})
    assert result.ok, result.explain()

    # Exactly two HTTP requests: the token, then one unsigned AssumeRoleWithWebIdentity.
    assert [r.path for r in oidc_issuer.requests] == ["/token"]
    [token_request] = oidc_issuer.requests
    assert token_request.query == {"api-version": "2.0", "audience": "sts.amazonaws.com"}
    assert token_request.authorization == f"Bearer {oidc_issuer.request_token}"
    [jwt_token] = oidc_issuer.minted
    [call] = sts.calls
    assert call.action == ARWWI
    assert not call.signed
    assert call.access_key_id is None
    assert call.tags == {}
    assert call.transitive_tag_keys == []
    assert not any(k.startswith(("Tags.", "TransitiveTagKeys.")) for k in call.params)
    assert call.role_arn == ROLE
    assert call.web_identity_token == jwt_token
    assert call.role_session_name == "GitHubActions-1234567890-1"
    assert call.duration_seconds == 3600

    # Exactly the five variables, with what STS returned.
    creds = call.response
    assert_exports_credentials(result, creds)
    # Exactly two outputs (no credentials without output-credentials).
    assert result.output_entries == [
        ("aws-account-id", ACCOUNT),
        ("authenticated-arn", creds["Arn"]),
    ]
    assert creds["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/gha-entry/GitHubActions-1234567890-1"

    # Masks: the request token, the JWT and the three STS values; nothing else, each once.
    assert sorted(result.masks) == sorted([
        oidc_issuer.request_token, jwt_token,
        creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"],
    ])
    # The JWT's mask comes before the STS request could have been made with it (the leak
    # check verifies "before any other occurrence" for every secret).
    logs = log_lines(result)
    assert f"Assuming role with OIDC: {ROLE}" in logs
    assert f"Authenticated as {creds['Arn']}" in logs

    # The job summary: role, account, expiry; no secrets (the leak check covers secrets).
    summary = result.summary
    assert ROLE in summary
    assert creds["Arn"] in summary
    assert f"`{ACCOUNT}`" in summary
    assert _expected_expiration(creds["Expiration"]) in summary
    assert "GitHub OIDC" in summary
    assert result.errors == [] and result.warnings == [] and result.notices == []
    # No global timer unless action-timeout-s asks for one; no profile files without aws-profile.
    assert not any("global timeout" in line for line in logs)
    assert not (Path(result.environ["HOME"]) / ".aws").exists()
    assert not Path(result.environ["AWS_SHARED_CREDENTIALS_FILE"]).exists()


def test_output_credentials_adds_four_plain_outputs(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "output-credentials": "true"})
    assert result.ok, result.explain()
    [call] = sts.calls
    creds = call.response
    assert result.outputs == {
        "aws-account-id": ACCOUNT,
        "authenticated-arn": creds["Arn"],
        "aws-access-key-id": creds["AccessKeyId"],
        "aws-secret-access-key": creds["SecretAccessKey"],
        "aws-session-token": creds["SessionToken"],
        "aws-expiration": _expected_expiration(creds["Expiration"]),
    }
    assert len(result.output_entries) == 6
    assert ISO_UTC.match(result.outputs["aws-expiration"])
    assert '"' not in result.outputs["aws-expiration"]
    assert_exports_credentials(result, creds)
    assert len(result.masks) == 5


@pytest.mark.parametrize(
    ("region", "role", "audience_input", "audience_sent"),
    [
        pytest.param(REGION, ROLE, "my-sts-audience", "my-sts-audience", id="custom-audience"),
        pytest.param("cn-north-1", f"arn:aws-cn:iam::{ACCOUNT}:role/gha-entry", None,
                     "sts.amazonaws.com.cn", id="aws-cn-default"),
    ],
)
def test_audience_sent_with_the_token_request(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer,
    region: str, role: str, audience_input: str | None, audience_sent: str,
) -> None:
    sts.allowed_audiences = {audience_sent}
    result = run_action({"aws-region": region, "role-to-assume": role,
                         "audience": audience_input})
    assert result.ok, result.explain()
    [request] = oidc_issuer.token_requests
    assert request.query["audience"] == audience_sent
    [call] = sts.calls
    assert jwt.decode(call.web_identity_token or "",
                      options={"verify_signature": False})["aud"] == audience_sent
    assert call.role_arn == role
    assert result.env["AWS_REGION"] == region
    # (moto answers AssumeRoleWithWebIdentity with an arn:aws: session ARN in every partition.)
    assert result.outputs["authenticated-arn"] == call.response["Arn"]


def test_default_session_name_without_run_variables(
    run_action: RunAction, sts: StsFaultProxy
) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE},
                        env={"GITHUB_RUN_ID": None, "GITHUB_RUN_ATTEMPT": None})
    assert result.ok, result.explain()
    [call] = sts.calls
    assert call.role_session_name == "GitHubActions"
    assert result.outputs["authenticated-arn"].endswith("/gha-entry/GitHubActions")


def test_role_session_name_input_is_sent(run_action: RunAction, sts: StsFaultProxy) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "role-session-name": "deploy@octo-repo"})
    assert result.ok, result.explain()
    [call] = sts.calls
    assert call.role_session_name == "deploy@octo-repo"


def test_failed_run_writes_nothing(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    """STS refuses: no credentials, no region, no outputs; the JWT was still masked."""
    sts.fail_next(ARWWI, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity",
                  status=403)
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "output-credentials": "true"})
    error = assert_failed_cleanly(result)
    assert "Not authorized to perform sts:AssumeRoleWithWebIdentity" in error
    assert ROLE in error or ROLE in result.stdout
    assert len(sts.calls) == 1
    assert oidc_issuer.minted[0] in result.masks


def test_token_endpoint_refusal_fails_cleanly(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE},
                        env={"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "not-the-request-token"})
    error = assert_failed_cleanly(result)
    assert "HTTP 401" in error
    assert len(oidc_issuer.token_requests) == 1  # a 401 is not retried
    assert sts.calls == []


@pytest.mark.parametrize(
    "missing",
    [("ACTIONS_ID_TOKEN_REQUEST_URL",), ("ACTIONS_ID_TOKEN_REQUEST_TOKEN",),
     ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN")],
    ids=["no-url", "no-token", "neither"],
)
def test_missing_token_permission_fails_fast(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer,
    missing: tuple[str, ...],
) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE},
                        env=dict.fromkeys(missing))
    error = assert_failed_cleanly(result)
    assert result.duration_s < 2.0
    assert "permissions: id-token: write" in error
    assert "fork" in error
    for name in missing:
        assert name in error
    assert sts.calls == []
    assert oidc_issuer.requests == []
    for name in CREDENTIAL_VARS:
        assert name not in result.raw_env_text


def _imported_modules(importtime_stderr: str) -> set[str]:
    """The module names of ``python -X importtime``'s report (``import time: self | cumulative | name``)."""
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":  # the report's header line
                names.add(name)
    return names


def test_oidc_path_imports_neither_botocore_nor_pyjwt(
    make_harness: Any, sts: StsFaultProxy
) -> None:
    """Issue 15: the OIDC path imports only what it needs. No botocore (the unsigned call needs
    no signer, and there is no SDK client) and no pyjwt (the claims are a base64 decode)."""
    import sys

    harness = make_harness(command=[sys.executable, "-X", "importtime", "-m", "py_aws_oidc"])
    result = harness.run_action({"aws-region": REGION, "role-to-assume": ROLE})
    assert result.ok, result.explain()
    [call] = sts.calls
    assert call.action == ARWWI
    imported = _imported_modules(result.stderr)
    # The report is real: the action's own modules and its HTTP stack are in it.
    assert {"py_aws_oidc.sts", "py_aws_oidc.oidc", "requests"} <= imported, sorted(imported)
    heavy = sorted(m for m in imported if m.split(".")[0] in {"botocore", "jwt", "boto3", "dateutil"})
    assert heavy == [], heavy


def test_a_failing_validation_imports_no_http_stack(make_harness: Any, sts: StsFaultProxy) -> None:
    """docs/DESIGN.md: requests is imported lazily, so an input error costs no HTTP stack."""
    import sys

    harness = make_harness(command=[sys.executable, "-X", "importtime", "-m", "py_aws_oidc"])
    result = harness.run_action({"aws-region": REGION, "role-to-assume": "not-an-arn"})
    assert result.returncode == 1 and len(result.errors) == 1, result.explain()
    assert sts.calls == []
    imported = _imported_modules(result.stderr)
    assert "py_aws_oidc.config" in imported, sorted(imported)
    network = sorted(m for m in imported
                     if m.split(".")[0] in {"requests", "urllib3", "ssl", "botocore", "jwt"})
    assert network == [], network


_COUNT_SESSIONS = """
import os, sys
import py_aws_oidc.oidc as oidc
made = []
original = oidc.new_session
def counted(environ):
    made.append(1)
    return original(environ)
oidc.new_session = counted
from py_aws_oidc.action import run_main
code = run_main(os.environ)
sys.stderr.write(f"HTTP sessions made: {len(made)}\\n")
sys.exit(code)
"""


def test_the_token_request_and_every_sts_call_share_one_http_session(
    make_harness: Any, sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    """Issue 15: STS calls go over the HTTP session the token request already uses (one
    session, one connection pool), here for a two-role chain."""
    import sys

    harness = make_harness(command=[sys.executable, "-c", _COUNT_SESSIONS])
    second = "arn:aws:iam::444455556666:role/deploy"
    result = harness.run_action({"aws-region": REGION, "role-to-assume": f"{ROLE}\n{second}"})
    assert result.ok, result.explain()
    assert [c.action for c in sts.calls] == [ARWWI, "AssumeRole"]
    assert len(oidc_issuer.token_requests) == 1
    stderr = result.stderr  # (a failed assertion shows this, not the whole result)
    assert "HTTP sessions made: 1\n" in stderr, stderr
