"""``python -m localdev.demo``: the action end to end on this machine, no AWS account needed.

It starts two local stand-ins, one for GitHub's OIDC issuer and one for AWS STS (moto_server
behind the STS-validation layer, which verifies each token's RS256 signature, expiry and audience
against the issuer's JWKS), runs ``py-aws-oidc`` the way the GitHub runner runs a step (``INPUT_*``
variables, temporary ``GITHUB_ENV`` / ``GITHUB_OUTPUT`` / ``GITHUB_STEP_SUMMARY`` files), shows the
step's log as the runner would show it, then what a later step receives, and makes the call a later
step's SDK would make with those credentials (a signed ``GetCallerIdentity``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from localdev.runner_files import Command, parse_commands, read_file_commands, split_lines

from .moto_sts import MotoServer
from .oidc_issuer import OidcIssuer
from .runner_step import console_script, make_runner_paths, step_environment
from .sts_faults import StsFaultProxy

ROLE = "arn:aws:iam::123456789012:role/github-deploy"

# --help: plain text (the module docstring is for readers of the source).
DESCRIPTION = """\
Run the py-aws-oidc action end to end on this machine, as the GitHub runner runs a step.
Nothing leaves the machine and no AWS account is needed: GitHub's OIDC issuer and AWS STS are
local stand-ins (STS is moto_server behind a layer that checks each token's signature, expiry
and audience). The demo shows the step's log as the runner shows it, what a later step of the
job receives (the exported variables, the step's outputs, the job summary), and a later step's
call with those credentials: a SigV4-signed STS GetCallerIdentity made by botocore.
"""

EXAMPLES = """\
examples:
  python -m localdev.demo
  python -m localdev.demo role-duration-seconds=2h
  python -m localdev.demo --role $'arn:aws:iam::123456789012:role/a\\narn:aws:iam::123456789012:role/b'
  python -m localdev.demo aws-region=nowhere-1      (an input error: nothing is exported)
"""

# How the runner shows a workflow command in the log (others, e.g. add-mask, are not shown).
_SHOWN_AS = {"error": "Error: ", "warning": "Warning: ", "notice": "Notice: ", "group": "> "}


def _shown(value: str, secrets: set[str]) -> str:
    if value in secrets:
        return f"*** ({len(value)} characters; a secret, masked in the log)"
    return value


def _masked(line: str, secrets: set[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        line = line.replace(secret, "***")
    return line


def print_log(stdout: str) -> set[str]:
    """The step's stdout as the runner's log shows it: workflow commands are acted on, not
    printed (annotations appear as "Error: ..."), and registered secrets print as ***.
    Returns the masked values."""
    commands: dict[int, Command] = {c.line_no: c for c in parse_commands(stdout)}
    masks = [c.data for c in commands.values() if c.key == "add-mask"]
    secrets = {mask for mask in masks if mask.strip()}
    for number, line in enumerate(split_lines(stdout)):
        command = commands.get(number)
        if command is None:
            print(_masked(line, secrets))
        elif command.key in _SHOWN_AS:
            print(_SHOWN_AS[command.key] + _masked(command.data, secrets))
    print(
        f"({len(masks)} ::add-mask:: lines registered the secrets before any use; the runner acts "
        "on such lines and does not show them)"
    )
    return secrets


def print_intro(issuer: OidcIssuer, sts: StsFaultProxy, given: dict[str, str]) -> None:
    print("py-aws-oidc demo: the action's step run on this machine as the GitHub runner runs it.")
    print(f"  GitHub's OIDC issuer: a local stand-in at {issuer.url} (RS256 tokens, GitHub's claims)")
    print(f"  AWS STS:              a local stand-in at {sts.url} (moto, checks every token)")
    print("  No AWS account and no GitHub: nothing leaves this machine.")
    print("By default a later step of the job receives AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,")
    print("AWS_SESSION_TOKEN, AWS_REGION and AWS_DEFAULT_REGION (secrets masked in the log),")
    print("plus the step's outputs and its job summary.\n")
    print("== the step's inputs")
    for name, value in given.items():
        print(f"{name}: {value}")
    print("(sts-endpoint points the action at the local STS; without it, it calls AWS)")


def print_results(
    env_file: Path, output_file: Path, summary: Path, secrets: set[str]
) -> dict[str, str]:
    exported = dict(read_file_commands(env_file))
    print("\n== what a later step receives (GITHUB_ENV, parsed as the runner parses it)")
    for name, value in exported.items():
        print(f"{name}={_shown(value, secrets)}")
    print("\n== the step's outputs (GITHUB_OUTPUT)")
    for name, value in read_file_commands(output_file):
        print(f"{name}={_shown(value, secrets)}")
    print("\n== the job summary (GITHUB_STEP_SUMMARY)")
    print(summary.read_text().rstrip())
    return exported


def later_step_call(exported: dict[str, str], sts: StsFaultProxy) -> bool:
    """What a later step's SDK does with the exported credentials: botocore's STS client makes a
    signed GetCallerIdentity (as `aws sts get-caller-identity` would)."""
    print("\n== a later step's botocore: GetCallerIdentity with the exported credentials")
    if not exported.get("AWS_ACCESS_KEY_ID"):
        print("No credential variables were exported: with aws-profile, profiles or "
              "refresh-credentials a later step uses the profile (AWS_PROFILE or --profile).")
        return True
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
    with_exported = bool(
        call.signed
        and call.access_key_id == exported["AWS_ACCESS_KEY_ID"]
        and call.session_token_header
    )
    print(
        f"STS saw GetCallerIdentity ({call.status}), SigV4-signed with the exported key and "
        f"session token: {'yes' if with_exported else 'NO'}"
    )
    return with_exported


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
        print_intro(issuer, sts, given)
        print("\n== the step's log, as the runner shows it")
        step = subprocess.run(
            console_script(),
            env=env,
            cwd=paths.workspace,
            capture_output=True,
            text=True,
            check=False,
        )
        secrets = print_log(step.stdout)
        if step.stderr.strip():
            print(step.stderr.rstrip(), file=sys.stderr)
        seen = ", ".join(f"{c.action} ({c.status})" for c in sts.calls) or "no request"
        print(f"\n== exit status {step.returncode}; STS saw: {seen}")
        if step.returncode != 0:
            print("The step failed: it exported nothing, so a later step receives no credentials.")
            return step.returncode
        exported = print_results(paths.env_file, paths.output_file, paths.summary_file, secrets)
        return 0 if later_step_call(exported, sts) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m localdev.demo",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--role", default=ROLE, help=f"role-to-assume (default {ROLE})")
    parser.add_argument(
        "inputs",
        nargs="*",
        metavar="NAME=VALUE",
        help="more inputs of the action, e.g. role-duration-seconds=2h",
    )
    args = parser.parse_args(argv)
    return run_demo(args.role, args.inputs)


if __name__ == "__main__":
    raise SystemExit(main())
