"""Paths as later steps see them: the container action's view mapped back to the runner host.

The runner starts a container action with these mounts (``ContainerActionHandler.cs``)::

    <work>/_temp/_github_home          ->  /github/home          (and HOME=/github/home)
    <work>/_temp                       ->  /github/runner_temp   (RUNNER_TEMP)
    <work>/_temp/_github_workflow      ->  /github/workflow
    <work>/_temp/_runner_file_commands ->  /github/file_commands

(and the workspace at /github/workspace). This module is the one place that knows them, and the
one detector of where later steps see a path: the shared files' host paths, the refresh
directory's, and the token file a later mint reads again all come from :func:`host_mounts`.

The runner translates every host path in the step's environment to its container path, so
``RUNNER_TEMP`` reads ``/github/runner_temp`` in here. Later ``run:`` steps run on the host, where
those files are under ``$RUNNER_TEMP`` (``<work>/_temp``). One variable keeps its host value,
because no mount holds it: ``RUNNER_WORKSPACE`` (``<work>/<repository>``, the parent of the
workspace). The runner always puts its temp directory next to it, as ``<work>/_temp``.

Where later steps see a mount: the environment first (``RUNNER_WORKSPACE``), and when it is
missing (a runner or wrapper that does not pass it), the mount table's source of each mount
(``/proc/self/mountinfo``; right for bind mounts of the host's root file system, the runners'
layout).

Run directly on a host (``pip install``, act's host mode), a path is already the host path.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

__all__ = [
    "CONTAINER_HOME",
    "CONTAINER_RUNNER_TEMP",
    "MOUNTINFO",
    "TEMP_MOUNTS",
    "host_mounts",
    "host_path",
    "host_runner_temp",
    "in_container_action",
    "mount_source",
    "mounts_below",
]

CONTAINER_HOME = "/github/home"
CONTAINER_RUNNER_TEMP = "/github/runner_temp"
# Read at call time (tests point it at a file of their own).
MOUNTINFO = "/proc/self/mountinfo"
# The runner's mounts of its temp directory: container directory -> its place under the host's
# <work>/_temp ("" is the temp directory itself).
TEMP_MOUNTS: Mapping[str, str] = {
    CONTAINER_HOME: "_github_home",
    CONTAINER_RUNNER_TEMP: "",
    "/github/workflow": "_github_workflow",
    "/github/file_commands": "_runner_file_commands",
}


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory + "/")


def in_container_action(environ: Mapping[str, str]) -> bool:
    """True when this process runs as a container action under the GitHub runner."""
    return (
        environ.get("HOME", "") == CONTAINER_HOME
        or environ.get("RUNNER_TEMP", "") == CONTAINER_RUNNER_TEMP
    )


def host_runner_temp(environ: Mapping[str, str]) -> str | None:
    """The host's ``<work>/_temp``, from ``RUNNER_WORKSPACE`` (``<work>/<repository>``, the one
    variable the runner passes untranslated); None when it is not a host path."""
    workspace_parent = environ.get("RUNNER_WORKSPACE", "")
    if not workspace_parent.startswith("/") or _under(workspace_parent, "/github"):
        return None
    work = posixpath.dirname(posixpath.normpath(workspace_parent))
    return posixpath.join(work, "_temp")


def mounts_below(host_temp: str) -> dict[str, str]:
    """Container directory -> host directory for every mount of the host temp ``host_temp``."""
    return {
        inside: posixpath.join(host_temp, below) if below else host_temp
        for inside, below in TEMP_MOUNTS.items()
    }


def mount_source(mount_point: str, mountinfo: str | None = None) -> str | None:
    """The source path (within its file system) of the bind mount at ``mount_point``, from the
    mount table; None when it is not listed or not a usable absolute directory."""
    try:
        with open(mountinfo or MOUNTINFO, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    found = None
    for line in lines:
        fields = line.split(" ")
        if len(fields) > 4 and _unescape(fields[4]) == mount_point:
            found = _unescape(fields[3])  # the last one listed is the one on top
    if found is None or not found.startswith("/") or found == "/":
        return None
    return posixpath.normpath(found)


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal (``\\040``)."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def host_mounts(
    environ: Mapping[str, str],
    *,
    mountinfo: str | None = None,
    mounts: Mapping[str, str] = TEMP_MOUNTS,
) -> dict[str, str]:
    """Container directory -> the host directory later steps see it as, for every mount of
    ``mounts`` (container directory -> its place under the host temp) that can be known: all of
    them from ``RUNNER_WORKSPACE``; failing that, each one the mount table lists."""
    temp = host_runner_temp(environ)
    if temp is not None:
        return {
            inside: posixpath.join(temp, below) if below else temp
            for inside, below in mounts.items()
        }
    found = {inside: mount_source(inside, mountinfo) for inside in mounts}
    return {inside: source for inside, source in found.items() if source is not None}


def host_path(path: str, environ: Mapping[str, str], *, mountinfo: str | None = None) -> str | None:
    """The absolute path on the runner host of ``path`` (absolute, as this process sees it).

    ``None`` when a later step on the host cannot reach it: a container-only path, or a
    container action whose mount cannot be placed on the host (no ``RUNNER_WORKSPACE`` and
    not in the mount table).
    """
    normalized = posixpath.normpath(path)
    if not in_container_action(environ):
        return normalized
    for container_dir in TEMP_MOUNTS:
        if _under(normalized, container_dir):
            host = host_mounts(environ, mountinfo=mountinfo).get(container_dir)
            if host is None:
                return None
            return host + normalized[len(container_dir) :]
    return None
