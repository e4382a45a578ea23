"""``trust lint``: grade a trust policy for GitHub OIDC, statement by statement and value by value.

Every value of every condition is graded, in every statement: values of one key are OR-ed, so a
list is as loose as its loosest value, and one loose Allow statement opens the role however strict
the others are. (AWS's own write-time guardrail inspects only the first value; we do not copy it.)

Identity conditions (``sub`` and ``job_workflow_ref``) are AND-ed inside a statement: when one of
them pins the caller exactly, looseness in the other matters less and its findings drop to low,
except a ``sub`` open to any repository, which stays critical.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from ..partitions import ROLE_ARN
from .evaluate import ACTION, IAM_GITHUB_CLAIM_KEYS, wildcard_match
from .policy import Condition, Policy, Statement
from .textsafe import MAX_LISTED, escape_controls, listed

Severity = Literal["critical", "high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")
FAILING: frozenset[Severity] = frozenset({"critical", "high"})

_ANY_WHY = (
    "Every GitHub repository shares one issuer and signing key, so anyone on GitHub can mint a "
    "token whose sub matches and assume this role."
)
_FIX_EXACT = (
    "Pin the exact subject with StringEquals, e.g. repo:OWNER/REPO:ref:refs/heads/main or "
    "repo:OWNER/REPO:environment:NAME (`py-aws-oidc trust generate --repo OWNER/REPO` writes one)."
)
_FIX_PRINCIPAL = (
    'Use Principal {"Federated": "arn:aws:iam::<account>:oidc-provider/'
    'token.actions.githubusercontent.com"}.'
)
_FIX_ACTION = f'Use "Action": "{ACTION}".'


@dataclass(frozen=True)
class Rule:
    """A lint rule: its default severity, what it flags, and the default why and fix."""

    id: str
    severity: Severity
    summary: str
    why: str
    fix: str


RULES: tuple[Rule, ...] = (
    Rule(
        "no-subject-condition",
        "critical",
        "An Allow statement for the GitHub provider has no sub or job_workflow_ref condition",
        _ANY_WHY + " (AWS now refuses to create such policies, but older roles remain.)",
        _FIX_EXACT,
    ),
    Rule(
        "subject-any-repository",
        "critical",
        "A subject any repository on GitHub can mint: `*`, `repo:*`, a wildcard owner, "
        "a custom subject naming no owner or repository",
        _ANY_WHY,
        _FIX_EXACT,
    ),
    Rule(
        "principal-wildcard",
        "critical",
        'Principal `"*"` (or `{"AWS": "*"}`), or NotPrincipal in an Allow',
        "Any caller (another identity provider's token, another AWS account) that satisfies the "
        "conditions can assume the role.",
        _FIX_PRINCIPAL,
    ),
    Rule(
        "subject-org-wide",
        "high",
        "`repo:org/*` or another wildcard repository name: every current and future "
        "repository of the organisation",
        "Anyone who can create or push to a repository in the organisation (or take over a "
        "deleted repository name) can assume the role; `*` also spans `:`, so every branch, "
        "tag, environment and pull request is included.",
        _FIX_EXACT,
    ),
    Rule(
        "set-operator-single-valued",
        "high",
        "`ForAllValues:`/`ForAnyValue:` on a single-valued GitHub claim (passes when the claim "
        "is absent)",
        "ForAllValues: is true when the key is absent (a misspelled or missing claim passes), "
        "and neither qualifier is meant for single-valued keys: AWS says not to use them there.",
        "Use the operator without the qualifier (StringEquals, StringLike).",
    ),
    Rule(
        "negated-or-ifexists-identity",
        "high",
        "`...IfExists` or a negated operator on sub, aud or job_workflow_ref in an Allow",
        "A negated operator allows every value it does not list (StringNotLike repo:evil/* lets "
        "the rest of GitHub in), and IfExists passes tokens that lack the claim: neither pins "
        "who may assume the role.",
        "Use StringEquals (or StringLike for a deliberate pattern).",
    ),
    Rule(
        "duplicate-json-key",
        "high",
        "A JSON key appears twice; parsers keep one of them silently",
        "Python's json and AWS may keep different copies: a second StringLike block can silently "
        "replace (or be replaced by) the one you reviewed.",
        "Merge the duplicates into one key (one operator block holding all its keys).",
    ),
    Rule(
        "subject-repo-wide",
        "medium",
        "`repo:org/repo:*` (every branch, tag, environment and pull_request) or a bare "
        "`repo:org/repo` subject",
        "A pull request (from a branch of the repository) or any pushed branch can assume the "
        "role, not only the deploy branch or environment.",
        "List the exact refs or environments with StringEquals, e.g. ...:ref:refs/heads/main or "
        "...:environment:production.",
    ),
    Rule(
        "subject-prefix-wildcard",
        "medium",
        "A wildcard in the ref or environment, e.g. `refs/heads/main*` (admits `main-hotfix`), "
        "`refs/heads/*`, `environment:prod*`, or in a job_workflow_ref path or ref",
        "Anyone who can push a branch (or name a job's environment, or add a workflow file) that "
        "fits the pattern can assume the role.",
        "Pin exact names with StringEquals (branches: ...:ref:refs/heads/main).",
    ),
    Rule(
        "stringequals-wildcard",
        "medium",
        "`StringEquals` with `*` or `?` in a value: taken literally, it never matches",
        "If this is the only value, nobody can assume the role; if it was meant as a pattern, it "
        "hides how wide the pattern would be.",
        "Use StringEquals with exact values; use StringLike only for deliberate patterns.",
    ),
    Rule(
        "jwr-mutable-ref",
        "medium",
        "job_workflow_ref pinned to a branch (medium) or a tag (low) instead of a commit SHA",
        "Whoever can push (or move) that branch or tag changes the trusted workflow code.",
        "Pin the reusable workflow to a commit SHA (.../deploy.yml@<40-hex SHA>).",
    ),
    Rule(
        "action-missing-web-identity",
        "medium",
        "The GitHub statement does not allow sts:AssumeRoleWithWebIdentity (or uses NotAction)",
        "GitHub's token is exchanged with AssumeRoleWithWebIdentity: without it the statement "
        "never applies (a common slip: sts:AssumeRole); NotAction allows every other action.",
        _FIX_ACTION,
    ),
    Rule(
        "principal-not-github",
        "medium",
        "GitHub condition keys under a principal that is not GitHub's OIDC provider, or no "
        "statement trusts that provider",
        "GitHub tokens never match such a statement: GitHub Actions cannot assume the role.",
        _FIX_PRINCIPAL,
    ),
    Rule(
        "unknown-claim-key",
        "medium",
        "A condition key AWS does not populate for GitHub tokens: always absent",
        "Positive operators on it never match (the role is unusable); negated, IfExists and "
        "ForAllValues operators always pass (no protection).",
        "Use sub, aud, job_workflow_ref, repository, repository_id, ref, environment, workflow, "
        "actor, actor_id, enterprise_id or repository_owner_id.",
    ),
    Rule(
        "key-prefix-mismatch",
        "medium",
        "Condition keys whose issuer prefix differs from the provider's (enterprise/GHES issuers)",
        "STS names condition keys after the token's issuer; with another prefix the key is "
        "absent, so positive operators never match and negated ones always pass.",
        "Write the key with the provider's issuer as prefix.",
    ),
    Rule(
        "subject-pull-request",
        "medium",
        "An exact `repo:org/repo:pull_request` subject: every pull_request workflow run",
        "GitHub gives this subject to every workflow run for a pull_request event, whatever the "
        "head branch, and the run uses the workflow file and code of the pull request's head: "
        "anyone who can push a branch and open a pull request (and fork pull requests, where the "
        "repository sends them write tokens) can assume the role with code nobody reviewed.",
        "Give pull requests a read-only role; or put the job in an environment with required "
        "reviewers and trust ...:environment:NAME instead; or AND a job_workflow_ref pinned to a "
        "reviewed workflow at a commit SHA.",
    ),
    Rule(
        "environment-literal-colon",
        "medium",
        "An environment name written with a literal `:` in the subject; GitHub writes it `%3A`",
        "GitHub percent-encodes `:` inside the environment name of the sub claim "
        "(environment:prod%3Aeu), so a value with a literal `:` never matches: the role cannot "
        "be assumed from that environment.",
        "Write the `:` of the environment name as %3A (`py-aws-oidc trust generate "
        "--environment NAME` does).",
    ),
    Rule(
        "subject-never-matches",
        "medium",
        "A subject or key no token can match: a `.git` suffix on the repository, an empty owner "
        "or repository (`repo:`), a ref without `ref:` (`repo:o/r:refs/heads/main`), a "
        "misspelled provider host in the condition key",
        "GitHub never writes such a subject (a repository name cannot end in .git; the ref is "
        "written ref:refs/heads/NAME) and AWS names condition keys after the provider's exact "
        "host: the condition fails for every token, so the role is unusable (it fails closed).",
        "Write the subject as GitHub writes it, repo:OWNER/REPO:ref:refs/heads/BRANCH or "
        "repo:OWNER/REPO:environment:NAME (`py-aws-oidc trust generate` writes one), under the "
        "key token.actions.githubusercontent.com:sub.",
    ),
    Rule(
        "stringlike-question-mark",
        "low",
        "`?` in a StringLike value: it matches exactly one character",
        '`?` is one character, not "optional" and not "one or more": `refs/tags/v?` matches '
        "v1 but not v10, and `?` also matches `/` and `:`.",
        "Spell the values out with StringEquals, or use `*` deliberately; for a literal "
        "question mark write ${?}.",
    ),
    Rule(
        "mixed-subject-forms",
        "low",
        "Both the name-based and the immutable subject forms of one repository are trusted",
        "Fine during a migration (a repository renamed, transferred or opted in to immutable "
        "subjects): once its tokens carry repo:OWNER@ID/REPO@ID, the name-based values only "
        "serve a new repository that takes the old name.",
        "Remove the name-based values when every workflow of the repository gets the immutable "
        "form.",
    ),
    Rule(
        "subject-tag-pattern",
        "low",
        "A tag pattern such as `refs/tags/v*`: anyone who can push a matching tag can assume",
        "Anyone who can push a matching tag can assume the role.",
        "Protect matching tags with a tag ruleset, or pin exact tags.",
    ),
    Rule(
        "action-too-broad",
        "low",
        "Actions beyond sts:AssumeRoleWithWebIdentity (`*`, `sts:*`, extra actions)",
        "The GitHub provider needs only AssumeRoleWithWebIdentity; wildcards and extra actions "
        "widen the trust for no benefit.",
        _FIX_ACTION,
    ),
    Rule(
        "aud-not-pinned",
        "low",
        "No StringEquals on aud (the provider's audience list still applies)",
        "aud says what the token is for; the provider's audience list (client IDs) already "
        "limits it, but a pin keeps tokens minted for other audiences out if that list grows.",
        'Add "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}.',
    ),
    Rule(
        "name-based-subject",
        "low",
        "Name-based subjects without a repository_id/repository_owner_id pin; ids survive "
        "renames and re-created names",
        "If the repository or owner is renamed, deleted or transferred, a new one with the old "
        "name matches; repositories created or renamed after 2026-07-15 get immutable subjects "
        "(repo:OWNER@ID/REPO@ID:...) that these values do not match.",
        "Use the immutable form (trust generate --immutable-ids OWNER_ID/REPO_ID) or add "
        "StringEquals on repository_id / repository_owner_id.",
    ),
    Rule(
        "unresolved",
        "low",
        "Advisory: values not known offline (a variable with no default, a resource attribute, "
        "a module output); the policy was linted around them",
        "No finding depends on them: a verdict that does would be a guess. Their real values "
        "may still open or lock the role.",
        "Give the values (--var NAME=VALUE, --var-file FILE, a terraform.tfvars) or lint the "
        "rendered JSON too (e.g. from `terraform show -json` of a plan).",
    ),
)
RULE_BY_ID = {rule.id: rule for rule in RULES}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    source: str
    statement: str | None  # the statement's label: its Sid and index
    condition: Condition | None
    message: str
    why: str
    fix: str
    statement_index: int | None = None
    values: tuple[str, ...] = ()  # the condition's values this finding is about

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "rule": self.rule,
            "severity": self.severity,
            "source": self.source,
            "statement": self.statement,
            "condition": None if self.condition is None else self.condition.to_dict(),
            "message": self.message,
            "why": self.why,
            "fix": self.fix,
        }
        if self.values:
            out["values"] = list(self.values[:MAX_LISTED])
            if len(self.values) > MAX_LISTED:
                out["values_omitted"] = len(self.values) - MAX_LISTED
        return out


@dataclass(frozen=True)
class _Issue:
    rule: str
    severity: Severity
    message: str
    why: str
    fix: str

    @property
    def loose(self) -> bool:
        """Does the value admit more than it should? (A value that never matches does not.)"""
        return self.severity in ("critical", "high", "medium") and self.rule not in _NEVER_MATCHES


def _issue(
    rule: str,
    message: str,
    *,
    severity: Severity | None = None,
    why: str | None = None,
    fix: str | None = None,
) -> _Issue:
    """An issue of ``rule`` with its defaults, unless overridden."""
    spec = RULE_BY_ID[rule]
    return _Issue(rule, severity or spec.severity, message, why or spec.why, fix or spec.fix)


_GITHUB_PATH = re.compile(
    r"^(token\.actions\.githubusercontent\.com(/[^/:]+)?|token\.actions\.[a-z0-9-]+\.ghe\.com"
    r"|[^/:]+/_services/token)$",
    re.IGNORECASE,
)
_PROVIDER_ARN = re.compile(r"^arn:[^:]+:iam::[^:]*:oidc-provider/(?P<path>.+)$", re.IGNORECASE)
_SHA = re.compile(r"^[0-9a-f]{40}$")
_STRING_POSITIVE = ("StringEquals", "StringLike", "StringEqualsIgnoreCase")
_IDENTITY = ("sub", "job_workflow_ref")
_TRUSTING = ("github", "wildcard", "unknown", "not-principal")
_NEVER_MATCHES = frozenset({"environment-literal-colon", "subject-never-matches"})
_GITHUB_HOST = "token.actions.githubusercontent.com"
_SCHEME = re.compile(r"^[a-z]*:?//", re.IGNORECASE)  # https://, and its mangled ://


def _wild(text: str) -> bool:
    return "*" in text or "?" in text


def _only_wildcards(text: str) -> bool:
    return bool(text) and set(text) <= {"*", "?"}


def _split_key(key: str) -> tuple[str, str]:
    prefix, _, claim = key.rpartition(":")
    return prefix, claim.lower()


def _provider_paths(statement: Statement) -> list[str]:
    if statement.principal is None:
        return []
    paths = []
    for arn in statement.principal.values("Federated"):
        match = _PROVIDER_ARN.match(arn)
        if match:
            paths.append(match.group("path"))
    return paths


def _principal_kind(statement: Statement) -> str:
    principal = statement.principal
    if principal is None:
        return "not-principal"
    if principal.wildcard or "*" in principal.values("AWS") or "*" in principal.values("Federated"):
        return "wildcard"
    if any(_GITHUB_PATH.match(path) for path in _provider_paths(statement)):
        return "github"
    if any(value.startswith("<") for value in principal.all_values()):
        return "unknown"  # an unresolved Terraform expression
    return "other"


def _github_prefixes(statement: Statement) -> set[str]:
    return {p.lower() for p in _provider_paths(statement) if _GITHUB_PATH.match(p)}


def _is_github_key(key: str, statement: Statement) -> bool:
    prefix, _ = _split_key(key)
    return bool(prefix) and (
        bool(_GITHUB_PATH.match(prefix)) or prefix.lower() in _github_prefixes(statement)
    )


def is_github_provider_path(path: str) -> bool:
    """Is ``path`` (a provider ARN's part after ``oidc-provider/``, or a condition key's prefix)
    a GitHub issuer: github.com's, an enterprise's ``.../<slug>``, GHE.com's or a GHES host's?"""
    return bool(_GITHUB_PATH.match(path))


# --- grading one value -----------------------------------------------------------------------


def grade_subject(value: str, *, wildcards: bool) -> list[_Issue]:
    """How loose one ``sub`` value is. ``wildcards``: the operator is StringLike."""

    def wild(text: str) -> bool:
        return wildcards and _wild(text)

    if wildcards and _only_wildcards(value):
        return [_issue("subject-any-repository", f'sub "{value}" matches every subject')]
    if not value.startswith("repo:"):
        return _grade_custom_subject(value, wildcards=wildcards)
    segment, colon, context = value[len("repo:") :].partition(":")
    owner, slash, repo = segment.partition("/")
    never = _never_matching_subject(value, segment, context if colon else None, wild)
    if never is not None:
        return [never]
    # repo:OWNER@ID/REPO@ID: a wildcard in the id only (repo:acme@*/shop@*) leaves the name
    # fixed; GitHub names hold no "@", so the owner and repository are still pinned by name.
    owner_name, repo_name = owner.split("@")[0], repo.split("@")[0]
    if wild(owner_name) or (not slash and wild(segment)):
        return [
            _issue(
                "subject-any-repository",
                f'sub "{value}" has a wildcard in the owner: it matches repositories of any owner '
                "whose name fits (anyone can create such an account)",
            )
        ]
    if wild(repo_name):
        return [
            _issue(
                "subject-org-wide",
                f'sub "{value}" matches every repository of {owner.split("@")[0]} whose name '
                "fits, including ones created later",
            )
        ]
    if not colon:
        return [
            _issue(
                "subject-repo-wide",
                f'sub "{value}" names only the repository (a custom subject template): every '
                "branch, tag, environment and pull request of it matches",
                fix="Add the context to the subject template (e.g. include `context` or "
                "`environment`) and pin it, or AND a ref/environment condition.",
            )
        ]
    if wild(context):
        return [
            _grade_context_wildcard(value, context),
            *_grade_environment_name(value, context, wildcards=wildcards),
        ]
    if context == "pull_request":
        return [
            _issue(
                "subject-pull-request",
                f'sub "{value}" admits every pull_request workflow run of the repository, from '
                "any head branch, running the pull request's own workflow code",
            )
        ]
    return _grade_environment_name(value, context, wildcards=wildcards)


def _never_matching_subject(
    value: str, segment: str, context: str | None, wild: Callable[[str], bool]
) -> _Issue | None:
    """``repo:o/r.git:*``, ``repo:``, ``repo:/r:*``, ``repo:o/:*``, ``repo:o/r:refs/heads/x``:
    GitHub writes no such subject. (A part holding a wildcard may match something: not here.
    ``repo:X:*`` without a slash is not judged: X may be a variable standing for OWNER/REPO.)"""
    owner, slash, repo = segment.partition("/")
    name = repo.split("@")[0]
    if "://" in value:
        return _issue(
            "subject-never-matches",
            f'sub "{value}" holds a URL (://): GitHub writes repo:OWNER/REPO:..., and no ref '
            "or environment name holds a colon, so this value never matches",
            fix="Name the repository, not its clone URL: repo:OWNER/REPO:ref:refs/heads/BRANCH.",
        )
    if not owner or (slash and not repo):
        what = "owner" if not owner else "repository"
        return _issue(
            "subject-never-matches",
            f'sub "{value}" names no {what} (GitHub writes repo:OWNER/REPO:...), so it '
            "never matches",
            fix="Name both: repo:OWNER/REPO:ref:refs/heads/BRANCH (or :environment:NAME).",
        )
    if name.lower().endswith(".git") and not wild(repo):
        fixed = f"repo:{owner}/{repo[: len(name) - 4]}{repo[len(name) :]}"
        fixed += f":{context}" if context is not None else ""
        return _issue(
            "subject-never-matches",
            f'sub "{value}": a repository name never ends in .git (that is the clone URL), so '
            "this value never matches",
            fix=f'Drop the .git suffix: "{fixed}".',
        )
    if context is not None and context.startswith("refs/"):
        return _issue(
            "subject-never-matches",
            f'sub "{value}": GitHub writes the ref as ref:{context[:40]}, so this value never '
            "matches",
            fix=f'Write "repo:{segment}:ref:{context}".',
        )
    return None


# Claims GitHub lets a customised subject template append after the environment.
_TEMPLATE_CLAIMS = frozenset(
    {
        "actor", "actor_id", "base_ref", "context", "enterprise", "enterprise_id", "environment",
        "event_name", "head_ref", "job_workflow_ref", "job_workflow_sha", "ref", "ref_protected",
        "ref_type", "repo", "repository", "repository_id", "repository_owner",
        "repository_owner_id", "repository_visibility", "runner_environment", "workflow",
        "workflow_ref", "workflow_sha",
    }
)  # fmt: skip


def _grade_environment_name(value: str, context: str, *, wildcards: bool) -> list[_Issue]:
    """``environment:prod:eu`` never matches: GitHub writes the name's ``:`` as ``%3A``."""
    if not context.startswith("environment:"):
        return []
    fields = context[len("environment:") :].split(":")
    name = fields[0]
    for index, field_ in enumerate(fields[1:], start=1):
        if field_ in _TEMPLATE_CLAIMS:  # a customised template goes on with another claim
            break
        name += ":" + field_
        if wildcards and _wild(fields[index - 1][-1:] + field_[:1]):
            return []  # a `*` next to the `:` may also span a %3A
    if ":" not in name:
        return []
    return [
        _issue(
            "environment-literal-colon",
            f'sub "{value}": the environment name {name!r} holds a literal ":", but GitHub writes '
            f"it as %3A (environment:{name.replace(':', '%3A')}), so this value never matches",
        )
    ]


