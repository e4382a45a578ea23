"""The runner's OIDC token: request it, mask it the moment it arrives, read its claims.

The runner sets ``ACTIONS_ID_TOKEN_REQUEST_URL`` and ``ACTIONS_ID_TOKEN_REQUEST_TOKEN`` only for
jobs with ``permissions: id-token: write`` (never for pull requests from forks). The URL already
has a query (``?api-version=2.0``); requests merges ``audience`` into it.

Claims are decoded without verification (base64 + JSON): STS verifies the signature. We use them for the
log, the AccessDenied diagnostics and the default session tags of later hops (after STS accepted
the token, its claims are verified facts).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .errors import ActionError, OidcPermissionError, OidcTokenError
from .retry import Deadline, TransientFailure, call_with_retries
from .runner import Runner

if TYPE_CHECKING:
    import requests

URL_VAR = "ACTIONS_ID_TOKEN_REQUEST_URL"
TOKEN_VAR = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"  # noqa: S105 - a variable name
# STS's limit for WebIdentityToken (AssumeRoleWithWebIdentity); GitHub's tokens are ~1-2 KB.
MAX_TOKEN_CHARS = 20000
# The audience configure-aws-credentials asks for in the aws partition (and what trust check
# --from-env asks for by default); the action takes its partition's (partitions.py).
DEFAULT_AUDIENCE = "sts.amazonaws.com"


ACTION_PURPOSE = (
    "GitHub OIDC is the chosen path (role-to-assume without keys, token file or role-chaining)"
)


def request_credentials(
    environ: Mapping[str, str], purpose: str = ACTION_PURPOSE
) -> tuple[str, str]:
    """The token endpoint and its bearer token, or the permission error (no network)."""
    url = environ.get(URL_VAR, "").strip()
    token = environ.get(TOKEN_VAR, "").strip()
    missing = [name for name, value in ((URL_VAR, url), (TOKEN_VAR, token)) if not value]
    if missing:
        raise OidcPermissionError(
            f"{purpose}, but the runner did not set {' and '.join(missing)}: this job cannot "
            "request an OIDC token.",
        )
    return url, token


def new_session(environ: Mapping[str, str]) -> requests.Session:
    import requests

    from . import tls

    session = requests.Session()
    # Proxies come from our own resolution (http-proxy / no-proxy), not from requests' env rules;
    # trust_env=False also drops requests' CA-bundle variables, so honour them explicitly
    # (and, on a host, verify against the operating system's store: tls.py).
    session.trust_env = False
    tls.configure(session, environ)
    return session


def fetch_token(
    session: requests.Session,
    url: str,
    request_token: str,
    audience: str,
    *,
    runner: Runner,
    deadline: Deadline,
    proxies: Mapping[str, str],
) -> str:
    """One request for a token. Transient failures raise :class:`TransientFailure`."""
    from . import transport

    answer = transport.request(
        session,
        "GET",
        url,
        what="the OIDC token request",
        deadline=deadline,
        proxies=proxies,
        params={"audience": audience},
        headers={"Authorization": f"Bearer {request_token}", "Accept": "application/json"},
    )
    status = answer.status
    if status == 429 or status >= 500:
        raise TransientFailure(f"the OIDC token endpoint answered HTTP {status}", str(status))
    if status in (401, 403):
        raise OidcTokenError(
            f"The runner's token endpoint refused the request (HTTP {status}).",
            remedy="ACTIONS_ID_TOKEN_REQUEST_TOKEN is invalid or expired; re-run the job. If you "
            "set these variables yourself (act, local runs), check they belong together.",
        )
    if status != 200:
        raise OidcTokenError(f"The runner's token endpoint answered HTTP {status}.")
    try:
        body: Any = json.loads(answer.body)
    except ValueError:
        raise OidcTokenError(
            "The runner's token endpoint did not answer JSON.",
            remedy="Check ACTIONS_ID_TOKEN_REQUEST_URL (is it the runner's idtoken URL?).",
        ) from None
    value = body.get("value") if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise OidcTokenError(
            "The runner's token endpoint answered JSON without a 'value' (the token).",
            remedy="Check ACTIONS_ID_TOKEN_REQUEST_URL (is it the runner's idtoken URL?).",
        )
    check_token_length(value, "The runner's token endpoint answered a token")
    runner.mask(value)
    return value


def check_token_length(
    token: str, what: str, error: type[ActionError] = OidcTokenError
) -> None:
    """Refuse a token STS would refuse anyway (its WebIdentityToken limit), before it is masked
    or sent: a huge value is a broken or hostile source, not a token."""
    if len(token) > MAX_TOKEN_CHARS:
        raise error(
            f"{what} of {len(token)} characters; STS accepts at most {MAX_TOKEN_CHARS}.",
            remedy="Check where the token comes from (ACTIONS_ID_TOKEN_REQUEST_URL, or the "
            "web identity token file).",
        )


def fetch_token_with_retries(
    url: str,
    request_token: str,
    audience: str,
    *,
    runner: Runner,
    deadline: Deadline,
    proxies: Mapping[str, str],
    max_attempts: int,
    session: requests.Session | None = None,
) -> str:
    """The token, with transient failures retried (retry.py's backoff and deadline).

    ``session``: the HTTP session to use (the action shares one with its STS calls)."""
    http = session if session is not None else new_session(runner.environ)
    return call_with_retries(
        lambda _attempt: fetch_token(
            http,
            url,
            request_token,
            audience,
            runner=runner,
            deadline=deadline,
            proxies=proxies,
        ),
        label="getIDToken",
        max_attempts=max_attempts,
        deadline=deadline,
        runner=runner,
    )


def decode_unverified(token: str) -> dict[str, Any]:
    """A JWT's payload, without verifying the signature (STS verifies it). Raises
    :class:`ValueError` saying what is wrong; the message never quotes the token.

    A base64url decode and ``json.loads`` of the middle part: no pyjwt on the action's path
    (importing it costs more than the rest of reading the claims)."""
    token = token.strip()
    if token.count(".") != 2:
        raise ValueError("the token is not a JWT (expected three dot-separated parts)")
    payload = token.split(".")[1]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"the token could not be decoded ({exc.__class__.__name__})") from None
    if not isinstance(claims, dict):
        raise ValueError("the token's payload is not a JSON object")
    return claims


def decode_claims(token: str) -> dict[str, Any]:
    """The token's claims, unverified (STS verifies the signature). ``{}`` if unreadable."""
    try:
        return decode_unverified(token)
    except ValueError:
        return {}
