"""STS through botocore (boto3's client layer): clients, the three calls, error classification.

Why botocore's session rather than ``boto3.client``: it is the same client and wire protocol,
and skipping ``import boto3`` saves ~45 ms per run (see bench/). Clients are built so that
nothing ambient can interfere or slow them down:

* AssumeRoleWithWebIdentity is unsigned (``UNSIGNED``): no credential lookup, no IMDS probe;
* signed calls get explicit credentials, never the SDK chain;
* ``AWS_ENDPOINT_URL*`` and ``endpoint_url`` in shared config are ignored (an earlier step could
  set them to harvest the OIDC token); only the ``sts-endpoint`` input overrides the endpoint;
* botocore makes exactly one attempt per call; :mod:`retry` decides what is retried;
* connect/read timeouts always (and never past ``action-timeout-s``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from . import partitions, proxy
from .errors import (
    AccessDeniedError,
    CredentialsNotFoundError,
    DurationRefusedError,
    StsError,
)
from .retry import Deadline, TransientFailure
from .runner import Runner
from .tags import Tag

if TYPE_CHECKING:
    from .config import Settings

# botocore builds client classes at run time; their methods are not in the stubs.
StsClient = Any

T = TypeVar("T")

_THROTTLING = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
_TRANSIENT_CODES = frozenset(
    {
        "IDPCommunicationError",
        "IDPCommunicationErrorException",
        "InternalFailure",
        "InternalError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
MAX_SESSION_DURATION_MESSAGE = "exceeds the MaxSessionDuration"
CHAINING_LIMIT_MESSAGE = "session limit for roles assumed by role chaining"
SPECIAL_CHARACTERS = frozenset("!@#$%^&*()_+-=[]{};':\"\\|,.<>/?")


class ExpiredWebIdentityToken(Exception):
    """STS says the web identity token expired: fetch a new one, then retry."""


class PackedPolicyTooLarge(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, repr=False)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None
    expiration: dt.datetime | None = None

    def __repr__(self) -> str:
        return "Credentials(***)"

    def has_special_characters(self) -> bool:
        return any(ch in SPECIAL_CHARACTERS for ch in self.access_key_id + self.secret_access_key)


@dataclass(frozen=True, repr=False)
class AssumedSession:
    credentials: Credentials
    arn: str
    account: str
    packed_policy_size: int | None = None

    def __repr__(self) -> str:
        return f"AssumedSession(arn={self.arn!r})"


def iso8601(when: dt.datetime) -> str:
    """Plain ISO-8601 UTC, e.g. 2026-11-25T18:55:17Z (no JSON quotes)."""
    # Not dt.UTC (3.11+): the credential process (refresh/) runs this on the host's Python 3.10.
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: UP017


class StsClients:
    """Creates (and caches) STS clients configured from the settings."""

    def __init__(self, settings: Settings, runner: Runner, deadline: Deadline) -> None:
        self.settings = settings
        self.runner = runner
        self.deadline = deadline
        self._session: Any = None
        self._unsigned: StsClient | None = None
        self.endpoint = settings.sts_endpoint or partitions.regional_sts_endpoint(settings.region)

    def _botocore_session(self) -> Any:
        if self._session is None:
            import botocore.session

            # Explicit credentials or UNSIGNED only: a stale AWS_PROFILE exported by an earlier
            # step must not make client creation fail, and no shared config is needed.
            session = botocore.session.Session(
                session_vars={
                    "profile": (None, None, None, None),
                    "config_file": (None, None, os.devnull, None),
                    "credentials_file": (None, None, os.devnull, None),
                }
            )
            session.user_agent_name = "py-aws-oidc"
            self._session = session
        return self._session

    def _config(self, unsigned: bool) -> Any:
        from botocore.config import Config

        connect, read = self.deadline.timeouts()
        kwargs: dict[str, Any] = {
            "region_name": self.settings.region,
            "retries": {"total_max_attempts": 1, "mode": "standard"},
            "connect_timeout": connect,
            "read_timeout": read,
            "ignore_configured_endpoint_urls": True,
            "user_agent_appid": "py-aws-oidc",
            "proxies": proxy.botocore_proxies(self.settings.proxy, self.endpoint),
        }
        if unsigned:
            from botocore import UNSIGNED

            kwargs["signature_version"] = UNSIGNED
        return Config(**kwargs)

    def unsigned(self) -> StsClient:
        if self._unsigned is None:
            self._unsigned = self._botocore_session().create_client(
                "sts", endpoint_url=self.endpoint, config=self._config(unsigned=True)
            )
        return self._unsigned

    def signed(self, credentials: Credentials) -> StsClient:
        return self._botocore_session().create_client(
            "sts",
            endpoint_url=self.endpoint,
            config=self._config(unsigned=False),
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            aws_session_token=credentials.session_token,
        )


def existing_credentials(runner: Runner) -> Credentials | None:
    """Credentials from the environment or the SDK chain (profile, container, instance), masked."""
    import botocore.exceptions
    import botocore.session

    try:
        found = botocore.session.Session().get_credentials()
    except botocore.exceptions.BotoCoreError as exc:
        raise CredentialsNotFoundError(
            f"Existing credentials could not be loaded: {type(exc).__name__}.",
            remedy="Check AWS_PROFILE and the shared config files, or pass keys as inputs.",
        ) from None
    if found is None:
        return None
    frozen = found.get_frozen_credentials()
    for value in (frozen.access_key, frozen.secret_key, frozen.token):
        runner.mask(value)
    if not frozen.access_key or not frozen.secret_key:
        return None
    return Credentials(frozen.access_key, frozen.secret_key, frozen.token or None)


def _error_parts(exc: Any) -> tuple[str, str, int]:
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return str(error.get("Code", "")), str(error.get("Message", "")), int(status or 0)


def classify(exc: BaseException, *, operation: str, hop: int) -> BaseException:
    """Map a botocore exception to what the caller should do with it."""
    import botocore.exceptions as bex

    if isinstance(exc, bex.ClientError):
        code, message, status = _error_parts(exc)
        if code in _THROTTLING or code in _TRANSIENT_CODES or status >= 500:
            return TransientFailure(f"{operation}: {code or status}: {message}", code)
        if code.startswith("InvalidIdentityToken") and "verification key" in message:
            return TransientFailure(f"{operation}: {code}: {message}", code)
        if code.startswith("ExpiredToken") and operation == "AssumeRoleWithWebIdentity":
            return ExpiredWebIdentityToken(message)
        if code.startswith("PackedPolicyTooLarge"):
            return PackedPolicyTooLarge(message)
        if code == "ValidationError" and (
            MAX_SESSION_DURATION_MESSAGE in message or CHAINING_LIMIT_MESSAGE in message
        ):
            return DurationRefusedError(message, code=code, hop=hop)
        if code in ("AccessDenied", "AccessDeniedException") or code.startswith(
            ("InvalidIdentityToken", "IDPRejectedClaim")
        ):
            return AccessDeniedError(message, code=code, hop=hop)
        return StsError(f"{code}: {message}", code=code, hop=hop)
    if isinstance(exc, bex.NoCredentialsError):
        return CredentialsNotFoundError("No credentials to sign the request with.")
    if isinstance(
        exc,
        bex.ConnectTimeoutError
        | bex.ReadTimeoutError
        | bex.EndpointConnectionError
        | bex.ConnectionClosedError
        | bex.ProxyConnectionError
        | bex.HTTPClientError,
    ):
        return TransientFailure(f"{operation}: {type(exc).__name__}")
    from botocore.parsers import ResponseParserError

    if isinstance(exc, ResponseParserError):
        return TransientFailure(f"{operation}: unreadable response from STS")
    if isinstance(exc, bex.ParamValidationError):
        return StsError(f"{operation}: invalid parameters: {exc}", hop=hop)
    return exc


def _call(fn: Callable[[], T], *, operation: str, hop: int) -> T:
    import botocore.exceptions as bex
    from botocore.parsers import ResponseParserError

    try:
        return fn()
    # ResponseParserError is not a BotoCoreError, and its message holds the raw body (which may
    # hold unmasked credentials): classify it (transient, a message without the body).
    except (bex.BotoCoreError, bex.ClientError, ResponseParserError) as exc:
        raise classify(exc, operation=operation, hop=hop) from None


def _session_from(response: dict[str, Any], runner: Runner) -> AssumedSession:
    creds = response["Credentials"]
    # Mask first: nothing may print these before the runner knows them.
    for key in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
        runner.mask(creds.get(key))
    arn = str(response["AssumedRoleUser"]["Arn"])
    expiration = creds.get("Expiration")
    return AssumedSession(
        credentials=Credentials(
            creds["AccessKeyId"],
            creds["SecretAccessKey"],
            creds.get("SessionToken"),
            expiration if isinstance(expiration, dt.datetime) else None,
        ),
        arn=arn,
        account=partitions.account_of(arn) or "",
        packed_policy_size=response.get("PackedPolicySize"),
    )


def _common_params(
    role_arn: str,
    session_name: str,
    duration_s: int,
    policy: str | None,
    policy_arns: Sequence[str],
) -> dict[str, Any]:
    """The parameters AssumeRole and AssumeRoleWithWebIdentity share."""
    params: dict[str, Any] = {
        "RoleArn": role_arn,
        "RoleSessionName": session_name,
        "DurationSeconds": duration_s,
    }
    if policy:
        params["Policy"] = policy
    if policy_arns:
        params["PolicyArns"] = [{"arn": arn} for arn in policy_arns]
    return params


def assume_role_with_web_identity(
    client: StsClient,
    *,
    runner: Runner,
    role_arn: str,
    session_name: str,
    token: str,
    duration_s: int,
    policy: str | None,
    policy_arns: Sequence[str],
    hop: int,
) -> AssumedSession:
    params = _common_params(role_arn, session_name, duration_s, policy, policy_arns)
    params["WebIdentityToken"] = token
    response = _call(
        lambda: client.assume_role_with_web_identity(**params),
        operation="AssumeRoleWithWebIdentity",
        hop=hop,
    )
    return _session_from(response, runner)


def assume_role(
    client: StsClient,
    *,
    runner: Runner,
    role_arn: str,
    session_name: str,
    duration_s: int,
    tags: Sequence[Tag],
    transitive_tag_keys: Sequence[str],
    external_id: str | None,
    source_identity: str | None,
    policy: str | None,
    policy_arns: Sequence[str],
    hop: int,
) -> AssumedSession:
    params = _common_params(role_arn, session_name, duration_s, policy, policy_arns)
    if tags:
        params["Tags"] = [{"Key": t.key, "Value": t.value} for t in tags]
    if transitive_tag_keys:
        params["TransitiveTagKeys"] = list(transitive_tag_keys)
    if external_id:
        params["ExternalId"] = external_id
    if source_identity:
        params["SourceIdentity"] = source_identity
    response = _call(lambda: client.assume_role(**params), operation="AssumeRole", hop=hop)
    return _session_from(response, runner)


def get_caller_identity(client: StsClient, *, hop: int = 1) -> tuple[str, str]:
    """(account, arn) of the credentials the client signs with."""
    response = _call(client.get_caller_identity, operation="GetCallerIdentity", hop=hop)
    return str(response["Account"]), str(response["Arn"])
