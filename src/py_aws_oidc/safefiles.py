"""Symlink-safe file helpers: the web identity token file and the AWS profile files.

CAC (``helpers.ts``) checks ``lstat`` of the path and of its parent, then opens the path: a
symbolic link swapped in between the check and the open is followed. Here every path is walked
from ``/`` one component at a time with ``openat(..., O_NOFOLLOW)`` on directory descriptors,
so what is checked is what is opened:

* **reads** refuse a symbolic link at the path or at any directory component below ``/``, and
  anything that is not a regular file (directories, FIFOs, devices). The one exception is the
  Kubernetes projected service-account token, ``/var/run/secrets/<one segment>/serviceaccount/token``
  (after ``..`` is normalised): kubelet makes it a chain of symbolic links
  (``token -> ..data/token``, ``..data -> ..2024_...``) and ``/var/run`` is itself a link to
  ``/run`` on most distributions. That path is opened following links, and the file it reaches
  must still be a regular file inside the ``serviceaccount`` directory's real location.
* **writes** create missing parent directories with mode 0700, refuse a symbolic link at any
  component and at the path itself (its target is never touched), and replace the file
  atomically: a temporary file in the same directory (mode 0600, ``O_EXCL | O_NOFOLLOW``) is
  renamed over the path, so the result is always mode 0600 and readers never see half a file.
  When running as root (the action's container), new directories and the file take the owner
  of the directory they are created in, so that the runner user on the host can read the
  files it finds under ``$RUNNER_TEMP/_github_home``.

Paths are made absolute against the current directory and normalised lexically (``..``
removed) before they are walked; the normalised path is the one that is opened. Messages
name the path and the reason, never file contents.
"""

from __future__ import annotations

import contextlib
import errno
import os
import posixpath
import re
import secrets
import stat
from pathlib import Path

from .errors import ActionError, ProfileError, TokenFileError
from .hostos import IS_WINDOWS, modes, ownership

__all__ = [
    "is_allow_listed",
    "normalize",
    "read_optional_file",
    "read_regular_file",
    "remove_empty_dir",
    "remove_file",
    "write_private_file",
]

_KUBELET_TOKEN = re.compile(r"/var/run/secrets/[^/]+/serviceaccount/token")

_F = modes.FLAGS  # POSIX flags; 0 on Windows, where only read_regular_file's other side runs
_O_CLOEXEC: int = _F.cloexec
# O_PATH (Linux) walks directories that are searchable but not readable (mode 0711 homes).
_O_PATH: int = _F.path
_WALK_FLAGS = (_O_PATH or os.O_RDONLY) | _F.directory | _F.nofollow | _O_CLOEXEC
_OPEN_DIR_FLAGS = os.O_RDONLY | _F.directory | _F.nofollow | _O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | _F.nofollow | _F.nonblock | _O_CLOEXEC
_TMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _F.nofollow | _O_CLOEXEC

DIR_MODE = modes.DIR_MODE
FILE_MODE = modes.FILE_MODE

_WIF_REMEDY = (
    "Give the path of a regular file. Symbolic links are refused, at the path and in its "
    "directories, except the Kubernetes projected token "
    "/var/run/secrets/<name>/serviceaccount/token."
)
_PROFILE_REMEDY = (
    "Remove the symbolic link or the object in the way, or point AWS_SHARED_CREDENTIALS_FILE "
    "and AWS_CONFIG_FILE at paths without symbolic links."
)


class _Problem(Exception):
    """Why a path was refused. ``where`` is the component at fault (the path or a parent)."""

    def __init__(self, kind: str, where: str, reason: str) -> None:
        super().__init__(f"{where} {reason}")
        self.kind = kind
        self.where = where
        self.reason = reason


def normalize(path: Path | str) -> str:
    """The absolute, lexically normalised form of ``path`` (``..`` and ``.`` removed)."""
    text = os.fspath(path)
    if "\x00" in text:
        raise ValueError("path contains a NUL character")
    absolute = posixpath.normpath(os.path.abspath(text))
    # POSIX keeps a leading "//"; it means nothing special on Linux.
    if absolute.startswith("//"):
        absolute = "/" + absolute.lstrip("/")
    return absolute


def is_allow_listed(path: Path | str) -> bool:
    """True for ``/var/run/secrets/<one segment>/serviceaccount/token`` (``..`` normalised)."""
    try:
        return _KUBELET_TOKEN.fullmatch(normalize(path)) is not None
    except ValueError:
        return False


# --- the walk -------------------------------------------------------------------------------


