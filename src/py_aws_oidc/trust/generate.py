"""``trust generate``: a least-privilege trust policy for one repository, as JSON or Terraform.

Rules (SPEC "The trust-policy doctor"):

* ``aud`` pinned with ``StringEquals`` (``sts.amazonaws.com``; ``sts.amazonaws.com.cn`` in aws-cn;
  aws-us-gov keeps ``sts.amazonaws.com``);
* exact subjects with ``StringEquals``; ``StringLike`` only for ``--tag`` patterns holding ``*`` or
  ``?``, in a statement of their own (one statement's conditions are AND-ed, so exact and pattern
  subjects cannot share one); never a set operator (``ForAllValues:``) on these single-valued keys;
* ``--branch`` is exact (``refs/heads/NAME``); ``--tag`` patterns apply to the name after
  ``refs/tags/``; ``--environment`` and ``--pull-request`` add their subjects; with none of them,
  the branch is ``main`` (and a note says so);
* ``--job-workflow-ref`` is AND-ed through the ``job_workflow_ref`` condition key;
* ``--immutable-ids OWNER_ID/REPO_ID`` writes ``repo:OWNER@OWNER_ID/REPO@REPO_ID:...`` subjects;
* ``--chained-from ROLE_ARN`` (instead of ``--repo``): a later hop of a role chain, trusting the
  previous role (``"AWS": ROLE_ARN``) with ``sts:AssumeRole`` and ``sts:TagSession`` (session tags
  ride on chained hops), plus ``sts:SetSourceIdentity`` with ``--source-identity``.

Notes for the user (assumptions, placeholders) are returned, for the CLI to print on stderr.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ..partitions import ACCOUNT_ID, ROLE_ARN, ROLE_NAME
from .errors import GenerateError
from .evaluate import ACTION, GITHUB_ISSUER, GITHUB_KEY_PREFIX
from .textsafe import has_controls

PARTITION_AUDIENCES = {
    "aws": "sts.amazonaws.com",
    "aws-cn": "sts.amazonaws.com.cn",
    "aws-us-gov": "sts.amazonaws.com",
}
PLACEHOLDER_ACCOUNT = "123456789012"
DEFAULT_BRANCH = "main"
SUB_KEY = f"{GITHUB_KEY_PREFIX}:sub"
AUD_KEY = f"{GITHUB_KEY_PREFIX}:aud"
JWR_KEY = f"{GITHUB_KEY_PREFIX}:job_workflow_ref"
# Session tags ride on every chained hop, so a later hop's trust must allow TagSession too.
CHAIN_ACTIONS = ("sts:AssumeRole", "sts:TagSession")

_REPO = re.compile(
    r"^(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)/(?P<repo>[A-Za-z0-9._-]+)$"
)
_IDS = re.compile(r"^(?P<owner>\d+)/(?P<repo>\d+)$")
_JWR = re.compile(r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+/\.github/workflows/[^@\s]+\.ya?ml@\S+$")
_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass
class GenerateOptions:
    repo: str | None = None
    branches: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    environments: list[str] = field(default_factory=list)
    pull_request: bool = False
    job_workflow_refs: list[str] = field(default_factory=list)
    immutable_ids: str | None = None
    account: str | None = None
    partition: str | None = None  # None: aws (or, with chained_from, the role ARN's partition)
    role_name: str | None = None
    chained_from: str | None = None  # a later hop of a chain: the previous hop's role ARN
    source_identity: bool = False


@dataclass(frozen=True)
class Generated:
    """The policy document, the Terraform names, and notes for stderr."""

    policy: dict[str, object]
    options: GenerateOptions
    audience: str
    exact_subjects: tuple[str, ...]
    pattern_subjects: tuple[str, ...]
    role_name: str
    notes: tuple[str, ...]

    @property
    def account_note(self) -> str | None:
        """The JSON output's provider ARN holds a placeholder account unless --account was given."""
        if self.options.account is not None or self.options.chained_from is not None:
            return None
        return (
            f"no --account given: the provider ARN uses the placeholder account "
            f"{PLACEHOLDER_ACCOUNT}; replace it with your AWS account ID."
        )

    def to_json(self) -> str:
        return json.dumps(self.policy, indent=2) + "\n"

    def to_terraform(self) -> str:
        if self.options.chained_from is not None:
            return _chained_terraform(self)
        return _terraform(self)


def _has_wildcard(value: str) -> bool:
    return "*" in value or "?" in value


def _iam_literal(value: str) -> str:
    """Under Version 2012-10-17 ``${`` starts a policy variable; ``${$}`` is a literal ``$``."""
    return value.replace("${", "${$}{")


def _encode(value: str) -> str:
    """GitHub writes ``:`` inside a sub value as ``%3A``."""
    return value.replace(":", "%3A")


