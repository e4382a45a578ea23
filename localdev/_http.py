"""The small HTTP-server base the local servers share: 127.0.0.1, daemon threads, clean stop."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # localdev runs on the dev venv's 3.11; mypy checks for 3.10
    from typing_extensions import Self

LOOPBACK = "127.0.0.1"
MAX_BODY = 8 * 1024 * 1024  # far above anything STS or the token endpoint sees


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Each request is answered with a closed connection (HTTP/1.0), so threads never linger.
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler],
                 owner: LocalHttpServer) -> None:
        self.owner = owner
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up mid-answer (a read timeout in a test) is normal here; the default
        # handler would print a traceback to stderr, which tests would mistake for a crash.
        return


class QuietHandler(BaseHTTPRequestHandler):
    """Request handler base: no access log, bounded body reads, small answer helpers."""

    server_version = "localdev"
    sys_version = ""
    protocol_version = "HTTP/1.0"

    @property
    def owner(self) -> Any:
        server = self.server
        if not isinstance(server, _Server):
            raise TypeError("handler used outside a LocalHttpServer")
        return server.owner

    def log_message(self, format: str, *args: Any) -> None:
        return

    def version_string(self) -> str:
        return self.server_version

    def read_body(self) -> bytes:
        """The request body (Content-Length or chunked), at most :data:`MAX_BODY` bytes."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            total = 0
            for _ in range(100_000):  # bounded: at most this many chunks
                size_line = self.rfile.readline(1024).split(b";", 1)[0].strip()
                size = int(size_line or b"0", 16)
                if size == 0:
                    # trailer headers until the blank line
                    for _ in range(100):
                        if self.rfile.readline(8192) in (b"\r\n", b"\n", b""):
                            break
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("request body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(8)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def answer(
        self,
        status: int,
        body: bytes | str,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        *,
        declare_length: bool = True,
    ) -> None:
        """``declare_length=False``: no Content-Length, the body ends when the connection
        closes (a client must cap what it reads; it cannot refuse the answer up front)."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            if declare_length:
                self.send_header("Content-Length", str(len(data)))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True


    def answer_trickled(
        self,
        status: int,
        body: bytes | str,
        interval_s: float,
        content_type: str = "application/json",
        sleep: Any = time.sleep,
    ) -> None:
        """Send the status line and headers at once, then the body one byte every
        ``interval_s`` (a server or proxy that trickles: each read sees data well within any
        read timeout, so only a total deadline ends the request). ``sleep`` is the owner's
        (it returns early on stop/reset, and the answer is then cut short)."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.flush()
            for index in range(len(data)):
                if sleep(interval_s) is False:
                    break
                self.wfile.write(data[index : index + 1])
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, TimeoutError, OSError):
            pass
        self.close_connection = True


class LocalHttpServer:
    """Base of the local servers: ``start()``/``stop()``, context manager, 127.0.0.1 only."""

    handler_class: ClassVar[type[QuietHandler]]

    def __init__(self, port: int = 0) -> None:
        self._requested_port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.RLock()
        # Bumped by reset(): a request that arrived before a reset (say, a stalled one whose
        # client gave up) must not consume the next test's faults or land in its records.
        self._generation = 0
        self._reset_event = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._before_start()
        server = _Server((LOOPBACK, self._requested_port), self.handler_class, self)
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"{type(self).__name__}:{server.server_address[1]}",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # wakes every stalled handler
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def _before_start(self) -> None:
        """Hook for subclasses (key generation and the like)."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- helpers ---------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running; call start() first.")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def generation(self) -> int:
        return self._generation

    def _new_generation(self) -> None:
        """Start a new generation (call with the lock held): wakes every sleeping handler."""
        self._generation += 1
        old, self._reset_event = self._reset_event, threading.Event()
        old.set()

    def sleep(self, seconds: float) -> bool:
        """Sleep in a handler; returns early (False) when the server stops or is reset, so
        neither stop() nor the next test waits for a stalled request."""
        if seconds <= 0:
            return True
        woken_by = self._reset_event
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set() and not woken_by.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            woken_by.wait(min(left, 0.05))
        return False


def close_quietly(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()
