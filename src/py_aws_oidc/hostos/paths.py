"""Where the shared profile files go when the job does not say, and what a host can keep.

* In the action's container: ``$HOME/.aws`` (``/github/home/.aws``, the host's
  ``$RUNNER_TEMP/_github_home/.aws``), as in 1.1.
* On a runner host (``RUNNER_TEMP`` set, not the container): ``$RUNNER_TEMP/_github_home/.aws``,
  the same host path as the container action's. The runner empties ``RUNNER_TEMP`` after every
  job, so a persistent self-hosted runner never keeps a session for the next job, even when the
  post step is skipped or cancelled; and a later container action finds the files as its
  ``~/.aws``.
* Anywhere else (no ``RUNNER_TEMP``: a developer's shell): ``$HOME/.aws``.

Windows keeps the environment and outputs path only: ``aws-profile``, ``profiles`` and
``refresh-credentials`` leave credentials in files that must be private (0600 files, 0700
directories, ``flock``), which this program does not secure with Windows ACLs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ..hostpaths import CONTAINER_HOME, TEMP_MOUNTS, in_container_action

FILE_INPUTS = ("aws-profile", "profiles", "refresh-credentials")


def profile_dir_on_host(environ: Mapping[str, str]) -> str | None:
    """``$RUNNER_TEMP/_github_home/.aws`` on a runner host; None in the container or without
    an absolute ``RUNNER_TEMP`` (then ``$HOME/.aws``)."""
    temp = environ.get("RUNNER_TEMP", "")
    if in_container_action(environ) or not temp or not os.path.isabs(temp):
        return None
    return os.path.join(temp, TEMP_MOUNTS[CONTAINER_HOME], ".aws")


def posix_unsupported_inputs() -> tuple[str, ...]:
    return ()


def windows_unsupported_inputs() -> tuple[str, ...]:
    return FILE_INPUTS


unsupported_inputs = windows_unsupported_inputs if os.name == "nt" else posix_unsupported_inputs
