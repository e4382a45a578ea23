"""The fault-injecting STS layer: an HTTP server in front of ``moto_server``.

boto3 talks to it through ``sts-endpoint`` with the real wire protocol. botocore 1.44.8 uses the
``query`` protocol for STS (``metadata.protocols == ["query"]``): a form-urlencoded ``POST /``
with ``Action=...&Version=2011-06-15&...``; AssumeRoleWithWebIdentity unsigned, the rest SigV4.
Every request is parsed and recorded (:class:`StsCall`), then checked against:

* queued faults (``fail_next``, ``respond_next``, ``disconnect_next``, ``trickle_next``) and
  ``throttle_fraction``;
* the validation real STS does and moto lacks (durations, session name, tags, lengths);
* ``verify_tokens`` (signature, expiry, issuer, audience of the web identity token) and ``trust``;
* per-role ``max_session_duration``, the 1-hour role-chaining cap, ``packed_policy_max_tags``;

and, when nothing objects, forwarded unchanged to moto. Errors use STS's XML error format, so
botocore parses ``Code``/``Message`` exactly as from AWS. Successful responses are parsed too: the
credentials moto issued land in ``issued_secrets`` (the harness's leak check uses them).
"""

from __future__ import annotations

import html
import http.client
import random
import re
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import jwt

from ._http import LocalHttpServer, QuietHandler

if TYPE_CHECKING:
    from .oidc_issuer import OidcIssuer

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
ARWWI = "AssumeRoleWithWebIdentity"
ASSUME_ROLE = "AssumeRole"
DEFAULT_DURATION = 3600
CHAIN_LIMIT = 3600
MIN_DURATION, MAX_DURATION = 900, 43200

MSG_MAX_SESSION = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
MSG_CHAINING = (
    "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role "
    "chaining."
)
MSG_ACCESS_DENIED_WI = "Not authorized to perform sts:AssumeRoleWithWebIdentity"
MSG_ACCESS_DENIED_ROLE = "User is not authorized to perform: sts:AssumeRole on this resource"
MSG_AUDIENCE = "Incorrect token audience"
MSG_JWKS = (
    "Couldn't retrieve verification key from your identity provider,  please reference "
    "AssumeRoleWithWebIdentity documentation for requirements"
)
MSG_INVALID_TOKEN = (
    "The web identity token that was passed could not be validated by AWS. Get a new identity "
    "token from the identity provider and then retry the request."
)
MSG_PACKED = "Packed size of session tags consumes 112% of allotted space."
MSG_THROTTLING = "Rate exceeded"

_SESSION_NAME = re.compile(r"[\w+=,.@-]*", re.ASCII)
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]*", re.ASCII)
# STS's [\p{L}\p{Z}\p{N}_.:/=+\-@]: letters, separators (not tabs/newlines), numbers, punctuation.
_TAG_TEXT = re.compile(
    r"[\w \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000.:/=+\-@]*"
)
_TAG_MEMBER = re.compile(r"^Tags\.member\.(\d+)\.(Key|Value)$")
_TRANSITIVE_MEMBER = re.compile(r"^TransitiveTagKeys\.member\.(\d+)$")
_POLICY_ARN_MEMBER = re.compile(r"^PolicyArns\.member\.(\d+)\.arn$")
_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/")
_HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate",
    "te", "trailer", "transfer-encoding", "upgrade", "content-length",
})
_RESPONSE_FIELDS = (
    "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration", "AssumedRoleId", "Arn",
    "Account", "UserId", "PackedPolicySize", "SubjectFromWebIdentityToken", "Audience",
    "Provider", "SourceIdentity",
)
SECRET_FIELDS = ("AccessKeyId", "SecretAccessKey", "SessionToken")


