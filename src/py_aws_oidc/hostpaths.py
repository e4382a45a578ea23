"""Paths as later steps see them: the container action's view mapped back to the runner host.

The runner starts a container action with these mounts (``ContainerActionHandler.cs``)::

    <work>/_temp/_github_home          ->  /github/home          (and HOME=/github/home)
    <work>/_temp                       ->  /github/runner_temp   (RUNNER_TEMP)
    <work>/_temp/_github_workflow      ->  /github/workflow
    <work>/_temp/_runner_file_commands ->  /github/file_commands

(and the workspace at /github/workspace). This module is the one place that knows them: the
shared files' host paths, the refresh directory's, and the token file a later mint reads again.

and translates every host path in the step's environment to its container path, so
``RUNNER_TEMP`` reads ``/github/runner_temp`` in here. Later ``run:`` steps run on the host, where
those files are under ``$RUNNER_TEMP`` (``<work>/_temp``). One variable keeps its host value,
because no mount holds it: ``RUNNER_WORKSPACE`` (``<work>/<repository>``, the parent of the
workspace). The runner always puts its temp directory next to it, as ``<work>/_temp``.

Run directly on a host (``pip install``, act's host mode), a path is already the host path.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

__all__ = [
    "CONTAINER_HOME",
    "CONTAINER_RUNNER_TEMP",
    "TEMP_MOUNTS",
    "host_path",
    "host_runner_temp",
    "in_container_action",
    "mounts_below",
]

CONTAINER_HOME = "/github/home"
CONTAINER_RUNNER_TEMP = "/github/runner_temp"
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


def host_path(path: str, environ: Mapping[str, str]) -> str | None:
    """The absolute path on the runner host of ``path`` (absolute, as this process sees it).

    ``None`` when a later step on the host cannot reach it: a container-only path, or a
    container action whose host temp directory cannot be known (no ``RUNNER_WORKSPACE``).
    """
    normalized = posixpath.normpath(path)
    if not in_container_action(environ):
        return normalized
    for container_dir in TEMP_MOUNTS:
        if _under(normalized, container_dir):
            temp = host_runner_temp(environ)
            if temp is None:
                return None
            return mounts_below(temp)[container_dir] + normalized[len(container_dir) :]
    return None
