"""Issue 12 (items 3, 4, 7, 9): masks that miss, honest failure messages, odd input that used to
reach the network, and two drop-in details. Every test runs the real step through the harness
(real issuer, moto behind the fault layer) and fails on the code before the fix.

* A value in an error is shown whole and as given, or not at all: the runner masks a secret
  (``${{ secrets.X }}`` passed as an input) only where it appears whole.
* With ``mask-aws-account-id`` the account is masked before ``allowed-account-ids`` is checked,
  and the error never holds it.
* The runner's files are opened before anything is written; a write that fails half-way says
  what was already written; "Nothing was exported" only when true.
* Malformed existing credentials fail at once, not after 17 s of retries.
* ``role-skip-session-tagging`` + ``transitive-tag-keys``: a warning, as CAC; a token file the
  container cannot see: an error that says to pass a path relative to the workspace.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any

import pytest

from localdev.runner_files import masked_set
from localdev.sts_faults import StsFaultProxy
from tests.integration.cac_support import (
    ACCOUNT,
    KEY_ID,
    KEYS,
    MOTO_ACCOUNT,
    REGION,
    ROLE,
    SECRET_KEY,
    actions,
    assert_failed_cleanly,
)

RunAction = Any
Secrets = Any

TARGET = "arn:aws:iam::444455556666:role/target"
CHAIN = f"{ROLE}\n{TARGET}"


def runner_masked(stdout: str, masks: list[str]) -> str:
    """stdout as the runner shows it: every registered value (and each of its lines) masked."""
    for value in sorted(masked_set(masks), key=len, reverse=True):
        stdout = stdout.replace(value, "***")
    return stdout


# -- item 3: masks that miss ------------------------------------------------------------------------


@pytest.mark.parametrize("input_name,value", [
    # 1.0 cut values at 80 characters: the runner could not mask the first 80 of a secret.
    ("role-to-assume", "arn:aws:iam::111122223333:role/" + "secret-path/" * 10 + "bad role"),
    ("aws-region", "eu-" + "s3cr3t" * 20),
    # 1.0 escaped ' and \\ inside the value: the escaped text no longer matched the secret.
    ("role-session-name", "it's-a\\secret-name"),
    # 1.0 showed the one bad entry of a comma-separated list: a fragment of the input.
    ("allowed-account-ids", "111122223333,s3cr3t-account-list"),
])
def test_a_secret_input_in_an_error_is_masked_whole_by_the_runner(
    run_action: RunAction, input_name: str, value: str
) -> None:
    """The input is a repository secret: the runner registered it before the step ran. After
    the runner's masking, no fragment of it may be left in the log."""
    inputs = {"aws-region": REGION, "role-to-assume": ROLE, input_name: value}
    result = run_action(inputs, timeout=30)
    error = assert_failed_cleanly(result)
    assert f"'{input_name}'" in error
    shown = runner_masked(result.stdout, [value])
    assert "***" in shown, error  # the value was shown, whole
    for start in range(0, len(value) - 12):
        assert value[start:start + 12] not in shown, (value[start:start + 12], error)


def test_a_value_too_long_to_show_is_described_not_cut(run_action: RunAction) -> None:
    value = "arn:aws:iam::111122223333:role/" + "p" * 3000
    result = run_action({"aws-region": REGION, "role-to-assume": value}, timeout=30)
    error = assert_failed_cleanly(result)
    assert "(a value of 3031 characters, not shown)" in error
    assert "ppppp" not in result.stdout


def test_allowed_account_ids_are_shown_as_given(run_action: RunAction) -> None:
    given = "999999999999 ,  888888888888"  # spacing kept: a re-joined list would not be masked
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "allowed-account-ids": given})
    error = assert_failed_cleanly(result)
    assert error.startswith(f"The account ID of the provided credentials ({ACCOUNT}) does not "
                            f"match any of the expected account IDs: {given}. ")


@pytest.mark.parametrize("path", ["keys", "keys-and-role", "oidc"])
def test_a_masked_account_is_masked_before_the_allowed_accounts_check(
    run_action: RunAction, secrets: Secrets, path: str
) -> None:
    """SPEC rule 9/10: with mask-aws-account-id the account is a secret: masked first, and never
    printed on the failure path either (not even as ***)."""
    if path == "oidc":
        inputs: dict[str, str] = {"aws-region": REGION, "role-to-assume": ROLE}
        account = ACCOUNT
    else:
        inputs = {"aws-region": REGION, **KEYS}
        if path == "keys-and-role":
            inputs["role-to-assume"] = "gha-entry"  # a role name: expanded with the keys' account
        account = MOTO_ACCOUNT
    secrets.add(account, "account-id")  # the leak check: only on its own, earlier, mask line
    result = run_action({**inputs, "mask-aws-account-id": "true",
                         "allowed-account-ids": "999999999999"})
    error = assert_failed_cleanly(result)
    assert "expected account IDs: 999999999999. " in error
    assert "(masked: mask-aws-account-id)" in error and "***" not in error
    mask_line = f"::add-mask::{account}"
    lines = result.stdout.splitlines()
    assert mask_line in lines
    assert not any(account in line for line in lines if line != mask_line)


