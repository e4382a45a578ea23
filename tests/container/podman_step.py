"""Run one step of the action in its image, the way the GitHub runner runs a container action.

The test harness (``tests/support/harness.py``) prepares a runner-like step (``GITHUB_*`` files,
``INPUT_*``, the OIDC request variables, a workspace) and runs a command in that environment.
With this module as the command, the step runs in the image instead of on the host:

    python -m tests.container.podman_step --image IMG [--name N] [--keep] [--timing-file F]
                                           [--network MODE] [-- post]

What ``ContainerActionHandler`` / ``DockerCommandManager`` do, done with podman:

* mounts: the file-commands directory at ``/github/file_commands``, the workspace at
  ``/github/workspace`` (also ``--workdir``), ``HOME`` at ``/github/home``, ``RUNNER_TEMP`` at
  ``/github/runner_temp``, the event file under ``/github/workflow``;
* every variable of the step's environment is passed as ``-e NAME`` with its value only in
  podman's own environment (secrets never reach a command line), after the runner's
  ``TranslateToContainerPath`` (host paths under a mount become container paths); ``PATH`` and
  ``PYTHONPATH`` are not passed (the image has its own); ``HOME=/github/home`` is passed by
  value, as podman itself needs its own ``HOME``;
* ``argv == ["post"]`` means the post step: ``--entrypoint`` is action.yml's ``post-entrypoint``
  (one executable path, no arguments), as the runner does;
* ``--network host`` by default, so the container reaches the issuer and STS on 127.0.0.1.

podman's exit status is the step's; with ``--timing-file`` the wall time of ``podman run`` is
appended there as a JSON line. ``CONTAINERS_CONF`` comes from ``--conf`` (the harness builds the
step's environment from scratch).
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import subprocess
import sys
import time
from pathlib import Path

POST_ENTRYPOINT = "/opt/venv/bin/py-aws-oidc-post"
DROP = frozenset({"PATH", "PYTHONPATH", "PWD", "OLDPWD", "SHLVL", "_"})


def mounts_from_env(env: dict[str, str]) -> list[tuple[str, str]]:
    """(host dir, container dir) pairs, longest host path first (for translation)."""
    pairs: list[tuple[str, str]] = []
    file_commands = {str(Path(env[k]).parent) for k in
                     ("GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_STEP_SUMMARY",
                      "GITHUB_PATH") if env.get(k)}
    if len(file_commands) > 1:
        raise SystemExit(f"podman_step: file commands in several directories: {file_commands}")
    for host in file_commands:
        pairs.append((host, "/github/file_commands"))
    if env.get("GITHUB_WORKSPACE"):
        pairs.append((env["GITHUB_WORKSPACE"], "/github/workspace"))
    if env.get("HOME"):
        pairs.append((env["HOME"], "/github/home"))
    if env.get("RUNNER_TEMP"):
        pairs.append((env["RUNNER_TEMP"], "/github/runner_temp"))
    if env.get("GITHUB_EVENT_PATH"):
        pairs.append((str(Path(env["GITHUB_EVENT_PATH"]).parent), "/github/workflow"))
    return sorted({(str(Path(h).resolve()), c) for h, c in pairs}, key=lambda p: -len(p[0]))


def translate(value: str, mounts: list[tuple[str, str]]) -> str:
    """The runner's TranslateToContainerPath: a host path under a mount becomes the container
    path; anything else (including the harness's absent AWS config paths) passes unchanged."""
    if not value.startswith("/"):
        return value
    candidates = [value]
    if "\n" not in value and Path(value).exists():
        candidates.append(str(Path(value).resolve()))
    for host, container in mounts:
        for candidate in candidates:
            if candidate == host or candidate.startswith(host + "/"):
                return container + candidate[len(host):]
    return value


def build(args: argparse.Namespace, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    mounts = mounts_from_env(env)
    cmd = ["podman", "run", "--pull=never", "--network", args.network, "--workdir",
           "/github/workspace"]
    if not args.keep:
        cmd.append("--rm")
    if args.name:
        cmd += ["--name", args.name]
    for host, container in sorted(mounts, key=lambda p: p[1]):
        cmd += ["-v", f"{host}:{container}"]
    podman_env = {
        "PATH": env.get("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        "HOME": pwd.getpwuid(os.getuid()).pw_dir,
    }
    if args.conf:
        podman_env["CONTAINERS_CONF"] = args.conf
    for name, value in sorted(env.items()):
        if name in DROP or name == "CONTAINERS_CONF":
            continue
        if name == "HOME":
            cmd += ["-e", "HOME=/github/home"]
            continue
        podman_env[name] = translate(value, mounts)
        cmd += ["-e", name]  # the value stays in podman's environment, off the command line
    if args.step == ["post"]:
        cmd += ["--entrypoint", POST_ENTRYPOINT, args.image]
    else:
        cmd += [args.image, *args.step]
    return cmd, podman_env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", required=True)
    parser.add_argument("--conf", help="CONTAINERS_CONF for podman")
    parser.add_argument("--name")
    parser.add_argument("--keep", action="store_true", help="no --rm (inspect with podman diff)")
    parser.add_argument("--network", default="host")
    parser.add_argument("--timing-file")
    parser.add_argument("step", nargs="*", help="'post' for the post step, else the args")
    args = parser.parse_args(argv)
    cmd, podman_env = build(args, dict(os.environ))
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=podman_env, stdin=subprocess.DEVNULL, check=False)
    elapsed = time.monotonic() - t0
    if args.timing_file:
        with open(args.timing_file, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"step": args.step or ["main"], "seconds": elapsed,
                                 "returncode": proc.returncode}) + "\n")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
