"""Fixtures for the container tests: podman, the action image, and a harness that runs steps in it.

* ``podman_env`` (session): ``scripts/podman-env.sh`` (installs podman/runc when missing, writes a
  containers.conf, makes the local base image). When podman cannot run here the tests that need it
  are skipped with the script's reason -- unless ``PY_AWS_OIDC_REQUIRE_CONTAINER=1``, which turns
  the skip into a failure (for CI machines where podman must work).
* ``action_image`` (session): the repository's real ``Dockerfile`` built once per session
  (``--build-arg BASE=<local base>``); a build failure fails the tests, it never skips them.
* ``container_harness``: the runner-like harness of ``tests/support/harness.py`` with
  ``tests/container/podman_step.py`` as the command, so ``container_harness.run_action(...)`` runs
  the step in the image the way the runner does, and every result goes through the leak check.
* Timings (image build, each container run) are printed at the end of the session.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.container.support import TIMINGS, PodmanEnv
from tests.support.harness import ActionHarness

REPO = Path(__file__).resolve().parents[2]
# Overridable so that several work trees on one machine do not build over each other's image.
IMAGE_TAG = os.environ.get("PY_AWS_OIDC_TEST_IMAGE", "localhost/py-aws-oidc:test")
STEP_SCRIPT = Path(__file__).with_name("podman_step.py")
REQUIRE = os.environ.get("PY_AWS_OIDC_REQUIRE_CONTAINER", "") == "1"


def _skip_or_fail(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"{reason} (PY_AWS_OIDC_REQUIRE_CONTAINER=1: not skipping)")
    pytest.skip(reason)


def parse_exports(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("export "):
            [assignment] = shlex.split(line[len("export "):])
            name, _, value = assignment.partition("=")
            values[name] = value
    return values


@pytest.fixture(scope="session")
def podman_env() -> PodmanEnv:
    if shutil.which("bash") is None:
        _skip_or_fail("podman cannot run here: no bash to run scripts/podman-env.sh")
    try:
        proc = subprocess.run(["bash", str(REPO / "scripts" / "podman-env.sh")],
                              check=False, capture_output=True, text=True, timeout=900,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        _skip_or_fail("podman cannot run here: scripts/podman-env.sh timed out")
    if proc.returncode != 0:
        lines = proc.stderr.splitlines()
        reason = [line.removeprefix("podman-env: ERROR: ") for line in lines
                  if "ERROR" in line] or lines[-3:]
        _skip_or_fail("podman cannot run here: " + " / ".join(reason))
    values = parse_exports(proc.stdout)
    return PodmanEnv(conf=values["CONTAINERS_CONF"], base_image=values["PODMAN_BASE_IMAGE"],
                     cache_dir=Path(values["PY_AWS_OIDC_PODMAN_DIR"]))


def build_image(podman: PodmanEnv, tag: str = IMAGE_TAG) -> tuple[float, str]:
    """Build the real Dockerfile; (wall seconds, log)."""
    t0 = time.monotonic()
    proc = podman.run("build", "--pull=never", "--format", "docker", "--build-arg",
                      f"BASE={podman.base_image}", "-t", tag, "-f", str(REPO / "Dockerfile"),
                      str(REPO), check=False, capture_output=True, timeout=1200)
    elapsed = time.monotonic() - t0
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        pytest.fail(f"podman build of the Dockerfile failed (exit {proc.returncode}):\n"
                    + "\n".join(log.splitlines()[-60:]), pytrace=False)
    return elapsed, log


@pytest.fixture(scope="session")
def action_image(podman_env: PodmanEnv) -> Iterator[str]:
    elapsed, log = build_image(podman_env)
    TIMINGS.build_s = elapsed
    TIMINGS.build_steps = len(re.findall(r"^\[\d+/\d+\] STEP \d+/\d+:", log, re.M))
    TIMINGS.build_cached_steps = log.count("--> Using cache")
    prune_stale_layers(podman_env, log)
    yield IMAGE_TAG


def prune_stale_layers(podman: PodmanEnv, build_log: str) -> None:
    """Remove the untagged layers of earlier builds; keep this build's (the next build's cache)
    and every tagged image (the base image above all)."""
    used = set(re.findall(r"--> (?:Using cache )?([0-9a-f]{11,64})", build_log))
    listed = podman.run("images", "--all", "--no-trunc", "--filter", "dangling=true",
                        "--format", "{{.ID}}", check=False, capture_output=True).stdout.split()
    stale = [i.removeprefix("sha256:") for i in listed]
    stale = [i for i in stale if not any(i.startswith(u) or u.startswith(i) for u in used)]
    for image_id in stale:  # children first would be ideal; a refused rmi is simply skipped
        podman.run("rmi", image_id, check=False, capture_output=True)


@pytest.fixture
def timing_file(tmp_path: Path) -> Path:
    return tmp_path / "container-timings.jsonl"


@pytest.fixture
def make_container_harness(
    make_harness: Callable[..., ActionHarness], action_image: str, podman_env: PodmanEnv,
    timing_file: Path,
) -> Callable[..., ActionHarness]:
    """``make_container_harness(*extra_args, base_dir=None, workspace_dir=None)``: a harness
    whose steps run in the image (extra args go to podman_step.py, e.g. ``"--keep", "--name",
    n``; the keywords go to ``make_harness``)."""

    def make(*extra: str, base_dir: Path | None = None,
             workspace_dir: Path | None = None) -> ActionHarness:
        return make_harness([sys.executable, str(STEP_SCRIPT), "--image", action_image,
                             "--conf", podman_env.conf, "--timing-file", str(timing_file),
                             *extra], base_dir=base_dir, workspace_dir=workspace_dir)

    return make


@pytest.fixture
def container_harness(make_container_harness: Callable[..., ActionHarness]) -> ActionHarness:
    return make_container_harness()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS.build_s is None and not TIMINGS.runs and not TIMINGS.notes:
        return
    tr = terminalreporter
    tr.section("container timings")
    if TIMINGS.build_s is not None:
        tr.write_line(f"podman build of the Dockerfile: {TIMINGS.build_s:.1f} s "
                      f"({TIMINGS.build_cached_steps} of {TIMINGS.build_steps} steps from cache)")
    for label, values in sorted(TIMINGS.runs.items()):
        ordered = sorted(values)
        median = ordered[len(ordered) // 2]
        tr.write_line(f"{label}: median {median * 1000:.0f} ms, min {ordered[0] * 1000:.0f} ms "
                      f"over {len(values)} run(s)")
    for note in TIMINGS.notes:
        tr.write_line(note)