def test_a_masked_account_is_left_out_of_an_sts_refusal_that_quotes_it(
    run_action: RunAction, sts: StsFaultProxy, secrets: Secrets
) -> None:
    """STS's AccessDenied quotes the caller's ARN: with keys as the source, that account has no
    mask (only the role's has one), so the message must leave it out."""
    secrets.add(MOTO_ACCOUNT, "account-id")
    sts.fail_next("AssumeRole", "AccessDenied",
                  f"User: arn:aws:iam::{MOTO_ACCOUNT}:user/ci is not authorized to perform: "
                  f"sts:AssumeRole on resource: {ROLE}")
    result = run_action({"aws-region": REGION, **KEYS, "role-to-assume": ROLE,
                         "mask-aws-account-id": "true"}, timeout=30)
    error = assert_failed_cleanly(result)
    assert "User: arn:aws:iam::(masked):user/ci is not authorized" in error
    assert MOTO_ACCOUNT not in result.stdout and ACCOUNT not in error


# -- item 4: honest failure messages ----------------------------------------------------------------


def test_an_output_file_that_cannot_be_opened_fails_before_anything_is_written(
    run_action: RunAction, tmp_path: Path
) -> None:
    """1.0 wrote GITHUB_ENV (credentials included), then failed on GITHUB_OUTPUT and said
    "Unexpected error ... Nothing was exported"."""
    directory = tmp_path / "output-is-a-directory"
    directory.mkdir()
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE},
                        env={"GITHUB_OUTPUT": str(directory)})
    error = assert_failed_cleanly(result)  # GITHUB_ENV stays empty (the leak check too)
    assert "Unexpected error" not in error
    assert error.startswith(f"GITHUB_OUTPUT ({directory}) could not be opened")
    assert "Nothing was exported." in error
    assert actions(result) == ["AssumeRoleWithWebIdentity"]


def test_a_write_that_fails_half_way_says_what_was_written(
    run_action: RunAction, tmp_path: Path
) -> None:
    """The profile is written first; GITHUB_ENV (here a full disk) fails after it: the error
    names the profile and its files, and that GITHUB_ENV may hold part of its entries."""
    cred_file = tmp_path / "aws" / "credentials"
    config_file = tmp_path / "aws" / "config"
    result = run_action(
        {"aws-region": REGION, "role-to-assume": ROLE, "aws-profile": "deploy",
         "output-env-credentials": "true"},
        env={"GITHUB_ENV": "/dev/full", "AWS_SHARED_CREDENTIALS_FILE": str(cred_file),
             "AWS_CONFIG_FILE": str(config_file)},
    )
    error = assert_failed_cleanly(result)
    assert "Nothing was exported" not in error and "Unexpected error" not in error
    assert error.startswith("GITHUB_ENV (/dev/full) could not be written (No space left on device)")
    assert f"Already written: profile 'deploy' ({cred_file}, {config_file})." in error
    assert "GITHUB_ENV may hold part of its entries" in error
    assert "GITHUB_OUTPUT" not in error  # not written, and not said to be
    assert result.summary == ""  # the success summary is not written for a failed step
    assert stat.S_IMODE(cred_file.stat().st_mode) == 0o600
    assert "[deploy]" in cred_file.read_text()


def test_a_profile_written_half_way_says_which_file_holds_it(
    run_action: RunAction, tmp_path: Path
) -> None:
    cred_file = tmp_path / "credentials"
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    result = run_action(
        {"aws-region": REGION, "role-to-assume": ROLE, "aws-profile": "deploy"},
        env={"AWS_SHARED_CREDENTIALS_FILE": str(cred_file),
             "AWS_CONFIG_FILE": str(blocker / "config")},
    )
    error = assert_failed_cleanly(result)
    assert f"The AWS credentials file {cred_file} was already written." in error
    assert "Nothing was exported" not in error
    assert "[deploy]" in cred_file.read_text()