def _grade_context_wildcard(value: str, context: str) -> _Issue:
    if _wild(context[:1]):
        return _issue(
            "subject-repo-wide",
            f'sub "{value}" matches every branch, tag, environment and pull_request of the '
            "repository",
        )
    tag = context[len("ref:refs/tags/") :] if context.startswith("ref:refs/tags/") else ""
    if tag and not _wild(tag[:1]):
        return _issue("subject-tag-pattern", f'sub "{value}" admits every tag matching {tag!r}')
    if context.startswith("ref:refs/heads/"):
        where = "branch"
    elif context.startswith("environment:"):
        where = "environment"
    else:
        where = "ref"
    return _issue(
        "subject-prefix-wildcard",
        f'sub "{value}" has a wildcard in the {where}: `*` matches any run of characters (also '
        "none, `/` and `:`), so e.g. refs/heads/main* admits main-hotfix and refs/heads/* "
        "admits feature/x",
    )


def _grade_custom_subject(value: str, *, wildcards: bool) -> list[_Issue]:
    """A customised subject template: ``key:value:key:value...`` without a leading repo."""
    fields = value.split(":")
    keys = set(fields[0::2])
    if "job_workflow_ref" in keys:
        index = fields.index("job_workflow_ref")
        jwr = fields[index + 1] if index + 1 < len(fields) else ""
        return grade_job_workflow_ref(jwr, wildcards=wildcards, in_sub=True)
    if wildcards and _wild(value[:1]):
        return [_issue("subject-any-repository", f'sub "{value}" starts with a wildcard')]
    if keys & {"repository", "repository_id"}:
        return []
    if keys & {"repository_owner", "repository_owner_id"}:
        return [
            _issue(
                "subject-org-wide",
                f'sub "{value}" names the owner but no repository',
                fix="Include the repository in the subject template, or AND a repository_id "
                "condition.",
            )
        ]
    return [
        _issue(
            "subject-any-repository",
            f'sub "{value}" names neither an owner nor a repository',
            why="Any organisation can customise its own subject template to mint exactly this "
            "subject, so any repository on GitHub can assume the role.",
            fix="Include repo (or repository_id) in the subject template and pin it.",
        )
    ]


