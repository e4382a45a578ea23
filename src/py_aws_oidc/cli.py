"""``py-aws-oidc``: the action's main step, its post step, and the trust-policy doctor.

The action and the CLI share one code path: the container's entrypoint is this console script.
"""

from __future__ import annotations

import os
import sys

from . import __version__

USAGE = """\
usage: py-aws-oidc [post | trust ... | --help | --version]

  py-aws-oidc            Run the action's main step. Reads the inputs as the GitHub runner
                         provides them (INPUT_AWS-REGION, INPUT_ROLE-TO-ASSUME, ...), requests
                         the job's OIDC token, calls STS and writes GITHUB_ENV / GITHUB_OUTPUT.
  py-aws-oidc post       Run the post step: blank the exported AWS_* variables
                         (skipped when AWS_SKIP_CLEANUP_STEP=true).
  py-aws-oidc trust generate|lint|check ...
                         The trust-policy doctor: generate, lint and check IAM trust policies
                         for GitHub OIDC ('py-aws-oidc trust --help').

Exit status: 0 on success, 1 on a failure (one ::error:: line says what and how to fix it),
2 on a usage error.
"""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        from .action import run_main

        return run_main(os.environ)
    command = args[0]
    if command == "post" and len(args) == 1:
        from .action import run_post

        return run_post(os.environ)
    if command == "trust":
        from .trust.cli import main as trust_main

        return trust_main(args[1:])
    if command in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0
    if command in ("-V", "--version"):
        sys.stdout.write(f"py-aws-oidc {__version__}\n")
        return 0
    sys.stderr.write(USAGE)
    sys.stderr.write(f"\npy-aws-oidc: unknown command {args!r}\n")
    return 2


def post_main() -> int:
    """The post-entrypoint (the runner passes it no arguments)."""
    from .action import run_post

    return run_post(os.environ)


def console_main() -> None:  # pragma: no cover - thin wrapper
    sys.exit(main())
