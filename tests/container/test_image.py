"""The action's image: built from the real Dockerfile and run the way the GitHub runner runs it.

The plain tests read the Dockerfile, ``.dockerignore`` and ``action.yml`` (rules the runner
enforces and linters do not know). The ``container`` tests build the image with podman (once per
session, ``tests/container/conftest.py``) and run the main and post steps in it through
``podman_step.py`` -- ``--workdir /github/workspace``, the ``/github/file_commands`` mount with
``set_env_<uuid>``-style files, ``-e NAME`` only, ``--network host`` to reach the local issuer and
STS -- then check, on the host, what the runner would see. Every run also goes through the
project-wide leak check (``tests/support/leakcheck.py``).
"""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from localdev.oidc_issuer import OidcIssuer
from localdev.runner_files import parse_env_file, split_lines, try_parse_v2
from localdev.sts_faults import StsFaultProxy
from tests.container.support import TIMINGS, PodmanEnv, read_timings
from tests.support.harness import ActionHarness, ActionResult, make_sts_client

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ROLE = "arn:aws:iam::111122223333:role/gha-entry"
CREDENTIAL_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
REGION_VARS = ("AWS_REGION", "AWS_DEFAULT_REGION")
SIZE_LIMIT = 32_000_000  # bytes, uncompressed (podman image inspect .Size); issue 20
PUSHED_LIMIT = 14_000_000  # bytes, the layer gzip-compressed as a push uploads it; issue 20
# Regular files in the root filesystem (the pull unpacks each, ~0.4 ms apiece: docs/container.md,
# "What a pull costs"); 330 with the stdlib and the pure dependencies in zips, 701 before; issue 20.
FILE_LIMIT = 400
SITE = "/opt/venv/lib/python3.11/site-packages"


# -- plain tests: the files ----------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    buffer = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        word, _, rest = buffer.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        buffer = ""
    return out


