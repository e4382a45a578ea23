"""An exclusive, non-blocking lock on an open file: ``flock`` on POSIX, ``msvcrt.locking`` on
Windows (first byte). The lock is released when the descriptor is closed."""

from __future__ import annotations

import os


def posix_try_lock(fd: int) -> bool:
    """True when the lock was taken, False when another holder has it."""
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def windows_try_lock(fd: int) -> bool:
    """True when the lock was taken, False when another process holds the first byte."""
    import importlib

    msvcrt = importlib.import_module("msvcrt")
    try:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


try_lock = windows_try_lock if os.name == "nt" else posix_try_lock
