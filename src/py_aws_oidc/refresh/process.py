"""The credential process: ``python3 -I -S <dir>/lib/__main__.py`` from a later step's SDK or AWS CLI.

It prints one credential_process document on stdout and nothing else there::

    {"Version": 1, "AccessKeyId": "...", "SecretAccessKey": "...", "SessionToken": "...",
     "Expiration": "2026-12-04T16:00:00Z"}

* **Cache hit** (more than the margin left, ``PY_AWS_OIDC_REFRESH_MARGIN_S``, default 1200 s):
  the cached session is printed with no request. Every ``aws`` command runs this, so this path
  imports only the standard library (no botocore, no requests): see bench/refresh_process.py.
* **Stale**: take the lock (``flock`` on ``<dir>/lock``), read the cache again (a concurrent
  caller may have minted meanwhile), else mint with the package's own token, chain and STS code
  (:mod:`.mint`, imported only here) and replace the cache atomically.
* **Trust**: the directory must be owned by the caller and closed to group and others (0700); a
  cache that is a symbolic link, not owned by the caller, or readable by group or others is never
  used (it is replaced by a fresh session); the settings file is held to the same rules and
  refused otherwise (it decides where the token is sent).
* **Failure**: exit status 1 and one line on stderr with the cause and the fix; never a secret,
  never a traceback, nothing on stdout.

Standard library only at import time, and Python 3.10 syntax (the runner's host ``python3``).
"""

from __future__ import annotations

import errno
import json
import os
import stat
import sys
import time

from ..hostos import locks
from ..hostos.modes import FLAGS as _F
from . import layout

# typing and collections.abc cost a cache hit several milliseconds; mypy still sees the imports.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

PREFIX = "py-aws-oidc credential process: "
MAX_CACHE_BYTES = 64 * 1024
LOCK_WAIT_S = 180.0
LOCK_POLL_S = 0.05
# A session minted by a concurrent caller while we waited for the lock is used if it has at
# least this long left, whatever the margin (so N stale callers mint once, even with a margin
# larger than a session's life).
MIN_LEFT_S = 60

# POSIX flags (hostos.modes; 0 on Windows, where refresh-credentials is an input error).
_DIR_FLAGS = os.O_RDONLY | _F.directory | _F.nofollow | _F.cloexec
_READ_FLAGS = os.O_RDONLY | _F.nofollow | _F.nonblock | _F.cloexec
_TMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _F.nofollow | _F.cloexec


NO_ID_REQUEST_MESSAGE = (
    "the cached session needs renewing, but this step has no {missing}, so no new OIDC token "
    "can be requested. Give the job 'permissions: id-token: write' (pull requests from forks "
    "never get it); in a 'container:' job, pass both variables to the step "
    "(env: ACTIONS_ID_TOKEN_REQUEST_URL / ACTIONS_ID_TOKEN_REQUEST_TOKEN)."
)


class ProcessFailure(Exception):
    """A failure with a one-line cause and fix (no secret in it)."""


# --- small pieces (unit-tested) ----------------------------------------------------------------