@dataclass
class StsCall:
    """One STS request as the layer saw it, and what it answered."""

    action: str
    params: dict[str, str]
    tags: dict[str, str]
    transitive_tag_keys: list[str]
    signed: bool
    access_key_id: str | None
    session_token_header: bool
    time: float
    method: str = "POST"
    status: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    injected: bool = False  # the answer came from this layer (a rule), not from moto
    response: dict[str, str] = field(default_factory=dict)
    token_claims: dict[str, Any] | None = None  # verified (or, unverified) web identity claims

    def __repr__(self) -> str:
        # Compact, and without the token or credentials (assertion messages print records).
        shown = self.error_code or ("pending" if self.status is None else "ok")
        return (f"StsCall({self.action} role={self.role_arn!r} "
                f"duration={self.params.get('DurationSeconds')} tags={sorted(self.tags)} "
                f"signed={self.signed} status={self.status} {shown})")

    @property
    def role_arn(self) -> str | None:
        return self.params.get("RoleArn")

    @property
    def role_session_name(self) -> str | None:
        return self.params.get("RoleSessionName")

    @property
    def duration_seconds(self) -> int | None:
        raw = self.params.get("DurationSeconds")
        try:
            return int(raw) if raw is not None else None
        except ValueError:
            return None

    @property
    def web_identity_token(self) -> str | None:
        return self.params.get("WebIdentityToken")

    @property
    def policy_arns(self) -> list[str]:
        found = sorted(
            (int(m.group(1)), v)
            for k, v in self.params.items()
            if (m := _POLICY_ARN_MEMBER.match(k))
        )
        return [v for _, v in found]

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status < 400


@dataclass
class _Queued:
    action: str | None
    kind: str  # "error" | "raw" | "disconnect" | "trickle"
    remaining: int
    status: int = 400
    code: str = ""
    message: str = ""
    body: bytes = b""
    content_type: str = "text/xml"
    interval_s: float = 0.0
    declare_length: bool = True


@dataclass
class _Verdict:
    status: int
    code: str = ""
    message: str = ""
    raw_body: bytes | None = None
    content_type: str = "text/xml"
    disconnect: bool = False
    trickle_s: float = 0.0
    declare_length: bool = True


def error_xml(code: str, message: str, status: int, request_id: str | None = None) -> bytes:
    """STS's XML error document (what botocore's query parser reads Code/Message from)."""
    kind = "Receiver" if status >= 500 else "Sender"
    rid = request_id or str(uuid.uuid4())
    return (
        f'<ErrorResponse xmlns="{STS_NS}"><Error><Type>{kind}</Type>'
        f"<Code>{html.escape(code, quote=False)}</Code>"
        f"<Message>{html.escape(message, quote=False)}</Message></Error>"
        f"<RequestId>{rid}</RequestId></ErrorResponse>"
    ).encode()


def _validation(errors: list[str]) -> _Verdict:
    count = len(errors)
    noun = "error" if count == 1 else "errors"
    return _Verdict(400, "ValidationError", f"{count} validation {noun} detected: "
                    + "; ".join(errors))


def _xml_field(body: str, name: str) -> str | None:
    match = re.search(rf"<{name}>(.*?)</{name}>", body, re.DOTALL)
    return html.unescape(match.group(1)) if match else None