def test_a_missing_github_env_fails_before_the_profile_is_written(
    run_action: RunAction, tmp_path: Path
) -> None:
    """1.0 wrote the profile files, then found GITHUB_ENV unset."""
    cred_file = tmp_path / "credentials"
    result = run_action(
        {"aws-region": REGION, "role-to-assume": ROLE, "aws-profile": "deploy",
         "output-env-credentials": "true"},
        env={"GITHUB_ENV": None, "AWS_SHARED_CREDENTIALS_FILE": str(cred_file),
             "AWS_CONFIG_FILE": str(tmp_path / "config")},
    )
    error = assert_failed_cleanly(result)
    assert "GITHUB_ENV is not set" in error
    assert not cred_file.exists()


# -- item 7: odd input ------------------------------------------------------------------------------


def test_malformed_existing_credentials_fail_at_once(run_action: RunAction) -> None:
    """A line break in AWS_SESSION_TOKEN made a broken header: 1.0 retried it as a transient
    network failure for ~20 s."""
    result = run_action(
        {"aws-region": REGION, "role-to-assume": ROLE, "role-chaining": "true"},
        env={"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
             "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEXAMPLETOKEN\nsecondLineOfTheToken"},
        timeout=30,
    )
    error = assert_failed_cleanly(result)
    assert "session token" in error and "line break" in error
    assert "retr" not in error.lower() and "transient" not in error
    assert result.sts_calls == []
    assert not any("attempt" in line for line in result.stdout.splitlines())


# -- item 9: drop-in details ------------------------------------------------------------------------


@pytest.mark.parametrize("roles", [CHAIN, ROLE], ids=["chain", "single-oidc-role"])
def test_skip_session_tagging_ignores_transitive_keys_with_a_warning(
    run_action: RunAction, sts: StsFaultProxy, roles: str
) -> None:
    """As CAC: no tags are sent, so there is nothing to pass on. 1.0 failed ("names no session
    tag") although the same workflow works with CAC."""
    result = run_action({"aws-region": REGION, "role-to-assume": roles,
                         "role-skip-session-tagging": "true",
                         "transitive-tag-keys": "Repository\nTeam"})
    assert result.ok, result.explain()
    assert len(result.warnings) == 1, result.warnings
    assert "'transitive-tag-keys' is ignored" in result.warnings[0]
    for call in result.sts_calls:
        assert call.tags == {} and call.transitive_tag_keys == [], call


def test_skip_session_tagging_with_tags_of_ones_own_still_checks_transitive_keys(
    run_action: RunAction, sts: StsFaultProxy
) -> None:
    base = {"aws-region": REGION, "role-to-assume": CHAIN, "role-skip-session-tagging": "true",
            "session-tags": "Team=platform"}
    sent = run_action({**base, "transitive-tag-keys": "Team"})
    assert sent.ok, sent.explain()
    (hop2,) = [c for c in sent.sts_calls if c.action == "AssumeRole"]
    assert hop2.tags == {"Team": "platform"} and hop2.transitive_tag_keys == ["Team"]
    assert sent.warnings == []
    refused = run_action({**base, "transitive-tag-keys": "Repository"}, timeout=30)
    error = assert_failed_cleanly(refused)
    assert "'transitive-tag-keys'" in error and "'Repository'" in error


def test_a_host_token_path_the_container_cannot_see_says_what_to_pass(
    run_action: RunAction, token_file: Any
) -> None:
    """In the runner's container layout (GITHUB_WORKSPACE=/github/workspace) an absolute host
    path outside the runner's mounts names nothing the container sees: 1.0 read whatever the
    path named (here a file that happens to exist where the step runs)."""
    host_file = token_file("host-token.jwt")
    assert host_file.is_absolute() and host_file.exists()
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "web-identity-token-file": str(host_file)},
                        env={"GITHUB_WORKSPACE": "/github/workspace"}, timeout=30)
    error = assert_failed_cleanly(result)
    assert error.startswith(f"Input 'web-identity-token-file': '{host_file}' is an absolute path "
                            "on the runner's host, which this container action cannot see")
    assert "relative to the workspace" in error
    assert not re.search(r"not found|does not exist|no such file", error, re.IGNORECASE)
    assert result.sts_calls == [] and result.token_requests == []


def test_a_host_run_takes_an_absolute_token_path(
    run_action: RunAction, sts: StsFaultProxy, token_file: Any
) -> None:
    """Run on a host (pip install, GITHUB_WORKSPACE is a host path): any path is fine."""
    host_file = token_file("host-token.jwt")
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE,
                         "web-identity-token-file": str(host_file)}, oidc=False)
    assert result.ok, result.explain()
    assert actions(result) == ["AssumeRoleWithWebIdentity"]
