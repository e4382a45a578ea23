"""Every auth path and how it is chosen (cac-features.md section 2; cac-tests.md index.test.ts).

Static keys (with and without a role, role names expanded), a web identity token file, role
chaining from existing credentials, existing credentials alone, ``force-skip-oidc`` and
``use-existing-credentials``. STS requests are checked at the HTTP level: which call, signed
with which access key, with which parameters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from localdev.forward_proxy import ForwardProxy
from localdev.oidc_issuer import OidcIssuer
from localdev.sts_faults import StsFaultProxy
from tests.integration.cac_support import (
    ACCOUNT,
    ARWWI,
    ASSUME_ROLE,
    ENV_CREDS,
    ENV_KEY_ID,
    ENV_SECRET,
    ENV_TOKEN,
    GET_CALLER_IDENTITY,
    KEY_ID,
    KEYS,
    MOTO_ACCOUNT,
    REGION,
    REGION_VARS,
    ROLE,
    SECRET_KEY,
    actions,
    assert_exports_credentials,
    assert_failed_cleanly,
    env_names,
    log_lines,
)
from tests.support.host_runtime import BOTH_RUNTIMES

pytestmark = BOTH_RUNTIMES  # every test also runs on the host runtime (node + the zip)

RunAction = Any
TokenFile = Any


# -- static keys --------------------------------------------------------------------------------


def test_keys_without_role_validate_and_export_the_keys(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    result = run_action({"aws-region": REGION, **KEYS})
    assert result.ok, result.explain()
    [call] = sts.calls
    assert call.action == GET_CALLER_IDENTITY
    assert call.signed and call.access_key_id == KEY_ID
    assert not call.session_token_header
    assert oidc_issuer.requests == []  # keys turn OIDC off, even though the job could use it
    assert env_names(result) == ["AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ACCESS_KEY_ID",
                                 "AWS_SECRET_ACCESS_KEY"]
    assert result.env == {"AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
                          "AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    assert sorted(result.masks) == sorted([KEY_ID, SECRET_KEY])
    assert result.outputs == {"aws-account-id": MOTO_ACCOUNT,
                              "authenticated-arn": call.response["Arn"]}
    assert log_lines(result) == ["Proceeding with IAM user credentials"]


def test_keys_with_session_token_without_role(run_action: RunAction, sts: StsFaultProxy) -> None:
    token = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN0123456789"
    result = run_action({"aws-region": REGION, **KEYS, "aws-session-token": token,
                         "output-credentials": "true"})
    assert result.ok, result.explain()
    [call] = sts.calls
    assert call.action == GET_CALLER_IDENTITY
    assert call.access_key_id == KEY_ID and call.session_token_header
    assert result.env["AWS_SESSION_TOKEN"] == token
    assert sorted(result.masks) == sorted([KEY_ID, SECRET_KEY, token])
    # For keys without a role the credential outputs are the input keys (no expiration).
    assert result.outputs["aws-access-key-id"] == KEY_ID
    assert result.outputs["aws-session-token"] == token
    assert "aws-expiration" not in result.outputs


def test_keys_without_role_failing_identity_check_is_not_retried(
    run_action: RunAction, sts: StsFaultProxy
) -> None:
    sts.fail_next(GET_CALLER_IDENTITY, "InvalidClientTokenId",
                  "The security token included in the request is invalid.", status=403)
    result = run_action({"aws-region": REGION, **KEYS})
    error = assert_failed_cleanly(result)
    assert "InvalidClientTokenId" in error
    assert "The security token included in the request is invalid." in error
    assert actions(result) == [GET_CALLER_IDENTITY]


def test_force_skip_oidc_without_role_and_a_stale_session_token(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    """Keys without a session token, while an earlier step exported one: it is blanked, or
    the next step would pair the new keys with the old token."""
    result = run_action({"aws-region": REGION, **KEYS, "force-skip-oidc": "true"},
                        env={"AWS_SESSION_TOKEN": ENV_TOKEN})
    assert result.ok, result.explain()
    assert actions(result) == [GET_CALLER_IDENTITY]
    assert not sts.calls[0].session_token_header  # the input keys, not the environment's
    assert oidc_issuer.requests == []
    assert result.env["AWS_SESSION_TOKEN"] == ""
    assert result.env["AWS_ACCESS_KEY_ID"] == KEY_ID
    assert "Proceeding with IAM user credentials" in log_lines(result)


def test_keys_with_role_arn_assume_role_signed_with_the_input_key(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    result = run_action({"aws-region": REGION, **KEYS, "role-to-assume": ROLE})
    assert result.ok, result.explain()
    # A full ARN needs no GetCallerIdentity: exactly one AssumeRole, signed with the input key.
    [call] = sts.calls
    assert call.action == ASSUME_ROLE
    assert call.signed and call.access_key_id == KEY_ID
    assert call.role_arn == ROLE
    assert call.role_session_name == "GitHubActions-1234567890-1"
    assert oidc_issuer.requests == []
    creds = call.response
    assert_exports_credentials(result, creds)  # the assumed session only, not the input keys
    assert sorted(result.masks) == sorted([KEY_ID, SECRET_KEY, creds["AccessKeyId"],
                                           creds["SecretAccessKey"], creds["SessionToken"]])
    assert result.outputs == {"aws-account-id": ACCOUNT, "authenticated-arn": creds["Arn"]}
    logs = log_lines(result)
    assert f"Assuming role with user credentials: {ROLE}" in logs
    assert f"Authenticated as {creds['Arn']}" in logs


def test_keys_with_role_name_expand_with_the_keys_account(
    run_action: RunAction, sts: StsFaultProxy
) -> None:
    result = run_action({"aws-region": REGION, **KEYS, "role-to-assume": "deploy"})
    assert result.ok, result.explain()
    assert actions(result) == [GET_CALLER_IDENTITY, ASSUME_ROLE]
    identity, assume = sts.calls
    assert identity.access_key_id == KEY_ID and assume.access_key_id == KEY_ID
    assert assume.role_arn == f"arn:aws:iam::{MOTO_ACCOUNT}:role/deploy"
    assert result.outputs["aws-account-id"] == MOTO_ACCOUNT


# -- web identity token file ---------------------------------------------------------------------


def test_token_file_relative_to_the_workspace_wins_over_oidc(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer, token_file: TokenFile,
    workspace: Path,
) -> None:
    path = token_file("tokens/ci.jwt")
    token = path.read_text()
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "web-identity-token-file": "tokens/ci.jwt"}, cwd=workspace)
    assert result.ok, result.explain()
    # The OIDC variables are present, but the file is used: no token request at all.
    assert "ACTIONS_ID_TOKEN_REQUEST_URL" in result.environ
    assert oidc_issuer.requests == []
    [call] = sts.calls
    assert call.action == ARWWI and not call.signed
    assert call.web_identity_token == token
    assert call.tags == {} and call.transitive_tag_keys == []
    creds = call.response
    assert_exports_credentials(result, creds)
    # The token is masked (CAC quirk 9), and so are the three STS values; nothing else.
    assert sorted(result.masks) == sorted([token, creds["AccessKeyId"],
                                           creds["SecretAccessKey"], creds["SessionToken"]])
    assert f"Assuming role with web identity token file: {ROLE}" in log_lines(result)


def test_token_file_symlink_is_refused_without_any_request(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer, token_file: TokenFile,
    workspace: Path,
) -> None:
    target = token_file("real.jwt")
    before = target.read_bytes()
    (workspace / "link.jwt").symlink_to(target)
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "web-identity-token-file": "link.jwt"})
    error = assert_failed_cleanly(result)
    assert "symbolic link" in error
    assert "web-identity-token-file" in error
    assert sts.calls == [] and oidc_issuer.requests == []
    assert target.read_bytes() == before


def test_token_file_missing(run_action: RunAction, sts: StsFaultProxy, workspace: Path) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "web-identity-token-file": "nowhere.jwt"})
    error = assert_failed_cleanly(result)
    assert "does not exist" in error
    assert str(workspace / "nowhere.jwt") in error
    assert sts.calls == []


# -- existing credentials -------------------------------------------------------------------------


def test_role_chaining_from_environment_credentials(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    result = run_action(
        {"aws-region": REGION, "role-chaining": "true", "role-to-assume": ROLE},
        env={**ENV_CREDS, "AWS_SESSION_TOKEN": ENV_TOKEN},
    )
    assert result.ok, result.explain()
    [call] = sts.calls
    assert call.action == ASSUME_ROLE and call.role_arn == ROLE
    assert call.access_key_id == ENV_KEY_ID
    assert call.session_token_header  # signed with the environment's session too
    assert oidc_issuer.requests == []
    assert_exports_credentials(result, call.response)
    assert f"Assuming role with existing credentials: {ROLE}" in log_lines(result)
    for value in (ENV_KEY_ID, ENV_SECRET, ENV_TOKEN):
        assert value in result.masks


def test_keys_with_role_chaining_use_the_keys_and_export_only_the_session(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    """CAC exports (and masks) the input keys first, then the session: 8 exports. Here the
    input keys are the source and only the session reaches GITHUB_ENV."""
    result = run_action({"aws-region": REGION, **KEYS, "role-to-assume": ROLE,
                         "role-chaining": "true", "force-skip-oidc": "true"}, env=ENV_CREDS)
    assert result.ok, result.explain()
    [call] = sts.calls
    assert call.action == ASSUME_ROLE and call.access_key_id == KEY_ID
    assert oidc_issuer.requests == []
    creds = call.response
    assert_exports_credentials(result, creds)
    assert KEY_ID not in result.raw_env_text and SECRET_KEY not in result.raw_env_text
    assert sorted(result.masks) == sorted([KEY_ID, SECRET_KEY, creds["AccessKeyId"],
                                           creds["SecretAccessKey"], creds["SessionToken"]])


def test_existing_credentials_without_role_export_only_the_region(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    result = run_action({"aws-region": REGION}, env=ENV_CREDS)
    assert result.ok, result.explain()
    [call] = sts.calls
    assert call.action == GET_CALLER_IDENTITY and call.access_key_id == ENV_KEY_ID
    assert oidc_issuer.requests == []
    assert result.env_entries == [(name, REGION) for name in REGION_VARS]
    assert result.outputs == {"aws-account-id": MOTO_ACCOUNT,
                              "authenticated-arn": call.response["Arn"]}
    assert "Proceeding with existing credentials" in log_lines(result)


def test_no_credentials_at_all_without_role_fails(
    run_action: RunAction, sts: StsFaultProxy
) -> None:
    result = run_action({"aws-region": REGION})
    error = assert_failed_cleanly(result)
    assert "No existing AWS credentials" in error
    assert sts.calls == []


# -- force-skip-oidc -------------------------------------------------------------------------------


def test_force_skip_oidc_with_keys_and_role(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    result = run_action({"aws-region": REGION, **KEYS, "role-to-assume": ROLE,
                         "force-skip-oidc": "true"})
    assert result.ok, result.explain()
    assert oidc_issuer.requests == []
    [call] = sts.calls
    assert call.action == ASSUME_ROLE and call.access_key_id == KEY_ID


def test_force_skip_oidc_with_token_file(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer, token_file: TokenFile
) -> None:
    path = token_file()
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "web-identity-token-file": path.name, "force-skip-oidc": "true"})
    assert result.ok, result.explain()
    assert oidc_issuer.requests == []
    [call] = sts.calls
    assert call.action == ARWWI and call.web_identity_token == path.read_text()


def test_force_skip_oidc_with_role_only_is_cacs_error(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "force-skip-oidc": "true"}, env=ENV_CREDS)
    error = assert_failed_cleanly(result)
    assert error.startswith(
        "If 'force-skip-oidc' is true and 'role-to-assume' is set, 'aws-access-key-id' or "
        "'web-identity-token-file' must be set"
    )
    assert sts.calls == [] and oidc_issuer.requests == []


def test_force_skip_oidc_with_role_chaining_is_allowed(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    """A deliberate difference: CAC demands keys or a token file; chaining is accepted here."""
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "force-skip-oidc": "true", "role-chaining": "true"}, env=ENV_CREDS)
    assert result.ok, result.explain()
    assert oidc_issuer.requests == []
    [call] = sts.calls
    assert call.action == ASSUME_ROLE and call.access_key_id == ENV_KEY_ID


def test_force_skip_oidc_false_keeps_oidc(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "force-skip-oidc": "false"})
    assert result.ok, result.explain()
    assert len(oidc_issuer.token_requests) == 1
    assert actions(result) == [ARWWI]


# -- use-existing-credentials ------------------------------------------------------------------------


def test_use_existing_credentials_with_valid_credentials_stops_there(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "use-existing-credentials": "true"}, env=ENV_CREDS)
    assert result.ok, result.explain()
    assert result.notices == ["Pre-existing credentials are valid. No need to generate new ones."]
    [call] = sts.calls
    assert call.action == GET_CALLER_IDENTITY and call.access_key_id == ENV_KEY_ID
    assert oidc_issuer.requests == []
    assert result.env_entries == [(name, REGION) for name in REGION_VARS]


def test_use_existing_credentials_with_invalid_credentials_runs_as_normal(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    sts.fail_next(GET_CALLER_IDENTITY, "InvalidClientTokenId",
                  "The security token included in the request is invalid.", status=403)
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "use-existing-credentials": "true"}, env=ENV_CREDS)
    assert result.ok, result.explain()
    assert result.notices == ["No valid credentials exist. Running as normal."]
    assert actions(result) == [GET_CALLER_IDENTITY, ARWWI]
    assert len(oidc_issuer.token_requests) == 1
    creds = sts.calls[1].response
    assert_exports_credentials(result, creds)
    assert creds["AccessKeyId"] != ENV_KEY_ID


def test_use_existing_credentials_chain_ignores_endpoint_variables(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer,
    forward_proxy: ForwardProxy, token_file: TokenFile, workspace: Path,
) -> None:
    """The SDK chain's own web-identity provider must not send its token to the place
    AWS_ENDPOINT_URL_STS names (the local STS here): it goes to the region's endpoint, where a
    refusing proxy catches it, and failing there means "not valid", not a bug."""
    path = token_file("sdk.jwt")
    forward_proxy.refuse = True
    result = run_action(
        {"aws-region": REGION, "role-to-assume": ROLE, "use-existing-credentials": "true"},
        env={"AWS_WEB_IDENTITY_TOKEN_FILE": str(path), "AWS_ROLE_ARN": ROLE,
             "AWS_ENDPOINT_URL_STS": sts.url, "AWS_ENDPOINT_URL": sts.url,
             "HTTPS_PROXY": forward_proxy.url, "NO_PROXY": "127.0.0.1",
             "AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "1"},
        cwd=workspace)
    assert result.ok, result.explain()
    assert result.notices == ["No valid credentials exist. Running as normal."]
    # The chain's provider uses STS's global endpoint (its session has no region).
    assert [r.url for r in forward_proxy.requests] == ["sts.amazonaws.com:443"]
    # Only our own OIDC path reached the local STS, with the runner's token, not the file's.
    [call] = sts.calls
    assert call.action == ARWWI and call.web_identity_token != path.read_text()
    assert len(oidc_issuer.token_requests) == 1


def test_keys_role_with_env_credentials_off_ignores_ambient_keys(
    run_action: RunAction, sts: StsFaultProxy
) -> None:
    """CAC #1554: ambient credentials with another key must not break (or sign) the keys path."""
    result = run_action({"aws-region": REGION, **KEYS, "role-to-assume": ROLE,
                         "output-env-credentials": "false"},
                        env=ENV_CREDS)
    assert result.ok, result.explain()
    [call] = sts.calls
    assert call.action == ASSUME_ROLE and call.access_key_id == KEY_ID
    assert result.raw_env_text == ""
    assert result.outputs == {"aws-account-id": ACCOUNT,
                              "authenticated-arn": call.response["Arn"]}
