"""``py-aws-oidc trust generate | lint | check``: the command line of the trust-policy doctor.

``main(argv)`` returns the exit status and never raises for user errors (no traceback): a bad
file, a malformed policy or unreadable claims print one ``error:`` line on stderr and return 2.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import TYPE_CHECKING, Any, TextIO

from ..runner import neutralise_line
from .errors import NoTrustPolicyError, TerraformInputError, TrustError

if TYPE_CHECKING:
    from .terraform import TfInputs

_LINE_END = re.compile(r"(\r\n|\r|\n)")


def log_safe(text: str, *, machine: bool = False) -> str:
    """``text`` made safe for a runner's log: this CLI often runs in a ``run:`` step, where the
    runner reads its stdout and stderr for workflow commands, and what it prints quotes policy
    files, token claims and arguments. Plain text is neutralised line by line like every line the
    action prints (``runner.neutralise_line``). JSON and Terraform output may be redirected to
    a file and must stay valid, so there a ``[`` after ``##`` is written ``\\u005b``: the same
    string to a JSON or HCL parser, and no longer the runner's legacy ``##[`` prefix (neither
    format can start a line with ``::``)."""
    if machine:
        return text.replace("##[", "##\\u005b")
    parts = _LINE_END.split(text)
    return "".join(p if i % 2 else neutralise_line(p) for i, p in enumerate(parts))


PROG = "py-aws-oidc trust"

_DESCRIPTION = """\
The trust-policy doctor: the AWS side of GitHub OIDC (the IAM OIDC provider and the role's
trust policy), generated, linted and checked offline with IAM's evaluation rules.
'PY-AWS-OIDC trust COMMAND --help' shows a command's options.
""".replace("PY-AWS-OIDC trust", PROG)

_EPILOG = "Exit status 2: a malformed policy, an unreadable file, unusable claims, a usage error or an AWS error."

_GENERATE_EPILOG = """\
Subjects: --branch NAME is exact (refs/heads/NAME, StringEquals); --tag takes a name or a
pattern after refs/tags/ (StringLike only when it holds * or ?); --environment NAME and
--pull-request add their subjects. With none of them, branch 'main' only (said on stderr).
--job-workflow-ref is AND-ed through the token.actions.githubusercontent.com:job_workflow_ref key.

--chained-from ROLE_ARN (instead of --repo): the trust policy of a role assumed as a later hop of
a chain (role-chaining): the previous role as principal, sts:AssumeRole and sts:TagSession (session
tags ride on chained hops), plus sts:SetSourceIdentity with --source-identity.

examples:
  py-aws-oidc trust generate --repo octo-org/octo-repo --environment production
  py-aws-oidc trust generate --chained-from arn:aws:iam::111122223333:role/deploy --format terraform
"""

_LINT_EPILOG = """\
FILE: a JSON trust policy, or a .tf file (data "aws_iam_policy_document" blocks with principals,
aws_iam_role assume_role_policy as a JSON string, heredoc, jsonencode({...}) or file(...)).
Several FILEs are linted together. --format sarif prints SARIF 2.1.0 for code scanning.
--skip-non-policies (the pre-commit hook): a .json file without a statement that has a Principal,
or a .tf file without a trust policy, is skipped with a note instead of exit 2.
Exit status: 1 when any finding is high or critical, 0 otherwise, 2 when a FILE is malformed or
unreadable (the other FILEs are still linted).
"""

_CHECK_EPILOG = """\
The request is sts:AssumeRoleWithWebIdentity from a GitHub OIDC provider (any account and
partition, unless --provider-arn), with the condition keys <issuer>:<claim> AWS evaluates.
--claims takes a JSON object of claims (what the action prints on AccessDenied). A token is
decoded without verifying its signature and is never printed.
Exit status: 0 allow, 1 deny, 2 malformed policy or unusable claims.
"""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Lists the commands under "commands:" without argparse's extra ``COMMAND`` line."""

    def _format_action(self, action: argparse.Action) -> str:
        text = super()._format_action(action)
        if isinstance(action, argparse._SubParsersAction):
            return text.split("\n", 1)[1]
        return text


