"""What differs between the hosts the program runs on: one module per concern, each with a POSIX
and a Windows side, the side chosen once by ``os.name`` when the module is imported.

* ``locks``: an exclusive, non-blocking lock on an open file (``flock`` / ``msvcrt.locking``);
* ``modes``: open flags (``O_NOFOLLOW``, ``O_DIRECTORY`` ... exist on POSIX only) and what a
  private file is (mode bits on POSIX; ACLs on Windows, not checked);
* ``ownership``: the effective user, and handing a file to the owner of its directory (only in
  the action's container, as root; on a host the files belong to the step's own user);
* ``paths``: where the shared profile files go by default, and which inputs need files that only
  POSIX hosts can keep safely.

Both sides are plain functions (``posix_*`` / ``windows_*``) that import their platform modules
(``fcntl``, ``msvcrt``) only when called: importing any module of the package touches no
POSIX-only name on Windows, and the Windows side can be exercised on Linux in tests
(``tests/unit/test_hostos.py``). Linux and macOS have every feature; Windows the environment and
outputs path.
"""

from __future__ import annotations

import os

IS_WINDOWS = os.name == "nt"
