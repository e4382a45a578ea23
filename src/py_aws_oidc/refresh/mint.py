"""A fresh session for the credential process: the step's chain, run again from a new token.

Imported only when the cache is stale. It reads ``settings.json`` (held to the cache's rules:
the caller's own, 0600, no symbolic link), builds the :class:`~py_aws_oidc.config.Settings` that
replays the recorded chain (:mod:`.settingsfile`) and runs the package's own
:class:`~py_aws_oidc.assume.Chain`: the same token fetch (with its retries), the same STS calls
and error classification. The runner's commands (``::add-mask::`` and log lines) go nowhere:
stdout belongs to the credential_process document, and a secret is never written to stderr.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from typing import Any

from ..assume import Chain
from ..config import Source
from ..errors import ActionError
from ..retry import Deadline
from ..runner import Runner
from ..sts import iso8601
from . import layout
from .process import NO_ID_REQUEST_MESSAGE, ProcessFailure, describe_failure, read_private
from .settingsfile import SettingsFileError, settings

URL_VAR = "ACTIONS_ID_TOKEN_REQUEST_URL"
TOKEN_VAR = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"  # noqa: S105 - a variable name
MAX_SETTINGS_BYTES = 256 * 1024

class _Discard(io.StringIO):
    """The runner's stream in this process: log lines and masks are dropped."""

    def write(self, s: str) -> int:
        return len(s)


def load_settings_document(dir_fd: int, uid: int) -> Any:
    data = read_private(dir_fd, layout.SETTINGS_FILE, uid, MAX_SETTINGS_BYTES)
    if data is None:
        raise ProcessFailure(
            f"{layout.SETTINGS_FILE} in the refresh directory is missing, a symbolic link, not "
            "this user's, or readable by others; refusing to mint. Run the py-aws-oidc step "
            "again."
        )
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: deep nesting
        raise ProcessFailure(
            f"{layout.SETTINGS_FILE} is not valid JSON; run the py-aws-oidc step again."
        ) from None


def mint(dir_fd: int, environ: Mapping[str, str]) -> dict[str, object]:
    """Mint a session with the recorded chain; the credential_process document."""
    doc = load_settings_document(dir_fd, os.geteuid())
    try:
        recorded = settings(doc, environ)
    except SettingsFileError as exc:
        raise ProcessFailure(
            f"{layout.SETTINGS_FILE} was not written by this version ({exc}); run the "
            "py-aws-oidc step again."
        ) from None
    if recorded.source is Source.OIDC:
        missing = [name for name in (URL_VAR, TOKEN_VAR) if not environ.get(name, "").strip()]
        if missing:
            raise ProcessFailure(NO_ID_REQUEST_MESSAGE.format(missing=" or ".join(missing)))

    runner = Runner(environ, _Discard())
    deadline = Deadline(recorded.action_timeout_s or None)
    try:
        outcome = Chain(recorded, runner, deadline).run()
    except ActionError as exc:
        if not recorded.mask_account_id:
            raise
        raise ProcessFailure(recorded.hide_accounts(describe_failure(exc))) from None
    if recorded.allowed_account_ids and outcome.account not in recorded.allowed_account_ids:
        raise ProcessFailure(
            "the new session is in an account that allowed-account-ids does not list; check "
            "role-to-assume."
        )
    creds = outcome.credentials
    if creds.session_token is None or creds.expiration is None:
        raise ProcessFailure("STS answered without a session token or an expiration.")
    return {
        "Version": 1,
        "AccessKeyId": creds.access_key_id,
        "SecretAccessKey": creds.secret_access_key,
        "SessionToken": creds.session_token,
        "Expiration": iso8601(creds.expiration),
    }