_AUDIT_EPILOG = """\
Reads the account with the caller's AWS credentials (the SDK chain: --profile, AWS_PROFILE, the
environment, SSO, container or instance credentials) and needs only iam:ListRoles,
iam:ListOpenIDConnectProviders and iam:GetOpenIDConnectProvider. Lists the OIDC providers and
every role whose trust policy names a GitHub provider (github.com, enterprise issuers
token.actions.githubusercontent.com/<slug>, GHES HOST/_services/token), lints each with the rules
of `trust lint`, and says who can assume it. --format sarif for code scanning, markdown for a job
summary (it names roles: keep it out of a public summary).
Exit status: 1 when a finding is at least as severe as --fail-on (default high; never: 0),
0 otherwise, 2 on an AWS error (one line: the call and the permission it needs).
"""


class _LogSafeParser(argparse.ArgumentParser):
    """argparse quotes arguments in its errors ("invalid choice: '...'"); they reach the
    runner's log like everything else this CLI prints. Subparsers inherit the class."""

    def _print_message(self, message: str, file: Any = None) -> None:
        super()._print_message(log_safe(message), file)


def _add_format(parser: argparse.ArgumentParser, choices: tuple[str, ...], default: str) -> None:
    """``--format`` of a command: its help shows the choices (the metavar) and the default."""
    parser.add_argument(
        "--format", choices=choices, default=default, help="output format (default: %(default)s)"
    )


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The subcommands' parsers, by name."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _unknown_option(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """The first ``--option`` in ``argv`` that ``parser`` does not take (nor abbreviates)."""
    options = [name for action in parser._actions for name in action.option_strings]
    for arg in argv:
        if arg == "--":
            break
        name = arg.split("=", 1)[0]
        if name.startswith("--") and not any(option.startswith(name) for option in options):
            return name
    return None


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """``parse_args``, with errors that name the closest valid command or option, printed with
    the usage of the (sub)command the mistake belongs to (argparse reports an unknown option of
    a subcommand with the parent's usage, or a missing argument first). Raises SystemExit (2)
    like argparse."""
    from ..cli import did_you_mean

    commands = _commands(parser)
    if argv and not argv[0].startswith("-") and argv[0] not in commands:
        parser.error(f"unknown command {argv[0]!r}{did_you_mean(argv[0], commands)}")
    owner = commands.get(argv[0], parser) if argv else parser
    unknown = _unknown_option(owner, argv[1:] if owner is not parser else argv)
    if unknown is not None:
        options = [name for action in owner._actions for name in action.option_strings]
        owner.error(f"unrecognized argument {unknown!r}{did_you_mean(unknown, options)}")
    args, extras = parser.parse_known_args(argv)
    if extras:
        owner.error(f"unrecognized arguments: {' '.join(repr(e) for e in extras)}")
    return args