_OPTION_NAMES = {
    "repo": "--repo",
    "branches": "--branch",
    "tags": "--tag",
    "environments": "--environment",
    "job_workflow_refs": "--job-workflow-ref",
    "immutable_ids": "--immutable-ids",
    "account": "--account",
    "partition": "--partition",
    "role_name": "--role-name",
    "chained_from": "--chained-from",
}


def _refuse_control_characters(options: GenerateOptions) -> None:
    """A CR or an escape in a value would be written raw into the JSON string or the
    Terraform (a CR ends an HCL line): no GitHub name holds one, so it is refused."""
    for attr, flag in _OPTION_NAMES.items():
        raw = getattr(options, attr)
        for value in raw if isinstance(raw, list) else [raw]:
            if isinstance(value, str) and has_controls(value):
                raise GenerateError(
                    f"{flag} {value!r}: holds a control character; give the name without it"
                )


def generate(options: GenerateOptions) -> Generated:
    """The trust policy ``options`` ask for, or :class:`GenerateError` naming the bad option."""
    _refuse_control_characters(options)
    if options.chained_from is not None:
        return _generate_chained(options, options.chained_from)
    if options.source_identity:
        raise GenerateError(
            "--source-identity applies to a later hop of a chain: use it with --chained-from "
            "ROLE_ARN"
        )
    notes: list[str] = []
    repo, prefix = _subject_prefix(options)
    partition = options.partition or "aws"
    if partition not in PARTITION_AUDIENCES:
        raise GenerateError(f"--partition must be one of {', '.join(PARTITION_AUDIENCES)}")
    if options.account is not None and not ACCOUNT_ID.match(options.account):
        raise GenerateError(f"--account {options.account!r}: expected a 12-digit AWS account ID")
    _check_subject_options(options, notes)
    exact, patterns = _subjects(options, prefix, notes)
    role_name = _checked_role_name(options.role_name or _default_role_name(repo))
    account = options.account or PLACEHOLDER_ACCOUNT
    provider = f"arn:{partition}:iam::{account}:oidc-provider/{GITHUB_KEY_PREFIX}"
    audience = PARTITION_AUDIENCES[partition]
    jwrs = [_iam_literal(ref) for ref in dict.fromkeys(options.job_workflow_refs)]
    statements = [
        _github_statement(sid, operator, subjects, provider, audience, jwrs)
        for sid, operator, subjects in (
            ("GitHubActionsExactSubjects", "StringEquals", exact),
            ("GitHubActionsTagPatterns", "StringLike", patterns),
        )
        if subjects
    ]
    return Generated(
        policy={"Version": "2012-10-17", "Statement": statements},
        options=options,
        audience=audience,
        exact_subjects=tuple(exact),
        pattern_subjects=tuple(patterns),
        role_name=role_name,
        notes=tuple(notes),
    )


def _subject_prefix(options: GenerateOptions) -> tuple[str, str]:
    """(repo, ``repo:OWNER/REPO`` or its immutable form ``repo:OWNER@ID/REPO@ID``)."""
    match = _REPO.match(options.repo or "")
    if not match:
        raise GenerateError(
            f"--repo {options.repo!r}: expected OWNER/REPO, e.g. octo-org/octo-repo (no wildcards: "
            "a trust policy for a whole organisation is what this tool warns about)"
        )
    owner, repo = match.group("owner"), match.group("repo")
    if not options.immutable_ids:
        return repo, f"repo:{owner}/{repo}"
    ids = _IDS.match(options.immutable_ids)
    if not ids:
        raise GenerateError(
            "--immutable-ids: expected OWNER_ID/REPO_ID (the numeric repository_owner_id and "
            "repository_id claims), e.g. 123456/7891011"
        )
    return repo, f"repo:{owner}@{ids.group('owner')}/{repo}@{ids.group('repo')}"


def _check_subject_options(options: GenerateOptions, notes: list[str]) -> None:
    for branch in options.branches:
        if not branch or _has_wildcard(branch) or branch.startswith("refs/"):
            raise GenerateError(
                f"--branch {branch!r}: give the exact branch name (e.g. main); it becomes "
                "refs/heads/NAME matched with StringEquals. Git branch names cannot hold * or ?."
            )
    for env in options.environments:
        if not env or _has_wildcard(env):
            raise GenerateError(f"--environment {env!r}: give the exact environment name")
    for tag in options.tags:
        if not tag or tag.startswith("refs/"):
            raise GenerateError(
                f"--tag {tag!r}: give the tag name or pattern after refs/tags/, e.g. v*"
            )
        if "?" in tag:
            notes.append(
                f"--tag {tag}: each ? matches exactly one character (v? matches v1, not v10)."
            )
    for ref in options.job_workflow_refs:
        if not _JWR.match(ref):
            raise GenerateError(
                f"--job-workflow-ref {ref!r}: expected OWNER/REPO/.github/workflows/FILE.yml@REF"
            )
        if not _SHA.match(ref.rsplit("@", 1)[1]):
            notes.append(
                f"--job-workflow-ref {ref}: a branch or tag can be moved by whoever can push to "
                "it; pin the reusable workflow to a commit SHA for the strongest guarantee."
            )
    if options.pull_request:
        notes.append(
            "--pull-request: every pull_request run of the repository gets this subject and runs "
            "the pull request's own workflow code (lint reports it as medium); give that role "
            "only what an unreviewed change may do."
        )


