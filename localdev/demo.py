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
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from localdev.runner_files import parse_commands, read_file_commands

from .moto_sts import MotoServer
from .oidc_issuer import OidcIssuer
from .runner_step import console_script, make_runner_paths, step_environment
from .sts_faults import StsFaultProxy

ROLE = "arn:aws:iam::123456789012:role/github-deploy"


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
        paths = make_runner_paths(Path(tmp))
        given = {"aws-region": "us-east-1", "role-to-assume": role, "sts-endpoint": sts.url}
        for item in extra_inputs:
            name, _, value = item.partition("=")
            given[name] = value
        env = step_environment(
            paths,
            given,
            oidc=(issuer.token_url, issuer.request_token),
            search_path=os.environ.get("PATH", "/usr/bin:/bin"),
        )
        print("== the step's log (what the runner would show; ::add-mask:: lines are hidden there)")
        step = subprocess.run(
            console_script(),
            env=env,
            cwd=paths.workspace,
            capture_output=True,
            text=True,
            check=False,
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

        exported = dict(read_file_commands(paths.env_file))
        print("\n== what the next step receives (GITHUB_ENV, parsed as the runner parses it)")
        for name, value in exported.items():
            print(f"{name}={_shown(name, value, masks)}")
        print("\n== step outputs (GITHUB_OUTPUT)")
        for name, value in read_file_commands(paths.output_file):
            print(f"{name}={_shown(name, value, masks)}")
        print("\n== job summary (GITHUB_STEP_SUMMARY)")
        print(paths.summary_file.read_text().rstrip())

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
        [call] = [c for c in sts.calls if c.action == "GetCallerIdentity"]
        with_exported = (
            call.signed
            and call.access_key_id == exported["AWS_ACCESS_KEY_ID"]
            and call.session_token_header
        )
        print(
            f"STS saw GetCallerIdentity ({call.status}), SigV4-signed with the exported key and "
            f"session token: {'yes' if with_exported else 'NO'}"
        )
        return 0 if with_exported else 1


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
