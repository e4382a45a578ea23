"""``python -m localdev.demo``: the action end to end on this machine, no AWS account needed.

It starts the local GitHub-like OIDC issuer and moto_server as STS (behind the STS-validation
layer, which verifies each token's RS256 signature, expiry and audience against the issuer's
JWKS), runs ``py-aws-oidc`` the way the GitHub runner runs a container action (``INPUT_*``
variables, temporary ``GITHUB_ENV`` / ``GITHUB_OUTPUT`` / ``GITHUB_STEP_SUMMARY`` files), prints
the step's log, then shows what the next step receives and uses those credentials for a signed
``GetCallerIdentity``, as ``aws sts get-caller-identity`` would in a later ``run:`` step.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from localdev.runner_files import parse_commands, read_file_commands

from .moto_sts import MotoServer
from .oidc_issuer import OidcIssuer
from .runner_context import RUNNER_CONTEXT
from .sts_faults import StsFaultProxy

ROLE = "arn:aws:iam::123456789012:role/github-deploy"


def _action_command() -> list[str]:
    script = Path(sys.executable).with_name("py-aws-oidc")
    if script.exists():
        return [str(script)]
    found = shutil.which("py-aws-oidc")
    return [found] if found else [sys.executable, "-m", "py_aws_oidc"]


def _shown(name: str, value: str, secrets: set[str]) -> str:
    if value in secrets:
        return f"*** ({len(value)} characters; a secret, masked in the log)"
    return value


def run_demo(role: str, extra_inputs: Sequence[str]) -> int:
    with (
        MotoServer() as moto,
        OidcIssuer() as issuer,
        StsFaultProxy(moto.url, verify_tokens=issuer) as sts,
        tempfile.TemporaryDirectory(prefix="py-aws-oidc-demo-") as tmp,
    ):
        files = {n: Path(tmp, n) for n in ("set_env", "set_output", "save_state", "summary.md")}
        for path in files.values():
            path.touch()
        workspace = Path(tmp, "workspace")
        workspace.mkdir()
        env = {
            **RUNNER_CONTEXT,
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(Path(tmp)),
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_ENV": str(files["set_env"]),
            "GITHUB_OUTPUT": str(files["set_output"]),
            "GITHUB_STATE": str(files["save_state"]),
            "GITHUB_STEP_SUMMARY": str(files["summary.md"]),
            "AWS_EC2_METADATA_DISABLED": "true",
            "ACTIONS_ID_TOKEN_REQUEST_URL": issuer.token_url,
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": issuer.request_token,
            "INPUT_AWS-REGION": "us-east-1",
            "INPUT_ROLE-TO-ASSUME": role,
            "INPUT_STS-ENDPOINT": sts.url,
        }
        for item in extra_inputs:
            name, _, value = item.partition("=")
            env["INPUT_" + name.upper()] = value
        print("== the step's log (what the runner would show; ::add-mask:: lines are hidden there)")
        step = subprocess.run(
            _action_command(), env=env, cwd=workspace, capture_output=True, text=True, check=False
        )
        masks = {c.data for c in parse_commands(step.stdout) if c.name == "add-mask"}
        for line in step.stdout.splitlines():
            if line.startswith("::add-mask::"):
                print("::add-mask::***")
            else:
                print(line)
        if step.stderr.strip():
            print(step.stderr.rstrip(), file=sys.stderr)
        print(
            f"\n== exit status {step.returncode}; STS saw: "
            + ", ".join(f"{c.action} ({c.status})" for c in sts.calls)
        )
        if step.returncode != 0:
            return step.returncode

        exported = dict(read_file_commands(files["set_env"]))
        print("\n== what the next step receives (GITHUB_ENV, parsed as the runner parses it)")
        for name, value in exported.items():
            print(f"{name}={_shown(name, value, masks)}")
        print("\n== step outputs (GITHUB_OUTPUT)")
        for name, value in read_file_commands(files["set_output"]):
            print(f"{name}={_shown(name, value, masks)}")
        print("\n== job summary (GITHUB_STEP_SUMMARY)")
        print(files["summary.md"].read_text().rstrip())

        print("\n== a later step: `aws sts get-caller-identity` with those credentials")
        import boto3

        client = boto3.client(
            "sts",
            region_name=exported["AWS_REGION"],
            endpoint_url=sts.url,
            aws_access_key_id=exported["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=exported["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=exported["AWS_SESSION_TOKEN"],
        )
        identity = client.get_caller_identity()
        print(f"Account: {identity['Account']}\nArn:     {identity['Arn']}")
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.demo", description=__doc__)
    parser.add_argument("--role", default=ROLE, help=f"role-to-assume (default {ROLE})")
    parser.add_argument(
        "inputs",
        nargs="*",
        metavar="NAME=VALUE",
        help="more inputs, e.g. role-duration-seconds=2h (a chain: --role $'arn1\\narn2')",
    )
    args = parser.parse_args(argv)
    return run_demo(args.role, args.inputs)


if __name__ == "__main__":
    raise SystemExit(main())