def margin_from(environ: Mapping[str, str]) -> int:
    """The caller's margin; above the longest session (``MAX_MARGIN_S``) it means "always
    refresh" and is clamped, never an error in a later step."""
    raw = environ.get(layout.MARGIN_VAR, "").strip()
    if not raw:
        return layout.DEFAULT_MARGIN_S
    if not (raw.isascii() and raw.isdigit()):
        raise ProcessFailure(
            f"{layout.MARGIN_VAR} must be a whole number of seconds (0 or more); unset it for "
            f"the default of {layout.DEFAULT_MARGIN_S}."
        )
    # The length first: int() refuses more than 4300 digits with a ValueError of its own.
    digits = raw.lstrip("0") or "0"
    if len(digits) > len(str(layout.MAX_MARGIN_S)):
        return layout.MAX_MARGIN_S
    return min(int(digits), layout.MAX_MARGIN_S)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 (Howard Hinnant's algorithm; no calendar/datetime import)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_expiration(text: str) -> int:
    """Seconds since the epoch for ``YYYY-MM-DDTHH:MM:SSZ``; ValueError otherwise."""
    if len(text) != 20 or text[4] != "-" or text[7] != "-" or text[10] != "T" or text[19] != "Z":
        raise ValueError("not an ISO-8601 UTC timestamp")
    if text[13] != ":" or text[16] != ":":
        raise ValueError("not an ISO-8601 UTC timestamp")
    parts = (text[0:4], text[5:7], text[8:10], text[11:13], text[14:16], text[17:19])
    if not all(p.isascii() and p.isdigit() for p in parts):
        raise ValueError("not an ISO-8601 UTC timestamp")
    year, month, day, hour, minute, second = (int(p) for p in parts)
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        raise ValueError("not an ISO-8601 UTC timestamp")
    return ((_days_from_civil(year, month, day) * 24 + hour) * 60 + minute) * 60 + second


def parse_document(data: bytes) -> tuple[dict[str, object], int] | None:
    """The credential_process document and its expiry (epoch s), or None if unusable."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: deep nesting
        return None
    if not isinstance(doc, dict) or doc.get("Version") != 1:
        return None
    for key in layout.DOCUMENT_KEYS[1:]:
        value = doc.get(key)
        if not isinstance(value, str) or not value or "\n" in value:
            return None
    try:
        expires = parse_expiration(str(doc["Expiration"]))
    except ValueError:
        return None
    return {key: doc[key] for key in layout.DOCUMENT_KEYS}, expires


def render_document(doc: Mapping[str, object]) -> str:
    return json.dumps({key: doc[key] for key in layout.DOCUMENT_KEYS})


def is_private(st: os.stat_result, uid: int) -> bool:
    """Owned by ``uid`` and closed to group and others."""
    return st.st_uid == uid and not st.st_mode & 0o077


# --- the directory -------------------------------------------------------------------------------


def open_directory(directory: str, uid: int) -> int:
    """A descriptor for the refresh directory, which must be the caller's own and private."""
    try:
        fd = os.open(directory, _DIR_FLAGS)
    except FileNotFoundError:
        raise ProcessFailure(
            f"the refresh directory {directory} does not exist (the post step of the "
            "py-aws-oidc step removes it at the end of the job). Run py-aws-oidc with "
            "refresh-credentials: true in this job before this step."
        ) from None
    except OSError as exc:
        reason = "is a symbolic link" if exc.errno == errno.ELOOP else exc.strerror
        raise ProcessFailure(
            f"the refresh directory {directory} cannot be opened ({reason}); refusing to use it."
        ) from None
    st = os.fstat(fd)
    if not is_private(st, uid):
        os.close(fd)
        raise ProcessFailure(
            f"the refresh directory {directory} belongs to uid {st.st_uid} with mode "
            f"{stat.S_IMODE(st.st_mode):04o}, not to this user (uid {uid}) with 0700; refusing to "
            "use it. Run later steps as the runner's user (the step gives the directory to the "
            "owner of RUNNER_TEMP)."
        )
    return fd


def read_private(dir_fd: int, name: str, uid: int, limit: int = MAX_CACHE_BYTES) -> bytes | None:
    """The bytes of ``name`` if it is a regular file of the caller's, closed to others; None
    when it is absent, a symbolic link, someone else's, readable by others, or too large."""
    try:
        fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not is_private(st, uid) or st.st_size > limit:
            return None
        chunks = []
        while True:
            chunk = os.read(fd, limit + 1)
            if not chunk:
                break
            chunks.append(chunk)
        data = b"".join(chunks)
        return data if len(data) <= limit else None
    finally:
        os.close(fd)


def replace_private(dir_fd: int, name: str, data: bytes) -> None:
    """Write ``data`` to ``name`` atomically, mode 0600 (a temporary file renamed over it; a
    symbolic link at ``name`` is replaced, never written through)."""
    temp = f".{name}.{os.urandom(8).hex()}.tmp"
    fd = os.open(temp, _TMP_FLAGS, 0o600, dir_fd=dir_fd)
    try:
        try:
            os.fchmod(fd, 0o600)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        try:  # noqa: SIM105 - contextlib would cost every cache hit its import
            os.unlink(temp, dir_fd=dir_fd)
        except OSError:
            pass
        raise


def lock(dir_fd: int, uid: int, wait_s: float = LOCK_WAIT_S) -> int:
    """Hold the directory's lock (``flock``); the descriptor is released when it is closed."""
    try:
        fd = os.open(layout.LOCK_FILE, os.O_RDWR | os.O_CREAT | _F.nofollow | _F.cloexec,
                     0o600, dir_fd=dir_fd)
    except OSError as exc:
        raise ProcessFailure(
            f"the lock file cannot be opened ({exc.strerror}); refusing to mint."
        ) from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or not is_private(st, uid):
        os.close(fd)
        raise ProcessFailure(
            "the lock file is not a private file of this user; refusing to mint. Remove it "
            "(the step recreates the directory on the next run)."
        )
    deadline = time.monotonic() + wait_s
    while True:
        if locks.try_lock(fd):
            return fd
        if time.monotonic() >= deadline:
            os.close(fd)
            raise ProcessFailure(
                f"another credential process held the lock for {wait_s:.0f} s; retry the "
                "command."
            )
        time.sleep(LOCK_POLL_S)


# --- the process ---------------------------------------------------------------------------------


def credentials(directory: str, environ: Mapping[str, str], now: float | None = None) -> str:
    """The credential_process document to print (cache hit, or a fresh session)."""
    margin = margin_from(environ)
    uid = os.geteuid()
    dir_fd = open_directory(directory, uid)
    try:
        seen = _usable(dir_fd, uid)
        if seen is not None and seen[1] - _now(now) > margin:
            return render_document(seen[0])
        lock_fd = lock(dir_fd, uid)
        try:
            again = _usable(dir_fd, uid)
            if again is not None:
                left = again[1] - _now(now)
                minted_meanwhile = seen is None or again[0] != seen[0]
                if left > margin or (minted_meanwhile and left > MIN_LEFT_S):
                    return render_document(again[0])
            from .mint import mint  # the heavy path: requests, botocore, the chain

            doc = mint(dir_fd, environ)
            text = render_document(doc)
            try:  # noqa: SIM105 - see replace_private
                replace_private(dir_fd, layout.CACHE_FILE, text.encode("utf-8"))
            except OSError:
                pass  # the session is good; the next call mints again
            return text
        finally:
            os.close(lock_fd)
    finally:
        os.close(dir_fd)


def _usable(dir_fd: int, uid: int) -> tuple[dict[str, object], int] | None:
    data = read_private(dir_fd, layout.CACHE_FILE, uid)
    return None if data is None else parse_document(data)


def _now(now: float | None) -> float:
    return time.time() if now is None else now


def describe_failure(exc: BaseException) -> str:
    """One line for the caller's stderr: the cause and the fix, never a secret."""
    from ..errors import AccessDeniedError, ActionError, OidcPermissionError, StsError

    if isinstance(exc, OidcPermissionError):
        return NO_ID_REQUEST_MESSAGE.format(missing="ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN")
    if isinstance(exc, AccessDeniedError):
        return (
            f"could not mint a new session: STS refused hop {exc.hop} ({exc.code}): "
            f"{exc.message}. The step's own request passed, so the role's trust policy changed "
            "or does not accept this step's token: check it (py-aws-oidc trust check)."
        )
    if isinstance(exc, StsError):
        return f"could not mint a new session: hop {exc.hop} ({exc.code or 'error'}): {exc}"
    if isinstance(exc, ActionError):
        # Built from codes, ARNs and input names, never from tokens or keys (errors.py).
        return f"could not mint a new session: {exc}"
    # Only the type: an exception's text can quote a request or a body.
    return (
        f"unexpected error ({type(exc).__module__}.{type(exc).__name__}); this is a bug in "
        "py-aws-oidc, please report it."
    )


def one_line(text: str) -> str:
    return " ".join(text.split())


def run(launcher_file: str) -> int:
    """Entry point of ``lib/__main__.py``: the refresh directory is the parent of ``lib``."""
    directory = os.path.dirname(os.path.dirname(os.path.abspath(launcher_file)))
    try:
        text = credentials(directory, os.environ)
    except ProcessFailure as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:  # the job was cancelled, or Ctrl-C: one line, not a traceback
        return _fail("interrupted; no credentials were printed.")
    except Exception as exc:  # noqa: BLE001 - still one line, no traceback, no secret
        return _fail(describe_failure(exc))
    return _print(text)


def _print(text: str) -> int:
    """The document on stdout; a caller that closed it (or never gave one) gets one line on
    stderr, not a traceback and not Python's "Exception ignored" at exit."""
    try:
        if sys.stdout is None:
            raise BrokenPipeError(errno.EBADF, "no standard output")
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except (OSError, ValueError):  # ValueError: a closed stream
        try:  # nothing is left to flush at exit: the buffer goes to /dev/null
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.close(null)
        except OSError:
            pass
        return _fail("standard output is closed; the caller did not read the credentials.")
    except KeyboardInterrupt:
        return _fail("interrupted; no credentials were printed.")
    return 0


def _fail(message: str) -> int:
    # The CLI and SDKs show this line in the step's log, where the runner executes workflow
    # commands: values from outside (an STS message, a path) are neutralised like our log lines.
    from ..runner import neutralise_line

    sys.stderr.write(neutralise_line(PREFIX + one_line(message)) + "\n")
    sys.stderr.flush()
    return 1
