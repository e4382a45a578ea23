"""CAC's bugs and quirks (cac-features.md section 9), each fixed; every test here would fail
against configure-aws-credentials v6.2.3 (the docstring says how CAC behaves).

Quirk 5 (no request timeouts) and 14 (durations moto accepts) are covered by
test_faults.py and test_bad_inputs.py.
"""

from __future__ import annotations

import configparser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from localdev.forward_proxy import ForwardProxy
from localdev.oidc_issuer import OidcIssuer
from localdev.sts_faults import MSG_THROTTLING, StsFaultProxy
from tests.integration.cac_support import (
    ACCOUNT,
    ARWWI,
    ASSUME_ROLE,
    ENV_CREDS,
    ENV_KEY_ID,
    GET_CALLER_IDENTITY,
    ISO_UTC,
    KEY_ID,
    KEYS,
    MOTO_ACCOUNT,
    REGION,
    ROLE,
    actions,
    assert_exports_credentials,
    assert_failed_cleanly,
    log_lines,
    sts_credentials_xml,
)
from tests.support.action_yml import declared_outputs

RunAction = Any
Secrets = Any
TokenFile = Any


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


# 1 --------------------------------------------------------------------------------------------


def test_use_existing_credentials_false_means_false(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    """CAC reads it with getInput, so "false" is truthy: valid ambient credentials make it
    skip the role assumption and export nothing."""
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "use-existing-credentials": "false"}, env=ENV_CREDS)
    assert result.ok, result.explain()
    assert actions(result) == [ARWWI]  # no GetCallerIdentity of the existing credentials
    assert len(oidc_issuer.token_requests) == 1
    assert result.notices == []
    creds = sts.calls[0].response
    assert_exports_credentials(result, creds)
    assert result.env["AWS_ACCESS_KEY_ID"] != ENV_KEY_ID


# 2 --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bypass", ["sts", "token"])
def test_no_proxy_matches_host_and_port(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer,
    forward_proxy: ForwardProxy, bypass: str,
) -> None:
    """CAC compares no-proxy entries with URL.host (which holds the port), so a host:port
    entry never matches, and it proxies STS only. Here each request honours its own entry."""
    sts_port, issuer_port = _port(sts.url), _port(oidc_issuer.url)
    skipped = sts_port if bypass == "sts" else issuer_port
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "http-proxy": forward_proxy.url, "no-proxy": f"127.0.0.1:{skipped}"})
    assert result.ok, result.explain()
    through = [(r.method, urlsplit(r.url).port) for r in forward_proxy.requests]
    if bypass == "sts":
        assert through == [("GET", issuer_port)]
        assert forward_proxy.requests[0].url.startswith(f"{oidc_issuer.url}/token?")
    else:
        assert through == [("POST", sts_port)]
    assert actions(result) == [ARWWI]
    assert len(oidc_issuer.token_requests) == 1


# 3 --------------------------------------------------------------------------------------------


def test_retry_max_attempts_zero_means_one_attempt(
    run_action: RunAction, sts: StsFaultProxy
) -> None:
    """CAC: `parseInt("0") || 12` gives 12 attempts."""
    sts.fail_next(ARWWI, "Throttling", MSG_THROTTLING, times=2)
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "retry-max-attempts": "0"})
    error = assert_failed_cleanly(result)
    assert actions(result) == [ARWWI]
    assert "Throttling" in error
    assert not any(line.startswith("Retry ") for line in log_lines(result))


def test_no_sleep_after_the_last_failed_attempt(
    run_action: RunAction, sts: StsFaultProxy
) -> None:
    """CAC sleeps before checking the attempt count, so the last failure still waits."""
    sts.fail_next(ARWWI, "Throttling", MSG_THROTTLING, times=2)
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "retry-max-attempts": "2"})
    assert_failed_cleanly(result)
    assert actions(result) == [ARWWI, ARWWI]
    retries = [line for line in log_lines(result) if line.startswith("Retry ")]
    assert len(retries) == 1
    assert retries[0].startswith("Retry AssumeRoleWithWebIdentity: attempt 1 of 2 failed")
    assert "Retrying after" in retries[0]  # CAC logs (and sleeps) this after the last one too


# 4 --------------------------------------------------------------------------------------------


def test_access_denied_is_not_retried(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    """CAC retries every error 12 times (about 95 s for a trust-policy mismatch)."""
    sts.trust = lambda claims: claims.get("ref") == "refs/heads/release"
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE})
    error = assert_failed_cleanly(result)
    assert actions(result) == [ARWWI]
    assert len(oidc_issuer.token_requests) == 1
    assert not any(line.startswith("Retry ") for line in log_lines(result))
    assert "Not authorized to perform sts:AssumeRoleWithWebIdentity" in error
    # The token's (non-secret) claims are on ordinary log lines.
    assert any("repo:octo-org/octo-repo:ref:refs/heads/main" in line for line in log_lines(result))


def test_missing_token_permission_never_falls_back_to_ambient_credentials(
    run_action: RunAction, sts: StsFaultProxy
) -> None:
    """CAC, without the OIDC variables, falls through to the SDK chain: with an instance role
    it silently runs as that identity, without one it fails after ~95 s of retries."""
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE}, env=ENV_CREDS,
                        oidc=False)
    error = assert_failed_cleanly(result)
    assert "permissions: id-token: write" in error
    assert result.duration_s < 2.0
    assert sts.calls == []


# 6 --------------------------------------------------------------------------------------------


def test_aws_expiration_is_not_json_quoted(run_action: RunAction, sts: StsFaultProxy) -> None:
    """CAC's setOutput JSON-stringifies the Date: "2026-11-25T17:55:17.697Z" with quotes."""
    result = run_action({"aws-region": REGION, **KEYS, "role-to-assume": ROLE,
                         "output-credentials": "true"})
    assert result.ok, result.explain()
    expiration = result.outputs["aws-expiration"]
    assert ISO_UTC.match(expiration), expiration
    assert expiration == sts.calls[0].response["Expiration"][:19] + "Z"


