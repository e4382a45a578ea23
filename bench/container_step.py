"""The container series of ``bench/job.py``: the action's image run with podman as the runner
runs a container action (the mounts and ``-e`` of ``tests/container/podman_step.py``), with the
image present ("warm") and pulled from a local registry (Debian's ``docker-registry`` on
127.0.0.1) into an empty image store before the main step ("cold", the pull timed as part of
the job; emptying the store is not). The image is pushed to the registry as the release pushes it
(``.github/workflows/release.yml``): OCI media types, the layer zstd-compressed (``--compression
gzip``: a Docker v2 manifest with a gzip layer, as before 1.2); the manifest is checked. podman's
configuration comes from ``scripts/podman-env.sh`` (CONTAINERS_CONF)."""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
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


LAYER_TYPES = {
    "zstd": ("--format", "oci", "--compression-format", "zstd"),
    "gzip": ("--format", "v2s2", "--compression-format", "gzip"),
}
MEDIA_TYPES = {"zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
               "gzip": "application/vnd.docker.image.rootfs.diff.tar.gzip"}


def push(image: str, registry: str, compression: str, env: dict[str, str]) -> str:
    """Push IMAGE to the local registry with the layer compressed as asked; check the manifest
    (podman keeps a known blob's compression when it can reuse it: a fresh registry each run)."""
    remote = f"{registry}/py-aws-oidc:bench"
    subprocess.run(["podman", "push", "--quiet", "--tls-verify=false", *LAYER_TYPES[compression],
                    image, remote], env=env, check=True, stdout=subprocess.DEVNULL)
    request = urllib.request.Request(
        f"http://{registry}/v2/py-aws-oidc/manifests/bench",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json, "
                           "application/vnd.docker.distribution.manifest.v2+json"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - 127.0.0.1
        manifest = json.load(response)
    types = {layer["mediaType"] for layer in manifest["layers"]}
    sizes = [layer["size"] for layer in manifest["layers"]]
    if types != {MEDIA_TYPES[compression]}:
        raise SystemExit(f"bench: the registry holds {sorted(types)}, not {compression} layers")
    sys.stderr.write(f"bench: {image} pushed as {compression}: layers {sizes} bytes\n")
    return remote


def _wrap(image: str, conf: str, store: list[str], post: bool) -> Wrap:
    def wrap(argv: list[str], env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        args = argparse.Namespace(image=image, network="host", keep=False, name=None, conf=conf,
                                  step=["post"] if post else [])
        cmd, podman_env = podman_step.build(args, env)
        return [shutil.which("podman") or "podman", *store, *cmd[1:]], podman_env
    return wrap


def series(image: str, make: Callable[..., Any], tmp: Path,
           compression: str = "zstd", label: str = "") -> list[Any]:
    """The warm and cold series of IMAGE; LABEL (``--compare``) names a second pair, with its
    own registry (a fresh one: podman reuses a blob it pushed there before) and store."""
    conf = containers_conf()
    env = {**os.environ, "CONTAINERS_CONF": conf}
    work = Path(tempfile.mkdtemp(prefix="images-", dir=tmp))
    remote = push(image, start_registry(work), compression, env)
    store_dir = Path(tempfile.mkdtemp(prefix="bjs"))  # short: podman's runroot is <= 50 chars
    atexit.register(shutil.rmtree, store_dir, True)
    store = ["--root", str(store_dir / "root"), "--runroot", str(store_dir / "run")]

    def reset() -> None:  # an empty store (untimed: a runner's store starts without the image)
        subprocess.run(["podman", *store, "system", "reset", "--force"], env=env,
                       capture_output=True, check=False)
        shutil.rmtree(store_dir, ignore_errors=True)

    def pull() -> None:  # the pull (timed by the job)
        subprocess.run(["podman", *store, "pull", "--quiet", "--tls-verify=false", remote],
                       env=env, check=True, stdout=subprocess.DEVNULL)

    def runs_post(exported: dict[str, str]) -> bool:
        return exported.get("PY_AWS_OIDC_POST") == "true"

    suffix = f" ({label})" if label else ""
    warm = make(f"container warm{suffix}", ["podman"], ["podman"], node_inputs=False,
                post_runs=runs_post, wrap_main=_wrap(image, conf, [], False),
                wrap_post=_wrap(image, conf, [], True))
    cold = make(f"container cold{suffix}", ["podman"], ["podman"], node_inputs=False,
                post_runs=runs_post, reset=reset, before=pull, wrap_main=_wrap(remote, conf, store, False),
                wrap_post=_wrap(remote, conf, store, True))
    return [warm, cold]


__all__ = ["series", "tempfile"]
