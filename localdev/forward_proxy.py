"""A tiny HTTP forward proxy that records every request, to prove what went through
``http-proxy`` and what bypassed it (``no-proxy``).

* absolute-URI requests (``GET http://host:port/path HTTP/1.1``) are forwarded and relayed;
* ``CONNECT host:port`` is tunnelled (bytes copied both ways until either side closes).

Each request is recorded as :class:`ProxiedRequest` (``method``, ``url``; for CONNECT the url is
``host:port``). ``refuse`` makes it answer 502 without forwarding, like a dead upstream.
"""

from __future__ import annotations

import http.client
import select
import socket
import time
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

from ._http import LocalHttpServer, QuietHandler, close_quietly

_HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate",
    "te", "trailer", "transfer-encoding", "upgrade", "content-length",
})
_TUNNEL_IDLE_S = 30.0


@dataclass(frozen=True)
class ProxiedRequest:
    method: str
    url: str
    time: float
    proxy_authorization: str | None = None

    @property
    def host(self) -> str:
        """``host:port`` the request was for."""
        if self.method == "CONNECT":
            return self.url
        split = urlsplit(self.url)
        return f"{split.hostname}:{split.port or 80}"


class _ProxyHandler(QuietHandler):
    def do_CONNECT(self) -> None:
        proxy: ForwardProxy = self.owner
        proxy._record(ProxiedRequest("CONNECT", self.path, time.time(),
                                     self.headers.get("Proxy-Authorization")))
        if proxy.refuse:
            self.answer(502, b"refused by test proxy", "text/plain")
            return
        host, _, port = self.path.rpartition(":")
        try:
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
        except (OSError, ValueError):
            self.answer(502, b"cannot connect upstream", "text/plain")
            return
        try:
            self.send_response(200, "Connection Established")
            self.end_headers()
            self.wfile.flush()
            self._pump(self.connection, upstream)
        finally:
            close_quietly(upstream)
            self.close_connection = True

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        sockets = [client, upstream]
        deadline = time.monotonic() + 600  # a hard bound on any tunnel
        while time.monotonic() < deadline:
            readable, _, errored = select.select(sockets, [], sockets, _TUNNEL_IDLE_S)
            if errored or not readable:
                return
            for sock in readable:
                try:
                    data = sock.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                other = upstream if sock is client else client
                try:
                    other.sendall(data)
                except OSError:
                    return

    def _forward(self) -> None:
        proxy: ForwardProxy = self.owner
        proxy._record(ProxiedRequest(self.command, self.path, time.time(),
                                     self.headers.get("Proxy-Authorization")))
        if proxy.refuse:
            self.answer(502, b"refused by test proxy", "text/plain")
            return
        split = urlsplit(self.path)
        if split.scheme != "http" or not split.hostname:
            self.answer(400, b"absolute http URI required", "text/plain")
            return
        try:
            body = self.read_body()
        except ValueError:
            self.answer(400, b"bad body", "text/plain")
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        if body or self.command in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(body))
        target = split.path or "/"
        if split.query:
            target += "?" + split.query
        conn = http.client.HTTPConnection(split.hostname, split.port or 80,
                                          timeout=proxy.upstream_timeout_s)
        try:
            conn.request(self.command, target, body=body or None, headers=headers)
            resp = conn.getresponse()
            status, resp_headers, resp_body = resp.status, resp.getheaders(), resp.read()
        except OSError:
            self.answer(502, b"upstream failed", "text/plain")
            return
        finally:
            conn.close()
        ctype = "application/octet-stream"
        keep: dict[str, str] = {}
        for name, value in resp_headers:
            low = name.lower()
            if low == "content-type":
                ctype = value
            elif low not in _HOP_BY_HOP and low not in ("server", "date"):
                keep[name] = value
        self.answer(status, resp_body, ctype, keep)

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def do_PUT(self) -> None:
        self._forward()

    def do_DELETE(self) -> None:
        self._forward()

    def do_HEAD(self) -> None:
        self._forward()

    def do_PATCH(self) -> None:
        self._forward()


class ForwardProxy(LocalHttpServer):
    """``http://127.0.0.1:PORT`` as an HTTP proxy; ``requests`` records what went through."""

    handler_class: ClassVar[type[QuietHandler]] = _ProxyHandler

    def __init__(self, port: int = 0, *, upstream_timeout_s: float = 30.0) -> None:
        super().__init__(port)
        self.upstream_timeout_s = upstream_timeout_s
        self.refuse = False
        self.requests: list[ProxiedRequest] = []

    def _record(self, request: ProxiedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def urls(self) -> list[tuple[str, str]]:
        """``(method, url)`` of every request, in order."""
        with self._lock:
            return [(r.method, r.url) for r in self.requests]

    def went_through(self, needle: str) -> bool:
        """Whether any proxied URL (or CONNECT target) contains ``needle``."""
        with self._lock:
            return any(needle in r.url for r in self.requests)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.refuse = False
