"""STS over its query protocol: the three calls, their answers and errors, and classification.

STS's query protocol is a form POST (``Action=...&Version=2011-06-15&...``) and a small XML
answer, so there is no SDK client here: building a botocore client costs more than the whole
OIDC path (issue 15). This module

* builds the form (lists as ``Name.member.N``, as botocore's query serializer does);
* sends it over the ``requests`` session the token request uses (:mod:`transport`: connect/read
  timeouts, a total deadline per request, a response-size cap), one attempt per call;
  :mod:`retry` decides what is retried;
* leaves AssumeRoleWithWebIdentity unsigned and signs AssumeRole and GetCallerIdentity with
  botocore's own SigV4 signer (``botocore.auth``), imported only when a call is signed;
* parses the answer, and STS's error document (Code, Message, RequestId) for :func:`classify`.

Where requests go is decided here and nowhere else: the ``sts-endpoint`` input, else the
regional endpoint of :mod:`partitions` (``https://sts.<region>.<dns suffix>``, what botocore
resolves for STS in every region; tests/unit/test_sts.py checks that). SDK variables such as
``AWS_ENDPOINT_URL_STS`` and shared-config ``endpoint_url`` are never read: an earlier step
could set them to harvest the OIDC token.

The public API (also for a credential process that mints new sessions): :class:`StsConnection`
(endpoint, region, HTTP session, proxies, deadline, and for signed calls the credentials),
:func:`assume_role_with_web_identity`, :func:`assume_role`, :func:`get_caller_identity`.
Secrets in answers are handed to a :class:`Masker` (``Runner.mask``) before anything is returned.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode

from . import partitions, proxy, transport
from .errors import (
    AccessDeniedError,
    CredentialsNotFoundError,
    DurationRefusedError,
    StsError,
)
from .retry import Deadline, TransientFailure
from .tags import Tag

if TYPE_CHECKING:
    import requests

    from .config import Settings
    from .runner import Runner

API_VERSION = "2011-06-15"
_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"

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


class Masker(Protocol):
    """Registers a secret before anything could print it (``Runner.mask``)."""

    def mask(self, value: str | None) -> None: ...


class ExpiredWebIdentityToken(Exception):
    """STS says the web identity token expired: fetch a new one, then retry."""


class PackedPolicyTooLarge(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MalformedAnswer(Exception):
    """STS answered 2xx with an XML document that lacks what the call returns.

    Not an :class:`~.errors.ActionError`: nothing the user can fix, reported as unexpected.
    The message names the missing element only (the document may hold credentials)."""


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

    # botocore's signer reads these three names.
    @property
    def access_key(self) -> str:
        return self.access_key_id

    @property
    def secret_key(self) -> str:
        return self.secret_access_key

    @property
    def token(self) -> str | None:
        return self.session_token


@dataclass(frozen=True, repr=False)
class AssumedSession:
    credentials: Credentials
    arn: str
    account: str
    packed_policy_size: int | None = None

    def __repr__(self) -> str:
        return f"AssumedSession(arn={self.arn!r})"


@dataclass(frozen=True)
class StsErrorResponse:
    """An STS error answer: the error document's Code, Message and RequestId, and the status.

    An answer that is not an STS document (a proxy's HTML page) has the status as its code and
    the status's reason phrase as its message, as botocore reports it."""

    code: str
    message: str
    request_id: str
    status: int


_TIMESTAMP = re.compile(
    r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?", re.ASCII
)


def parse_timestamp(text: str) -> dt.datetime | None:
    """An ISO-8601 time from STS (``2026-11-25T20:34:17Z``, with or without a fraction of any
    length; no zone means UTC), or None. Not ``fromisoformat`` alone: on Python 3.10, where the
    credential process of refresh-credentials runs it, that takes neither ``Z`` nor a fraction
    of other than 3 or 6 digits."""
    match = _TIMESTAMP.fullmatch(text.strip())
    if match is None:
        return None
    base, fraction, zone = match.groups()
    micro = (fraction or "")[:6].ljust(6, "0")
    if zone in (None, "Z"):
        zone = "+00:00"
    elif ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    try:
        return dt.datetime.fromisoformat(f"{base}.{micro}{zone}")
    except ValueError:
        return None


def iso8601(when: dt.datetime) -> str:
    """Plain ISO-8601 UTC, e.g. 2026-11-25T18:55:17Z (no JSON quotes)."""
    # Not dt.UTC (3.11+): the credential process (refresh/) runs this on the host's Python 3.10.
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- where and how requests go ----------------------------------------------------------------


def endpoint_for(region: str, sts_endpoint: str | None = None) -> str:
    """The URL STS calls go to: the ``sts-endpoint`` input, else the region's own endpoint."""
    return sts_endpoint or partitions.regional_sts_endpoint(region)


@dataclass(frozen=True)
class StsConnection:
    """Everything one STS call needs; ``credentials`` None means unsigned.

    ``http`` is a ``requests.Session`` with ``trust_env`` False (``oidc.new_session``);
    ``proxies`` is what :func:`proxy.requests_proxies` gives for ``endpoint``."""

    endpoint: str
    region: str
    http: requests.Session = field(repr=False)
    deadline: Deadline
    proxies: Mapping[str, str] = field(default_factory=dict)
    credentials: Credentials | None = field(default=None, repr=False)
    user_agent: str = "py-aws-oidc"

    @classmethod
    def for_region(
        cls,
        region: str,
        *,
        http: requests.Session,
        deadline: Deadline,
        sts_endpoint: str | None = None,
        proxy_settings: proxy.ProxySettings | None = None,
    ) -> StsConnection:
        """An unsigned connection to the region's endpoint (or ``sts_endpoint``), through the
        proxy ``proxy_settings`` resolves for it (none: direct)."""
        endpoint = endpoint_for(region, sts_endpoint)
        proxies = proxy.requests_proxies(proxy_settings, endpoint) if proxy_settings else {}
        return cls(endpoint=endpoint, region=region, http=http, deadline=deadline,
                   proxies=proxies)

    def signed_with(self, credentials: Credentials) -> StsConnection:
        return replace(self, credentials=credentials)


# The type assume.py annotates STS "clients" with.
StsClient = StsConnection


class SharedHttpSession:
    """One ``requests.Session`` for the token request and STS, made on first use (thread-safe:
    the token is fetched in a background thread)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self._lock = threading.Lock()
        self._session: requests.Session | None = None

    def get(self) -> requests.Session:
        with self._lock:
            if self._session is None:
                from .oidc import new_session

                self._session = new_session(self._environ)
            return self._session


class StsClients:
    """STS connections configured from the settings (the action's view of this module)."""

    def __init__(
        self,
        settings: Settings,
        runner: Runner,
        deadline: Deadline,
        http: SharedHttpSession | None = None,
    ) -> None:
        self.settings = settings
        self.runner = runner
        self.deadline = deadline
        self.http = http or SharedHttpSession(runner.environ)

    def unsigned(self) -> StsConnection:
        return StsConnection.for_region(
            self.settings.region,
            http=self.http.get(),
            deadline=self.deadline,
            sts_endpoint=self.settings.sts_endpoint,
            proxy_settings=self.settings.proxy,
        )

    def signed(self, credentials: Credentials) -> StsConnection:
        return self.unsigned().signed_with(credentials)


# -- existing credentials (the SDK's chain) ---------------------------------------------------


def existing_credentials(runner: Runner) -> Credentials | None:
    """Credentials from the environment or the SDK chain (profile, container, instance), masked.

    The chain's own clients (a profile's ``role_arn``, ``AWS_WEB_IDENTITY_TOKEN_FILE``, SSO)
    ignore ``AWS_ENDPOINT_URL*`` and shared-config endpoints: only ``sts-endpoint`` may change
    where we send tokens and credentials. A chain that cannot produce credentials (an error
    answer, an unreadable file) means "no valid credentials", with the reason."""
    import botocore.exceptions
    import botocore.session

    try:
        session = botocore.session.Session()
        session.set_config_variable("ignore_configured_endpoint_urls", True)
        found = session.get_credentials()
        frozen = None if found is None else found.get_frozen_credentials()
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        code = ""
        if isinstance(exc, botocore.exceptions.ClientError):
            code = f": {exc.response.get('Error', {}).get('Code', '')}"
        raise CredentialsNotFoundError(
            f"Existing credentials could not be loaded ({type(exc).__name__}{code}).",
            remedy="Check AWS_PROFILE and the shared config files, or pass keys as inputs.",
        ) from None
    if frozen is None:
        return None
    for value in (frozen.access_key, frozen.secret_key, frozen.token):
        runner.mask(value)
    if not frozen.access_key or not frozen.secret_key:
        return None
    return Credentials(frozen.access_key, frozen.secret_key, frozen.token or None)


# -- the wire -------------------------------------------------------------------------------


def _sign(conn: StsConnection, url: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
    """SigV4 headers for the request (botocore's signer; imported only here)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    # The signer reads only access_key, secret_key and token, which Credentials provides;
    # botocore.credentials (its own class) is not worth importing for that.
    signing_credentials: Any = conn.credentials
    SigV4Auth(signing_credentials, "sts", conn.region).add_auth(request)
    return dict(request.headers.items())


def _post(conn: StsConnection, action: str, params: Mapping[str, str]) -> transport.Answer:
    form = {"Action": action, "Version": API_VERSION, **params}
    body = urlencode(form).encode("utf-8")
    url = conn.endpoint if conn.endpoint.count("/") > 2 else conn.endpoint + "/"
    headers = {"Content-Type": _CONTENT_TYPE}
    if conn.credentials is not None:
        # Signed: the content type, the host and the X-Amz-* headers, as botocore signs them.
        headers = _sign(conn, url, body, headers)
    headers.update({"User-Agent": conn.user_agent, "Accept-Encoding": "identity"})
    return transport.request(
        conn.http,
        "POST",
        url,
        what=f"{action}",
        deadline=conn.deadline,
        proxies=conn.proxies,
        headers=headers,
        data=body,
    )


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _xml_root(body: bytes) -> Any:
    """The document's root element, or None when it is not well-formed XML.

    STS documents have no DTD: one with a DOCTYPE or ENTITY declaration is refused unparsed,
    as defusedxml would (entity expansion; ElementTree never fetches external entities), and
    the body is already capped at :data:`transport.MAX_RESPONSE_BYTES`."""
    import xml.etree.ElementTree as ET

    upper = body.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        return None
    try:
        return ET.fromstring(body)  # noqa: S314 - no DTD (checked above), size-capped
    except ET.ParseError:
        return None


def _parse_xml(body: bytes, operation: str) -> Any:
    """The answer's root element; an unreadable body is transient (a cut connection, a
    proxy's page). The message never holds the body (it may hold credentials)."""
    root = _xml_root(body)
    if root is None:
        raise TransientFailure(f"{operation}: unreadable response from STS")
    return root


def _text(element: Any, *path: str) -> str | None:
    """The text of the first descendant named ``path[0]``, then its child ``path[1]``, ...
    (namespaces ignored, as STS answers carry one)."""
    node = element
    for index, name in enumerate(path):
        found = None
        candidates = node.iter() if index == 0 else list(node)
        for child in candidates:
            if child is not node and _local(child.tag) == name:
                found = child
                break
        if found is None:
            return None
        node = found
    return str(node.text or "")


def _error_response(answer: transport.Answer) -> StsErrorResponse:
    root = _xml_root(answer.body)
    code = message = request_id = ""
    if root is not None:
        code = _text(root, "Error", "Code") or ""
        message = _text(root, "Error", "Message") or ""
        request_id = _text(root, "RequestId") or ""
    if not code:
        import http.client  # here: at the top it would load ssl for every failed validation

        code = str(answer.status)
        message = message or http.client.responses.get(answer.status, "")
    return StsErrorResponse(
        code, message, request_id or answer.header("x-amzn-requestid"), answer.status
    )


def classify(error: StsErrorResponse, *, operation: str, hop: int) -> BaseException:
    """Map an STS error answer to what the caller should do with it (SPEC "Precise rules" 2)."""
    code, message, status = error.code, error.message, error.status
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


def _call(conn: StsConnection, action: str, params: Mapping[str, str], hop: int) -> Any:
    """One request; the answer's ``<ActionResult>`` element, or the classified error raised."""
    answer = _post(conn, action, params)
    if not 200 <= answer.status < 300:
        raise classify(_error_response(answer), operation=action, hop=hop)
    root = _parse_xml(answer.body, action)
    for child in root.iter():
        if _local(child.tag) == f"{action}Result":
            return child
    raise MalformedAnswer(f"{action}: the answer has no {action}Result")


def _session_from(result: Any, action: str, masker: Masker) -> AssumedSession:
    values = {
        name: _text(result, "Credentials", name)
        for name in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")
    }
    # Mask first: nothing may print these before the runner knows them.
    for name in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
        masker.mask(values[name])
    access_key, secret_key = values["AccessKeyId"], values["SecretAccessKey"]
    arn = _text(result, "AssumedRoleUser", "Arn")
    if not access_key or not secret_key or not arn:
        raise MalformedAnswer(f"{action}: the answer lacks the credentials or the role ARN")
    expiration = parse_timestamp(values["Expiration"]) if values["Expiration"] else None
    packed = _text(result, "PackedPolicySize")
    return AssumedSession(
        credentials=Credentials(access_key, secret_key, values["SessionToken"] or None, expiration),
        arn=arn,
        account=partitions.account_of(arn) or "",
        packed_policy_size=int(packed) if packed and packed.isdigit() else None,
    )


def _common_params(
    role_arn: str,
    session_name: str,
    duration_s: int,
    policy: str | None,
    policy_arns: Sequence[str],
) -> dict[str, str]:
    """The parameters AssumeRole and AssumeRoleWithWebIdentity share."""
    params = {
        "RoleArn": role_arn,
        "RoleSessionName": session_name,
        "DurationSeconds": str(duration_s),
    }
    if policy:
        params["Policy"] = policy
    for index, arn in enumerate(policy_arns, start=1):
        params[f"PolicyArns.member.{index}.arn"] = arn
    return params


# -- the three calls -------------------------------------------------------------------------


def assume_role_with_web_identity(
    client: StsConnection,
    *,
    runner: Masker,
    role_arn: str,
    session_name: str,
    token: str,
    duration_s: int,
    policy: str | None,
    policy_arns: Sequence[str],
    hop: int,
) -> AssumedSession:
    """sts:AssumeRoleWithWebIdentity (unsigned: the token is the credential)."""
    params = _common_params(role_arn, session_name, duration_s, policy, policy_arns)
    params["WebIdentityToken"] = token
    action = "AssumeRoleWithWebIdentity"
    unsigned = replace(client, credentials=None)
    return _session_from(_call(unsigned, action, params, hop), action, runner)


def assume_role(
    client: StsConnection,
    *,
    runner: Masker,
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
    """sts:AssumeRole, signed with ``client.credentials``."""
    if client.credentials is None:
        raise CredentialsNotFoundError("No credentials to sign the request with.")
    params = _common_params(role_arn, session_name, duration_s, policy, policy_arns)
    for index, tag in enumerate(tags, start=1):
        params[f"Tags.member.{index}.Key"] = tag.key
        params[f"Tags.member.{index}.Value"] = tag.value
    for index, key in enumerate(transitive_tag_keys, start=1):
        params[f"TransitiveTagKeys.member.{index}"] = key
    if external_id:
        params["ExternalId"] = external_id
    if source_identity:
        params["SourceIdentity"] = source_identity
    return _session_from(_call(client, "AssumeRole", params, hop), "AssumeRole", runner)


def get_caller_identity(client: StsConnection, *, hop: int = 1) -> tuple[str, str]:
    """(account, arn) of the credentials ``client`` signs with."""
    if client.credentials is None:
        raise CredentialsNotFoundError("No credentials to sign the request with.")
    result = _call(client, "GetCallerIdentity", {}, hop)
    account, arn = _text(result, "Account"), _text(result, "Arn")
    if not account or not arn:
        raise MalformedAnswer("GetCallerIdentity: the answer lacks the account or the ARN")
    return account, arn


__all__ = [
    "AssumedSession",
    "Credentials",
    "Masker",
    "StsConnection",
    "StsErrorResponse",
    "assume_role",
    "assume_role_with_web_identity",
    "classify",
    "endpoint_for",
    "get_caller_identity",
    "iso8601",
]
