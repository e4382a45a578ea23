"""The runner-like test harness: the runner's parsers, the action runner, the leak check.

* :mod:`localdev.runner_files`: GITHUB_ENV/OUTPUT/STATE and workflow-command parsers.
* :mod:`tests.support.action_yml`: the runner's input defaults from ``action.yml``.
* :mod:`tests.support.harness`: :class:`ActionHarness` / :class:`ActionResult`.
* :mod:`tests.support.leakcheck`: the leak check every ``run_action`` result goes through.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

# The package is normally installed (pip install -e .); fall back to the source tree.
if importlib.util.find_spec("py_aws_oidc") is None:  # pragma: no cover - depends on the venv
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
