"""A local GitHub-like OIDC issuer: discovery, JWKS and the runner's ID-token endpoint.

The token endpoint behaves like the one behind ``ACTIONS_ID_TOKEN_REQUEST_URL``:
``GET /token?api-version=2.0&audience=X`` with ``Authorization: Bearer <request token>`` answers
``{"count": 1, "value": "<JWT>"}``. Tokens are RS256 JWTs with the claims GitHub puts in them
(all values strings), ``sub`` derived the way GitHub derives it, five-minute lifetime.

Tests steer it through ``claims`` (overrides, ``None`` removes a claim), ``queue_faults()``,
``latency_s``, and read ``requests`` and ``minted`` (every JWT handed out; the leak check uses it).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from jwt.types import Options

from ._http import LocalHttpServer, QuietHandler

DEFAULT_ISS = "https://token.actions.githubusercontent.com"
DEFAULT_AUDIENCE = "sts.amazonaws.com"
TOKEN_PATH = "/token"

# A fault applied to the next token request: an HTTP status, "non-json", "no-value",
# ("stall", seconds), ("expired",), ("trickle", seconds per byte), ("huge", bytes) or
# ("huge", bytes, "unannounced") (no Content-Length).
Fault = int | str | tuple[str] | tuple[str, float] | tuple[str, float, str]

# The claims of a push to main of octo-org/octo-repo, matching the harness's GITHUB_* variables.
DEFAULT_SHA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
DEFAULT_GITHUB_CLAIMS: dict[str, str] = {
    "actor": "octocat",
    "actor_id": "583231",
    "base_ref": "",
    "head_ref": "",
    "event_name": "push",
    "job_workflow_ref": "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
    "job_workflow_sha": DEFAULT_SHA,
    "ref": "refs/heads/main",
    "ref_type": "branch",
    "ref_protected": "true",
    "repository": "octo-org/octo-repo",
    "repository_id": "123456789",
    "repository_owner": "octo-org",
    "repository_owner_id": "987654321",
    "repository_visibility": "private",
    "run_id": "1234567890",
    "run_number": "42",
    "run_attempt": "1",
    "runner_environment": "github-hosted",
    "sha": DEFAULT_SHA,
    "workflow": "Deploy",
    "workflow_ref": "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
    "workflow_sha": DEFAULT_SHA,
}


@dataclass(frozen=True)
class TokenRequest:
    """One request the issuer received (any path)."""

    path: str
    query: dict[str, str]
    authorization: str | None
    time: float


def derive_sub(claims: Mapping[str, Any]) -> str:
    """GitHub's default subject: environment, else pull_request, else the ref."""
    repo = str(claims.get("repository", ""))
    environment = claims.get("environment")
    if environment:
        return f"repo:{repo}:environment:{str(environment).replace(':', '%3A')}"
    if claims.get("event_name") == "pull_request":
        return f"repo:{repo}:pull_request"
    return f"repo:{repo}:ref:{claims.get('ref', '')}"


def _apply(base: dict[str, Any], overrides: Mapping[str, Any]) -> None:
    for key, value in overrides.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value