# 7 --------------------------------------------------------------------------------------------


def test_authenticated_arn_is_a_declared_output() -> None:
    """CAC sets authenticated-arn without declaring it in action.yml."""
    outputs = declared_outputs()
    assert "authenticated-arn" in outputs
    assert "aws-account-id" in outputs


# 8 --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("region", "partition"),
                         [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")])
def test_role_name_expands_with_the_regions_partition(
    run_action: RunAction, sts: StsFaultProxy, region: str, partition: str
) -> None:
    """CAC always builds arn:aws:iam::... from a role name."""
    result = run_action({"aws-region": region, **KEYS, "role-to-assume": "deploy"})
    assert result.ok, result.explain()
    assert actions(result) == [GET_CALLER_IDENTITY, ASSUME_ROLE]
    assert sts.calls[1].role_arn == f"arn:{partition}:iam::{MOTO_ACCOUNT}:role/deploy"
    assert sts.calls[1].access_key_id == KEY_ID
    assert f"Assuming role with user credentials: arn:{partition}:iam::{MOTO_ACCOUNT}:role/deploy" \
        in log_lines(result)
    assert result.env["AWS_REGION"] == region


# 9 --------------------------------------------------------------------------------------------


def test_token_file_jwt_is_masked_before_anything_else(
    run_action: RunAction, sts: StsFaultProxy, token_file: TokenFile
) -> None:
    """CAC masks the OIDC JWT (via @actions/core) but never the token read from the file."""
    token = token_file().read_text()
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "web-identity-token-file": "token.jwt"}, oidc=False)
    assert result.ok, result.explain()
    masks = [c for c in result.commands if c.name == "add-mask"]
    assert masks[0].data == token  # the first thing the step prints about it
    assert sts.calls[0].web_identity_token == token
    assert result.stdout.count(token) == 1  # only on its own mask line


# 10 -------------------------------------------------------------------------------------------


def test_special_characters_loop_is_bounded(
    run_action: RunAction, sts: StsFaultProxy, secrets: Secrets
) -> None:
    """CAC loops without bound while the keys hold special characters."""
    for n in range(3):
        key_id, secret, token = (f"ASIADIRTYKEY0000000{n}", f"Dirty/Secret+{n}abcdefghijklmnopqrstu",
                                 f"DirtySessionToken{n}abcdefghijklmnop")
        for value in (key_id, secret, token):
            secrets.add(value, "crafted-sts-credential")
        sts.respond_next(ARWWI, 200, sts_credentials_xml(ARWWI, key_id, secret, token),
                         content_type="text/xml")
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "special-characters-workaround": "true", "retry-max-attempts": "2"})
    error = assert_failed_cleanly(result)
    assert actions(result) == [ARWWI, ARWWI]
    assert "special-characters-workaround" in error
    assert "retry-max-attempts" in error
    assert sts.pending_faults == 1


# 11 -------------------------------------------------------------------------------------------


def test_failed_run_exports_no_region_and_no_keys(
    run_action: RunAction, sts: StsFaultProxy
) -> None:
    """CAC exports the region before authenticating, and the input keys before AssumeRole;
    both stay in GITHUB_ENV when AssumeRole then fails."""
    sts.fail_next(ASSUME_ROLE, "AccessDenied", "User is not authorized to perform: "
                  "sts:AssumeRole", status=403)
    result = run_action({"aws-region": REGION, **KEYS, "role-to-assume": ROLE})
    error = assert_failed_cleanly(result)
    assert "not authorized to perform: sts:AssumeRole" in error
    assert actions(result) == [ASSUME_ROLE]
    assert Path(result.environ["GITHUB_ENV"]).read_bytes() == b""


# 12 -------------------------------------------------------------------------------------------


def test_oidc_works_without_the_github_context_variables(
    run_action: RunAction, sts: StsFaultProxy
) -> None:
    """CAC fails with "Missing required environment variables. Are you running in GitHub
    Actions?" even on the OIDC path, where no tag is sent."""
    unset = dict.fromkeys(["GITHUB_REPOSITORY", "GITHUB_SHA", "GITHUB_WORKFLOW",
                           "GITHUB_ACTION", "GITHUB_ACTOR", "GITHUB_WORKSPACE"])
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE}, env=unset)
    assert result.ok, result.explain()
    assert actions(result) == [ARWWI]
    assert_exports_credentials(result, sts.calls[0].response)


# 13 -------------------------------------------------------------------------------------------


def test_aws_profile_with_keys_and_role(run_action: RunAction, sts: StsFaultProxy) -> None:
    """CAC #1846: the assume-role client does not use the profile, so this combination fails
    with "Could not load credentials from any providers"."""
    result = run_action({"aws-region": REGION, **KEYS, "role-to-assume": ROLE,
                         "aws-profile": "deploy"})
    assert result.ok, result.explain()
    [call] = sts.calls
    assert call.action == ASSUME_ROLE and call.access_key_id == KEY_ID
    assert result.env_entries == [("PY_AWS_OIDC_POST", "true")]  # the post step removes the file
    assert result.outputs["aws-account-id"] == ACCOUNT
    parser = configparser.RawConfigParser()
    parser.read(result.environ["AWS_SHARED_CREDENTIALS_FILE"], encoding="utf-8")
    assert dict(parser["deploy"]) == {
        "aws_access_key_id": call.response["AccessKeyId"],
        "aws_secret_access_key": call.response["SecretAccessKey"],
        "aws_session_token": call.response["SessionToken"],
    }