def grade_job_workflow_ref(value: str, *, wildcards: bool, in_sub: bool = False) -> list[_Issue]:
    """How loose one job_workflow_ref value (``OWNER/REPO/PATH@REF``) is."""
    what = "sub's job_workflow_ref" if in_sub else "job_workflow_ref"
    fix = "Pin OWNER/REPO/.github/workflows/FILE.yml@<commit SHA> with StringEquals."

    def wild(text: str) -> bool:
        return wildcards and _wild(text)

    owner, _, rest = value.partition("/")
    repo, _, path_ref = rest.partition("/")
    ref = path_ref.rpartition("@")[2]
    if wild(owner) or (wildcards and _only_wildcards(value)):
        return [
            _issue(
                "subject-any-repository",
                f'{what} "{value}" admits workflows of any owner',
                why="Any GitHub user can publish a workflow whose job_workflow_ref fits.",
                fix=fix,
            )
        ]
    if wild(repo):
        return [
            _issue(
                "subject-org-wide",
                f'{what} "{value}" admits workflows from any repository of {owner}',
                why="Anyone who can create a repository in the organisation can write a "
                "matching workflow.",
                fix=fix,
            )
        ]
    if wild(path_ref):
        return [
            _issue(
                "subject-prefix-wildcard",
                f'{what} "{value}" has a wildcard in the workflow path or ref',
                fix=fix,
            )
        ]
    if ref.startswith("refs/heads/"):
        return [_issue("jwr-mutable-ref", f'{what} "{value}" trusts a branch')]
    if ref.startswith("refs/tags/"):
        return [_issue("jwr-mutable-ref", f'{what} "{value}" trusts a tag', severity="low")]
    if ref and not _SHA.match(ref) and not in_sub:
        return [
            _issue(
                "jwr-mutable-ref", f'{what} "{value}" does not end in a commit SHA or a full ref'
            )
        ]
    return []