def build_parser() -> argparse.ArgumentParser:
    parser = _LogSafeParser(
        prog=PROG,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=_HelpFormatter,
    )
    # The commands are listed once, by argparse, with their help (not also in the description).
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    gen = sub.add_parser(
        "generate",
        help="print a least-privilege trust policy (JSON) or Terraform",
        description="Print a least-privilege trust policy for GitHub OIDC.",
        epilog=_GENERATE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    first_hop = gen.add_mutually_exclusive_group(required=True)
    first_hop.add_argument("--repo", metavar="OWNER/REPO", help="the repository whose jobs assume")
    first_hop.add_argument(
        "--chained-from",
        metavar="ROLE_ARN",
        help="a later hop of a role chain: trust this role (the previous hop) instead of GitHub",
    )
    gen.add_argument(
        "--branch",
        action="append",
        default=[],
        metavar="NAME",
        help="allow this branch (exact; repeatable)",
    )
    gen.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="PATTERN",
        help="allow tags with this name or pattern, e.g. v* (repeatable)",
    )
    gen.add_argument(
        "--environment",
        action="append",
        default=[],
        metavar="NAME",
        help="allow jobs in this GitHub environment (repeatable)",
    )
    gen.add_argument(
        "--pull-request",
        action="store_true",
        help="allow pull_request workflows (sub repo:O/R:pull_request)",
    )
    gen.add_argument(
        "--job-workflow-ref",
        action="append",
        default=[],
        metavar="OWNER/REPO/.github/workflows/F.yml@REF",
        help="also require this reusable workflow (AND; repeatable = any of them)",
    )
    gen.add_argument(
        "--immutable-ids",
        metavar="OWNER_ID/REPO_ID",
        help="write immutable subjects repo:OWNER@OWNER_ID/REPO@REPO_ID:...",
    )
    gen.add_argument(
        "--account",
        metavar="ID",
        help="12-digit account of the OIDC provider (default: a placeholder)",
    )
    gen.add_argument("--partition", choices=("aws", "aws-cn", "aws-us-gov"), help="default: aws")
    gen.add_argument("--role-name", metavar="NAME", help="role name in the Terraform output")
    gen.add_argument(
        "--source-identity",
        action="store_true",
        help="with --chained-from: also allow sts:SetSourceIdentity (role-source-identity)",
    )
    _add_format(gen, ("json", "terraform"), "json")

    lint = sub.add_parser(
        "lint",
        help="grade a trust policy or Terraform file (exit 1 on high/critical)",
        description="Lint a trust policy (JSON) or a Terraform file for GitHub OIDC mistakes.",
        epilog=_LINT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lint.add_argument("files", metavar="FILE", nargs="+")
    _add_format(lint, ("text", "json", "sarif"), "text")
    lint.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a Terraform variable's value (as terraform plan -var; [..] / {..} are HCL)",
    )
    lint.add_argument(
        "--var-file",
        action="append",
        default=[],
        metavar="FILE",
        help="a .tfvars (or .tfvars.json) file of Terraform variable values",
    )
    lint.add_argument(
        "--skip-non-policies",
        action="store_true",
        help="skip files that hold no trust policy instead of exit 2 (for pre-commit hooks)",
    )

    check = sub.add_parser(
        "check",
        help="evaluate a trust policy against a token's claims (exit 0 allow, 1 deny)",
        description="Evaluate a trust policy against a token's claims, offline, with IAM's rules.",
        epilog=_CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("file", metavar="FILE")
    source = check.add_mutually_exclusive_group(required=True)
    source.add_argument("--claims", metavar="CLAIMS.json", help="a JSON object of claims")
    source.add_argument("--token", metavar="JWT", help="a token (decoded, never printed)")
    source.add_argument("--token-file", metavar="PATH", help="a file holding a token")
    source.add_argument(
        "--from-env",
        action="store_true",
        help="request this job's token (needs permissions: id-token: write)",
    )
    check.add_argument(
        "--audience",
        default="sts.amazonaws.com",
        help="audience for --from-env (default sts.amazonaws.com)",
    )
    check.add_argument(
        "--provider-arn",
        metavar="ARN",
        help="the caller's provider ARN (default: GitHub's, any account)",
    )
    _add_format(check, ("text", "json"), "text")

    audit = sub.add_parser(
        "audit",
        help="every role of an AWS account that GitHub workflows can assume (read-only IAM)",
        description="Audit a live AWS account: who can assume each role that trusts GitHub OIDC.",
        epilog=_AUDIT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    audit.add_argument("--profile", metavar="NAME", help="AWS profile (default: the SDK chain)")
    audit.add_argument("--region", metavar="R", help="region, for the partition's IAM endpoint")
    audit.add_argument("--endpoint-url", metavar="URL", help="IAM endpoint (e.g. a local one)")
    audit.add_argument(
        "--role-name-prefix", metavar="P", default="", help="audit only roles whose name starts P"
    )
    _add_format(audit, ("text", "json", "sarif", "markdown"), "text")
    audit.add_argument(
        "--fail-on",
        choices=("critical", "high", "medium", "low", "never"),
        default="high",
        help="exit 1 on a finding this severe or worse (default high)",
    )
    return parser


def _generate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .generate import GenerateOptions, generate

    result = generate(
        GenerateOptions(
            repo=args.repo,
            branches=args.branch,
            tags=args.tag,
            environments=args.environment,
            pull_request=args.pull_request,
            job_workflow_refs=args.job_workflow_ref,
            immutable_ids=args.immutable_ids,
            account=args.account,
            partition=args.partition,
            role_name=args.role_name,
            chained_from=args.chained_from,
            source_identity=args.source_identity,
        )
    )
    notes = list(result.notes)
    if args.format == "json":
        if result.account_note:
            notes.append(result.account_note)
        out.write(log_safe(result.to_json(), machine=True))
    else:
        out.write(log_safe(result.to_terraform(), machine=True))
    for note in notes:
        err.write(log_safe(f"note: {note}\n"))
    return 0


def _tf_inputs(args: argparse.Namespace) -> TfInputs | None:
    """--var / --var-file, checked before any file is read (None: none given, and the
    Terraform reader is not imported for JSON policies)."""
    if not args.var and not args.var_file:
        return None
    from .terraform import TfInputs

    pairs = []
    for item in args.var:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise TerraformInputError(
                f"--var {item!r}: give NAME=VALUE (e.g. --var 'subjects=[\"o/r\"]')"
            )
        pairs.append((name.strip(), value))
    return TfInputs(var_files=tuple(args.var_file), variables=tuple(pairs))


def _lint(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .files import holds_trust_policy, lint_loaded, read_policy_file
    from .lint import exit_code, render_json, render_text
    from .sarif import LintedFile, render_sarif

    inputs = _tf_inputs(args)
    linted: list[LintedFile] = []
    for path in args.files:
        try:
            if args.skip_non_policies and not holds_trust_policy(path):
                err.write(log_safe(f"note: {path}: skipped, it holds no trust policy\n"))
                continue
            policy_file = read_policy_file(path, inputs)
        except NoTrustPolicyError as exc:
            if args.skip_non_policies:
                err.write(log_safe(f"note: {path}: skipped, it holds no trust policy\n"))
                continue
            linted.append(LintedFile(path, None, error=exc.message))
        except TrustError as exc:
            linted.append(LintedFile(path, None, error=exc.message))
        else:
            found = tuple(
                finding for loaded in policy_file.policies for finding in lint_loaded(loaded)
            )
            linted.append(LintedFile(path, policy_file, found))
    errors = [item.error for item in linted if item.error is not None]
    findings = [finding for item in linted for finding in item.findings]
    if args.format == "sarif":
        out.write(log_safe(render_sarif(linted), machine=True))
    elif linted and len(errors) < len(linted):
        read = [item.policy_file for item in linted if item.policy_file is not None]
        sources = [loaded.policy.source for pf in read for loaded in pf.policies]
        skipped = [note for pf in read for note in pf.skipped]
        render = render_json if args.format == "json" else render_text
        out.write(log_safe(render(findings, sources, skipped), machine=args.format == "json"))
    for error in errors:
        err.write(log_safe(f"error: {error}\n"))
    return 2 if errors else exit_code(findings)


def _claims(args: argparse.Namespace, out: TextIO) -> dict[str, object]:
    from . import claims

    if args.claims is not None:
        return claims.load_claims_file(args.claims)
    if args.token is not None:
        return claims.decode_token(args.token)
    if args.token_file is not None:
        return claims.load_token_file(args.token_file)
    return claims.claims_from_env(args.audience, stream=out)


def _check(args: argparse.Namespace, out: TextIO) -> int:
    from .check import check_policies, exit_code, render_json, render_text
    from .files import read_policy_file

    policy_file = read_policy_file(args.file)  # a malformed policy is exit 2 before any fetch
    claims = _claims(args, out)
    results = check_policies(policy_file, claims, provider_arn=args.provider_arn)
    render = render_json if args.format == "json" else render_text
    out.write(log_safe(render(results, claims), machine=args.format == "json"))
    return exit_code(results)


def _audit(args: argparse.Namespace, out: TextIO) -> int:
    from . import audit_render
    from .audit import exit_code, run_audit

    try:
        report = run_audit(
            profile=args.profile,
            region=args.region,
            endpoint_url=args.endpoint_url,
            name_prefix=args.role_name_prefix,
        )
    except TrustError:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug or an answer IAM never gives: no traceback
        raise TrustError(
            f"trust audit failed unexpectedly ({type(exc).__name__}); please report it"
        ) from None
    status = exit_code(report.findings(), args.fail_on)
    if args.format == "json":
        text = audit_render.render_json(report)
    elif args.format == "sarif":
        text = audit_render.render_sarif(report)
    elif args.format == "markdown":
        text = audit_render.render_markdown(report, status)
    else:
        text = audit_render.render_text(report, status)
    out.write(log_safe(text, machine=args.format in ("json", "sarif")))
    return status


def main(argv: list[str], *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    try:
        args = _parse(parser, argv)
    except SystemExit as exc:  # --help (0) or a usage error (2); argparse printed the message
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_help(out)
        return 2
    try:
        if args.command == "generate":
            return _generate(args, out, err)
        if args.command == "lint":
            return _lint(args, out, err)
        if args.command == "audit":
            return _audit(args, out)
        return _check(args, out)
    except TrustError as exc:
        err.write(log_safe(f"error: {exc.message}\n"))
        return 2
