"""``moto_server`` as a subprocess on 127.0.0.1: the STS backend behind the fault layer.

IAM enforcement ("auth mode") stays off: it crashes moto on the unsigned
AssumeRoleWithWebIdentity (reference/ecosystem.md section 7). Trust policies, durations and token
checks are the fault layer's job (:mod:`localdev.sts_faults`).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # localdev runs on the dev venv's 3.11; mypy checks for 3.10
    from typing_extensions import Self

from ._http import LOOPBACK, free_port

_LIVE: weakref.WeakSet[MotoServer] = weakref.WeakSet()


def _stop_all() -> None:
    for server in list(_LIVE):
        server.stop()


atexit.register(_stop_all)


def find_moto_server() -> str:
    """``moto_server`` next to the running interpreter (the venv), else on PATH."""
    candidate = Path(sys.executable).parent / "moto_server"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which("moto_server")
    if found:
        return found
    raise FileNotFoundError(
        "moto_server not found next to sys.executable or on PATH; pip install 'moto[server]'."
    )


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: SIGTERM the child when the parent dies, so a killed test run leaves no moto."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


class MotoServer:
    """``moto_server -H 127.0.0.1 -p PORT`` for the lifetime of the context (or start/stop)."""

    def __init__(
        self,
        port: int | None = None,
        *,
        executable: str | None = None,
        startup_timeout_s: float = 15.0,
        die_with_parent: bool = True,
    ) -> None:
        """``die_with_parent`` (Linux): moto gets SIGTERM when the starting *thread* ends, so
        start it from a thread that outlives it (the main thread, as pytest fixtures do)."""
        self._requested_port = port
        self._die_with_parent = die_with_parent
        self._executable = executable
        self.startup_timeout_s = startup_timeout_s
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._proc is not None:
            return self
        exe = self._executable or find_moto_server()
        self.port = self._requested_port or free_port()
        fd, log_path = tempfile.mkstemp(prefix="moto-server-", suffix=".log")
        os.close(fd)
        self._log_path = Path(log_path)
        log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND)
        env = dict(os.environ)
        env.pop("MOTO_ENABLE_IAM_AUTH", None)
        env.pop("INITIAL_NO_AUTH_ACTION_COUNT", None)
        linux = sys.platform.startswith("linux")
        try:
            self._proc = subprocess.Popen(
                [exe, "-H", LOOPBACK, "-p", str(self.port)],
                stdin=subprocess.DEVNULL,
                stdout=log_fd,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # a Ctrl-C in the terminal does not race our own stop()
                preexec_fn=_die_with_parent if linux and self._die_with_parent else None,  # noqa: PLW1509
            )
        finally:
            os.close(log_fd)
        _LIVE.add(self)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            proc = self._proc
            if proc is None or proc.poll() is not None:
                code = None if proc is None else proc.returncode
                raise RuntimeError(f"moto_server exited with {code}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1) as resp:  # noqa: S310
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError) as exc:
                last_error = str(exc)
            time.sleep(0.1)
        raise TimeoutError(
            f"moto_server did not answer within {self.startup_timeout_s}s ({last_error}):\n"
            f"{self.log_tail()}"
        )

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        _LIVE.discard(self)
        if self._log_path is not None:
            with contextlib.suppress(OSError):
                self._log_path.unlink()
            self._log_path = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- use -------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("MotoServer is not running; call start() first.")
        return f"http://{LOOPBACK}:{self.port}"

    def reset(self) -> None:
        """Forget every resource moto holds (``POST /moto-api/reset``)."""
        req = urllib.request.Request(  # noqa: S310 - our own http://127.0.0.1 URL
            f"{self.url}/moto-api/reset", data=b"", method="POST"
        )
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
            resp.read()

    def log_tail(self, limit: int = 4000) -> str:
        if self._log_path is None:
            return ""
        try:
            text = self._log_path.read_bytes().decode("utf-8", "replace")
        except OSError:
            return ""
        return text[-limit:]
