"""The host runtime for tests: an action directory (host/'s action.yml and launchers) with the
zip application built from the current sources (``scripts/build_host.py``), and the command that
runs a step from it as the runner runs a node action (``node DIR/main.js``, ``node DIR/post.js``)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from localdev.runner_step import REPO_ROOT

HOST = REPO_ROOT / "host"
# ``pytestmark = BOTH_RUNTIMES``: every test of the module runs with the console script and with
# the host runtime (the ``runtime`` fixture of tests/conftest.py).
BOTH_RUNTIMES = pytest.mark.parametrize("runtime", ["console", "host"])
LAUNCHERS = ("action.yml", "main.js", "post.js", "launch.js")


def builder() -> ModuleType:
    """scripts/build_host.py, imported (it is a script, not a package module)."""
    spec = importlib.util.spec_from_file_location("build_host", REPO_ROOT / "scripts" /
                                                  "build_host.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_action_dir(directory: Path) -> Path:
    """``directory`` made into the host action, its dist/ built from the current sources."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in LAUNCHERS:
        shutil.copy(HOST / name, directory / name)
    build = builder()
    build.build(directory / "dist", REPO_ROOT / ".cache" / "host-wheels", strict=False)
    return directory