# --- the linter ------------------------------------------------------------------------------


@dataclass
class _Collector:
    """Findings, one per rule and condition: a rule that fires on several values of one
    condition is one finding listing them (output stays linear in the policy's size)."""

    source: str
    findings: list[Finding] = field(default_factory=list)
    _merged: dict[tuple[int | None, int, str], _Merged] = field(default_factory=dict)
    # A condition linted under a corrected key (a misspelled host) -> the condition as written.
    aliases: dict[int, Condition] = field(default_factory=dict)

    def add(
        self,
        statement: Statement | None,
        condition: Condition | None,
        issue: _Issue,
        value: str | None = None,
    ) -> None:
        if condition is not None:
            condition = self.aliases.get(id(condition), condition)
        key = (statement.index if statement is not None else None, id(condition), issue.rule)
        merged = self._merged.get(key) if condition is not None else None
        if merged is not None:
            if value is not None:
                merged.values.append(value)
            kept = self.findings[merged.position]
            if SEVERITIES.index(issue.severity) < SEVERITIES.index(kept.severity):
                merged.lead = value
                self.findings[merged.position] = replace(
                    kept, severity=issue.severity, message=issue.message
                )
            return
        if condition is not None:
            first = [] if value is None else [value]
            self._merged[key] = _Merged(len(self.findings), first, value)
        self.findings.append(
            Finding(
                rule=issue.rule,
                severity=issue.severity,
                source=self.source,
                statement=statement.label if statement is not None else None,
                condition=condition,
                message=issue.message,
                why=issue.why,
                fix=issue.fix,
                statement_index=statement.index if statement is not None else None,
            )
        )

    def result(self) -> list[Finding]:
        """The findings, each listing the values it is about (at most MAX_LISTED shown), their
        fixes made to agree on each condition (:func:`_harmonise`)."""
        out = list(self.findings)
        for merged in self._merged.values():
            finding = out[merged.position]
            if len(merged.values) > 1:
                others = [v for v in merged.values if v != merged.lead]
                finding = replace(
                    finding, message=f"{finding.message}; the same holds for {listed(others)}"
                )
            out[merged.position] = replace(finding, values=tuple(merged.values))
        groups: dict[tuple[int | None, int], list[int]] = {}
        for position, finding in enumerate(out):
            if finding.condition is not None:
                key = (finding.statement_index, id(finding.condition))
                groups.setdefault(key, []).append(position)
        for positions in groups.values():
            if len(positions) > 1:
                for position, fixed in zip(
                    positions, _harmonise([out[p] for p in positions]), strict=True
                ):
                    out[position] = fixed
        return out


