"""Paths as later steps see them: the container action's view mapped back to the runner host.

The runner starts a container action with these mounts (``ContainerActionHandler.cs``)::

    <work>/_temp/_github_home  ->  /github/home          (and HOME=/github/home)
    <work>/_temp               ->  /github/runner_temp   (RUNNER_TEMP)

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

__all__ = ["CONTAINER_HOME", "CONTAINER_RUNNER_TEMP", "host_path", "in_container_action"]

CONTAINER_HOME = "/github/home"
CONTAINER_RUNNER_TEMP = "/github/runner_temp"
_HOST_HOME_IN_TEMP = "_github_home"


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory + "/")


def in_container_action(environ: Mapping[str, str]) -> bool:
    """True when this process runs as a container action under the GitHub runner."""
    return (
        environ.get("HOME", "") == CONTAINER_HOME
        or environ.get("RUNNER_TEMP", "") == CONTAINER_RUNNER_TEMP
    )


def _host_runner_temp(environ: Mapping[str, str]) -> str | None:
    workspace_parent = environ.get("RUNNER_WORKSPACE", "").strip()
    if not workspace_parent.startswith("/") or _under(workspace_parent, "/github"):
        return None
    work = posixpath.dirname(posixpath.normpath(workspace_parent))
    return posixpath.join(work, "_temp")


def host_path(path: str, environ: Mapping[str, str]) -> str | None:
    """The absolute path on the runner host of ``path`` (absolute, as this process sees it).

    ``None`` when a later step on the host cannot reach it: a container-only path, or a
    container action whose host temp directory cannot be known (no ``RUNNER_WORKSPACE``).
    """
    normalized = posixpath.normpath(path)
    if not in_container_action(environ):
        return normalized
    for container_dir, host_below_temp in (
        (CONTAINER_HOME, _HOST_HOME_IN_TEMP),
        (CONTAINER_RUNNER_TEMP, ""),
    ):
        if _under(normalized, container_dir):
            temp = _host_runner_temp(environ)
            if temp is None:
                return None
            host_dir = posixpath.join(temp, host_below_temp) if host_below_temp else temp
            return host_dir + normalized[len(container_dir) :]
    return None