def parse_tags(params: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """``Tags.member.N.Key/Value`` -> dict (in N order); ``TransitiveTagKeys.member.N`` -> list."""
    by_index: dict[int, dict[str, str]] = {}
    transitive: list[tuple[int, str]] = []
    for key, value in params.items():
        if m := _TAG_MEMBER.match(key):
            by_index.setdefault(int(m.group(1)), {})[m.group(2)] = value
        elif m := _TRANSITIVE_MEMBER.match(key):
            transitive.append((int(m.group(1)), value))
    tags = {
        entry.get("Key", ""): entry.get("Value", "")
        for _, entry in sorted(by_index.items())
    }
    return tags, [v for _, v in sorted(transitive)]


def _tag_count(params: Mapping[str, str]) -> int:
    return len({m.group(1) for k in params if (m := _TAG_MEMBER.match(k))})


class _StsHandler(QuietHandler):
    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def _handle(self) -> None:
        proxy: StsFaultProxy = self.owner
        generation = proxy.generation
        proxy.sleep(proxy.latency_s)
        try:
            body = self.read_body()
        except ValueError:
            self.answer(400, error_xml("InvalidRequest", "Malformed request body", 400))
            return
        split = urlsplit(self.path)
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        ctype = self.headers.get("Content-Type", "")
        if body and "x-www-form-urlencoded" in ctype:
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        action = params.get("Action")
        if not action:
            # moto-api and anything else that is not an STS call: pass it through unrecorded.
            self._relay(proxy, body, None)
            return

        tags, transitive = parse_tags(params)
        authorization = self.headers.get("Authorization")
        key_match = _CREDENTIAL_SCOPE.search(authorization or "") or _CREDENTIAL_SCOPE.search(
            "Credential=" + params.get("X-Amz-Credential", "")
        )
        call = StsCall(
            action=action,
            params=dict(params),
            tags=tags,
            transitive_tag_keys=transitive,
            signed=bool(authorization) or "X-Amz-Signature" in params,
            access_key_id=key_match.group(1) if key_match else None,
            session_token_header=bool(self.headers.get("X-Amz-Security-Token")
                                      or params.get("X-Amz-Security-Token")),
            time=time.time(),
            method=self.command,
        )
        if proxy.generation != generation:
            self.close_connection = True  # arrived before a reset; its test is over
            return
        proxy._record(call)
        try:
            self._answer_call(proxy, call, body, generation)
        finally:
            if proxy.on_call is not None:
                proxy.on_call(call)

    def _answer_call(
        self, proxy: StsFaultProxy, call: StsCall, body: bytes, generation: int
    ) -> None:
        proxy.sleep(proxy._take_stall())
        if proxy.generation != generation:
            call.status, call.error_code = 0, "ResetWhileStalled"
            self.close_connection = True
            return
        verdict = proxy._judge(call)
        if verdict is not None and verdict.trickle_s > 0:
            call.injected = True
            self._relay(proxy, body, call, trickle_s=verdict.trickle_s)
            return
        if verdict is not None:
            call.injected = True
            call.status = verdict.status
            if verdict.disconnect:
                call.error_code = "ConnectionClosed"
                self.close_connection = True
                # Hang up without an answer: botocore sees a connection error.
                return
            if verdict.raw_body is not None:
                call.error_code = f"HTTP{verdict.status}" if verdict.status >= 400 else None
                self.answer(verdict.status, verdict.raw_body, verdict.content_type,
                            declare_length=verdict.declare_length)
                return
            call.error_code, call.error_message = verdict.code, verdict.message
            rid = str(uuid.uuid4())
            self.answer(verdict.status, error_xml(verdict.code, verdict.message, verdict.status,
                                                  rid),
                        "text/xml", {"x-amzn-RequestId": rid})
            return
        self._relay(proxy, body, call)

    def _relay(
        self, proxy: StsFaultProxy, body: bytes, call: StsCall | None, trickle_s: float = 0.0
    ) -> None:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        if body or self.command in ("POST", "PUT"):
            headers["Content-Length"] = str(len(body))
        try:
            status, resp_headers, resp_body = proxy._forward(self.command, self.path, body,
                                                             headers)
        except OSError as exc:
            if call is not None:
                call.status, call.error_code, call.error_message = 502, "UpstreamError", str(exc)
            self.answer(502, error_xml("InternalFailure", "upstream STS unreachable", 502))
            return
        if call is not None:
            call.status = status
            text = resp_body.decode("utf-8", "replace")
            if status >= 400:
                call.error_code = _xml_field(text, "Code")
                call.error_message = _xml_field(text, "Message")
            else:
                resp_body = proxy._after_success(call, text).encode("utf-8")
        keep = {k: v for k, v in resp_headers if k.lower() not in _HOP_BY_HOP
                and k.lower() not in ("server", "date", "content-type")}
        ctype = dict((k.lower(), v) for k, v in resp_headers).get("content-type", "text/xml")
        if trickle_s > 0:
            self.answer_trickled(status, resp_body, trickle_s, ctype, proxy.sleep)
            return
        self.answer(status, resp_body, ctype, keep)


class StsFaultProxy(LocalHttpServer):
    """STS on 127.0.0.1 with real validation and injectable faults, backed by ``upstream_url``.

    Rules are plain attributes, combinable, and all cleared by :meth:`reset` (which restores the
    constructor's ``verify_tokens`` and ``allowed_audiences``).
    """

    handler_class: ClassVar[type[QuietHandler]] = _StsHandler

    def __init__(
        self,
        upstream_url: str,
        port: int = 0,
        *,
        verify_tokens: OidcIssuer | None = None,
        allowed_audiences: Iterable[str] = ("sts.amazonaws.com",),
        seed: int = 0,
        upstream_timeout_s: float = 30.0,
    ) -> None:
        super().__init__(port)
        split = urlsplit(upstream_url)
        if split.scheme != "http" or not split.hostname:
            raise ValueError(f"upstream must be an http URL, got {upstream_url!r}")
        self.upstream_url = upstream_url.rstrip("/")
        self._upstream = (split.hostname, split.port or 80)
        self.upstream_timeout_s = upstream_timeout_s
        self._seed = seed
        self._default_verify = verify_tokens
        self._default_audiences = frozenset(allowed_audiences)
        self.calls: list[StsCall] = []
        self.issued_secrets: list[str] = []
        # Called with each finished call (after the answer); serve.py logs with it. Not reset.
        self.on_call: Callable[[StsCall], None] | None = None
        self._set_defaults()

    def _set_defaults(self) -> None:
        self.verify_tokens: OidcIssuer | None = self._default_verify
        self.allowed_audiences: set[str] = set(self._default_audiences)
        self.trust: Callable[[dict[str, Any]], bool] | None = None
        # Roles whose trust policy refuses every caller (AccessDenied on either call).
        self.deny_roles: set[str] = set()
        self.throttle_fraction = 0.0
        self.rng = random.Random(self._seed)
        self.max_session_duration: dict[str, int] = {}
        self.default_max_session_duration: int | None = None
        self.packed_policy_max_tags: int | None = None
        self.stall_s = 0.0
        self.latency_s = 0.0
        self._stalls: deque[float] = deque()
        self._queue: list[_Queued] = []

    # -- rules -----------------------------------------------------------------------------------

    def fail_next(
        self,
        action: str | None,
        code: str,
        message: str,
        status: int = 400,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests for ``action`` (``None``: any) with this STS error."""
        with self._lock:
            self._queue.append(_Queued(action, "error", times, status, code, message))

    def respond_next(
        self,
        action: str | None,
        status: int,
        body: bytes | str = b"",
        content_type: str = "text/html",
        times: int = 1,
        *,
        declare_length: bool = True,
    ) -> None:
        """Answer with a raw body (e.g. a load balancer's HTML 502), not an STS document;
        ``declare_length=False`` sends it without Content-Length, ended by closing."""
        data = body.encode() if isinstance(body, str) else body
        with self._lock:
            self._queue.append(_Queued(action, "raw", times, status, body=data,
                                       content_type=content_type,
                                       declare_length=declare_length))

    def disconnect_next(self, action: str | None = None, times: int = 1) -> None:
        """Close the connection without answering (a network error for the client)."""
        with self._lock:
            self._queue.append(_Queued(action, "disconnect", times, 0))

    def trickle_next(self, action: str | None, interval_s: float = 1.0, times: int = 1) -> None:
        """Answer the next ``times`` requests for ``action`` with moto's real answer, sent a
        byte every ``interval_s`` after the headers (never a read timeout; only a total
        deadline per request ends it)."""
        with self._lock:
            self._queue.append(_Queued(action, "trickle", times, 200, interval_s=interval_s))

    def stall_next(self, n: int, seconds: float) -> None:
        """Sleep ``seconds`` before answering each of the next ``n`` requests."""
        with self._lock:
            self._stalls.extend([seconds] * n)

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return sum(q.remaining for q in self._queue)

    # -- records ---------------------------------------------------------------------------------

    def calls_for(self, action: str) -> list[StsCall]:
        with self._lock:
            return [c for c in self.calls if c.action == action]

    def reset(self) -> None:
        """Clear records and rules (back to the constructor's defaults)."""
        with self._lock:
            self._new_generation()
            self.calls.clear()
            self.issued_secrets.clear()
            self._set_defaults()

    def _record(self, call: StsCall) -> None:
        with self._lock:
            self.calls.append(call)

    def _take_stall(self) -> float:
        with self._lock:
            return self._stalls.popleft() if self._stalls else self.stall_s

    # -- judging ---------------------------------------------------------------------------------

    def _judge(self, call: StsCall) -> _Verdict | None:
        with self._lock:
            queued = self._pop_queued(call.action)
            throttled = self.throttle_fraction > 0 and self.rng.random() < self.throttle_fraction
        if queued is not None:
            if queued.kind == "disconnect":
                return _Verdict(0, disconnect=True)
            if queued.kind == "trickle":
                return _Verdict(200, trickle_s=queued.interval_s)
            if queued.kind == "raw":
                return _Verdict(queued.status, raw_body=queued.body,
                                content_type=queued.content_type,
                                declare_length=queued.declare_length)
            return _Verdict(queued.status, queued.code, queued.message)
        if throttled:
            return _Verdict(400, "Throttling", MSG_THROTTLING)
        if call.action not in (ASSUME_ROLE, ARWWI):
            return None
        return (
            self._validate(call)
            or self._check_token(call)
            or self._check_trust(call)
            or self._check_durations(call)
            or self._check_packed(call)
        )

    def _pop_queued(self, action: str) -> _Queued | None:
        for item in self._queue:
            if item.action is None or item.action == action:
                item.remaining -= 1
                if item.remaining <= 0:
                    self._queue.remove(item)
                return item
        return None

    def _validate(self, call: StsCall) -> _Verdict | None:
        p = call.params
        errors: list[str] = []
        raw_duration = p.get("DurationSeconds")
        if raw_duration is not None:
            try:
                duration = int(raw_duration)
            except ValueError:
                errors.append(f"Value '{raw_duration}' at 'durationSeconds' failed to satisfy "
                              "constraint: Member must be an integer")
            else:
                if duration < MIN_DURATION:
                    errors.append(f"Value '{duration}' at 'durationSeconds' failed to satisfy "
                                  f"constraint: Member must have value greater than or equal to "
                                  f"{MIN_DURATION}")
                elif duration > MAX_DURATION:
                    errors.append(f"Value '{duration}' at 'durationSeconds' failed to satisfy "
                                  f"constraint: Member must have value less than or equal to "
                                  f"{MAX_DURATION}")
        name = p.get("RoleSessionName")
        if name is not None:
            errors.extend(_check_text("roleSessionName", name, 2, 64, pattern=_SESSION_NAME,
                                      shown=r"[\w+=,.@-]*"))
        if "SourceIdentity" in p:
            errors.extend(_check_text("sourceIdentity", p["SourceIdentity"], 2, 64,
                                      pattern=_SESSION_NAME, shown=r"[\w+=,.@-]*"))
        if "ExternalId" in p:
            errors.extend(_check_text("externalId", p["ExternalId"], 2, 1224,
                                      pattern=_EXTERNAL_ID, shown=r"[\w+=,.@:\/-]*"))
        if len(p.get("Policy", "")) > 2048:
            errors.append("Value at 'policy' failed to satisfy constraint: Member must have "
                          "length less than or equal to 2048")
        if len(call.policy_arns) > 10:
            errors.append("Value at 'policyArns' failed to satisfy constraint: Member must have "
                          "length less than or equal to 10")
        n_tags = _tag_count(p)
        if call.action == ARWWI and (n_tags or call.transitive_tag_keys):
            return _Verdict(400, "ValidationError",
                            "AssumeRoleWithWebIdentity does not accept Tags or TransitiveTagKeys; "
                            "session tags can only come from the web identity token.")
        if n_tags > 50:
            errors.append("Value at 'tags' failed to satisfy constraint: Member must have length "
                          "less than or equal to 50")
        if len(call.transitive_tag_keys) > 50:
            errors.append("Value at 'transitiveTagKeys' failed to satisfy constraint: Member must "
                          "have length less than or equal to 50")
        for i, (key, value) in enumerate(call.tags.items(), start=1):
            errors.extend(_check_text(f"tags.{i}.member.key", key, 1, 128,
                                      pattern=_TAG_TEXT, shown=r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+"))
            errors.extend(_check_text(f"tags.{i}.member.value", value, 0, 256,
                                      pattern=_TAG_TEXT, shown=r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*"))
        if errors:
            return _validation(errors)
        lowered = [k.lower() for k in call.tags]
        if n_tags != len(call.tags) or len(set(lowered)) != len(lowered):
            return _Verdict(400, "InvalidParameterValue",
                            "Duplicate tag keys found. Please note that Tag keys are case "
                            "insensitive.")
        missing = [k for k in call.transitive_tag_keys if k.lower() not in set(lowered)]
        if missing:
            return _Verdict(400, "InvalidParameterValue",
                            f"The specified transitive tag key must be included in the requested "
                            f"tags: {missing[0]}")
        return None

    def _check_token(self, call: StsCall) -> _Verdict | None:
        if call.action != ARWWI:
            return None
        token = call.params.get("WebIdentityToken", "")
        try:
            unverified: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            unverified = {}
        call.token_claims = unverified
        issuer = self.verify_tokens
        if issuer is None:
            return None
        if not unverified:
            return _Verdict(400, "InvalidIdentityToken", MSG_INVALID_TOKEN)
        iss = str(unverified.get("iss", ""))
        if iss != issuer.iss:
            return _Verdict(400, "InvalidIdentityToken",
                            f"No OpenIDConnect provider found in your account for {iss}")
        try:
            claims = issuer.verify(token, audience=None)
        except jwt.ExpiredSignatureError:
            exp = unverified.get("exp")
            return _Verdict(400, "ExpiredTokenException",
                            f"Token expired: current date/time {int(time.time())} must be before "
                            f"the expiration date/time {exp}")
        except jwt.InvalidTokenError:
            return _Verdict(400, "InvalidIdentityToken", MSG_INVALID_TOKEN)
        call.token_claims = claims
        aud = claims.get("aud")
        auds = {aud} if isinstance(aud, str) else set(aud or [])
        if not auds & self.allowed_audiences:
            return _Verdict(400, "InvalidIdentityToken", MSG_AUDIENCE)
        return None

    def _check_trust(self, call: StsCall) -> _Verdict | None:
        if call.role_arn in self.deny_roles:
            message = MSG_ACCESS_DENIED_WI if call.action == ARWWI else MSG_ACCESS_DENIED_ROLE
            return _Verdict(403, "AccessDenied", message)
        if call.action != ARWWI or self.trust is None:
            return None
        if not self.trust(dict(call.token_claims or {})):
            return _Verdict(403, "AccessDenied", MSG_ACCESS_DENIED_WI)
        return None

    def _check_durations(self, call: StsCall) -> _Verdict | None:
        requested = call.duration_seconds or DEFAULT_DURATION
        if call.action == ASSUME_ROLE and call.session_token_header and requested > CHAIN_LIMIT:
            return _Verdict(400, "ValidationError", MSG_CHAINING)
        limit = self.max_session_duration.get(call.role_arn or "",
                                              self.default_max_session_duration)
        if limit is not None and requested > limit:
            return _Verdict(400, "ValidationError", MSG_MAX_SESSION)
        return None

    def _check_packed(self, call: StsCall) -> _Verdict | None:
        limit = self.packed_policy_max_tags
        if call.action == ASSUME_ROLE and limit is not None and len(call.tags) > limit:
            return _Verdict(400, "PackedPolicyTooLarge", MSG_PACKED)
        return None

    # -- upstream --------------------------------------------------------------------------------

    def _forward(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(*self._upstream, timeout=self.upstream_timeout_s)
        try:
            conn.request(method, path, body=body or None, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def _after_success(self, call: StsCall, text: str) -> str:
        for name in _RESPONSE_FIELDS:
            value = _xml_field(text, name)
            if value is not None:
                call.response[name] = value
        with self._lock:
            for name in SECRET_FIELDS:
                value = call.response.get(name)
                if value and value not in self.issued_secrets:
                    self.issued_secrets.append(value)
        if call.action == ARWWI and call.token_claims:
            text = self._enrich_web_identity(call, text)
        return text

    @staticmethod
    def _enrich_web_identity(call: StsCall, text: str) -> str:
        """Add what real STS returns and moto leaves out: subject, audience, provider."""
        claims = call.token_claims or {}
        aud = claims.get("aud")
        extra = {
            "SubjectFromWebIdentityToken": claims.get("sub"),
            "Audience": aud if isinstance(aud, str) else (aud or [None])[0],
            "Provider": claims.get("iss"),
        }
        closing = f"</{ARWWI}Result>"
        if closing not in text:
            return text
        added = ""
        for name, value in extra.items():
            if value and f"<{name}>" not in text:
                added += f"<{name}>{html.escape(str(value), quote=False)}</{name}>"
                call.response[name] = str(value)
        return text.replace(closing, added + closing, 1)


def _check_text(
    member: str, value: str, min_len: int, max_len: int, *, pattern: re.Pattern[str], shown: str
) -> list[str]:
    errors: list[str] = []
    if len(value) < min_len:
        errors.append(f"Value '{value}' at '{member}' failed to satisfy constraint: Member must "
                      f"have length greater than or equal to {min_len}")
    if len(value) > max_len:
        errors.append(f"Value '{value}' at '{member}' failed to satisfy constraint: Member must "
                      f"have length less than or equal to {max_len}")
    if not pattern.fullmatch(value):
        errors.append(f"Value '{value}' at '{member}' failed to satisfy constraint: Member must "
                      f"satisfy regular expression pattern: {shown}")
    return errors


__all__ = [
    "MSG_ACCESS_DENIED_ROLE",
    "MSG_ACCESS_DENIED_WI",
    "MSG_AUDIENCE",
    "MSG_CHAINING",
    "MSG_JWKS",
    "MSG_MAX_SESSION",
    "MSG_PACKED",
    "MSG_THROTTLING",
    "StsCall",
    "StsFaultProxy",
    "error_xml",
    "parse_tags",
]
