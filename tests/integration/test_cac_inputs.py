"""CAC's inputs beyond the auth path: what each one changes, at the HTTP level and in the files.

output-env-credentials, output-credentials, unset-current-credentials, allowed-account-ids,
mask-aws-account-id, role-external-id, inline-session-policy, managed-session-policies,
special-characters-workaround, action-timeout-s, sts-endpoint (and the ignored
AWS_ENDPOINT_URL_STS), translate-env-variables.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from localdev.forward_proxy import ForwardProxy
from localdev.oidc_issuer import OidcIssuer
from localdev.sts_faults import StsFaultProxy
from tests.integration.cac_support import (
    ACCOUNT,
    ALL_VARS,
    ARWWI,
    ASSUME_ROLE,
    KEYS,
    MOTO_ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_ROLE,
    REGION,
    ROLE,
    SPECIAL,
    actions,
    assert_failed_cleanly,
    log_lines,
    sts_credentials_xml,
)

RunAction = Any
Secrets = Any


# -- output-env-credentials / output-credentials / unset-current-credentials --------------------------


def test_output_env_credentials_false_exports_nothing_but_masks_and_outputs(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "output-env-credentials": "false", "output-credentials": "true"})
    assert result.ok, result.explain()
    assert result.raw_env_text == ""
    [call] = sts.calls
    creds = call.response
    # Still masked: the request token, the JWT and the three STS values.
    assert len(result.masks) == 5
    for name in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
        assert creds[name] in result.masks
    assert result.outputs["aws-account-id"] == ACCOUNT
    assert result.outputs["authenticated-arn"] == creds["Arn"]
    assert result.outputs["aws-access-key-id"] == creds["AccessKeyId"]
    assert len(result.outputs) == 6


def test_unset_current_credentials_blanks_before_exporting(
    run_action: RunAction, sts: StsFaultProxy
) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "unset-current-credentials": "true"},
                        env={"AWS_ACCESS_KEY_ID": "AKIASTALEKEYFROMBEFORE",
                             "AWS_SECRET_ACCESS_KEY": "StaleSecretFromAnEarlierStep01",
                             "AWS_SESSION_TOKEN": "StaleSessionTokenFromAnEarlierStep"})
    assert result.ok, result.explain()
    blanks, exports = result.env_entries[:5], result.env_entries[5:]
    assert sorted(blanks) == sorted((name, "") for name in ALL_VARS)
    assert sorted(name for name, _ in exports) == sorted(ALL_VARS)
    creds = sts.calls[0].response
    assert result.env == {"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
                          "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
                          "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
                          "AWS_SESSION_TOKEN": creds["SessionToken"]}


# -- allowed-account-ids ---------------------------------------------------------------------------


@pytest.mark.parametrize("allowed", [f" 999999999999 ,  {ACCOUNT} ,888888888888", ""],
                         ids=["several-with-spaces", "empty-disables"])
def test_allowed_account_ids_accepts(run_action: RunAction, sts: StsFaultProxy,
                                     allowed: str) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "allowed-account-ids": allowed})
    assert result.ok, result.explain()
    assert result.outputs["aws-account-id"] == ACCOUNT
    assert actions(result) == [ARWWI]


@pytest.mark.parametrize("env_credentials", ["true", "false"])
def test_allowed_account_ids_refuses_oidc_account(
    run_action: RunAction, sts: StsFaultProxy, env_credentials: str
) -> None:
    """Also with output-env-credentials false (a CAC regression skipped the guard there)."""
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "allowed-account-ids": "999999999999, 888888888888",
                         "output-env-credentials": env_credentials})
    error = assert_failed_cleanly(result)
    assert error.startswith(
        f"The account ID of the provided credentials ({ACCOUNT}) does not match any of the "
        "expected account IDs: 999999999999, 888888888888"
    )
    assert actions(result) == [ARWWI]


def test_allowed_account_ids_checks_the_assumed_account_on_keys_and_role(
    run_action: RunAction, sts: StsFaultProxy
) -> None:
    """The keys' account (moto's 123456789012) is not the final one; the role's is."""
    result = run_action({"aws-region": REGION, **KEYS, "role-to-assume": OTHER_ROLE,
                         "allowed-account-ids": MOTO_ACCOUNT})
    error = assert_failed_cleanly(result)
    assert error.startswith(
        f"The account ID of the provided credentials ({OTHER_ACCOUNT}) does not match any of the "
        f"expected account IDs: {MOTO_ACCOUNT}"
    )
    assert actions(result) == [ASSUME_ROLE]


def test_allowed_account_ids_on_keys_without_role_checks_the_keys_account(
    run_action: RunAction, sts: StsFaultProxy
) -> None:
    result = run_action({"aws-region": REGION, **KEYS, "allowed-account-ids": MOTO_ACCOUNT})
    assert result.ok, result.explain()
    assert result.outputs["aws-account-id"] == MOTO_ACCOUNT


# -- mask-aws-account-id ----------------------------------------------------------------------------


