"""Open flags and private files. ``O_NOFOLLOW``, ``O_DIRECTORY``, ``O_NONBLOCK`` and ``O_PATH``
exist on POSIX only: the Windows side has 0 for them (and ``O_BINARY``/``O_NOINHERIT``), so a
module can build its flags at import time on either."""

from __future__ import annotations

import os
import stat

DIR_MODE = 0o700
FILE_MODE = 0o600


class OpenFlags:
    """The flags of one side (a plain class: the credential process's cache hit imports this
    module, and dataclasses would cost it ``inspect``)."""

    __slots__ = ("binary", "cloexec", "directory", "nofollow", "nonblock", "path")

    def __init__(
        self, *, nofollow: int, directory: int, cloexec: int, nonblock: int, path: int,
        binary: int,
    ) -> None:
        self.nofollow = nofollow
        self.directory = directory
        self.cloexec = cloexec
        self.nonblock = nonblock
        self.path = path  # O_PATH (Linux): walk directories searchable but not readable
        self.binary = binary  # O_BINARY (Windows): no newline translation


def posix_flags() -> OpenFlags:
    return OpenFlags(
        nofollow=os.O_NOFOLLOW,
        directory=os.O_DIRECTORY,
        cloexec=getattr(os, "O_CLOEXEC", 0),
        nonblock=os.O_NONBLOCK,
        path=getattr(os, "O_PATH", 0),
        binary=0,
    )


def windows_flags() -> OpenFlags:
    return OpenFlags(
        nofollow=0,
        directory=0,
        cloexec=getattr(os, "O_NOINHERIT", 0),
        nonblock=0,
        path=0,
        binary=getattr(os, "O_BINARY", 0),
    )


def posix_is_private(st: os.stat_result) -> bool:
    """Neither group nor others may read, write or search it."""
    return stat.S_IMODE(st.st_mode) & 0o077 == 0


def windows_is_private(st: os.stat_result) -> bool:
    """Windows keeps access in ACLs, which ``st_mode`` does not show: not checked here (the
    inputs that leave private files behind are refused on Windows, ``paths``)."""
    del st
    return True


FLAGS = windows_flags() if os.name == "nt" else posix_flags()
is_private = windows_is_private if os.name == "nt" else posix_is_private