def test_dockerfile_follows_the_runner_rules() -> None:
    instructions = dockerfile_instructions((REPO / "Dockerfile").read_text())
    names = [name for name, _ in instructions]
    # The runner needs root (it mounts the workspace owned by the runner user), and mounts the
    # workspace over the working directory: no USER, no WORKDIR.
    assert "USER" not in names
    assert "WORKDIR" not in names
    # The base is pinned by digest, and every stage builds on it (or on scratch).
    [base_arg] = [args for name, args in instructions if name == "ARG" and args.startswith("BASE=")]
    assert re.fullmatch(r"BASE=debian:(bookworm|trixie)-slim@sha256:[0-9a-f]{64}", base_arg)
    froms = [args.split()[0] for name, args in instructions if name == "FROM"]
    assert froms[0] == "${BASE}"
    assert all(f in ("${BASE}", "scratch") for f in froms)
    # Exec-form entrypoint: one absolute executable, no shell.
    [entrypoint] = [args for name, args in instructions if name == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ["/opt/venv/bin/py-aws-oidc"]
    env_text = " ".join(args for name, args in instructions if name == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env_text
    assert "PYTHONUNBUFFERED=1" in env_text
    # Hash-pinned dependencies.
    assert any("--require-hashes" in args for name, args in instructions if name == "RUN")


def test_action_yml_entrypoints_are_single_absolute_paths() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    runs = action["runs"]
    assert runs["using"] == "docker"
    image = runs["image"]
    assert image == "Dockerfile" or re.fullmatch(
        r"docker://[a-z0-9./_-]+@sha256:[0-9a-f]{64}", image), image
    for key in ("entrypoint", "pre-entrypoint", "post-entrypoint"):
        if key in runs:
            value = runs[key]
            # The runner passes it as one --entrypoint argument: no word splitting, no args.
            assert isinstance(value, str) and value.startswith("/"), (key, value)
            assert not re.search(r"\s", value), f"{key} must be one path, got {value!r}"
    assert runs["post-entrypoint"] == "/opt/venv/bin/py-aws-oidc-post"


def test_dockerignore_is_an_allowlist() -> None:
    lines = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert lines[0] == "*", "start from 'ignore everything' and allow what the build copies"
    allowed = [line[1:] for line in lines if line.startswith("!")]
    for never in (".git", "tests", ".venv", "bench", "localdev", ".github", ".env", ".secrets"):
        assert not any(a == never or a.startswith(never + "/") for a in allowed), never
    # Everything the Dockerfile copies from the context is allowed.
    copied = re.findall(r"^COPY (?!--from)(.+)$", (REPO / "Dockerfile").read_text(), re.M)
    for sources in copied:
        for src in sources.split()[:-1]:
            stem = src.rstrip("/").replace("[d]", "d")
            assert any(stem == a.rstrip("/") or stem.startswith(a.rstrip("/") + "/")
                       for a in allowed), f"{src} is copied but .dockerignore excludes it"


# -- container tests ---------------------------------------------------------------------------


def stdout_mentions(result: ActionResult, value: str) -> list[tuple[int, str]]:
    return [(i, line) for i, line in enumerate(split_lines(result.stdout)) if value in line]


def assert_masked_first_and_never_printed(result: ActionResult, secrets: dict[str, str]) -> None:
    """Each secret: its ::add-mask:: line is the first stdout line that holds it, and no other
    line (stdout, stderr, summary) holds it at all (SPEC: a secret is never printed)."""
    for kind, value in secrets.items():
        mentions = stdout_mentions(result, value)
        assert mentions, f"{kind} was never masked"
        first_index, first_line = mentions[0]
        parsed = try_parse_v2(first_line)
        assert parsed is not None and parsed.name == "add-mask" and parsed.data == value, \
            f"the first stdout line holding the {kind} is not its ::add-mask:: (line {first_index})"
        others = [i for i, line in mentions[1:]
                  if not ((p := try_parse_v2(line)) and p.name == "add-mask")]
        assert not others, f"{kind} printed on stdout lines {others}"
        assert value not in result.stderr, f"{kind} printed on stderr"
        assert value not in result.summary, f"{kind} in the job summary"


def run_main(harness: ActionHarness, **inputs: str) -> ActionResult:
    given = {"aws-region": REGION, "role-to-assume": ROLE, **inputs}
    return harness.run_action(given)


def record_runs(timing_file: Path, label: str) -> list[dict[str, Any]]:
    runs = read_timings(timing_file)
    for run in runs:
        TIMINGS.add_run(f"{label} ({' '.join(run['step'])})", float(run["seconds"]))
    return runs


@pytest.mark.container
def test_main_step_in_the_image_exports_working_masked_credentials(
    container_harness: ActionHarness, oidc_issuer: OidcIssuer, sts: StsFaultProxy,
    timing_file: Path,
) -> None:
    result = run_main(container_harness)
    assert result.ok, result.explain()

    # The env file the container wrote, read on the host with the runner's parser.
    env = parse_env_file(result.paths.env_file)
    [token] = oidc_issuer.minted
    [call] = [c for c in sts.calls if c.action == "AssumeRoleWithWebIdentity"]
    assert call.web_identity_token == token
    creds = call.response
    assert {k: env[k] for k in CREDENTIAL_VARS} == {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == REGION
    assert all(env[k] for k in CREDENTIAL_VARS + REGION_VARS)

    # Masks: the JWT and the three STS values (and the request token) were masked first.
    assert_masked_first_and_never_printed(result, {
        "oidc-jwt": token,
        "access-key-id": creds["AccessKeyId"],
        "secret-access-key": creds["SecretAccessKey"],
        "session-token": creds["SessionToken"],
    })

    # The credentials work: a signed GetCallerIdentity through the local STS answers with the
    # assumed role.
    client = make_sts_client(sts.url, credentials=creds)
    identity = client.get_caller_identity()
    assert identity["Arn"] == creds["Arn"]
    assert identity["Arn"].startswith("arn:aws:sts::111122223333:assumed-role/gha-entry/")

    # The container saw the runner's layout (translated paths, the workspace as cwd).
    assert result.outputs["aws-account-id"] == "111122223333"
    [run] = record_runs(timing_file, "container run, main step")
    assert run["returncode"] == 0


@pytest.mark.container
def test_container_run_time_of_the_main_step(
    container_harness: ActionHarness, timing_file: Path
) -> None:
    """Five more main-step runs, for the timing figure (podman run wall time, printed at the
    end of the session); each still passes the leak check."""
    for _ in range(5):
        result = run_main(container_harness)
        assert result.ok, result.explain()
    runs = record_runs(timing_file, "container run, main step")
    assert len(runs) == 5


@pytest.mark.container
def test_post_step_in_the_image_blanks_the_variables(
    container_harness: ActionHarness, timing_file: Path
) -> None:
    main = run_main(container_harness)
    assert main.ok, main.explain()
    post = container_harness.run_action({"aws-region": REGION, "role-to-assume": ROLE},
                                        argv=("post",), env=main.post_env())
    assert post.ok, post.explain()
    env = parse_env_file(post.paths.env_file)
    for name in CREDENTIAL_VARS + REGION_VARS:
        assert env.get(name) == "", f"post step did not blank {name}: {env!r}"
    assert not post.errors
    runs = record_runs(timing_file, "container run")
    assert [r["step"] for r in runs] == [["main"], ["post"]]


@pytest.mark.container
def test_bad_input_fails_with_one_error_and_writes_nothing(
    container_harness: ActionHarness, oidc_issuer: OidcIssuer, sts: StsFaultProxy,
) -> None:
    result = run_main(container_harness, **{"aws-region": "not a region"})
    assert result.returncode == 1, result.explain()
    assert len(result.errors) == 1, result.explain()
    assert "aws-region" in result.errors[0]
    assert result.paths.env_file.read_bytes() == b""
    assert result.paths.output_file.read_bytes() == b""
    assert "Traceback" not in result.stdout + result.stderr
    # Validated before any network call.
    assert oidc_issuer.token_requests == []
    assert sts.calls == []


@pytest.mark.container
def test_a_run_writes_nothing_into_the_image(
    make_container_harness: Any, podman_env: PodmanEnv
) -> None:
    name = f"py-aws-oidc-diff-{uuid.uuid4().hex[:8]}"
    harness = make_container_harness("--keep", "--name", name)
    try:
        result = run_main(harness)
        assert result.ok, result.explain()
        diff = podman_env.run("diff", "--format", "json", name, capture_output=True).stdout
    finally:
        podman_env.run("rm", "--force", name, check=False, capture_output=True)
    changes = json.loads(diff or "{}")
    touched = [p for kind in ("changed", "added", "deleted") for p in changes.get(kind) or []]
    # Mount points and the files the engine injects are expected; nothing in the image itself.
    unexpected = [p for p in touched if p.startswith(("/opt", "/usr", "/var", "/root"))]
    assert not unexpected, f"the run wrote into the image: {unexpected}"


@pytest.mark.container
def test_image_config_size_and_contents(action_image: str, podman_env: PodmanEnv) -> None:
    info = json.loads(podman_env.run("image", "inspect", action_image,
                                     capture_output=True).stdout)[0]
    config = info["Config"]
    assert config.get("User", "") in ("", "root", "0")
    assert config["Entrypoint"] == ["/opt/venv/bin/py-aws-oidc"]
    assert not config.get("WorkingDir")
    assert "PYTHONDONTWRITEBYTECODE=1" in config["Env"]
    assert "PYTHONUNBUFFERED=1" in config["Env"]
    size = int(info["Size"])
    TIMINGS.notes.append(f"image size: {size / 1e6:.1f} MB uncompressed ({size} bytes)")
    assert size < SIZE_LIMIT, f"image is {size / 1e6:.1f} MB, budget {SIZE_LIMIT / 1e6:.0f} MB"

    probe = r"""
import importlib.util, json, os, pathlib, sys
site = pathlib.Path(sys.prefix, "lib", f"python{sys.version_info[0]}.{sys.version_info[1]}",
                    "site-packages")
data = site / "botocore" / "data"
print(json.dumps({
    "pip": importlib.util.find_spec("pip") is not None,
    "setuptools": importlib.util.find_spec("setuptools") is not None,
    "boto3": importlib.util.find_spec("boto3") is not None,
    "hcl2": importlib.util.find_spec("hcl2") is not None,
    "services": sorted(p.name for p in data.iterdir() if p.is_dir()),
    "post": os.access("/opt/venv/bin/py-aws-oidc-post", os.X_OK),
    "pyc": sum(1 for _ in site.rglob("*.pyc")),
    "py": sum(1 for _ in site.rglob("*.py")),
    "json": json.__file__,
    "requests": importlib.util.find_spec("requests").origin,
    "botocore": importlib.util.find_spec("botocore").origin,
    "stdlib_files": sorted(str(p.relative_to(os.path.dirname(os.__file__)))
                           for p in pathlib.Path(os.path.dirname(os.__file__)).rglob("*.pyc")),
}))
"""
    out = podman_env.run("run", "--rm", "--pull=never", "--network=none", "--entrypoint",
                         "/opt/venv/bin/python", action_image, "-c", probe,
                         capture_output=True).stdout
    facts = json.loads(out)
    assert not facts["hcl2"], "the Terraform parser (trust extra) is not in the action's image"
    assert facts["post"], "post-entrypoint is missing or not executable"
    assert not facts["pip"] and not facts["setuptools"], facts
    assert facts["services"] == ["signin", "sso", "sso-oidc", "sts"], facts["services"]
    # Compiled at build time, and kept as bytecode only (scripts/image_build.py sourceless).
    assert facts["pyc"] > 0 and facts["py"] == 0, "bytecode only, compiled at build time"
    # The stdlib's bytecode is one zip (image_build.py zip_stdlib); os.pyc, the landmark by which
    # Python finds its prefix, stays a file.
    assert facts["json"] == "/usr/lib/python311.zip/json/__init__.pyc", facts["json"]
    assert facts["stdlib_files"] == ["os.pyc"], facts["stdlib_files"]
    # The pure dependencies too (zip_packages); botocore reads its data/ directory: a file tree.
    assert facts["requests"].startswith(f"{SITE}/py-aws-oidc-deps.zip/"), facts["requests"]
    assert facts["botocore"] == f"{SITE}/botocore/__init__.pyc", facts["botocore"]


@pytest.mark.container
def test_image_compressed_size_and_file_count(
    action_image: str, podman_env: PodmanEnv, tmp_path: Path
) -> None:
    """What a pull costs: the layer as pushed (gzip) and the files it unpacks (docs/container.md)."""
    archive = tmp_path / "image.tar"
    podman_env.run("save", "--format", "docker-archive", "-o", str(archive), action_image,
                   capture_output=True)
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        [layer_name] = manifest[0]["Layers"]
        layer = outer.extractfile(layer_name)
        assert layer is not None
        data = layer.read()
    # gzip level 1: an upper bound of what a push uploads (podman push sent 13.3 MB gzip where
    # this gives 13.6 MB and `gzip -6` 12.6 MB; the release pushes zstd, 12.9 MB).
    pushed = len(gzip.compress(data, compresslevel=1, mtime=0))
    with tarfile.open(fileobj=io.BytesIO(data)) as inner:
        files = sum(1 for member in inner.getmembers() if member.isfile())
    TIMINGS.notes.append(f"image as pushed: {pushed / 1e6:.1f} MB gzip, {files} files")
    assert pushed < PUSHED_LIMIT, f"{pushed / 1e6:.1f} MB compressed, budget 14 MB"
    assert files < FILE_LIMIT, f"{files} files in the image, budget {FILE_LIMIT}"


@pytest.mark.container
def test_trust_doctor_in_the_image_lints_json_and_points_terraform_to_the_extra(
    action_image: str, podman_env: PodmanEnv, tmp_path: Path
) -> None:
    """The image has no Terraform parser (the `trust` extra): JSON policies lint in the image,
    a .tf file is one line, exit 2, naming `pip install 'py-aws-oidc[trust]'`."""
    def trust(*args: str) -> Any:
        return podman_env.run("run", "--rm", "--pull=never", "--network=none", "-v",
                              f"{tmp_path}:/w:ro", action_image, "trust", *args,
                              capture_output=True, check=False)

    gen = trust("generate", "--repo", "octo-org/octo-repo", "--branch", "main")
    assert gen.returncode == 0, gen.stderr
    (tmp_path / "policy.json").write_text(gen.stdout)
    lint = trust("lint", "/w/policy.json")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    gen_tf = trust("generate", "--repo", "octo-org/octo-repo", "--branch", "main",
                   "--format", "terraform")
    assert gen_tf.returncode == 0, gen_tf.stderr
    (tmp_path / "main.tf").write_text(gen_tf.stdout)
    tf = trust("lint", "/w/main.tf")
    assert tf.returncode == 2, tf.stdout + tf.stderr
    lines = tf.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'py-aws-oidc[trust]'" in lines[0], tf.stderr
    assert "Traceback" not in tf.stdout + tf.stderr


@pytest.mark.container
def test_entrypoints_run_python_isolated_from_the_job_environment(
    action_image: str, podman_env: PodmanEnv, tmp_path: Path
) -> None:
    """The runner passes the job's variables (GITHUB_ENV included) into the container: an
    earlier step's PYTHONPATH (a sitecustomize, a package shadowing ours), PYTHONSTARTUP or a
    user site-packages under HOME must load nothing into either entrypoint."""
    payload = "import sys; sys.stdout.write('HIJACKED\\n'); sys.stdout.flush()\n"
    evil = tmp_path / "evil"
    (evil / "py_aws_oidc").mkdir(parents=True)
    (evil / "sitecustomize.py").write_text(payload)
    (evil / "py_aws_oidc" / "__init__.py").write_text(payload + "raise SystemExit(0)\n")
    user_site = tmp_path / "home" / ".local" / "lib" / "python3.11" / "site-packages"
    user_site.mkdir(parents=True)
    (user_site / "usercustomize.py").write_text(payload)
    env = ["-e", "PYTHONPATH=/w/evil", "-e", "PYTHONSTARTUP=/w/evil/sitecustomize.py",
           "-e", "HOME=/w/home", "-e", "PYTHONUSERBASE=/w/home/.local",
           "-e", "AWS_SKIP_CLEANUP_STEP=true"]
    # (step, podman options, arguments after the image, what the real entrypoint prints)
    steps = [
        ("main", [], ["--version"], "py-aws-oidc "),
        ("post", ["--entrypoint", "/opt/venv/bin/py-aws-oidc-post"], [], "AWS_SKIP_CLEANUP_STEP"),
    ]
    for step, options, args, expected in steps:
        proc = podman_env.run("run", "--rm", "--pull=never", "--network=none", "-v",
                              f"{tmp_path}:/w:ro", *env, *options, action_image, *args,
                              capture_output=True, check=False)
        output = proc.stdout + proc.stderr
        assert "HIJACKED" not in output, f"{step}: {output}"
        assert proc.returncode == 0 and expected in proc.stdout, f"{step}: {output}"