def _subjects(
    options: GenerateOptions, prefix: str, notes: list[str]
) -> tuple[list[str], list[str]]:
    """(exact subjects for StringEquals, tag patterns for StringLike), deduplicated."""
    branches = list(options.branches)
    if not (branches or options.tags or options.environments or options.pull_request):
        branches = [DEFAULT_BRANCH]
        notes.append(
            f"no --branch, --tag, --environment or --pull-request given: allowing branch "
            f"'{DEFAULT_BRANCH}' only (sub {prefix}:ref:refs/heads/{DEFAULT_BRANCH}). If your "
            "default branch has another name, pass --branch NAME."
        )
    exact: list[str] = [f"{prefix}:ref:refs/heads/{b}" for b in branches]
    patterns: list[str] = []
    for tag in options.tags:
        (patterns if _has_wildcard(tag) else exact).append(f"{prefix}:ref:refs/tags/{tag}")
    exact += [f"{prefix}:environment:{_encode(e)}" for e in options.environments]
    if options.pull_request:
        exact.append(f"{prefix}:pull_request")
    if not options.immutable_ids:
        notes.append(
            "the subjects are name-based (lint reports this as low). Repositories created, renamed "
            "or transferred after 2026-07-15 (or opted in) get immutable subjects "
            "repo:OWNER@ID/REPO@ID:... instead: for those, and to survive renames, use "
            "--immutable-ids OWNER_ID/REPO_ID (the repository_owner_id and repository_id claims)."
        )
    return list(dict.fromkeys(exact)), list(dict.fromkeys(patterns))


def _github_statement(
    sid: str, operator: str, subjects: list[str], provider: str, audience: str, jwrs: list[str]
) -> dict[str, object]:
    conditions: dict[str, dict[str, object]] = {"StringEquals": {AUD_KEY: audience}}
    conditions.setdefault(operator, {})[SUB_KEY] = [_iam_literal(s) for s in subjects]
    if jwrs:
        jwr_operator = "StringLike" if any(_has_wildcard(r) for r in jwrs) else "StringEquals"
        conditions.setdefault(jwr_operator, {})[JWR_KEY] = jwrs
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Federated": provider},
        "Action": ACTION,
        "Condition": conditions,
    }


def _generate_chained(options: GenerateOptions, previous_role: str) -> Generated:
    """A later hop: the previous hop's role session assumes this role (sts:AssumeRole) and
    passes its session tags on (sts:TagSession), and its source identity when asked."""
    match = ROLE_ARN.match(previous_role)
    if not match:
        raise GenerateError(
            f"--chained-from {previous_role!r}: expected the ARN of the role the previous hop "
            "assumed, e.g. arn:aws:iam::123456789012:role/deploy"
        )
    first_hop_only = [
        flag
        for flag, given in (
            ("--repo", options.repo),
            ("--branch", options.branches),
            ("--tag", options.tags),
            ("--environment", options.environments),
            ("--pull-request", options.pull_request),
            ("--job-workflow-ref", options.job_workflow_refs),
            ("--immutable-ids", options.immutable_ids),
            ("--account", options.account),
        )
        if given
    ]
    if first_hop_only:
        raise GenerateError(
            f"{', '.join(first_hop_only)}: these describe the first hop (GitHub's token); with "
            "--chained-from the caller is the previous role. Generate the first hop's policy "
            "separately with --repo."
        )
    if options.partition is not None and options.partition != match.group("partition"):
        raise GenerateError(
            f"--partition {options.partition} does not match the partition of --chained-from "
            f"({match.group('partition')})"
        )
    actions = list(CHAIN_ACTIONS)
    if options.source_identity:
        actions.append("sts:SetSourceIdentity")
    statement = {
        "Sid": "ChainedFromPreviousRole",
        "Effect": "Allow",
        "Principal": {"AWS": previous_role},
        "Action": actions,
    }
    note = (
        f"the previous role ({previous_role}) needs {', '.join(actions)} on this role in its "
        "own permissions policy too; a chained session lasts at most 1 hour."
    )
    return Generated(
        policy={"Version": "2012-10-17", "Statement": [statement]},
        options=options,
        audience="",
        exact_subjects=(),
        pattern_subjects=(),
        role_name=_checked_role_name(options.role_name or f"{match.group('name')[:56]}-chained"),
        notes=(note,),
    )