def _explain(parent_fd: int, name: str, shown: str) -> _Problem:
    """Turn a failed open of ``name`` (in ``parent_fd``) into a reason, using ``lstat``."""
    try:
        st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    except FileNotFoundError:
        return _Problem("missing", shown, "does not exist")
    except OSError as exc:
        return _Problem("io", shown, f"cannot be inspected ({exc.strerror})")
    if stat.S_ISLNK(st.st_mode):
        return _Problem("symlink", shown, "is a symbolic link")
    if not stat.S_ISDIR(st.st_mode):
        return _Problem("notdir", shown, "is not a directory")
    return _Problem("io", shown, "cannot be opened")


def _chown_like(fd: int, reference: os.stat_result) -> None:
    ownership.adopt_owner(fd, reference)  # root only (the container): hostos.ownership


def _enter(parent_fd: int, name: str, shown: str, *, create: bool) -> int:
    """Open directory ``name`` below ``parent_fd`` without following a symbolic link."""
    try:
        fd = os.open(name, _WALK_FLAGS, dir_fd=parent_fd)
    except FileNotFoundError:
        if not create:
            raise _Problem("missing", shown, "does not exist") from None
        return _create_dir(parent_fd, name, shown)
    except OSError as exc:
        problem = _explain(parent_fd, name, shown)
        if problem.kind == "io" and exc.strerror:
            problem = _Problem("io", shown, f"cannot be opened ({exc.strerror})")
        raise problem from None
    st = os.fstat(fd)
    if not stat.S_ISDIR(st.st_mode):  # O_PATH | O_NOFOLLOW can open the link itself
        os.close(fd)
        raise _explain(parent_fd, name, shown)
    return fd


def _create_dir(parent_fd: int, name: str, shown: str) -> int:
    try:
        os.mkdir(name, DIR_MODE, dir_fd=parent_fd)
    except FileExistsError:
        # Someone else created it meanwhile: use it only if it is a real directory.
        return _enter(parent_fd, name, shown, create=False)
    except OSError as exc:
        raise _Problem("io", shown, f"cannot be created ({exc.strerror})") from None
    try:
        fd = os.open(name, _OPEN_DIR_FLAGS, dir_fd=parent_fd)
    except OSError:
        raise _explain(parent_fd, name, shown) from None
    try:
        os.fchmod(fd, DIR_MODE)  # mkdir's mode is reduced by the umask
        _chown_like(fd, os.fstat(parent_fd))
    except OSError as exc:
        os.close(fd)
        raise _Problem("io", shown, f"cannot be secured ({exc.strerror})") from None
    return fd


def _open_parent(absolute: str, *, create: bool) -> tuple[int, str]:
    """A descriptor for the directory holding ``absolute`` (walked from ``/``) and the name."""
    parent, name = posixpath.split(absolute)
    if not name:
        raise _Problem("notfile", absolute, "is a directory, not a regular file")
    fd = os.open("/", _WALK_FLAGS & ~_F.nofollow)
    shown = ""
    try:
        for component in (part for part in parent.split("/") if part):
            shown = f"{shown}/{component}"
            child = _enter(fd, component, shown, create=create)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd, name


def _read_fd(fd: int, shown: str) -> str:
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise _Problem("notfile", shown, "is a directory, not a regular file")
        if not stat.S_ISREG(st.st_mode):
            raise _Problem("notfile", shown, "is not a regular file")
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as handle:
        data = handle.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _Problem("io", shown, "is not UTF-8 text") from None


def _read_walked(absolute: str) -> str:
    try:
        dir_fd, name = _open_parent(absolute, create=False)
    except _Problem as problem:
        if problem.kind == "notdir":
            raise _Problem("missing", problem.where, problem.reason) from None
        raise
    try:
        try:
            fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
        except FileNotFoundError:
            raise _Problem("missing", absolute, "does not exist") from None
        except OSError as exc:
            found = _explain(dir_fd, name, absolute)
            if found.kind in ("notdir", "io"):  # not a link: say what open(2) said
                found = _Problem("io", absolute, f"cannot be opened ({exc.strerror})")
            raise found from None
        return _read_fd(fd, absolute)
    finally:
        os.close(dir_fd)


def _fd_real_path(fd: int, fallback: str) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return os.path.realpath(fallback)