# Rules whose fix prescribes the condition's operator; the first operator a fix names is the one.
_OPERATOR_FIXES = frozenset(
    {
        "negated-or-ifexists-identity",
        "stringequals-wildcard",
        "subject-any-repository",
        "subject-org-wide",
        "subject-repo-wide",
        "subject-prefix-wildcard",
        "stringlike-question-mark",
    }
)
_OPERATOR_NAME = re.compile(r"\bString[A-Za-z]+")


def _harmonise(group: list[Finding]) -> list[Finding]:
    """One condition's findings, their fixes made to agree (a user applies them all):

    - an ``unknown-claim-key`` condition is deleted, whatever else is wrong with it (a
      ``ForAllValues:`` on ``iss`` is not fixed by ``StringEquals`` on ``iss``);
    - ``set-operator-single-valued`` says "use the operator without the qualifier" unless
      another finding prescribes another operator (``ForAnyValue:StringLike`` on ``repo:o/*``:
      not "use StringLike" next to "pin it with StringEquals"): then it defers to that fix.
    The other rules' fixes touch different parts of a condition (its key, its values, the
    workflow's ref) and agree as they are (tests/trust/test_trust_fixes.py)."""
    unknown = [f for f in group if f.rule == "unknown-claim-key"]
    if unknown:
        return [replace(f, fix=unknown[0].fix) for f in group]
    prescribing = sorted(
        (f for f in group if f.rule in _OPERATOR_FIXES),
        key=lambda f: SEVERITIES.index(f.severity),
    )
    out = []
    for finding in group:
        cond = finding.condition
        fixed = finding
        if finding.rule == "set-operator-single-valued" and cond is not None and prescribing:
            named = _OPERATOR_NAME.search(prescribing[0].fix)
            if named is None or named.group() != cond.operator.text.partition(":")[2]:
                fix = f"Remove the `{cond.operator.qualifier}:` qualifier, then: "
                fixed = replace(finding, fix=fix + prescribing[0].fix)
        out.append(fixed)
    return out


@dataclass
class _Merged:
    position: int  # in _Collector.findings
    values: list[str]
    lead: str | None  # the value the finding's message is about


def lint_policy(policy: Policy) -> list[Finding]:
    """All findings for one concrete policy, most severe first.

    Rules see only known values: a policy with unknowns (read from Terraform or CloudFormation)
    is linted through :func:`.unknown.lint_symbolic`, which calls this on instantiations.
    """
    out = _Collector(policy.source)
    by_index = {s.index: s for s in policy.statements}
    for dup in policy.duplicate_keys:
        stmt = by_index.get(dup.statement_index) if dup.statement_index is not None else None
        out.add(
            stmt,
            None,
            _issue(
                "duplicate-json-key",
                f"the key {dup.key!r} appears more than once in {dup.path}; only the last one "
                "is read",
            ),
        )
    trusted = False
    for statement in policy.statements:
        kind = _principal_kind(statement)
        trusted = trusted or (statement.effect == "Allow" and kind in _TRUSTING)
        _lint_statement(statement, kind, out)
    _lint_subject_forms(policy, out)
    if not trusted and not _is_chained_hop_policy(policy):
        out.add(
            None,
            None,
            _issue(
                "principal-not-github",
                "no Allow statement trusts GitHub's OIDC provider "
                "(arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com)",
            ),
        )
    return sorted(out.result(), key=lambda f: SEVERITIES.index(f.severity))


def _is_chained_hop_policy(policy: Policy) -> bool:
    """A later hop of a role chain (``trust generate --chained-from``): every Allow statement
    trusts IAM roles only and tests no GitHub claim. GitHub's provider is not meant to be there,
    so "no statement trusts GitHub's provider" would be a false finding (and a code-scanning
    alert on every chained role)."""
    allows = [s for s in policy.statements if s.effect == "Allow"]
    return bool(allows) and all(
        s.principal is not None
        and not s.principal.wildcard
        and bool(s.principal.entries)
        and all(kind == "AWS" for kind, _ in s.principal.entries)
        and all(ROLE_ARN.fullmatch(value) for value in s.principal.all_values())
        and not any(_is_github_key(c.key, s) for c in s.conditions)
        for s in allows
    )


_OTHER_PRINCIPALS = frozenset({"Service", "AWS", "CanonicalUser"})


def unrelated_to_github(policy: Policy) -> bool:
    """A role of infrastructure code that has nothing to do with GitHub's OIDC (a Lambda or EC2
    role, a cross-account AssumeRole): every statement names only Service/AWS principals, no
    web-identity action and no GitHub key. Terraform modules and templates are full of these;
    the readers skip them instead of reporting principal-not-github on each (a JSON policy
    named on the command line is still linted whole)."""
    return bool(policy.statements) and all(
        s.principal is not None
        and not s.principal.wildcard
        and s.not_principal is None
        and bool(s.principal.entries)
        and all(kind in _OTHER_PRINCIPALS for kind, _ in s.principal.entries)
        and "*" not in s.principal.all_values()
        and s.actions is not None
        and not any(wildcard_match(a, ACTION, ignore_case=True) for a in s.actions)
        and not any("github" in c.key.lower() for c in s.conditions)
        for s in policy.statements
    )