def _checked_role_name(name: str) -> str:
    if not ROLE_NAME.match(name):
        raise GenerateError(f"--role-name {name!r}: 1..64 characters of [A-Za-z0-9+=,.@_-]")
    return name


def _default_role_name(repo: str) -> str:
    name = re.sub(r"[^\w+=,.@-]", "-", f"github-actions-{repo}")
    return name[:64]


def _hcl_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("${", "$${").replace("%{", "%%{") + '"'


def _hcl_list(values: list[str] | tuple[str, ...], indent: str) -> str:
    if len(values) == 1:
        return f"[{_hcl_string(values[0])}]"
    inner = "".join(f"{indent}  {_hcl_string(v)},\n" for v in values)
    return f"[\n{inner}{indent}]"


def _chained_terraform(gen: Generated) -> str:
    doc_name = "chained_assume_role"
    statement = gen.policy["Statement"]
    assert isinstance(statement, list) and isinstance(statement[0], dict)
    actions = statement[0]["Action"]
    assert isinstance(actions, list)
    lines = [
        f"# Generated by `py-aws-oidc trust generate --chained-from {gen.options.chained_from}`.",
        "# A later hop of a role chain: the previous role's session assumes this role and",
        "# passes its session tags on (sts:TagSession).",
        f'data "aws_iam_policy_document" "{doc_name}" {{',
        "  statement {",
        f"    sid     = {_hcl_string(str(statement[0]['Sid']))}",
        '    effect  = "Allow"',
        f"    actions = {_hcl_list(actions, '    ')}",
        "",
        "    principals {",
        '      type        = "AWS"',
        f"      identifiers = [{_hcl_string(str(gen.options.chained_from))}]",
        "    }",
        "  }",
        "}",
        "",
        'resource "aws_iam_role" "chained" {',
        f"  name               = {_hcl_string(gen.role_name)}",
        f"  assume_role_policy = data.aws_iam_policy_document.{doc_name}.json",
        "}",
        "",
        'output "chained_role_arn" {',
        "  value = aws_iam_role.chained.arn",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _terraform(gen: Generated) -> str:
    doc_name = "github_actions_assume_role"
    lines = [
        f"# Generated by `py-aws-oidc trust generate` for {gen.options.repo}.",
        "",
        "# GitHub's OIDC provider: one per AWS account. If it exists already, import it, or",
        '# replace this block with data "aws_iam_openid_connect_provider" and its reference.',
        "# No thumbprint_list: AWS validates GitHub's certificate with its own trusted CAs and",
        "# ignores thumbprints for this issuer (current hashicorp/aws providers make it optional).",
        'resource "aws_iam_openid_connect_provider" "github" {',
        f"  url            = {_hcl_string(GITHUB_ISSUER)}",
        f"  client_id_list = [{_hcl_string(gen.audience)}]",
        "}",
        "",
        f'data "aws_iam_policy_document" "{doc_name}" {{',
    ]
    statements = gen.policy["Statement"]
    assert isinstance(statements, list)
    for index, statement in enumerate(statements):
        if index:
            lines.append("")
        lines += [
            "  statement {",
            f"    sid     = {_hcl_string(statement['Sid'])}",
            '    effect  = "Allow"',
            f"    actions = [{_hcl_string(ACTION)}]",
            "",
            "    principals {",
            '      type        = "Federated"',
            "      identifiers = [aws_iam_openid_connect_provider.github.arn]",
            "    }",
        ]
        for operator, block in statement["Condition"].items():
            for key, value in block.items():
                values = value if isinstance(value, list) else [value]
                lines += [
                    "",
                    "    condition {",
                    f"      test     = {_hcl_string(operator)}",
                    f"      variable = {_hcl_string(key)}",
                    f"      values   = {_hcl_list(values, '      ')}",
                    "    }",
                ]
        lines.append("  }")
    lines += [
        "}",
        "",
        'resource "aws_iam_role" "github_actions" {',
        f"  name               = {_hcl_string(gen.role_name)}",
        f"  assume_role_policy = data.aws_iam_policy_document.{doc_name}.json",
        "}",
        "",
        "# Attach the permissions the workflow needs to aws_iam_role.github_actions, and give",
        "# its ARN to the action as role-to-assume:",
        'output "github_actions_role_arn" {',
        "  value = aws_iam_role.github_actions.arn",
        "}",
    ]
    return "\n".join(lines) + "\n"