def _read_allow_listed(absolute: str) -> str:
    """Follow kubelet's link chain, but only to a regular file inside ``serviceaccount``."""
    try:
        fd = os.open(absolute, os.O_RDONLY | _F.nonblock | _O_CLOEXEC)
    except FileNotFoundError:
        raise _Problem("missing", absolute, "does not exist") from None
    except OSError as exc:
        raise _Problem("io", absolute, f"cannot be opened ({exc.strerror})") from None
    try:
        real = _fd_real_path(fd, absolute)
        real_dir = os.path.realpath(posixpath.dirname(absolute))
    except BaseException:
        os.close(fd)
        raise
    if posixpath.commonpath([real, real_dir]) != real_dir:
        os.close(fd)
        raise _Problem(
            "symlink",
            absolute,
            "is a symbolic link that leads outside its serviceaccount directory",
        )
    return _read_fd(fd, absolute)


_REPARSE_POINT = 0x400  # FILE_ATTRIBUTE_REPARSE_POINT: symbolic links and junctions


def read_windows(absolute: str) -> str:
    """The Windows side of :func:`read_regular_file` (no ``openat``/``O_NOFOLLOW`` there): the
    path must not be a symbolic link or a junction, and what is opened must be a regular file."""
    try:
        st = os.lstat(absolute)
    except FileNotFoundError:
        raise _Problem("missing", absolute, "does not exist") from None
    except OSError as exc:
        raise _Problem("io", absolute, f"cannot be inspected ({exc.strerror})") from None
    if stat.S_ISLNK(st.st_mode) or getattr(st, "st_file_attributes", 0) & _REPARSE_POINT:
        raise _Problem("symlink", absolute, "is a symbolic link")
    try:
        fd = os.open(absolute, os.O_RDONLY | _F.binary | _O_CLOEXEC)
    except OSError as exc:
        raise _Problem("io", absolute, f"cannot be opened ({exc.strerror})") from None
    return _read_fd(fd, absolute)


def _message(what: str, absolute: str, problem: _Problem) -> str:
    if problem.kind == "missing" and problem.where == absolute:
        return f"{what} does not exist: {absolute}"
    if problem.kind == "missing":
        return f"{what} does not exist: {absolute} ({problem.where} {problem.reason})"
    if problem.where == absolute:
        suffix = "; refusing to follow it" if problem.kind == "symlink" else ""
        return f"{what} {absolute} {problem.reason}{suffix}."
    refusing = "refusing to follow it" if problem.kind == "symlink" else "refusing the path"
    return f"{what} {absolute}: directory {problem.where} {problem.reason}; {refusing}."


# --- public API -----------------------------------------------------------------------------


def read_regular_file(path: Path, *, what: str) -> str:
    """The UTF-8 text of the regular file at ``path``, refusing symbolic links.

    ``what`` names the file in messages (``"Web identity token file"``). A missing file gives
    ``"<what> does not exist: <path>"``. Raises :class:`TokenFileError`.
    """
    try:
        absolute = normalize(path)
    except ValueError as exc:
        raise TokenFileError(f"{what} path is not valid: {exc}.", remedy=_WIF_REMEDY) from None
    try:
        if IS_WINDOWS:
            return read_windows(os.path.abspath(os.fspath(path)))
        if is_allow_listed(absolute):
            return _read_allow_listed(absolute)
        return _read_walked(absolute)
    except _Problem as problem:
        raise TokenFileError(_message(what, absolute, problem), remedy=_WIF_REMEDY) from None


def read_optional_file(path: Path, *, what: str) -> str | None:
    """Like :func:`read_regular_file` for the profile files: ``None`` when the file (or a parent
    directory) does not exist yet, :class:`ProfileError` for a symbolic link or a non-file."""
    try:
        absolute = normalize(path)
    except ValueError as exc:
        raise ProfileError(f"{what} path is not valid: {exc}.", remedy=_PROFILE_REMEDY) from None
    try:
        return _read_walked(absolute)
    except _Problem as problem:
        if problem.kind == "missing":
            return None
        raise ProfileError(_message(what, absolute, problem), remedy=_PROFILE_REMEDY) from None


def write_private_file(path: Path, text: str, *, what: str = "File") -> None:
    """Atomically write ``text`` (UTF-8) to ``path`` with mode 0600; parents created 0700.

    Symbolic links are refused at the path and at every directory component (the link and its
    target are left untouched). ``what`` names the file in messages. Existing directories keep
    their mode. Raises :class:`ProfileError`; the message never holds ``text``.
    """
    try:
        absolute = normalize(path)
    except ValueError as exc:
        raise ProfileError(f"{what} path is not valid: {exc}.", remedy=_PROFILE_REMEDY) from None
    try:
        dir_fd, name = _open_parent(absolute, create=True)
    except _Problem as problem:
        raise _write_error(what, absolute, problem) from None
    try:
        _replace_at(dir_fd, name, absolute, text.encode("utf-8"))
    except _Problem as problem:
        raise _write_error(what, absolute, problem) from None
    finally:
        os.close(dir_fd)


