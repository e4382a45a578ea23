"""The runner's OIDC token: request it, mask it the moment it arrives, read its claims.

The runner sets ``ACTIONS_ID_TOKEN_REQUEST_URL`` and ``ACTIONS_ID_TOKEN_REQUEST_TOKEN`` only for
jobs with ``permissions: id-token: write`` (never for pull requests from forks). The URL already
has a query (``?api-version=2.0``); requests merges ``audience`` into it.

Claims are decoded without verification (pyjwt): STS verifies the signature. We use them for the
log, the AccessDenied diagnostics and the default session tags of later hops (after STS accepted
the token, its claims are verified facts).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .errors import OidcPermissionError, OidcTokenError
from .retry import Deadline, TransientFailure, call_with_retries
from .runner import Runner

if TYPE_CHECKING:
    import requests

URL_VAR = "ACTIONS_ID_TOKEN_REQUEST_URL"
TOKEN_VAR = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"  # noqa: S105 - a variable name
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

    session = requests.Session()
    # Proxies come from our own resolution (http-proxy / no-proxy), not from requests' env rules;
    # trust_env=False also drops requests' CA-bundle variables, so honour them explicitly.
    session.trust_env = False
    bundle = environ.get("REQUESTS_CA_BUNDLE") or environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
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
    import requests

    try:
        response = session.get(
            url,
            params={"audience": audience},
            headers={"Authorization": f"Bearer {request_token}", "Accept": "application/json"},
            timeout=deadline.timeouts(),
            proxies=dict(proxies),
            allow_redirects=False,
        )
    except requests.Timeout:
        raise TransientFailure("the OIDC token request timed out") from None
    except requests.RequestException as exc:
        raise TransientFailure(f"the OIDC token request failed ({type(exc).__name__})") from None
    status = response.status_code
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
        body: Any = response.json()
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
    runner.mask(value)
    return value


def fetch_token_with_retries(
    url: str,
    request_token: str,
    audience: str,
    *,
    runner: Runner,
    deadline: Deadline,
    proxies: Mapping[str, str],
    max_attempts: int,
) -> str:
    """The token, with transient failures retried (retry.py's backoff and deadline)."""
    session = new_session(runner.environ)
    return call_with_retries(
        lambda _attempt: fetch_token(
            session,
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

    The standard library only, no pyjwt: the credential process of ``refresh-credentials``
    runs this on the runner's host Python 3.10, where pyjwt would need typing_extensions.
    """
    import base64
    import binascii
    import json

    token = token.strip()
    if token.count(".") != 2:
        raise ValueError("the token is not a JWT (expected three dot-separated parts)")
    decoded: list[Any] = []
    for part in token.split(".")[:2]:
        try:
            raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
            decoded.append(json.loads(raw.decode("utf-8")))
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"the token could not be decoded ({type(exc).__name__})") from None
    header, claims = decoded
    if not isinstance(header, dict):
        raise ValueError("the token could not be decoded (its header is not a JSON object)")
    if not isinstance(claims, dict):
        raise ValueError("the token's payload is not a JSON object")
    return claims


def decode_claims(token: str) -> dict[str, Any]:
    """The token's claims, unverified (STS verifies the signature). ``{}`` if unreadable."""
    try:
        return decode_unverified(token)
    except ValueError:
        return {}