class _IssuerHandler(QuietHandler):
    def do_GET(self) -> None:
        issuer: OidcIssuer = self.owner
        generation = issuer.generation
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        issuer._record(TokenRequest(split.path, query, self.headers.get("Authorization"),
                                    time.time()))
        issuer.sleep(issuer.latency_s)
        if split.path == "/.well-known/openid-configuration":
            self.answer(200, json.dumps(issuer.discovery()))
        elif split.path == "/.well-known/jwks":
            self.answer(200, json.dumps(issuer.jwks()))
        elif split.path == TOKEN_PATH:
            self._token(issuer, query, generation)
        else:
            self.answer(404, json.dumps({"message": "Not Found"}))

    def do_POST(self) -> None:
        self.answer(405, json.dumps({"message": "Method Not Allowed"}))

    def _token(self, issuer: OidcIssuer, query: dict[str, str], generation: int) -> None:
        if issuer.generation != generation:
            self.close_connection = True  # arrived before a reset; its test is over
            return
        fault = issuer._next_fault()
        expired = False
        if isinstance(fault, int):
            self.answer(fault, json.dumps({"message": f"injected HTTP {fault}"}))
            return
        if fault == "non-json":
            self.answer(200, "<html><body>Service Unavailable</body></html>", "text/html")
            return
        if fault == "no-value":
            self.answer(200, json.dumps({"count": 1}))
            return
        trickle_s = 0.0
        if isinstance(fault, tuple) and fault and fault[0] == "huge":
            # A valid JSON answer far larger than any token answer; ("huge", n, "unannounced")
            # sends it without Content-Length (the client cannot refuse it before reading).
            size = int(fault[1]) if len(fault) > 1 else 4 * 1024 * 1024
            self.answer(200, json.dumps({"count": 1, "value": "x" * size}),
                        declare_length=fault[2:3] != ("unannounced",))
            return
        if isinstance(fault, tuple) and fault and fault[0] == "trickle":
            trickle_s = float(fault[1]) if len(fault) > 1 else 1.0
        elif isinstance(fault, tuple) and fault and fault[0] == "stall":
            issuer.sleep(float(fault[1]) if len(fault) > 1 else 30.0)
        elif isinstance(fault, tuple) and fault and fault[0] == "expired":
            expired = True
        elif fault is not None:
            raise ValueError(f"unknown issuer fault {fault!r}")

        if issuer.generation != generation:
            self.close_connection = True
            return
        scheme, _, credential = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or credential.strip() != issuer.request_token:
            self.answer(401, json.dumps({"message": "Unauthorized: bad or missing bearer token"}))
            return
        audience = query.get("audience") or None
        token = issuer._mint(audience=audience, expired=expired)
        if trickle_s > 0:
            self.answer_trickled(200, json.dumps({"count": 1, "value": token}), trickle_s,
                                 sleep=issuer.sleep)
            return
        self.answer(200, json.dumps({"count": 1, "value": token}))