def _misspelled_host(prefix: str, statement: Statement) -> str | None:
    """The provider prefix a near miss of GitHub's host was meant to be, else None:
    ``token.action.githubusercontent.com``, ``token.actions.githubusercontent.co``,
    ``https://token.actions.githubusercontent.com`` (keys carry no scheme)."""
    bare = _SCHEME.sub("", prefix).lower()
    host, slash, path = bare.partition("/")
    truncated = len(host) > len("github.com") and _GITHUB_HOST.endswith("." + host)
    near = abs(len(host) - len(_GITHUB_HOST)) <= 3 and _edit_distance(host, _GITHUB_HOST) <= 3
    if not (truncated or near):
        return None
    if host == _GITHUB_HOST and bare == prefix.lower():
        return None
    meant = f"{_GITHUB_HOST}{slash}{path}"
    own = sorted(_github_prefixes(statement))
    return meant if not own or meant in own else own[0]


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, start=1):
        current = [i]
        for j, other in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            )
        previous = current
    return previous[-1]


def _github_conditions(statement: Statement, out: _Collector) -> list[Condition]:
    """The statement's conditions on GitHub claims; a key whose host is misspelled is reported
    and linted under the key it was meant to be (its findings point at the key as written)."""
    found = []
    for cond in statement.conditions:
        if _is_github_key(cond.key, statement):
            found.append(cond)
            continue
        prefix, claim = _split_key(cond.key)
        meant = _misspelled_host(prefix, statement) if prefix else None
        if meant is None:
            continue
        fixed = replace(cond, key=f"{meant}:{claim}")
        out.aliases[id(fixed)] = cond
        found.append(fixed)
        fails_closed = _positive(cond) and not cond.operator.if_exists
        fails_closed = fails_closed and cond.operator.qualifier != "ForAllValues"
        out.add(
            statement,
            cond,
            _issue(
                "subject-never-matches" if fails_closed else "key-prefix-mismatch",
                f"the key {cond.key!r} names the provider host {prefix!r}, which no token "
                f"comes from: the key is always absent"
                + (", so this condition never matches" if fails_closed else ""),
                fix=f"Write the key as {meant}:{claim}.",
            ),
        )
    return found


def _lint_statement(statement: Statement, kind: str, out: _Collector) -> None:
    github_keys = _github_conditions(statement, out)
    for cond in github_keys:
        _, claim = _split_key(cond.key)
        if cond.operator.qualifier:
            out.add(
                statement,
                cond,
                _issue(
                    "set-operator-single-valued",
                    f"{cond.operator.qualifier}: on {claim}, a single-valued claim",
                    fix=f"Use {cond.operator.text.partition(':')[2]} without the qualifier.",
                ),
            )
        _lint_question_mark(statement, cond, claim, out)
        if claim not in IAM_GITHUB_CLAIM_KEYS:
            out.add(
                statement,
                cond,
                _issue(
                    "unknown-claim-key",
                    f"AWS does not evaluate the claim {claim!r} for GitHub tokens: the key is "
                    "always absent",
                    fix=_delete_unknown_claim(claim),
                ),
            )
    principal = statement.principal.describe() if statement.principal else ""
    if kind == "other" and github_keys:
        out.add(
            statement,
            None,
            _issue(
                "principal-not-github",
                f"the statement tests GitHub claims but its principal {principal} is not "
                "GitHub's OIDC provider",
            ),
        )
    if statement.effect != "Allow" or kind not in _TRUSTING:
        return
    if kind == "wildcard":
        out.add(
            statement,
            None,
            _issue("principal-wildcard", f"Principal {principal} trusts every caller"),
        )
    elif kind == "not-principal":
        out.add(
            statement,
            None,
            _issue(
                "principal-wildcard",
                "NotPrincipal in an Allow trusts everyone except the listed principals",
            ),
        )
    _lint_action(statement, out)
    foreign = _another_providers_key(statement, github_keys, out)
    if foreign is not None:
        _report_foreign_key(statement, foreign, out)
        return  # no GitHub token satisfies the statement: nothing of GitHub's to grade
    _lint_identity_operators(statement, github_keys, out)
    _lint_identity(statement, github_keys, out)
    _lint_aud(statement, github_keys, out)


def _another_providers_key(
    statement: Statement, github_keys: Iterable[Condition], out: _Collector
) -> Condition | None:
    """A condition requiring, with a positive operator, a key of another web identity provider
    (``accounts.google.com:sub``, an EKS issuer's ``:sub``), if the statement has one. A GitHub
    token never carries such a key, and a positive operator on an absent key is false, so the
    statement admits no GitHub token: "no subject condition" there would be a wrong critical.
    Keys without a host (``aws:``, ``sts:``) and misspelled GitHub hosts (linted as meant) do not
    count."""
    ours = {id(out.aliases.get(id(c), c)) for c in github_keys}
    for cond in statement.conditions:
        prefix, _ = _split_key(cond.key)
        if id(cond) in ours or "." not in prefix:
            continue
        if cond.operator.base == "Null" or cond.operator.if_exists:
            continue
        if _positive(cond) and cond.operator.qualifier != "ForAllValues":
            return cond
    return None


def _report_foreign_key(statement: Statement, cond: Condition, out: _Collector) -> None:
    """Beside another provider (GitHub's and Google's in one Federated list) the statement
    serves that provider: nothing to say. Trusting GitHub alone, it can never match."""
    paths = _provider_paths(statement)
    if not paths or not all(_GITHUB_PATH.match(p) for p in paths):
        return
    prefix, claim = _split_key(cond.key)
    out.add(
        statement,
        cond,
        _issue(
            "subject-never-matches",
            f"the key {cond.key!r} names the provider {prefix!r}, but the statement trusts only "
            "GitHub's provider, whose tokens never carry it: this condition never matches",
            fix=f"Test GitHub's claim instead ({_GITHUB_HOST}:{claim}), or delete the condition.",
        ),
    )


def _delete_unknown_claim(claim: str) -> str:
    if claim == "iss":
        return "Delete the iss condition: the provider in the Principal already fixes the issuer."
    return (
        f"Delete the {claim} condition; to restrict who may assume the role, test a claim AWS "
        "evaluates instead: sub, job_workflow_ref, repository, repository_id, ref, environment, "
        "workflow, actor, actor_id, enterprise_id or repository_owner_id."
    )


