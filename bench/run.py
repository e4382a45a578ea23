#!/usr/bin/env python3
"""The speed benchmark (issue 7): the action's own cost per run, measured and budgeted.

    python bench/run.py                  # or: bash bench/run.sh
    python bench/run.py --runs 10 --scenarios oidc --json -

Runs the ``py-aws-oidc`` console script N times per scenario as a fresh subprocess, exactly as
the runner starts a step (runner-like environment, every declared input as ``INPUT_*``, fresh
GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STATE / summary files and HOME per run), against the local
OIDC issuer and moto behind the STS fault layer (``localdev``), for:

* ``oidc``:  the default OIDC path (token + AssumeRoleWithWebIdentity: must be exactly 2 requests);
* ``keys``:  ``aws-access-key-id``/``aws-secret-access-key`` + ``role-to-assume`` (1 AssumeRole);
* ``chain``: OIDC then AssumeRole (two ARNs in ``role-to-assume``: 3 requests);

each at zero added latency and with ``--latency-ms`` (default 50) added to every HTTP request on
both servers (closer to a real runner). Each run must exit 0 and leave credentials in GITHUB_ENV
and the final role's ARN in GITHUB_OUTPUT, with exactly the expected requests per server.

Baselines measured in the same run, interleaved with the scenarios (so load from other processes
hits them alike): ``python -c pass``, ``python -c "import boto3"`` and a naive boto3 script doing
the OIDC path (requests + ``boto3.client("sts").assume_role_with_web_identity``), all with the
same interpreter as the action.

Per scenario: median and min wall time, median CPU time (user+sys of the child, less sensitive
to other load than wall time), peak RSS (``wait4`` ru_maxrss of the child), the requests each
server saw per run, and the time the servers spent answering (included in the wall time).

Budgets (issue 7), checked here and not by a timed unit test: median OIDC-path wall time < 170 ms
at zero added latency and < 250 ms with 50 ms per request; peak RSS < 60 MB. They were set on
machines where ``import boto3`` takes ~130 ms, so each time budget is also printed scaled by this
machine's measured ``import boto3`` median / 130 ms (the added latency itself is not scaled).
Exit status: 0, or 1 if a run failed its checks; with ``--strict`` also 1 if a budget fails.

Against configure-aws-credentials (issue 15): ``--against-cac DIR`` also runs CAC's bundle
``DIR/index.js`` (``dist/index.js`` of a release; the benchmark never downloads it) with ``node``,
as the runner runs a node action (``INPUT_*`` for the inputs given and CAC's one default,
``audience``; the same GITHUB_ENV / GITHUB_OUTPUT files), on the OIDC path against the same local
token endpoint and the same STS fault layer, interleaved with ours, and prints the ratio of the
medians (ours / CAC) per latency. Budgets (issue 15): <= 1.0 at zero added latency, <= 0.8 with
50 ms per request.

Trying a change: ``--variant NAME=DIR`` (repeatable) also runs every action scenario with
``PYTHONPATH=DIR``, a changed copy of ``src/`` (``cp -r src/py_aws_oidc /tmp/x/``), interleaved
with the unchanged code, so both see the same machine load. On a shared machine the CPU column
(user+sys of the child) moves less than wall time.

The interpreter: by default a venv under ``bench/.venv-image/`` (gitignored, built once and reused
while its inputs are unchanged) holding exactly what the image installs: ``requirements/image.txt``
(hash-checked; else boto3/requests/pyjwt at the versions in requirements/dev.txt), the project
(``pip install --no-deps``), pruned like the image (``scripts/image_build.py prune``, when that
script exists) and byte-compiled. Its base interpreter is Debian's ``/usr/bin/python3.11`` when
present (the image's interpreter), else this one's. ``--python`` runs another ``py-aws-oidc``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from localdev.runner_step import make_runner_paths, step_environment  # noqa: E402
from py_aws_oidc.runner import input_env_name  # noqa: E402

BENCH = REPO / "bench"
IMAGE_VENV = BENCH / ".venv-image"
BASELINE_SITE = IMAGE_VENV / "baseline-site"  # boto3 + s3transfer, for the baseline only
DEBIAN_PYTHON = Path("/usr/bin/python3.11")

BUDGET_OIDC_MS = 170.0
BUDGET_OIDC_LATENCY_MS = 250.0  # at 50 ms per request, 2 requests
BUDGET_RSS_MB = 60.0
REFERENCE_BOTO3_IMPORT_MS = 130.0  # what the budgets assume `import boto3` costs
# Issue 15: median wall time of our OIDC path / CAC's, measured in the same run.
BUDGET_CAC_RATIO = {0.0: 1.0, 50.0: 0.8}

ROLE_1 = "arn:aws:iam::111111111111:role/github-deploy"
ROLE_2 = "arn:aws:iam::222222222222:role/deploy-target"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # noqa: S105 - AWS's documented example

# On top of the runner's step environment (localdev/runner_step.py, whose workflow context the
# token claims match): the image's ENV (Dockerfile) and no IMDS.
IMAGE_ENV = {
    "LANG": "C.UTF-8",
    "PYTHONUNBUFFERED": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    # No IMDS probe can leave this machine, whatever a code path does.
    "AWS_EC2_METADATA_DISABLED": "true",
}

NAIVE_BOTO3_SCRIPT = """\
import os, boto3, requests
r = requests.get(os.environ["ACTIONS_ID_TOKEN_REQUEST_URL"], params={"audience": "sts.amazonaws.com"},
                 headers={"Authorization": "Bearer " + os.environ["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]})
sts = boto3.client("sts", region_name="us-east-1", endpoint_url=os.environ["BENCH_STS_ENDPOINT"])
c = sts.assume_role_with_web_identity(RoleArn=os.environ["BENCH_ROLE"], RoleSessionName="naive",
                                      WebIdentityToken=r.json()["value"])["Credentials"]
with open(os.environ["GITHUB_ENV"], "a") as f:
    f.write("AWS_ACCESS_KEY_ID=%s\\nAWS_SECRET_ACCESS_KEY=%s\\nAWS_SESSION_TOKEN=%s\\n"
            % (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]))
"""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- the image-like venv -------------------------------------------------------------------------


def _project_files() -> list[Path]:
    files = [REPO / "pyproject.toml", *sorted((REPO / "src").rglob("*"))]
    return [f for f in files if f.is_file() and "__pycache__" not in f.parts
            and not f.name.endswith((".pyc", ".egg-info"))
            and ".egg-info" not in str(f)]


def _digest(paths: list[Path], extra: str = "") -> str:
    h = hashlib.sha256(extra.encode())
    for p in paths:
        h.update(str(p.relative_to(REPO)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _dev_pin(name: str) -> str | None:
    dev = REPO / "requirements" / "dev.txt"
    if not dev.is_file():
        return None
    for line in dev.read_text().splitlines():
        key, sep, version = line.partition("==")
        if sep and key.strip().lower() == name.lower():
            return version.split()[0].strip()
    return None


def _requirements_args() -> tuple[list[str], str]:
    """pip arguments for what the image installs, and a label for the report."""
    image = REPO / "requirements" / "image.txt"
    if image.is_file():
        return ["--require-hashes", "--only-binary=:all:", "-r", str(image)], "requirements/image.txt"
    pins = []
    for name in ("boto3", "requests", "pyjwt"):
        version = _dev_pin(name)
        pins.append(f"{name}=={version}" if version else name)
    return pins, "fallback: " + " ".join(pins)


def _run(cmd: list[str], **kw: Any) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False, **kw)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}"
                           f"\n{proc.stderr[-3000:]}")


def _pip(venv_python: Path, *args: str) -> None:
    # This interpreter's pip installs into the target venv (--python: pip >= 22.3), so the venv
    # needs no pip of its own (the image has none either).
    _run([sys.executable, "-m", "pip", "--python", str(venv_python), "install", "--quiet",
          "--disable-pip-version-check", "--no-input", *args])


def base_interpreter(requested: str | None) -> Path:
    if requested:
        return Path(requested)
    if DEBIAN_PYTHON.is_file() and os.access(DEBIAN_PYTHON, os.X_OK):
        return DEBIAN_PYTHON
    return Path(getattr(sys, "_base_executable", sys.executable))


def ensure_image_venv(base: Path, *, prune: bool, rebuild: bool) -> dict[str, str]:
    """Build or refresh bench/.venv-image; returns a description for the report."""
    req_args, req_label = _requirements_args()
    image_build = REPO / "scripts" / "image_build.py"
    prune = prune and image_build.is_file()
    version = subprocess.run([str(base), "-c", "import sys; print(sys.version)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    dep_inputs = [REPO / "requirements" / "image.txt"] if req_label.endswith("image.txt") else []
    deps_key = _digest(dep_inputs, f"{base}|{version}|{req_args}|prune={prune}|"
                       + (image_build.read_text() if prune else ""))
    project_key = _digest(_project_files())
    stamp = IMAGE_VENV / ".bench-stamp.json"
    old: dict[str, str] = {}
    if stamp.is_file() and not rebuild:
        with contextlib.suppress(ValueError):
            old = json.loads(stamp.read_text())
    venv_python = IMAGE_VENV / "bin" / "python"
    if old.get("deps") != deps_key or not venv_python.exists():
        log(f"bench: building {IMAGE_VENV.relative_to(REPO)} from {req_label} with {base} ...")
        shutil.rmtree(IMAGE_VENV, ignore_errors=True)
        _run([str(base), "-m", "venv", "--without-pip", str(IMAGE_VENV)])
        _pip(venv_python, *req_args)
        old = {}
    if old.get("project") != project_key:
        log("bench: installing the project into the image venv ...")
        with tempfile.TemporaryDirectory(prefix="bench-project-") as tmp:
            # Build from a copy: no build/ or *.egg-info left in the work tree.
            copy = Path(tmp) / "project"
            shutil.copytree(REPO / "src", copy / "src",
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
            for name in ("pyproject.toml", "README.md", "LICENSE"):
                if (REPO / name).is_file():
                    shutil.copy2(REPO / name, copy / name)
            if not (copy / "README.md").exists():
                (copy / "README.md").write_text("py-aws-oidc\n")
            _pip(venv_python, "--no-deps", "--force-reinstall", str(copy))
        if prune:
            log("bench: pruning the venv like the image (scripts/image_build.py prune) ...")
            _run([str(venv_python), str(image_build), "prune", str(IMAGE_VENV)])
        # Fresh bytecode for everything, as the image build does (Dockerfile).
        _run([str(venv_python), "-m", "compileall", "-q", "-j", "0", "--invalidation-mode",
              "unchecked-hash", str(IMAGE_VENV / "lib")])
        stamp.write_text(json.dumps({"deps": deps_key, "project": project_key}))
    (IMAGE_VENV / ".gitignore").write_text("*\n")
    stdlib_pyc = subprocess.run(
        [str(venv_python), "-c", "import importlib.util, os, json; "
         "print(os.path.exists(importlib.util.cache_from_source(json.__file__)))"],
        capture_output=True, text=True, check=False).stdout.strip()
    if stdlib_pyc != "True":
        log("bench: WARNING: the base interpreter's standard library has no bytecode; with "
            "PYTHONDONTWRITEBYTECODE=1 (as in the image) every run compiles it. The image "
            "compiles it (Dockerfile); here: python3.11 -m compileall /usr/lib/python3.11")
    return {"venv": str(IMAGE_VENV.relative_to(REPO)), "requirements": req_label,
            "base_python": str(base), "python_version": version.split()[0],
            "pruned_like_image": str(prune)}


def ensure_baseline_site(python: Path) -> Path | None:
    """boto3 + s3transfer (no deps: botocore is the venv's) for the `import boto3` baseline."""
    marker = BASELINE_SITE / ".done"
    if marker.is_file():
        return BASELINE_SITE
    boto3 = _dev_pin("boto3")
    try:
        import importlib.metadata as md

        s3transfer = md.version("s3transfer")
    except Exception:  # noqa: BLE001 - fall back to pip's choice
        s3transfer = None
    specs = [f"boto3=={boto3}" if boto3 else "boto3",
             f"s3transfer=={s3transfer}" if s3transfer else "s3transfer"]
    try:
        shutil.rmtree(BASELINE_SITE, ignore_errors=True)
        _run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
              "--no-input", "--no-deps", "--no-compile", "--target", str(BASELINE_SITE), *specs])
        _run([str(python), "-m", "compileall", "-q", "-j", "0", str(BASELINE_SITE)])
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        log(f"bench: could not install the boto3 baseline ({exc}); skipping it")
        return None
    marker.write_text(" ".join(specs))
    return BASELINE_SITE


# -- servers -------------------------------------------------------------------------------------


class ServerClock:
    """Counts requests and the time the servers spend answering them (all threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.busy_s = 0.0
        self.requests = 0

    def add(self, seconds: float) -> None:
        with self.lock:
            self.busy_s += seconds
            self.requests += 1

    def snapshot(self) -> tuple[float, int]:
        with self.lock:
            return self.busy_s, self.requests


def timed_handler(handler: type, clock: ServerClock) -> type:
    def wrap(name: str) -> Callable[[Any], None]:
        original = getattr(handler, name)

        def method(self: Any) -> None:
            start = time.perf_counter()
            try:
                original(self)
            finally:
                clock.add(time.perf_counter() - start)

        return method

    names = [n for n in ("do_GET", "do_POST") if hasattr(handler, n)]
    return type(f"Timed{handler.__name__}", (handler,), {n: wrap(n) for n in names})


@dataclass
class Servers:
    issuer: Any
    sts: Any
    moto: Any
    clock: ServerClock

    def set_latency(self, seconds: float) -> None:
        self.issuer.latency_s = seconds
        self.sts.latency_s = seconds


@contextlib.contextmanager
def local_servers() -> Iterator[Servers]:
    sys.path.insert(0, str(REPO))
    try:
        from localdev.moto_sts import MotoServer
        from localdev.oidc_issuer import OidcIssuer
        from localdev.sts_faults import StsFaultProxy
    except ImportError as exc:
        raise SystemExit(
            f"bench: cannot import localdev ({exc}). Run with the dev venv's python "
            "(bash bench/run.sh builds it), e.g. .venv/bin/python bench/run.py"
        ) from None
    clock = ServerClock()
    with contextlib.ExitStack() as stack:
        moto = stack.enter_context(MotoServer())
        # Subclasses whose request handlers add their time to `clock`.
        timed_issuer = type("TimedIssuer", (OidcIssuer,),
                            {"handler_class": timed_handler(OidcIssuer.handler_class, clock)})
        timed_sts = type("TimedSts", (StsFaultProxy,),
                         {"handler_class": timed_handler(StsFaultProxy.handler_class, clock)})
        issuer = stack.enter_context(timed_issuer())
        sts = stack.enter_context(timed_sts(moto.url, verify_tokens=issuer))
        yield Servers(issuer, sts, moto, clock)


# -- one run -------------------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    kind: str  # "action" | "cac" | "baseline"
    latency_ms: float = 0.0
    inputs: dict[str, str] = field(default_factory=dict)
    oidc_env: bool = True
    expect_issuer: int | None = None
    expect_sts: tuple[str, ...] | None = None
    expect_arn: str | None = None  # a fragment of authenticated-arn in GITHUB_OUTPUT
    argv: list[str] = field(default_factory=list)  # baselines: the command
    env: dict[str, str] = field(default_factory=dict)
    check_env_file: bool = True


@dataclass
class Sample:
    wall_ms: float
    cpu_ms: float
    rss_mb: float
    server_ms: float
    issuer_requests: int
    sts_actions: list[str]
    ok: bool
    problem: str = ""


SPAWNER_CODE = r"""
import json, os, select, signal, sys, time
for line in sys.stdin:
    job = json.loads(line)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, job["out"], flags, 0o600),
               (os.POSIX_SPAWN_DUP2, 1, 2)]
    start = time.perf_counter()
    pid = os.posix_spawn(job["argv"][0], job["argv"], job["env"], file_actions=actions)
    fd = os.pidfd_open(pid)
    timed_out = not select.select([fd], [], [], job["timeout"])[0]
    if timed_out:
        os.kill(pid, signal.SIGKILL)  # our own child, by its pid
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    os.close(fd)
    code = os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else None
    print(json.dumps({"code": code, "wall": wall, "cpu": ru.ru_utime + ru.ru_stime,
                      "maxrss_kb": ru.ru_maxrss, "timed_out": timed_out}), flush=True)