def _assert_account_hidden(result: Any, account: str) -> None:
    assert account in result.masks
    for line in log_lines(result) + [c.data for c in result.commands if c.name != "add-mask"]:
        assert account not in line, line
    assert account not in result.summary
    assert "(masked: mask-aws-account-id)" in result.summary
    # The outputs still carry it; the account's mask hides it inside the ARN as well.
    assert result.outputs["aws-account-id"] == account
    assert f":{account}:" in result.outputs["authenticated-arn"]
    assert "Authenticated as arn:aws:sts::***:assumed-role/" in result.stdout


def test_mask_aws_account_id_on_oidc(run_action: RunAction, sts: StsFaultProxy,
                                     secrets: Secrets) -> None:
    secrets.add(ACCOUNT, "account-id")  # the leak check: masked before any other occurrence
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "mask-aws-account-id": "true"})
    assert result.ok, result.explain()
    _assert_account_hidden(result, ACCOUNT)


def test_mask_aws_account_id_with_a_role_name(run_action: RunAction, sts: StsFaultProxy,
                                              secrets: Secrets) -> None:
    """The account is learnt from GetCallerIdentity; it must be masked before the expanded
    role ARN is logged."""
    secrets.add(MOTO_ACCOUNT, "account-id")
    result = run_action({"aws-region": REGION, **KEYS, "role-to-assume": "deploy",
                         "mask-aws-account-id": "true"})
    assert result.ok, result.explain()
    _assert_account_hidden(result, MOTO_ACCOUNT)


# -- role-external-id, session policies ---------------------------------------------------------------


def test_role_external_id_is_sent_on_assume_role(run_action: RunAction,
                                                 sts: StsFaultProxy) -> None:
    result = run_action({"aws-region": REGION, **KEYS, "role-to-assume": ROLE,
                         "role-external-id": "ext-id:4711"})
    assert result.ok, result.explain()
    [call] = sts.calls
    assert call.action == ASSUME_ROLE
    assert call.params["ExternalId"] == "ext-id:4711"


def test_role_external_id_on_the_oidc_path_is_an_error(run_action: RunAction,
                                                       sts: StsFaultProxy,
                                                       oidc_issuer: OidcIssuer) -> None:
    """CAC silently drops it on AssumeRoleWithWebIdentity; here it is an error that shows the
    two-role chain that would apply it."""
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "role-external-id": "ext-id:4711"})
    error = assert_failed_cleanly(result)
    assert "'role-external-id'" in error
    assert "role-to-assume" in error
    assert sts.calls == [] and oidc_issuer.requests == []


POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"],
                   "Resource": "arn:aws:s3:::octo-bucket/*"}],
}
MANAGED = ["arn:aws:iam::aws:policy/ReadOnlyAccess",
           f"arn:aws:iam::{ACCOUNT}:policy/deploy-boundary"]


@pytest.mark.parametrize("path", ["oidc", "keys"])
def test_session_policies_are_sent_minified_and_as_policy_arns(
    run_action: RunAction, sts: StsFaultProxy, path: str
) -> None:
    inputs = {"aws-region": REGION, "role-to-assume": ROLE,
              "inline-session-policy": json.dumps(POLICY, indent=4),
              "managed-session-policies": "\n".join(MANAGED) + "\n"}
    if path == "keys":
        inputs.update(KEYS)
    result = run_action(inputs)
    assert result.ok, result.explain()
    [call] = sts.calls
    assert call.action == (ARWWI if path == "oidc" else ASSUME_ROLE)
    assert call.params["Policy"] == json.dumps(POLICY, separators=(",", ":"))
    assert call.params["PolicyArns.member.1.arn"] == MANAGED[0]
    assert call.params["PolicyArns.member.2.arn"] == MANAGED[1]
    assert call.policy_arns == MANAGED


# -- special-characters-workaround ------------------------------------------------------------------


def _queue_credentials(sts: StsFaultProxy, secrets: Secrets, keys: list[tuple[str, str]]) -> None:
    """Queue AssumeRoleWithWebIdentity answers with these (key id, secret) pairs, in order."""
    for n, (key_id, secret) in enumerate(keys):
        token = f"SessionTokenNumber{n}ForTheSpecialCharactersTest"
        for value in (key_id, secret, token):
            secrets.add(value, "crafted-sts-credential")
        sts.respond_next(ARWWI, 200, sts_credentials_xml(ARWWI, key_id, secret, token),
                         content_type="text/xml")


def test_special_characters_workaround_reassumes_until_clean(
    run_action: RunAction, sts: StsFaultProxy, secrets: Secrets
) -> None:
    clean = ("ASIACLEANKEY00000003", "CleanSecretWithoutSpecialCharacters0003")
    _queue_credentials(sts, secrets, [("ASIADIRTYKEY00000001", "Dirty/Secret+Number1abcdefghijklmnop"),
                                      ("ASIADIRTYKEY00000002", "DirtySecret#Number2abcdefghijklmnopq"),
                                      clean])
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "special-characters-workaround": "true", "retry-max-attempts": "5"})
    assert result.ok, result.explain()
    assert actions(result) == [ARWWI] * 3
    assert result.env["AWS_ACCESS_KEY_ID"] == clean[0]
    assert result.env["AWS_SECRET_ACCESS_KEY"] == clean[1]
    assert sum("special-characters-workaround, attempt" in line
               for line in log_lines(result)) == 2


