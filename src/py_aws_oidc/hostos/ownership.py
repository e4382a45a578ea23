"""Who owns what the step leaves for later steps.

Later steps run as the runner's user. A step running as that user (the host runtime on every
GitHub-hosted and ordinary self-hosted runner) creates files that are already its own: nothing
is chowned. A step running as root in a directory of another user (the action's container,
where the runner mounts its user's ``_github_home``; a ``container:`` job) hands each new file
and directory to the owner of the directory it is created in (1.1), so that user can read, lock
and replace them. Windows has no uids: no-ops.
"""

from __future__ import annotations

import os


def posix_euid() -> int:
    return os.geteuid()


def windows_euid() -> int:
    return -1  # no POSIX uids; callers that compare owners run on POSIX only


def posix_should_adopt(directory: os.stat_result) -> bool:
    """Should a new entry of ``directory`` take its owner? Only when this process is root and
    the directory is another user's."""
    return os.geteuid() == 0 and (directory.st_uid, directory.st_gid) != (0, 0)


def windows_should_adopt(directory: os.stat_result) -> bool:
    del directory
    return False


def posix_adopt_owner(fd: int, directory: os.stat_result) -> None:
    """Give ``fd`` the owner of ``directory`` when :func:`posix_should_adopt` says so."""
    if posix_should_adopt(directory):
        os.fchown(fd, directory.st_uid, directory.st_gid)


def windows_adopt_owner(fd: int, directory: os.stat_result) -> None:
    del fd, directory


euid = windows_euid if os.name == "nt" else posix_euid
adopt_owner = windows_adopt_owner if os.name == "nt" else posix_adopt_owner
should_adopt = windows_should_adopt if os.name == "nt" else posix_should_adopt