"""


class Spawner:
    """Starts each measured process from a small helper process.

    Linux keeps the peak RSS across exec: a child spawned by this (large) process would report at
    least this process's RSS as its ``ru_maxrss``. The helper is a bare interpreter (~10 MB), so
    the children's figures are their own (anything above the helper's own size). The helper also
    takes the wall time (posix_spawn to wait4), so this process's threads do not add to it.
    """

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", SPAWNER_CODE], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, bufsize=1)

    def run(self, argv: list[str], env: dict[str, str], out_path: str,
            timeout_s: float) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"argv": argv, "env": env, "out": out_path,
                                          "timeout": timeout_s}) + "\n")
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError("bench: the spawner helper died")
        result: dict[str, Any] = json.loads(answer)
        return result

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def run_once(sc: Scenario, servers: Servers, spawner: Spawner, command: list[str],
             timeout_s: float, extra_env: dict[str, str]) -> Sample:
    root = Path(tempfile.mkdtemp(prefix="bench-run-"))
    try:
        paths = make_runner_paths(root, workspace=root)
        inputs = {"sts-endpoint": servers.sts.url, **sc.inputs} if sc.kind == "action" else None
        oidc = (servers.issuer.token_url, servers.issuer.request_token) if sc.oidc_env else None
        env = step_environment(paths, inputs, oidc=oidc)
        env.update(IMAGE_ENV)
        if sc.kind == "action":
            argv = list(command)
            env.update(extra_env)
            if "PYTHONPATH" in {**env, **sc.env} and len(argv) == 1:
                # The image's entrypoints run Python isolated (-I: PYTHONPATH ignored), so a
                # changed copy of src/ (--src, --variant) runs through the interpreter instead.
                argv = [str(Path(argv[0]).parent / "python"), "-B", "-u", "-c",
                        "from py_aws_oidc.cli import console_main; console_main()"]
        elif sc.kind == "cac":
            # A node action gets INPUT_* only for inputs with a value: given, or a default in
            # its action.yml (CAC has one: audience).
            given = {"audience": "sts.amazonaws.com", "sts-endpoint": servers.sts.url,
                     **sc.inputs}
            for name, value in given.items():
                env[input_env_name(name)] = value
            argv = list(sc.argv)
        else:
            env["BENCH_STS_ENDPOINT"] = servers.sts.url
            env["BENCH_ROLE"] = ROLE_1
            argv = list(sc.argv)
        env.update(sc.env)
        servers.set_latency(sc.latency_ms / 1000.0)
        issuer_before = len(servers.issuer.requests)
        sts_before = len(servers.sts.calls)
        busy_before, _ = servers.clock.snapshot()
        measured = spawner.run(argv, env, str(root / "stdout"), timeout_s)
        code = measured["code"]
        time.sleep(0.002)  # let a handler thread finish its bookkeeping after the answer
        busy_after, _ = servers.clock.snapshot()
        issuer_n = len(servers.issuer.requests) - issuer_before
        sts_actions = [c.action for c in servers.sts.calls[sts_before:]]
        problems = []
        if measured["timed_out"]:
            problems.append(f"killed after the {timeout_s:g} s timeout")
        elif code != 0:
            tail = (root / "stdout").read_text(errors="replace")[-600:]
            problems.append(f"exit {code}: {tail}")
        env_text = paths.env_file.read_text(errors="replace")
        if sc.check_env_file and code == 0:
            for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
                if var not in env_text:
                    problems.append(f"{var} missing from GITHUB_ENV")
        if sc.expect_arn and code == 0 and sc.expect_arn not in paths.output_file.read_text():
            problems.append(f"authenticated-arn is not the role {sc.expect_arn!r}")
        if sc.expect_issuer is not None and issuer_n != sc.expect_issuer:
            problems.append(f"{issuer_n} token requests (expected {sc.expect_issuer})")
        if sc.expect_sts is not None and tuple(sts_actions) != sc.expect_sts:
            problems.append(f"STS saw {sts_actions} (expected {list(sc.expect_sts)})")
        return Sample(
            wall_ms=measured["wall"] * 1000,
            cpu_ms=measured["cpu"] * 1000,
            rss_mb=measured["maxrss_kb"] / 1024,
            server_ms=(busy_after - busy_before) * 1000,
            issuer_requests=issuer_n,
            sts_actions=sts_actions,
            ok=not problems,
            problem="; ".join(problems),
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


# -- scenarios -----------------------------------------------------------------------------------


def action_scenarios(latencies: list[float]) -> list[Scenario]:
    out = []
    for lat in latencies:
        suffix = "" if lat == 0 else f"@{lat:g}ms"
        out += [
            Scenario("oidc" + suffix, "action", lat,
                     {"aws-region": "us-east-1", "role-to-assume": ROLE_1},
                     expect_issuer=1, expect_sts=("AssumeRoleWithWebIdentity",),
                     expect_arn="assumed-role/github-deploy/"),
            Scenario("keys" + suffix, "action", lat,
                     {"aws-region": "us-east-1", "role-to-assume": ROLE_1,
                      "aws-access-key-id": KEY_ID, "aws-secret-access-key": SECRET_KEY},
                     oidc_env=False, expect_issuer=0, expect_sts=("AssumeRole",),
                     expect_arn="assumed-role/github-deploy/"),
            Scenario("chain" + suffix, "action", lat,
                     {"aws-region": "us-east-1", "role-to-assume": f"{ROLE_1}\n{ROLE_2}"},
                     expect_issuer=1,
                     expect_sts=("AssumeRoleWithWebIdentity", "AssumeRole"),
                     expect_arn="assumed-role/deploy-target/"),
        ]
    return out


def cac_scenarios(cac_dir: Path, latencies: list[float]) -> list[Scenario]:
    """CAC's bundle on the OIDC path (token, AssumeRoleWithWebIdentity, GetCallerIdentity)."""
    node = shutil.which("node")
    bundle = cac_dir.resolve() / "index.js"
    if node is None:
        raise SystemExit("bench: --against-cac needs node on PATH")
    if not bundle.is_file():
        raise SystemExit(f"bench: --against-cac: {bundle} does not exist (CAC's dist/index.js)")
    out = []
    for lat in latencies:
        suffix = "" if lat == 0 else f"@{lat:g}ms"
        out.append(Scenario("cac oidc" + suffix, "cac", lat,
                            {"aws-region": "us-east-1", "role-to-assume": ROLE_1},
                            argv=[node, str(bundle)], expect_issuer=1,
                            expect_sts=("AssumeRoleWithWebIdentity", "GetCallerIdentity")))
    return out