def _lint_question_mark(statement: Statement, cond: Condition, claim: str, out: _Collector) -> None:
    if cond.operator.positive != "StringLike":
        return
    for value in cond.values:
        if "?" in value.replace("${?}", ""):
            out.add(
                statement,
                cond,
                _issue(
                    "stringlike-question-mark",
                    f'{cond.operator.text} {claim} "{value}": each ? is exactly one character '
                    "(v? matches v1, not v10)",
                ),
            )
            return


def _repository_forms(
    policy: Policy,
) -> dict[tuple[str, str], dict[bool, tuple[Statement, Condition]]]:
    """(owner, repo) -> {immutable?: where a positive sub value names it in that form}."""
    found: dict[tuple[str, str], dict[bool, tuple[Statement, Condition]]] = {}
    for statement in policy.statements:
        if statement.effect != "Allow" or _principal_kind(statement) != "github":
            continue
        for cond in statement.conditions:
            if _split_key(cond.key)[1] != "sub" or not _positive(cond):
                continue
            for value in cond.values:
                if not value.startswith("repo:"):
                    continue
                owner, _, repo = value[len("repo:") :].partition(":")[0].partition("/")
                immutable = "@" in owner and "@" in repo
                names = (owner.split("@")[0].lower(), repo.split("@")[0].lower())
                if all(names) and not any(_wild(name) for name in names):
                    found.setdefault(names, {}).setdefault(immutable, (statement, cond))
    return found


def _lint_subject_forms(policy: Policy, out: _Collector) -> None:
    for (owner, repo), forms in _repository_forms(policy).items():
        if len(forms) == 2:
            statement, cond = forms[False]
            out.add(
                statement,
                cond,
                _issue(
                    "mixed-subject-forms",
                    f"{owner}/{repo} is trusted under both its name-based (repo:{owner}/{repo}:...) "
                    f"and its immutable (repo:{owner}@ID/{repo}@ID:...) subjects",
                ),
            )


def _lint_identity_operators(
    statement: Statement, github_keys: Iterable[Condition], out: _Collector
) -> None:
    prefixes = sorted(_github_prefixes(statement))
    for cond in github_keys:
        prefix, claim = _split_key(cond.key)
        if prefixes and prefix.lower() not in prefixes:
            out.add(
                statement,
                cond,
                _issue(
                    "key-prefix-mismatch",
                    f"the key prefix {prefix!r} is not the provider's issuer "
                    f"({', '.join(prefixes)})",
                    fix=f"Write the key as {prefixes[0]}:{claim}.",
                ),
            )
        if (
            claim in ("sub", "aud", "job_workflow_ref")
            and (cond.operator.negated or cond.operator.if_exists)
            and not _required_by_another(cond, claim, github_keys)
        ):
            out.add(
                statement,
                cond,
                _issue(
                    "negated-or-ifexists-identity",
                    f"{cond.operator.text} on {claim} in an Allow",
                ),
            )


def _required_by_another(cond: Condition, claim: str, github_keys: Iterable[Condition]) -> bool:
    """Is ``claim`` also tested by an AND-ed positive condition that requires it (StringEquals /
    StringLike, no IfExists, no ForAllValues)? Then a StringNotLike or an IfExists on it only
    narrows what that condition admits (philips-labs' deny_pull_request next to its allow): the
    positive condition is the pin, graded on its own, and the negated one opens no hole."""
    return any(
        other is not cond
        and _split_key(other.key)[1] == claim
        and _positive(other)
        and not other.operator.if_exists
        and other.operator.qualifier != "ForAllValues"
        for other in github_keys
    )


def _lint_action(statement: Statement, out: _Collector) -> None:
    if statement.not_actions is not None:
        out.add(
            statement,
            None,
            _issue(
                "action-missing-web-identity",
                f"NotAction {json.dumps(list(statement.not_actions))} in an Allow for GitHub",
            ),
        )
        return
    actions = statement.actions or ()
    if not any(wildcard_match(a, ACTION, ignore_case=True) for a in actions):
        out.add(
            statement,
            None,
            _issue(
                "action-missing-web-identity",
                f"Action {json.dumps(list(actions))} does not include {ACTION}",
            ),
        )
    elif any(a.lower() != ACTION.lower() for a in actions):
        out.add(
            statement,
            None,
            _issue(
                "action-too-broad", f"Action {json.dumps(list(actions))} allows more than {ACTION}"
            ),
        )


def _positive(cond: Condition) -> bool:
    return not cond.operator.negated and cond.operator.positive in _STRING_POSITIVE


_REPOSITORY_WIDE = frozenset({"subject-any-repository", "subject-org-wide"})


def _pinned_repository(github_keys: Iterable[Condition]) -> tuple[str, str] | None:
    """What an AND-ed StringEquals on ``repository`` / ``repository_id`` (("repository",
    "OWNER/REPO")) or else on ``repository_owner_id`` (("owner", "owner")) pins, or None
    (``repository_owner`` is not a key AWS evaluates: it pins nothing). STS evaluates these keys: a sub wildcard over the repository part
    then spans only that repository (``repo:*:environment:develop`` next to ``repository =
    acme/shop``), or that owner's repositories."""
    found: dict[str, str] = {}
    for cond in github_keys:
        claim = _split_key(cond.key)[1]
        if claim not in _PINNING or not _positive(cond) or cond.operator.if_exists:
            continue
        if cond.operator.qualifier == "ForAllValues":
            continue
        wildcards = cond.operator.base == "StringLike"
        values = [v for v in cond.values if v]
        if values and not (wildcards and any(_wild(v) for v in values)):
            level, named = _PINNING[claim]
            value = values[0]
            if not named or (level == "repository") != ("/" in value):
                value = "owner/repository" if level == "repository" else "the pinned owner"
            found.setdefault(level, value)
    for level in ("repository", "owner"):
        if level in found:
            return level, found[level]
    return None


_PINNING = {
    "repository": ("repository", True),
    "repository_id": ("repository", False),
    "repository_owner_id": ("owner", False),
}


def _grade_subject_pinned(value: str, pin: tuple[str, str], *, wildcards: bool) -> list[_Issue]:
    """Grade ``value`` with its repository part (or only its owner) read as what the AND-ed
    condition pins: ``repo:*`` then spans every context of that one repository (or the
    owner's repositories)."""
    level, pinned = pin
    if value.startswith("repo:"):
        segment, colon, context = value[len("repo:") :].partition(":")
        _, slash, repo = segment.partition("/")
    elif _only_wildcards(value):
        segment, colon, context, slash, repo = value, ":", value, "", ""
    elif level == "repository":
        return []  # a custom template's fields: the repository key is the pin
    else:
        return [
            _issue("subject-org-wide", f"{issue.message} (the owner is pinned by an AND-ed condition)")
            if issue.rule == "subject-any-repository"
            else issue
            for issue in grade_subject(value, wildcards=wildcards)
        ]
    if level == "repository":
        stand_in = f"repo:{pinned}{colon}{context}"
    else:
        stand_in = f"repo:{pinned}/{repo if slash else '*'}{colon}{context}"
    return [
        replace(
            issue,
            message=issue.message.replace(f'sub "{stand_in}"', f'sub "{value}"')
            + f" (the {level} is pinned by an AND-ed condition)",
        )
        for issue in grade_subject(stand_in, wildcards=wildcards)
    ]