class OidcIssuer(LocalHttpServer):
    """A GitHub-like OIDC issuer on 127.0.0.1 (port 0 = any free port)."""

    handler_class: ClassVar[type[QuietHandler]] = _IssuerHandler

    def __init__(
        self,
        port: int = 0,
        *,
        iss: str = DEFAULT_ISS,
        request_token: str | None = None,
        lifetime_s: int = 300,
        key_file: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(port)
        self.iss = iss
        self.request_token = request_token or secrets.token_urlsafe(32)
        self.lifetime_s = lifetime_s
        self.latency_s = 0.0
        self.claims: dict[str, Any] = {}
        self.requests: list[TokenRequest] = []
        self.minted: list[str] = []
        self._faults: deque[Fault] = deque()
        self._defaults = (self.iss, self.request_token, self.lifetime_s)
        self._key_file = Path(key_file) if key_file is not None else None
        self._key: rsa.RSAPrivateKey | None = None
        self._kid: str | None = None

    # -- key -------------------------------------------------------------------------------------

    def _before_start(self) -> None:
        self._ensure_key()

    def _ensure_key(self) -> rsa.RSAPrivateKey:
        with self._lock:
            if self._key is None:
                self._key = self._load_or_create_key()
                der = self._key.public_key().public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
                )
                digest = hashlib.sha256(der).digest()[:16]
                self._kid = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            return self._key

    def _load_or_create_key(self) -> rsa.RSAPrivateKey:
        path = self._key_file
        if path is not None and path.is_file():
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise ValueError(f"{path} does not hold an RSA private key")
            return loaded
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
        return key

    @property
    def kid(self) -> str:
        self._ensure_key()
        return self._kid or ''

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self._ensure_key().public_key()

    # -- endpoints -------------------------------------------------------------------------------

    @property
    def token_url(self) -> str:
        """What the runner puts in ``ACTIONS_ID_TOKEN_REQUEST_URL``."""
        return f"{self.url}{TOKEN_PATH}?api-version=2.0"

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "jwks_uri": f"{self.url}/.well-known/jwks",
            "subject_types_supported": ["public", "pairwise"],
            "response_types_supported": ["id_token"],
            "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref",
                                 *sorted(DEFAULT_GITHUB_CLAIMS)],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid"],
        }

    def jwks(self) -> dict[str, Any]:
        jwk: dict[str, Any] = RSAAlgorithm.to_jwk(self.public_key, as_dict=True)
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return {"keys": [jwk]}

    # -- faults and records ----------------------------------------------------------------------

    def queue_faults(self, faults: Iterable[Fault]) -> None:
        """Apply each fault to the next token request, in order."""
        with self._lock:
            self._faults.extend(faults)

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def _record(self, request: TokenRequest) -> None:
        with self._lock:
            self.requests.append(request)

    @property
    def token_requests(self) -> list[TokenRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == TOKEN_PATH]

    def reset(self) -> None:
        """Back to the constructor's settings: no claim overrides, faults or latency, empty
        records (the key stays; stalled requests from before are dropped)."""
        with self._lock:
            self._new_generation()
            self.iss, self.request_token, self.lifetime_s = self._defaults
            self.claims = {}
            self._faults.clear()
            self.latency_s = 0.0
            self.requests.clear()
            self.minted.clear()

    # -- tokens ----------------------------------------------------------------------------------

    def build_claims(
        self,
        audience: str | None = None,
        *,
        expired: bool = False,
        lifetime_s: int | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The claims a token would carry (``claims`` then ``overrides`` applied)."""
        merged_overrides: dict[str, Any] = dict(self.claims)
        merged_overrides.update(overrides or {})
        github: dict[str, Any] = dict(DEFAULT_GITHUB_CLAIMS)
        _apply(github, merged_overrides)
        now = int(time.time())
        lifetime = self.lifetime_s if lifetime_s is None else lifetime_s
        iat = now - 2 * lifetime if expired else now
        owner = github.get("repository_owner", "")
        claims: dict[str, Any] = {
            "jti": str(uuid.uuid4()),
            "sub": derive_sub(github),
            "aud": audience if audience is not None else f"https://github.com/{owner}",
            **{k: v for k, v in github.items() if k in DEFAULT_GITHUB_CLAIMS},
            "iss": self.iss,
            "nbf": iat - 5,
            "iat": iat,
            "exp": iat + lifetime,
        }
        if github.get("environment"):
            claims["environment"] = github["environment"]
        # Extra claims (enterprise, repo_property_*, ...) and explicit overrides of any claim win.
        _apply(claims, merged_overrides)
        return claims

    def _mint(
        self,
        audience: str | None,
        *,
        expired: bool = False,
        lifetime_s: int | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> str:
        claims = self.build_claims(audience, expired=expired, lifetime_s=lifetime_s,
                                   overrides=overrides)
        token = jwt.encode(claims, self._ensure_key(), algorithm="RS256",
                           headers={"kid": self.kid, "typ": "JWT", "x5t": self.kid})
        with self._lock:
            self.minted.append(token)
        return token

    def mint(
        self,
        audience: str | None = DEFAULT_AUDIENCE,
        *,
        expired: bool = False,
        lifetime_s: int | None = None,
        **claim_overrides: Any,
    ) -> str:
        """A token minted directly (e.g. for a ``web-identity-token-file``).

        ``audience`` defaults to ``sts.amazonaws.com`` (what STS accepts); ``None`` gives GitHub's
        default (the owner's URL). Keyword claims override (``None`` removes). Recorded in
        ``minted``.
        """
        return self._mint(audience, expired=expired, lifetime_s=lifetime_s,
                          overrides=claim_overrides)

    def verify(
        self,
        token: str,
        audience: str | Iterable[str] | None,
        *,
        leeway: float = 0,
    ) -> dict[str, Any]:
        """Verify signature, ``exp``/``nbf``/``iat`` and (unless ``None``) ``aud``.

        Raises the ``jwt`` exceptions (``ExpiredSignatureError``, ``InvalidAudienceError``, ...).
        """
        options: Options = {"verify_aud": audience is not None,
                            "require": ["exp", "iat", "iss", "sub"]}
        aud: str | list[str] | None = (
            None if audience is None else audience if isinstance(audience, str) else list(audience)
        )
        claims: dict[str, Any] = jwt.decode(
            token, self.public_key, algorithms=["RS256"], audience=aud, options=options,
            leeway=leeway,
        )
        return claims
