#!/usr/bin/env python3
"""One job's use of the action, end to end, against configure-aws-credentials (issue 20).

    bash bench/run.sh job --cac /tmp/cac [--rounds 15] [--python 3.10=PATH ...]
    python bench/job.py --cac /tmp/cac   # with the dev venv's python

What a job spends on the action, as the runner runs it, per series, interleaved round by round
(the order shuffled each round, so load from other processes hits every series alike):

* ``cac``: configure-aws-credentials' bundle (``--cac DIR``: a release's ``dist/`` and
  ``action.yml``, e.g. ``git archive v6.2.3 dist action.yml``; never committed): ``node
  dist/index.js``, then its post step ``node dist/cleanup/index.js`` (its post-if,
  ``AWS_SKIP_CLEANUP_STEP != 'true'``, holds: it always runs);
* ``host``: the host runtime, ``node host/main.js`` (the launcher finds python3 on PATH, the
  interpreter ``--python`` names first, and runs host/dist/py-aws-oidc.pyz), then ``node
  host/post.js`` only when post-if holds (the main step exported ``PY_AWS_OIDC_POST=true``);
  one series per ``--python`` (default: the python3 on PATH);
* ``container warm`` / ``container cold`` (``--container --image REF``): the container action
  with podman as the runner runs it (``bench/container_step.py``): the image present, and pulled
  from a local registry (Debian's ``docker-registry`` on 127.0.0.1) into an empty store before the
  main step; the post step only when the main step exported ``PY_AWS_OIDC_POST=true``.

Each step is a fresh process with the runner's step environment (``localdev/runner_step.py``),
the later step gets what the main step exported (GITHUB_ENV) and saved (STATE_*), against the
local OIDC issuer and moto behind the STS fault layer (``localdev``), on the OIDC path. Printed:
per series the median main, post and job wall time, and the ratio of the job's median to
CAC's; goals (issue 20): host <= 0.8, container warm <= 1.6, container cold <= 3.5.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import run as bench  # noqa: E402  (bench/run.py: the servers, the spawner, the step environment)

from localdev.runner_files import read_file_commands  # noqa: E402
from localdev.runner_step import host_command, make_runner_paths, step_environment  # noqa: E402
from py_aws_oidc.runner import input_env_name  # noqa: E402

GOALS = {"host": 0.8, "container warm": 1.6, "container cold": 3.5}
INPUTS = {"aws-region": "us-east-1", "role-to-assume": bench.ROLE_1}
NO_IMDS = {"AWS_EC2_METADATA_DISABLED": "true"}
Prepare = Callable[[], None]


@dataclass
class Series:
    name: str
    main: list[str]
    post: list[str] | None  # None: the post step's command is decided by post_runs
    node_inputs: bool  # INPUT_* only for inputs given (a node action) or every declared one
    post_runs: Callable[[dict[str, str]], bool]
    env: dict[str, str] = field(default_factory=dict)
    reset: Prepare | None = None  # before the main step, untimed (empty the image store)
    before: Prepare | None = None  # before the main step, timed (the image pull)
    # (argv, step environment) -> what is spawned (the container series: podman run ...)
    wrap_main: Callable[[list[str], dict[str, str]], tuple[list[str], dict[str, str]]] | None = None
    wrap_post: Callable[[list[str], dict[str, str]], tuple[list[str], dict[str, str]]] | None = None
    jobs: list[tuple[float, float, float]] = field(default_factory=list)  # (pre, main, post)
    problems: list[str] = field(default_factory=list)


def _step_env(paths: Any, servers: Any, series: Series, exported: dict[str, str],
              state: dict[str, str]) -> dict[str, str]:
    given = {**INPUTS, "sts-endpoint": servers.sts.url}
    env = step_environment(paths, None if series.node_inputs else given,
                           oidc=(servers.issuer.token_url, servers.issuer.request_token))
    if series.node_inputs:
        for name, value in {"audience": "sts.amazonaws.com", **given}.items():
            env[input_env_name(name)] = value
    env.update(NO_IMDS)
    env.update(series.env)
    env.update(exported)
    env.update({f"STATE_{k}": v for k, v in state.items()})
    return env


def run_job(series: Series, servers: Any, spawner: bench.Spawner) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-job-"))
    try:
        pre = 0.0
        if series.reset is not None:  # the runner starts from an empty store: not its cost
            series.reset()
        if series.before is not None:
            import time
            start = time.perf_counter()
            series.before()
            pre = time.perf_counter() - start
        main_paths = make_runner_paths(root / "main", job_dir=root / "job")
        argv, env = series.main, _step_env(main_paths, servers, series, {}, {})
        if series.wrap_main is not None:
            argv, env = series.wrap_main(argv, env)
        main = spawner.run(argv, env, str(root / "main.out"), 60)
        if main["code"] != 0:
            tail = (root / "main.out").read_text(errors="replace")[-400:]
            series.problems.append(f"main exit {main['code']}: {tail}")
            return
        exported = dict(read_file_commands(main_paths.env_file))
        if "AWS_SESSION_TOKEN" not in exported:
            series.problems.append("no credentials in GITHUB_ENV")
        post_wall = 0.0
        if series.post is not None and series.post_runs(exported):
            state = dict(read_file_commands(main_paths.state_file))
            post_paths = make_runner_paths(root / "post", job_dir=root / "job")
            argv, env = series.post, _step_env(post_paths, servers, series, exported, state)
            if series.wrap_post is not None:
                argv, env = series.wrap_post(argv, env)
            post = spawner.run(argv, env, str(root / "post.out"), 60)
            if post["code"] != 0:
                series.problems.append(f"post exit {post['code']}")
            post_wall = post["wall"]
        series.jobs.append((pre, main["wall"], post_wall))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def host_series(host_dir: Path, pythons: list[tuple[str, str]], tmp: Path) -> list[Series]:
    """One series per interpreter: a directory with ``python3`` -> it, first on PATH."""
    out = []
    for label, python in pythons:
        first = tmp / f"python-{label}"
        first.mkdir()
        (first / "python3").symlink_to(python)
        out.append(Series(
            f"host ({label})", host_command(host_dir), host_command(host_dir, post=True),
            node_inputs=False, post_runs=lambda env: env.get("PY_AWS_OIDC_POST") == "true",
            env={"PATH": f"{first}:{bench_path()}"}))
    return out


def direct_series(host_dir: Path, python: str) -> Series:
    """The zip without the launcher (what node and the version handshake add)."""
    pyz = str(host_dir / "dist" / "py-aws-oidc.pyz")
    return Series("zip without node", [python, "-I", "-S", "-X", "utf8", pyz],
                  [python, "-I", "-S", "-X", "utf8", pyz, "post"], node_inputs=False,
                  post_runs=lambda env: env.get("PY_AWS_OIDC_POST") == "true")


def bench_path() -> str:
    from localdev.runner_step import SYSTEM_PATH

    return SYSTEM_PATH


def cac_series(cac_dir: Path) -> Series:
    node = shutil.which("node") or "/usr/bin/node"
    main, post = cac_dir / "dist" / "index.js", cac_dir / "dist" / "cleanup" / "index.js"
    if not main.is_file() or not post.is_file():
        raise SystemExit(f"bench job: {cac_dir} has no dist/index.js and dist/cleanup/index.js")
    return Series("cac", [node, str(main)], [node, str(post)], node_inputs=True,
                  post_runs=lambda env: env.get("AWS_SKIP_CLEANUP_STEP") != "true")


def _verdict(ratio: float, goal: float | None) -> str:
    if goal is None:
        return ""
    return f"<= {goal:.1f} {'ok' if ratio <= goal else 'MISSED'}"


def report(series: list[Series], out: Any = sys.stdout) -> list[dict[str, Any]]:
    def med(values: list[float]) -> float:
        return round(statistics.median(values) * 1000) if values else 0

    cac = next((s for s in series if s.name == "cac"), None)
    cac_job = med([sum(j) for j in cac.jobs]) if cac else 0
    rows = []
    out.write("| per job | runs | pull | main | post | job (median) | vs CAC | goal |\n")
    out.write("|---|---|---|---|---|---|---|---|\n")
    for s in series:
        job = med([sum(j) for j in s.jobs])
        posts = [j[2] for j in s.jobs if j[2]]
        goal = next((g for prefix, g in GOALS.items() if s.name.startswith(prefix)), None)
        ratio = job / cac_job if cac_job else 0
        rows.append({"series": s.name, "runs": len(s.jobs), "job_ms": job, "ratio": ratio,
                     "goal": goal, "problems": s.problems[:3]})
        out.write(
            f"| {s.name} | {len(s.jobs)} | {med([j[0] for j in s.jobs]) or '-'} | "
            f"{med([j[1] for j in s.jobs])} | {med(posts) if posts else '-'} "
            f"({len(posts)}/{len(s.jobs)}) | {job} ms | {ratio:.2f} | "
            f"{_verdict(ratio, goal)} |\n")
    for s in series:
        for problem in s.problems[:3]:
            out.write(f"problem in {s.name}: {problem}\n")
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cac", required=True, type=Path, help="CAC's release tree (dist/)")
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--host-dir", type=Path, default=bench.REPO / "host",
                   help="the host action (default host/, with its committed dist/)")
    p.add_argument("--python", action="append", default=[], metavar="LABEL=PATH",
                   help="a host series with this interpreter first on PATH (repeatable)")
    p.add_argument("--direct", action="store_true",
                   help="also the zip run by python directly (no node launcher)")
    p.add_argument("--container", action="store_true",
                   help="also the container series (bench/container_step.py; podman)")
    p.add_argument("--image", default="localhost/py-aws-oidc:bench",
                   help="the action's image in podman's store (built from the Dockerfile)")
    p.add_argument("--compression", choices=("zstd", "gzip"), default="zstd",
                   help="the layer's compression in the local registry (default zstd, OCI media "
                        "types: what release.yml pushes; gzip: what it pushed before 1.2)")
    p.add_argument("--compare", action="append", default=[], metavar="LABEL=IMAGE[,gzip|zstd]",
                   help="also the container series of another image (e.g. the one before a "
                        "change), interleaved in the same run (repeatable)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    pythons = [tuple(item.split("=", 1)) for item in args.python] or [
        ("python3", shutil.which("python3", path=bench_path()) or sys.executable)]
    with tempfile.TemporaryDirectory(prefix="bench-job-pythons-") as tmp:
        series = [cac_series(args.cac.resolve()),
                  *host_series(args.host_dir.resolve(), pythons, Path(tmp))]  # type: ignore[arg-type]
        if args.direct:
            series.append(direct_series(args.host_dir.resolve(), pythons[0][1]))
        if args.container:
            import container_step

            series += container_step.series(args.image, Series, Path(tmp), args.compression)
            for item in args.compare:
                label, _, spec = item.partition("=")
                image, _, compression = spec.partition(",")
                series += container_step.series(image, Series, Path(tmp),
                                                compression or args.compression, label)
        spawner = bench.Spawner()
        try:
            with bench.local_servers() as servers:
                for s in series:  # one untimed job each: caches (page cache, node's, podman's)
                    run_job(s, servers, spawner)
                    s.jobs.clear()
                for _ in range(args.rounds):
                    for s in random.sample(series, len(series)):
                        run_job(s, servers, spawner)
        finally:
            spawner.close()
        rows = report(series)
    return 0 if all(not r["problems"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