def remove_file(path: Path, *, what: str = "File") -> None:
    """Remove the regular file at ``path`` (gone already: nothing to do).

    Walked like a write: a symbolic link at the path or in a directory refuses the removal
    (the link and its target stay). Raises :class:`ProfileError`.
    """
    try:
        absolute = normalize(path)
    except ValueError as exc:
        raise ProfileError(f"{what} path is not valid: {exc}.", remedy=_PROFILE_REMEDY) from None
    try:
        dir_fd, name = _open_parent(absolute, create=False)
    except _Problem as problem:
        if problem.kind in ("missing", "notdir"):
            return
        raise _write_error(what, absolute, problem) from None
    try:
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise _write_error(
                what, absolute, _Problem("io", absolute, f"cannot be inspected ({exc.strerror})")
            ) from None
        if stat.S_ISLNK(st.st_mode):
            raise _write_error(what, absolute, _Problem("symlink", absolute, "is a symbolic link"))
        if not stat.S_ISREG(st.st_mode):
            raise _write_error(
                what, absolute, _Problem("notfile", absolute, "is not a regular file")
            )
        try:
            os.unlink(name, dir_fd=dir_fd)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise _write_error(
                what, absolute, _Problem("io", absolute, f"cannot be removed ({exc.strerror})")
            ) from None
        _fsync_dir(dir_fd)
    finally:
        os.close(dir_fd)


def remove_empty_dir(path: Path) -> bool:
    """Remove the directory at ``path`` if it is empty and no symbolic link is on the way;
    True when removed. Anything else (missing, not empty, a link) leaves it and returns False."""
    try:
        absolute = normalize(path)
        dir_fd, name = _open_parent(absolute, create=False)
    except (ValueError, _Problem):
        return False
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if not stat.S_ISDIR(st.st_mode):
            return False
        os.rmdir(name, dir_fd=dir_fd)
    except OSError:
        return False
    finally:
        os.close(dir_fd)
    return True


def _write_error(what: str, absolute: str, problem: _Problem) -> ActionError:
    if problem.kind == "io":
        if problem.where == absolute:
            message = f"{what} {absolute} {problem.reason}."
        else:
            message = f"{what} {absolute}: directory {problem.where} {problem.reason}."
        return ProfileError(message, remedy="Check the permissions and free space of that path.")
    return ProfileError(_message(what, absolute, problem), remedy=_PROFILE_REMEDY)


def _replace_at(dir_fd: int, name: str, absolute: str, data: bytes) -> None:
    try:
        existing: os.stat_result | None = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        existing = None
    except OSError as exc:
        raise _Problem("io", absolute, f"cannot be inspected ({exc.strerror})") from None
    if existing is not None:
        if stat.S_ISLNK(existing.st_mode):
            raise _Problem("symlink", absolute, "is a symbolic link")
        if stat.S_ISDIR(existing.st_mode):
            raise _Problem("notfile", absolute, "is a directory, not a regular file")
        if not stat.S_ISREG(existing.st_mode):
            raise _Problem("notfile", absolute, "is not a regular file")
    owner = existing if existing is not None else os.fstat(dir_fd)

    temp = f".{name}.{secrets.token_hex(8)}.tmp"
    try:
        fd = os.open(temp, _TMP_FLAGS, FILE_MODE, dir_fd=dir_fd)
    except OSError as exc:
        raise _Problem("io", absolute, f"cannot be created ({exc.strerror})") from None
    try:
        try:
            os.fchmod(fd, FILE_MODE)  # O_CREAT's mode is reduced by the umask
            _chown_like(fd, owner)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        # rename(2) replaces a symbolic link swapped in meanwhile; it never writes through it.
        os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except OSError as exc:
        _unlink_quietly(temp, dir_fd)
        raise _Problem("io", absolute, f"cannot be written ({exc.strerror})") from None
    except BaseException:
        _unlink_quietly(temp, dir_fd)
        raise
    _fsync_dir(dir_fd)


def _unlink_quietly(name: str, dir_fd: int) -> None:
    with contextlib.suppress(OSError):
        os.unlink(name, dir_fd=dir_fd)


def _fsync_dir(dir_fd: int) -> None:
    try:
        fd = os.open(".", os.O_RDONLY | _F.directory | _O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:  # some filesystems refuse fsync on directories
        if exc.errno not in (errno.EINVAL, errno.EBADF, errno.EROFS):
            raise
    finally:
        os.close(fd)