def _grade_condition(
    cond: Condition, claim: str, repository: tuple[str, str] | None = None
) -> list[tuple[str, _Issue]]:
    wildcards = cond.operator.base == "StringLike"
    graded: list[tuple[str, _Issue]] = []
    for value in cond.values:
        if cond.operator.base.startswith("StringEquals") and _wild(value):
            message = (
                f'{cond.operator.text} takes "{value}" literally: no token has a {claim} with a '
                "literal * or ?, so this value never matches"
            )
            graded.append((value, _issue("stringequals-wildcard", message)))
            continue
        if claim == "sub":
            issues = grade_subject(value, wildcards=wildcards)
            if repository and any(issue.rule in _REPOSITORY_WIDE for issue in issues):
                issues = _grade_subject_pinned(value, repository, wildcards=wildcards)
        else:
            issues = grade_job_workflow_ref(value, wildcards=wildcards)
        graded.extend((value, issue) for issue in issues)
    return graded


def _lint_identity(statement: Statement, github_keys: Iterable[Condition], out: _Collector) -> None:
    identity = [
        (c, claim)
        for c in github_keys
        if (claim := _split_key(c.key)[1]) in _IDENTITY and _positive(c)
    ]
    if not identity:
        out.add(
            statement,
            None,
            _issue(
                "no-subject-condition",
                "no StringEquals/StringLike condition on sub or job_workflow_ref",
            ),
        )
        return
    github_keys = list(github_keys)
    repository = _pinned_repository(github_keys)
    graded = [(cond, claim, _grade_condition(cond, claim, repository)) for cond, claim in identity]
    # A claim is pinned when one of its (AND-ed) conditions has only tight values.
    tight = dict.fromkeys(_IDENTITY, False)
    for _, claim, items in graded:
        if not any(issue.loose for _, issue in items):
            tight[claim] = True
    for cond, claim, items in graded:
        own_tight = not any(issue.loose for _, issue in items)
        other = "job_workflow_ref" if claim == "sub" else "sub"
        narrowed_by = other if tight[other] else None
        if narrowed_by is None and tight[claim] and not own_tight:
            narrowed_by = f"another {claim} condition"
        for value, issue in items:
            final = issue
            downgradable = (
                issue.loose
                and issue.rule != "stringequals-wildcard"
                and (issue.severity != "critical" or claim == "job_workflow_ref")
            )
            if narrowed_by and downgradable:
                final = replace(
                    issue,
                    severity="low",
                    message=f"{issue.message} (narrowed by the AND-ed {narrowed_by} pin)",
                )
            elif issue.loose and len(cond.values) > 1:
                final = replace(
                    issue,
                    message=f"{issue.message}; values are OR-ed, so this list is as loose as its "
                    f'loosest value, "{value}"',
                )
            out.add(statement, cond, final, value)
    _lint_names(statement, identity, github_keys, out)


def _name_based(value: str) -> bool:
    """``repo:OWNER/REPO...`` rather than ``repo:OWNER@ID/REPO@ID...``."""
    if not value.startswith("repo:"):
        return False
    segment = value[len("repo:") :].partition(":")[0]
    return "/" in segment and "@" not in segment


def _lint_names(
    statement: Statement,
    identity: list[tuple[Condition, str]],
    github_keys: Iterable[Condition],
    out: _Collector,
) -> None:
    pinned_ids = any(
        _split_key(c.key)[1] in ("repository_id", "repository_owner_id") and _positive(c)
        for c in github_keys
    )
    if pinned_ids:
        return
    for cond, claim in identity:
        names = [v for v in cond.values if claim == "sub" and _name_based(v)]
        if names:
            message = f"name-based subject(s): {listed(names)}"
            out.add(statement, cond, _issue("name-based-subject", message))
            return


def _lint_aud(statement: Statement, github_keys: Iterable[Condition], out: _Collector) -> None:
    for cond in github_keys:
        if (
            _split_key(cond.key)[1] == "aud"
            and _positive(cond)
            and not cond.operator.if_exists
            and cond.values
            and not (cond.operator.base == "StringLike" and any(_wild(v) for v in cond.values))
        ):
            return
    out.add(statement, None, _issue("aud-not-pinned", "aud is not pinned with StringEquals"))


# --- reports ---------------------------------------------------------------------------------


def exit_code(findings: Iterable[Finding]) -> int:
    return 1 if any(f.severity in FAILING for f in findings) else 0


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    out: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
    for finding in findings:
        out[finding.severity] += 1
    return out


def render_text(
    findings: Sequence[Finding], sources: Sequence[str], skipped: Sequence[str] = ()
) -> str:
    lines: list[str] = []
    for source in sources:
        mine = [f for f in findings if f.source == source]
        worst = f"worst: {mine[0].severity.upper()}" if mine else "clean"
        lines.append(f"{source}: {len(mine)} finding(s), {worst}")
        for f in mine:
            where = f"statement {f.statement}" if f.statement else "policy"
            lines.append(f"  [{f.severity.upper()}] {f.rule} ({where})")
            if f.condition is not None:
                lines.append(f"    condition: {f.condition.describe()}")
            lines.append(f"    {f.message}")
            lines.append(f"    why: {f.why}")
            lines.append(f"    fix: {f.fix}")
    lines.extend(f"skipped {note}" for note in skipped)
    total = counts(findings)
    verdict = " -> exit 1 (high or critical)" if exit_code(findings) else " -> exit 0"
    summary = ", ".join(f"{n} {sev}" for sev, n in total.items())
    lines.append(f"{sum(total.values())} finding(s): {summary}{verdict}")
    return "".join(escape_controls(line) + "\n" for line in lines)


def render_json(
    findings: Sequence[Finding],
    sources: Sequence[str],
    skipped: Sequence[str] = (),
    refused: Sequence[tuple[str, str]] = (),
) -> str:
    """The report; ``refused``: (file, error) for each file that could not be linted (exit 2)."""
    report = {
        "policies": list(sources),
        "skipped": list(skipped),
        "refused": [{"file": path, "error": error} for path, error in refused],
        "findings": [f.to_dict() for f in findings],
        "counts": counts(findings),
        "exit_code": 2 if refused else exit_code(findings),
    }
    return json.dumps(report, indent=2) + "\n"
