"""A Python prelude that makes this interpreter look like Windows to the code imported after it.

``PRELUDE`` (source text for ``python -c``) takes the names of modules to load first, as on the
real platform (standard-library and third-party modules that branch on ``os.name`` would pick
their Windows code there), in the list ``PRELOAD``; then sets ``os.name = "nt"``, makes
``fcntl``, ``pwd``, ``grp``, ``termios`` and ``resource`` unimportable and removes POSIX-only
names from ``os``. ``pathlib`` keeps its POSIX classes: ``Path()`` picks ``WindowsPath`` from
``os.name`` at each call, which cannot exist on Linux (a test artefact, right on Windows).
Used by ``tests/unit/test_hostos.py`` and ``tests/integration/test_host_mode.py``.
"""

from __future__ import annotations

PRELUDE = r"""
import importlib, os, sys, types
for _name in PRELOAD:
    try:
        importlib.import_module(_name)
    except ImportError:
        pass
for _name in ("fcntl", "pwd", "grp", "termios", "resource"):
    sys.modules[_name] = None  # `import fcntl` now raises ImportError
os.name = "nt"
import pathlib
_posix_os = types.ModuleType("os")
_posix_os.__dict__.update(os.__dict__)
_posix_os.name = "posix"
pathlib.os = _posix_os
for _attr in ("O_NOFOLLOW", "O_DIRECTORY", "O_NONBLOCK", "O_PATH", "O_CLOEXEC", "getuid",
              "geteuid", "getgid", "getegid", "fchown", "chown", "lchown", "fchmod"):
    if hasattr(os, _attr):
        delattr(os, _attr)
"""


def prelude(preload: str) -> str:
    """``PRELUDE`` with ``PRELOAD`` bound to the Python expression ``preload`` (a list)."""
    return f"PRELOAD = {preload}\n" + PRELUDE
