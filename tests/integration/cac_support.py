"""Constants and small helpers shared by the CAC-parity integration tests.

Only plain functions over :class:`~tests.support.harness.ActionResult` and the STS records live
here; the servers and ``run_action`` come from ``tests/conftest.py``.
"""

from __future__ import annotations

import re
import uuid

from localdev.runner_files import try_parse_v2
from tests.support.harness import ActionResult

REGION = "us-east-1"
ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/gha-entry"
OTHER_ACCOUNT = "444455556666"
OTHER_ROLE = f"arn:aws:iam::{OTHER_ACCOUNT}:role/target"
# Static keys: moto answers GetCallerIdentity for unknown keys with this account.
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"
MOTO_ACCOUNT = "123456789012"
KEYS = {"aws-access-key-id": KEY_ID, "aws-secret-access-key": SECRET_KEY}
# Credentials "in the environment" (an earlier step, an instance profile...).
ENV_KEY_ID = "AKIAENVIRONMENTKEY01"
ENV_SECRET = "EnvironmentSecretAccessKeyValue0123456"
ENV_TOKEN = "EnvironmentSessionTokenValue0123456789abcdef"
ENV_CREDS = {"AWS_ACCESS_KEY_ID": ENV_KEY_ID, "AWS_SECRET_ACCESS_KEY": ENV_SECRET}

CREDENTIAL_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
REGION_VARS = ("AWS_DEFAULT_REGION", "AWS_REGION")
ALL_VARS = REGION_VARS + CREDENTIAL_VARS
SPECIAL = set("!@#$%^&*()_+-=[]{};':\"\\|,.<>/?")
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

ARWWI = "AssumeRoleWithWebIdentity"
ASSUME_ROLE = "AssumeRole"
GET_CALLER_IDENTITY = "GetCallerIdentity"


def env_names(result: ActionResult) -> list[str]:
    """Names written to GITHUB_ENV, in order, duplicates kept."""
    return [name for name, _ in result.env_entries]


def actions(result: ActionResult) -> list[str]:
    """The STS actions the run made, in order."""
    return [call.action for call in result.sts_calls]


def log_lines(result: ActionResult) -> list[str]:
    """stdout lines that are not workflow commands (what a user reads in the log)."""
    return [line for line in result.stdout.splitlines() if try_parse_v2(line) is None]


def the_error(result: ActionResult) -> str:
    assert len(result.errors) == 1, result.explain()
    return result.errors[0]


def assert_failed_cleanly(result: ActionResult) -> str:
    """A failed main step: exit 1, one error, GITHUB_ENV/GITHUB_OUTPUT untouched."""
    assert result.returncode == 1, result.explain()
    assert result.raw_env_text == ""
    assert result.raw_output_text == ""
    return the_error(result)


def assumed_credentials(result: ActionResult, action: str) -> dict[str, str]:
    """The credentials STS returned to the last successful ``action`` call of the run."""
    calls = [c for c in result.sts_calls if c.action == action and c.ok]
    assert calls, f"no successful {action} in {result.sts_calls}"
    return calls[-1].response


def assert_exports_credentials(result: ActionResult, creds: dict[str, str],
                               region: str = REGION) -> None:
    """Exactly the five variables, each once, with these values."""
    assert sorted(env_names(result)) == sorted(ALL_VARS), env_names(result)
    assert result.env == {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }


def sts_credentials_xml(action: str, access_key_id: str, secret: str, token: str,
                        arn: str = f"arn:aws:sts::{ACCOUNT}:assumed-role/gha-entry/GitHubActions",
                        expiration: str = "2030-01-01T00:00:00Z") -> str:
    """A successful STS answer (for ``sts.respond_next``) carrying credentials of our choice."""
    return (
        f'<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<{action}Result><Credentials>"
        f"<AccessKeyId>{access_key_id}</AccessKeyId>"
        f"<SecretAccessKey>{secret}</SecretAccessKey>"
        f"<SessionToken>{token}</SessionToken>"
        f"<Expiration>{expiration}</Expiration></Credentials>"
        f"<AssumedRoleUser><AssumedRoleId>AROAEXAMPLEROLEID:GitHubActions</AssumedRoleId>"
        f"<Arn>{arn}</Arn></AssumedRoleUser>"
        f"</{action}Result><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId>"
        f"</ResponseMetadata></{action}Response>"
    )