def cac_ratios(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Median wall time ours / CAC's for each latency both ran at (issue 15's budgets)."""
    rows = []
    for name, r in results.items():
        if r.get("kind") != "cac":
            continue
        ours_name = name.removeprefix("cac ")
        ours = results.get(ours_name)
        if ours is None:
            continue
        ratio = ours["wall_median_ms"] / r["wall_median_ms"]
        limit = BUDGET_CAC_RATIO.get(float(r["latency_ms"]))
        rows.append({"scenario": ours_name, "ours_ms": ours["wall_median_ms"],
                     "cac_ms": r["wall_median_ms"], "ratio": round(ratio, 3), "limit": limit,
                     "pass": limit is None or ratio <= limit})
    return rows


def baseline_scenarios(python: Path, boto3_site: Path | None, latencies: list[float],
                       script_dir: Path) -> list[Scenario]:
    out = [Scenario("python -c pass", "baseline", argv=[str(python), "-c", "pass"],
                    oidc_env=False, check_env_file=False)]
    if boto3_site is None:
        return out
    env = {"PYTHONPATH": str(boto3_site)}
    out.append(Scenario("import boto3", "baseline", argv=[str(python), "-c", "import boto3"],
                        env=env, oidc_env=False, check_env_file=False))
    naive = script_dir / "naive_boto3.py"
    naive.write_text(NAIVE_BOTO3_SCRIPT)
    for lat in latencies:
        suffix = "" if lat == 0 else f"@{lat:g}ms"
        out.append(Scenario("naive boto3 OIDC" + suffix, "baseline", lat,
                            argv=[str(python), str(naive)], env=env, expect_issuer=1,
                            expect_sts=("AssumeRoleWithWebIdentity",)))
    return out


# -- report --------------------------------------------------------------------------------------


def summarize(samples: list[Sample]) -> dict[str, Any]:
    wall = [s.wall_ms for s in samples]
    return {
        "runs": len(samples),
        "failed": sum(1 for s in samples if not s.ok),
        "wall_median_ms": round(statistics.median(wall), 1),
        "wall_min_ms": round(min(wall), 1),
        "wall_p90_ms": round(sorted(wall)[int(0.9 * (len(wall) - 1))], 1),
        "cpu_median_ms": round(statistics.median(s.cpu_ms for s in samples), 1),
        "server_median_ms": round(statistics.median(s.server_ms for s in samples), 1),
        "rss_peak_mb": round(max(s.rss_mb for s in samples), 1),
        "issuer_requests_per_run": sorted({s.issuer_requests for s in samples}),
        "sts_requests_per_run": sorted({len(s.sts_actions) for s in samples}),
        "problems": sorted({s.problem for s in samples if s.problem})[:5],
    }


def budgets(results: dict[str, dict[str, Any]], latency: float | None) -> list[dict[str, Any]]:
    boto3 = results.get("import boto3")
    ratio = boto3["wall_median_ms"] / REFERENCE_BOTO3_IMPORT_MS if boto3 else None
    rows = []

    def row(name: str, measured: float | None, limit: float, scaled: float | None,
            unit: str) -> None:
        rows.append({
            "budget": name, "measured": measured, "limit": limit, "unit": unit,
            "pass": measured is not None and measured < limit,
            "scaled_limit": None if scaled is None else round(scaled, 1),
            "pass_scaled": None if scaled is None or measured is None else measured < scaled,
        })

    oidc = results.get("oidc")
    if oidc:
        row("median OIDC-path wall time, no added latency", oidc["wall_median_ms"],
            BUDGET_OIDC_MS, BUDGET_OIDC_MS * ratio if ratio else None, "ms")
    if latency is not None and f"oidc@{latency:g}ms" in results:
        added = 2 * latency  # two requests on the OIDC path
        limit = BUDGET_OIDC_LATENCY_MS - 100 + added  # 250 ms at 50 ms per request
        cpu_part = limit - added
        row(f"median OIDC-path wall time, {latency:g} ms per request",
            results[f"oidc@{latency:g}ms"]["wall_median_ms"], limit,
            added + cpu_part * ratio if ratio else None, "ms")
    actions = [r for r in results.values() if r.get("kind") == "action"]
    if actions:
        peak = max(r["rss_peak_mb"] for r in actions)
        row("peak RSS of the action (any scenario)", peak, BUDGET_RSS_MB, None, "MB")
    return rows


def print_report(meta: dict[str, Any], results: dict[str, dict[str, Any]],
                 rows: list[dict[str, Any]]) -> None:
    out = sys.stdout
    out.write(f"\npy-aws-oidc speed benchmark: {meta['runs']} runs per scenario "
              f"(+{meta['warmup']} warm-up), interleaved\n")
    out.write(f"command: {' '.join(meta['command'])}\n")
    for key in ("python_version", "base_python", "requirements", "pruned_like_image"):
        if key in meta.get("venv", {}):
            out.write(f"  {key}: {meta['venv'][key]}\n")
    out.write(f"  machine: {meta['machine']}, load average at start {meta['loadavg_start']}, "
              f"at end {meta['loadavg_end']}, nice {meta['nice']}\n\n")
    width = max([26, *(len(n) for n in results)])
    head = (f"{'scenario':{width}s} {'median':>8s} {'min':>8s} {'p90':>8s} {'cpu':>8s} "
            f"{'server':>8s} {'RSS':>7s} {'token':>5s} {'STS':>4s}  ok")
    out.write(head + "\n" + "-" * len(head) + "\n")
    for name, r in results.items():
        def fmt(values: list[int]) -> str:
            return "/".join(str(v) for v in values)
        out.write(f"{name:{width}s} {r['wall_median_ms']:8.1f} {r['wall_min_ms']:8.1f} "
                  f"{r['wall_p90_ms']:8.1f} {r['cpu_median_ms']:8.1f} "
                  f"{r['server_median_ms']:8.1f} {r['rss_peak_mb']:6.1f}M "
                  f"{fmt(r['issuer_requests_per_run']):>5s} {fmt(r['sts_requests_per_run']):>4s}  "
                  f"{r['runs'] - r['failed']}/{r['runs']}\n")
    out.write("(ms; median/min/p90 wall time per run incl. interpreter start and exit; cpu = "
              "median user+sys of the child; server = median time the local servers spent "
              "answering, incl. injected latency; token/STS = requests per run)\n")
    for name, r in results.items():
        for p in r["problems"]:
            out.write(f"  FAILED {name}: {p}\n")
    cac = meta.get("cac_ratios") or []
    if cac:
        out.write("\nours / configure-aws-credentials (median wall time, same run; issue 15):\n")
        for c in cac:
            verdict = "PASS" if c["pass"] else "FAIL"
            limit = "" if c["limit"] is None else f" <= {c['limit']:g}"
            out.write(f"  {verdict}  {c['scenario']}: {c['ours_ms']} ms / {c['cac_ms']} ms = "
                      f"{c['ratio']:.2f}{limit}\n")
    ratio = meta.get("boto3_ratio")
    out.write("\nbudgets (issue 7):\n")
    for b in rows:
        verdict = "PASS" if b["pass"] else "FAIL"
        out.write(f"  {verdict}  {b['budget']}: {b['measured']} {b['unit']} < {b['limit']:g}\n")
    if ratio:
        b3 = results["import boto3"]
        out.write(f"\nthis machine: import boto3 = {b3['wall_median_ms']} ms median vs the issue's "
                  f"{REFERENCE_BOTO3_IMPORT_MS:g} ms -> ratio x{ratio:.2f} (of the minimums, "
                  f"{b3['wall_min_ms']} ms: x{meta['boto3_ratio_of_mins']:.2f})\n")
        out.write("budgets SCALED to this machine (CPU part x ratio; added latency and RSS not "
                  "scaled) - for information:\n")
        for b in rows:
            if b["scaled_limit"] is not None:
                verdict = "PASS" if b["pass_scaled"] else "FAIL"
                out.write(f"  {verdict}  {b['budget']}: {b['measured']} {b['unit']} < "
                          f"{b['scaled_limit']:g} (scaled)\n")


# -- main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=30, help="measured runs per scenario (30)")
    p.add_argument("--warmup", type=int, default=2, help="discarded runs per scenario first (2)")
    p.add_argument("--latency-ms", type=float, default=50.0,
                   help="added per HTTP request on both servers for the latency variant (50; "
                        "0 = no variant)")
    p.add_argument("--scenarios", default="oidc,keys,chain",
                   help="comma-separated subset of oidc,keys,chain (default: all)")
    p.add_argument("--no-baseline", action="store_true",
                   help="skip the naive boto3 script (python -c pass and import boto3 still run)")
    p.add_argument("--against-cac", metavar="DIR",
                   help="also run configure-aws-credentials' bundle DIR/index.js (a release's "
                        "dist/index.js) with node on the OIDC path, interleaved, and print the "
                        "ratios ours/CAC (issue 15)")
    p.add_argument("--python", help="run this py-aws-oidc executable instead of the image venv's")
    p.add_argument("--base-python", help="base interpreter of the image venv "
                   "(default: /usr/bin/python3.11 if present, else this one)")
    p.add_argument("--src", help="prepend this directory to PYTHONPATH of the action "
                   "(try a scratch copy of src/ without rebuilding the venv)")
    p.add_argument("--variant", action="append", default=[], metavar="LABEL=SRC_DIR",
                   help="A/B: also run each action scenario with PYTHONPATH=SRC_DIR (a changed "
                   "copy of src/), interleaved with the others, as 'SCENARIO [LABEL]' "
                   "(repeatable)")
    p.add_argument("--env", action="append", default=[], metavar="K=V",
                   help="extra environment for the action (repeatable)")
    p.add_argument("--no-prune", action="store_true",
                   help="do not prune the image venv with scripts/image_build.py")
    p.add_argument("--rebuild", action="store_true", help="rebuild bench/.venv-image")
    p.add_argument("--timeout", type=float, default=30.0, help="per-run timeout, s (30)")
    p.add_argument("--max-minutes", type=float, default=20.0,
                   help="stop starting new rounds after this long (20)")
    p.add_argument("--nice", type=int, default=0,
                   help="run the benchmark (servers, helper and the measured processes) at this "
                        "nice value; a negative one (root) keeps other load on a shared machine "
                        "from inflating the figures, like a dedicated runner (default 0)")
    p.add_argument("--seed", type=int, default=7, help="order shuffling seed")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON ('-': stdout)")
    p.add_argument("--strict", action="store_true", help="exit 1 if an (unscaled) budget fails")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    if args.nice:
        # Before any thread or child exists: they all inherit it.
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)
    meta: dict[str, Any] = {"runs": args.runs, "warmup": args.warmup,
                            "machine": f"{os.cpu_count()} CPUs, {platform.platform()}",
                            "loadavg_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
                            "nice": args.nice}
    if args.python:
        command = [str(Path(args.python).resolve())]
        python = Path(command[0]).parent / "python"
        if not python.exists():
            python = Path(sys.executable)
        meta["venv"] = {"python_version": platform.python_version(), "base_python": str(python),
                        "requirements": "(--python: not built by the benchmark)"}
    else:
        base = base_interpreter(args.base_python)
        meta["venv"] = ensure_image_venv(base, prune=not args.no_prune, rebuild=args.rebuild)
        python = IMAGE_VENV / "bin" / "python"
        command = [str(IMAGE_VENV / "bin" / "py-aws-oidc")]
    meta["command"] = [sys.executable, *sys.argv] if argv is None else ["run.py", *argv]
    extra_env = dict(kv.split("=", 1) for kv in args.env)
    if args.src:
        extra_env["PYTHONPATH"] = str(Path(args.src).resolve())
    meta["extra_env"] = extra_env
    boto3_site = ensure_baseline_site(python)
    # Runs get PYTHONDONTWRITEBYTECODE=1 (as in the image): compile the changed copies up front.
    for src in [args.src, *(v.partition("=")[2] for v in args.variant)]:
        if src:
            _run([str(python), "-m", "compileall", "-q", "-j", "0", "--invalidation-mode",
                  "unchecked-hash", str(Path(src).resolve())])

    wanted = {s.strip() for s in args.scenarios.split(",") if s.strip()}
    latencies = [0.0] + ([args.latency_ms] if args.latency_ms > 0 else [])
    samples: dict[str, list[Sample]] = {}
    failures = 0
    spawner = Spawner()
    with contextlib.ExitStack() as stack:
        stack.callback(spawner.close)
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-"))
        servers = stack.enter_context(local_servers())
        scenarios = [s for s in action_scenarios(latencies) if s.name.split("@")[0] in wanted]
        for spec in args.variant:
            label, _, src = spec.partition("=")
            scenarios += [
                replace(s, name=f"{s.name} [{label}]",
                        env={**s.env, "PYTHONPATH": str(Path(src).resolve())})
                for s in scenarios if s.kind == "action" and "[" not in s.name
            ]
        if args.against_cac:
            scenarios += cac_scenarios(Path(args.against_cac), latencies)
        base_lat = latencies if not args.no_baseline else []
        scenarios += baseline_scenarios(python, boto3_site, base_lat, Path(tmp))
        rng = random.Random(args.seed)
        total_rounds = args.warmup + args.runs
        log(f"bench: {len(scenarios)} scenarios x {total_rounds} rounds "
            f"({', '.join(s.name for s in scenarios)})")
        for round_no in range(total_rounds):
            if time.monotonic() - started > args.max_minutes * 60:
                log(f"bench: --max-minutes reached after {round_no} rounds; reporting those")
                break
            order = list(scenarios)
            rng.shuffle(order)
            for sc in order:
                sample = run_once(sc, servers, spawner, command, args.timeout,
                                  extra_env)
                if round_no >= args.warmup:
                    samples.setdefault(sc.name, []).append(sample)
                if not sample.ok:
                    failures += 1
                    log(f"bench: {sc.name} run {round_no + 1} FAILED: {sample.problem}")
            if (round_no + 1) % 5 == 0:
                log(f"bench: round {round_no + 1}/{total_rounds}")
        servers.set_latency(0)
    meta["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    meta["seconds"] = round(time.monotonic() - started, 1)

    results: dict[str, dict[str, Any]] = {}
    for sc in scenarios:
        if sc.name in samples:
            results[sc.name] = {"kind": sc.kind, "latency_ms": sc.latency_ms,
                                **summarize(samples[sc.name])}
    if "import boto3" in results:
        meta["boto3_ratio"] = round(results["import boto3"]["wall_median_ms"]
                                    / REFERENCE_BOTO3_IMPORT_MS, 2)
        meta["boto3_ratio_of_mins"] = round(results["import boto3"]["wall_min_ms"]
                                            / REFERENCE_BOTO3_IMPORT_MS, 2)
    rows = budgets(results, args.latency_ms if args.latency_ms > 0 else None)
    meta["cac_ratios"] = cac_ratios(results)
    if args.json != "-":
        print_report(meta, results, rows)
    if args.json:
        doc = {"meta": meta, "results": results, "budgets": rows,
               "samples": {k: [asdict(s) for s in v] for k, v in samples.items()}}
        text = json.dumps(doc, indent=2)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
    if failures:
        return 1
    if args.strict and not all(b["pass"] for b in rows + meta["cac_ratios"]):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
