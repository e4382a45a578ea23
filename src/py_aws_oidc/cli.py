"""``py-aws-oidc``: the action's main step, its post step, and the trust-policy doctor.

The action and the CLI share one code path: the container's entrypoint is this console script.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterable
from typing import NoReturn

from . import __version__

USAGE = """\
usage: py-aws-oidc [post | trust ... | --help | --version]

  py-aws-oidc            Run the action's main step. Reads the inputs as the GitHub runner
                         provides them (INPUT_AWS-REGION, INPUT_ROLE-TO-ASSUME, ...), requests
                         the job's OIDC token, calls STS and writes GITHUB_ENV / GITHUB_OUTPUT.
  py-aws-oidc post       Run the post step: blank the exported AWS_* variables
                         (skipped when AWS_SKIP_CLEANUP_STEP=true).
  py-aws-oidc trust generate|lint|check|audit ...
                         The trust-policy doctor: generate, lint and check IAM trust policies
                         for GitHub OIDC, and audit a live account's roles
                         ('py-aws-oidc trust --help').

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
    from .runner import neutralise_line  # the runner reads stderr for commands too

    sys.stderr.write(f"\npy-aws-oidc: {neutralise_line(_usage_error(args))}\n")
    return 2


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'X'?"`` for the candidate closest to a misspelled ``word``, else ``""``."""
    import difflib

    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""


def _usage_error(args: list[str]) -> str:
    """One line for a command line ``main`` does not take (never a Python list)."""
    word = args[0]
    if word == "post":
        return f"'post' takes no arguments (got {' '.join(repr(a) for a in args[1:])})"
    if word in ("-h", "--help", "help", "-V", "--version"):
        return f"{word!r} takes no arguments"
    if word.startswith("-"):
        return f"unknown option {word!r}{did_you_mean(word, ('--help', '--version'))}"
    return f"unknown command {word!r}{did_you_mean(word, ('post', 'trust', 'help'))}"


def post_main() -> int:
    """The post-entrypoint (the runner passes it no arguments)."""
    from .action import run_post

    return run_post(os.environ)


def _run_and_exit(entry: Callable[[], int]) -> NoReturn:
    """Run one step as a short-lived process (each measured in bench/, together about -30%):

    * the cyclic garbage collector is off: nothing here builds cycles worth collecting, and
      collections while botocore's modules load (the signed and existing-credential paths)
      cost up to ~35 ms;
    * once stdout and stderr are flushed the process ends with ``os._exit``, skipping the
      interpreter's teardown of every module and object (60-100 ms). Every file the action
      writes is closed by then (``with`` blocks) and no thread is left but daemons.
    """
    gc.disable()
    code = entry()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def console_main() -> NoReturn:
    """``py-aws-oidc`` (the container's entrypoint)."""
    _run_and_exit(main)


def post_console_main() -> NoReturn:
    """``py-aws-oidc-post`` (the post-entrypoint)."""
    _run_and_exit(post_main)
