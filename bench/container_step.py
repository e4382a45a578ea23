"""The container series of ``bench/job.py``: the action's image run with podman as the runner
runs a container action (the mounts and ``-e`` of ``tests/container/podman_step.py``), with the
image present ("warm") and pulled from a local registry (Debian's ``docker-registry`` on
127.0.0.1) into an empty image store before the main step ("cold", the pull timed as part of
the job). podman's configuration comes from ``scripts/podman-env.sh`` (CONTAINERS_CONF)."""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tests.container import podman_step  # noqa: E402

Wrap = Callable[[list[str], dict[str, str]], tuple[list[str], dict[str, str]]]


def containers_conf() -> str:
    out = subprocess.run(["bash", str(REPO / "scripts" / "podman-env.sh")], capture_output=True,
                         text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("export CONTAINERS_CONF="):
            return line.split("=", 1)[1]
    raise SystemExit("bench: scripts/podman-env.sh exported no CONTAINERS_CONF")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_registry(tmp: Path) -> str:
    """docker-registry on 127.0.0.1 (stopped at exit); returns host:port."""
    port = _free_port()
    config = tmp / "registry.yml"
    config.write_text(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {tmp}/registry\n"
                      f"http:\n  addr: 127.0.0.1:{port}\nlog:\n  level: error\n")
    proc = subprocess.Popen(["docker-registry", "serve", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    atexit.register(proc.terminate)
    for _ in range(100):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return f"127.0.0.1:{port}"
        time.sleep(0.1)
    raise SystemExit("bench: docker-registry did not start")


def _wrap(image: str, conf: str, store: list[str], post: bool) -> Wrap:
    def wrap(argv: list[str], env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        args = argparse.Namespace(image=image, network="host", keep=False, name=None, conf=conf,
                                  step=["post"] if post else [])
        cmd, podman_env = podman_step.build(args, env)
        return [shutil.which("podman") or "podman", *store, *cmd[1:]], podman_env
    return wrap


def series(image: str, make: Callable[..., Any], tmp: Path) -> list[Any]:
    conf = containers_conf()
    env = {**os.environ, "CONTAINERS_CONF": conf}
    registry = start_registry(tmp)
    remote = f"{registry}/py-aws-oidc:bench"
    subprocess.run(["podman", "push", "--quiet", "--tls-verify=false", image, remote], env=env,
                   check=True, stdout=subprocess.DEVNULL)
    store_dir = tmp / "store"
    store = ["--root", str(store_dir / "root"), "--runroot", str(store_dir / "run")]

    def pull() -> None:  # an empty store, then the pull (timed by the job)
        subprocess.run(["podman", *store, "system", "reset", "--force"], env=env,
                       capture_output=True, check=False)
        shutil.rmtree(store_dir, ignore_errors=True)
        subprocess.run(["podman", *store, "pull", "--quiet", "--tls-verify=false", remote],
                       env=env, check=True, stdout=subprocess.DEVNULL)

    def runs_post(exported: dict[str, str]) -> bool:
        return exported.get("PY_AWS_OIDC_POST") == "true"

    warm = make("container warm", ["podman"], ["podman"], node_inputs=False,
                post_runs=runs_post, wrap_main=_wrap(image, conf, [], False),
                wrap_post=_wrap(image, conf, [], True))
    cold = make("container cold", ["podman"], ["podman"], node_inputs=False,
                post_runs=runs_post, before=pull, wrap_main=_wrap(remote, conf, store, False),
                wrap_post=_wrap(remote, conf, store, True))
    return [warm, cold]


__all__ = ["series", "tempfile"]