def test_special_characters_workaround_against_moto_is_bounded(
    run_action: RunAction, sts: StsFaultProxy
) -> None:
    """moto's secrets often hold ``/`` or ``+``: either clean keys within the bound, or a clean
    error after exactly the bound."""
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "special-characters-workaround": "true", "retry-max-attempts": "3"})
    assert 1 <= len(sts.calls) <= 3
    assert set(actions(result)) == {ARWWI}
    if result.ok:
        assert not SPECIAL & set(result.env["AWS_ACCESS_KEY_ID"] + result.env["AWS_SECRET_ACCESS_KEY"])
        assert result.env["AWS_ACCESS_KEY_ID"] == sts.calls[-1].response["AccessKeyId"]
    else:
        assert len(sts.calls) == 3
        assert "special-characters-workaround" in assert_failed_cleanly(result)


# -- action-timeout-s, sts-endpoint, AWS_ENDPOINT_URL_STS --------------------------------------------


def test_action_timeout_is_announced_and_sts_endpoint_is_used(
    run_action: RunAction, sts: StsFaultProxy
) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "action-timeout-s": "30", "sts-endpoint": sts.url + "/"})
    assert result.ok, result.explain()
    assert "Setting a global timeout of 30 seconds for the action" in log_lines(result)
    assert actions(result) == [ARWWI]  # the calls reached the fault layer


def test_aws_endpoint_url_variables_are_ignored(
    run_action: RunAction, sts: StsFaultProxy
) -> None:
    """An earlier step could set these through GITHUB_ENV to harvest the OIDC token."""
    dead = "http://127.0.0.1:9"  # discard port: nothing answers
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE},
                        env={"AWS_ENDPOINT_URL_STS": dead, "AWS_ENDPOINT_URL": dead})
    assert result.ok, result.explain()
    assert actions(result) == [ARWWI]


def test_without_sts_endpoint_aws_endpoint_url_sts_is_not_used(
    run_action: RunAction, sts: StsFaultProxy, forward_proxy: ForwardProxy,
    oidc_issuer: OidcIssuer, tmp_path: Path,
) -> None:
    """AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL and the shared config's endpoint_url point at the
    local STS; without ``sts-endpoint`` the request must go to the region's endpoint instead.
    A refusing proxy catches it there, so nothing leaves the machine."""
    config = tmp_path / "aws-config"
    config.write_text(f"[default]\nendpoint_url = {sts.url}\nservices = local\n\n"
                      f"[services local]\nsts =\n  endpoint_url = {sts.url}\n")
    forward_proxy.refuse = True
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE, "sts-endpoint": None,
                         "http-proxy": forward_proxy.url, "no-proxy": "127.0.0.1",
                         "disable-retry": "true"},
                        env={"AWS_ENDPOINT_URL_STS": sts.url, "AWS_ENDPOINT_URL": sts.url,
                             "AWS_CONFIG_FILE": str(config), "AWS_PROFILE": "default"})
    assert_failed_cleanly(result)
    assert sts.calls == []
    assert [r.url for r in forward_proxy.requests] == ["sts.us-east-1.amazonaws.com:443"]
    assert len(oidc_issuer.token_requests) == 1  # bypassed the proxy (no-proxy: 127.0.0.1)


# -- translate-env-variables ------------------------------------------------------------------------


def test_env_variables_fill_empty_inputs(run_action: RunAction, sts: StsFaultProxy) -> None:
    result = run_action({}, env={"ROLE_TO_ASSUME": ROLE, "AWS_REGION": "eu-west-1",
                                 "ROLE_SESSION_NAME": "from-env"})
    assert result.ok, result.explain()
    [call] = sts.calls
    assert call.role_arn == ROLE
    assert call.role_session_name == "from-env"
    assert result.env["AWS_REGION"] == "eu-west-1"


def test_inputs_win_over_env_variables(run_action: RunAction, sts: StsFaultProxy) -> None:
    result = run_action({"aws-region": "us-west-2", "role-to-assume": ROLE,
                         "translate-env-variables": "true"},
                        env={"AWS_REGION": "eu-west-1", "ROLE_TO_ASSUME": OTHER_ROLE})
    assert result.ok, result.explain()
    assert sts.calls[0].role_arn == ROLE
    assert result.env["AWS_REGION"] == "us-west-2"


def test_translate_env_variables_false(run_action: RunAction, sts: StsFaultProxy) -> None:
    result = run_action({"translate-env-variables": "false"},
                        env={"ROLE_TO_ASSUME": ROLE, "AWS_REGION": "eu-west-1"})
    error = assert_failed_cleanly(result)
    assert "'aws-region'" in error
    assert sts.calls == []
