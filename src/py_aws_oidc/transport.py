"""One HTTP request with a total deadline and a size cap, over a ``requests`` session.

Connect and read timeouts bound each socket operation, not a request: a server (or a proxy) that
trickles a byte every few seconds would hold a step for as long as it likes. Here every request
also has a **total** deadline (:data:`REQUEST_DEADLINE_S`, and never past ``action-timeout-s``)
covering everything from the connection to the last byte of the answer, and the answer is read
in pieces up to :data:`MAX_RESPONSE_BYTES` (STS answers are about 2 KB, the token endpoint's
about 1.5 KB).

The request runs in a daemon thread and the caller waits for it at most until the deadline:
that bounds every phase alike (connecting, TLS, the status line and headers, the body), which
per-read timeouts cannot. A request that missed its deadline is abandoned, its socket is shut
down, and the caller gets a :class:`~.retry.TransientFailure`.

The session is the one the OIDC token request uses (``trust_env`` off; proxies from
:mod:`proxy`), so the STS calls reuse its connection pool and its CA bundle.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from .retry import Deadline, TransientFailure

if TYPE_CHECKING:
    import requests

REQUEST_DEADLINE_S = 30.0
MAX_RESPONSE_BYTES = 256 * 1024
_READ_PIECE = 16 * 1024


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer (the body read in full, within the cap)."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


class _Exchange:
    """One request in its own thread; the result (or the exception) is picked up by ``wait``."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.answer: Answer | None = None
        self.error: BaseException | None = None
        self.too_large = False
        self.response: Any = None
        self.abandoned = False

    def run(self, session: requests.Session, method: str, url: str, kwargs: dict[str, Any]) -> None:
        try:
            response = session.request(method, url, stream=True, **kwargs)
            self.response = response
            body = None
            try:
                body = self._read(response)
            finally:
                if body is None:
                    response.close()  # cut short: this connection is not reusable
                else:
                    # Read to the end: back to the pool (the next STS call of a chain skips
                    # a TCP and TLS handshake).
                    response.raw.release_conn()
            if body is not None:
                headers = {k.lower(): v for k, v in response.headers.items()}
                self.answer = Answer(response.status_code, headers, body)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            self.error = exc
        finally:
            self.done.set()

    def _read(self, response: Any) -> bytes | None:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
            self.too_large = True
            return None
        pieces: list[bytes] = []
        total = 0
        raw = response.raw
        while not self.abandoned:
            # read1: whatever one read of the socket gives (a trickle arrives byte by byte).
            piece = raw.read1(_READ_PIECE, decode_content=True)
            if not piece:
                return b"".join(pieces)
            total += len(piece)
            if total > MAX_RESPONSE_BYTES:
                self.too_large = True
                return None
            pieces.append(piece)
        return None

    def abandon(self) -> None:
        """The caller gave up: stop reading and hang up, so the thread ends soon."""
        self.abandoned = True
        response = self.response
        connection = getattr(getattr(response, "raw", None), "_connection", None)
        sock = getattr(connection, "sock", None)
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def request(
    session: requests.Session,
    method: str,
    url: str,
    *,
    what: str,
    deadline: Deadline,
    proxies: Mapping[str, str],
    headers: Mapping[str, str],
    params: Mapping[str, str] | None = None,
    data: bytes | None = None,
) -> Answer:
    """Send one request and read the whole answer, or raise :class:`TransientFailure`.

    ``what`` names the request in failure descriptions ("the OIDC token request"); nothing of
    the request or the answer (which may hold secrets) goes into them.
    """
    connect, read = deadline.timeouts()
    left = deadline.remaining()
    budget = REQUEST_DEADLINE_S if left is None else max(min(REQUEST_DEADLINE_S, left), 0.05)
    kwargs: dict[str, Any] = {
        "headers": dict(headers),
        "timeout": (min(connect, budget), min(read, budget)),
        "proxies": dict(proxies),
        "allow_redirects": False,
    }
    if params is not None:
        kwargs["params"] = dict(params)
    if data is not None:
        kwargs["data"] = data
    exchange = _Exchange()
    started = time.monotonic()
    worker = threading.Thread(
        target=exchange.run, args=(session, method, url, kwargs), daemon=True, name=what
    )
    worker.start()
    if not exchange.done.wait(budget):
        exchange.abandon()
        waited = time.monotonic() - started
        raise TransientFailure(f"{what} got no complete answer within {waited:.0f} s")
    if exchange.too_large:
        raise TransientFailure(f"{what}: the answer is larger than {MAX_RESPONSE_BYTES} bytes")
    error = exchange.error
    if error is not None:
        _raise_classified(error, what)
    assert exchange.answer is not None
    return exchange.answer


def _raise_classified(error: BaseException, what: str) -> NoReturn:
    """Raise what a failed request means: an error to fix, or a transient failure to retry."""
    import http.client

    import requests
    import urllib3.exceptions

    # Not transient: a malformed URL or header fails the same way on every attempt.
    if isinstance(error, requests.exceptions.InvalidURL | requests.exceptions.InvalidHeader
                  | requests.exceptions.MissingSchema | requests.exceptions.InvalidSchema
                  | requests.exceptions.URLRequired):
        from .errors import UnsendableRequestError

        raise UnsendableRequestError(
            f"{what} could not be sent: its URL or a header is malformed "
            f"({type(error).__name__}); nothing was sent",
            remedy="Check sts-endpoint and http-proxy, or the runner's "
            "ACTIONS_ID_TOKEN_REQUEST_URL.",
        ) from None
    if _certificate_rejected(error):
        from .errors import UntrustedCertificateError

        raise UntrustedCertificateError(
            f"{what} failed: the server's TLS certificate is not trusted (certificate "
            "verification failed); nothing was sent"
        ) from None
    # The body is read from urllib3 directly, so its exceptions come through unwrapped.
    if isinstance(error, requests.Timeout | urllib3.exceptions.TimeoutError | TimeoutError):
        raise TransientFailure(f"{what} timed out ({type(error).__name__})") from None
    if isinstance(
        error,
        requests.RequestException
        | urllib3.exceptions.HTTPError
        | http.client.HTTPException
        | OSError,
    ):
        raise TransientFailure(f"{what} failed ({type(error).__name__})") from None
    raise error


def _certificate_rejected(error: BaseException) -> bool:
    """Is a certificate verification failure somewhere in ``error``'s chain (requests wraps
    urllib3's, which wraps ssl's)? A handshake refused for this reason fails on every attempt."""
    import ssl

    seen: set[int] = set()
    todo: list[object] = [error]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen or len(seen) > 32:
            continue
        seen.add(id(item))
        if isinstance(item, ssl.SSLCertVerificationError):
            return True
        todo += [*item.args, getattr(item, "reason", None), item.__cause__, item.__context__]
    return False
