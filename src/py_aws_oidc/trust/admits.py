"""Who can assume a role, in plain words: the owners, repositories, refs, environments, pull
requests and reusable workflows a trust policy admits (``trust audit``).

Each Allow statement that GitHub tokens can satisfy (a GitHub provider, or ``*``, as principal;
an action that covers ``sts:AssumeRoleWithWebIdentity``) is one :class:`Grant`: its ``sub`` and
``job_workflow_ref`` values (OR-ed within a key, AND-ed between keys) and the other claims it
tests, described value by value. Whether *any repository on GitHub* is admitted is not guessed
from the text: a stranger's token (an owner and repository nobody in the policy names, with every
claim a stranger controls, such as the ref, the environment or the audience, chosen to fit) is
built for each pattern and evaluated against the whole policy with the doctor's IAM evaluator
(:mod:`.evaluate`, Deny statements included). If IAM would let that token in, the role is open to
any repository on GitHub.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice, product

from .claims import decode_value
from .evaluate import ACTION, GITHUB_ISSUER, Request, evaluate, wildcard_match
from .lint import is_github_provider_path
from .policy import Condition, Policy, Statement

ANY_REPOSITORY = "any repository on GitHub"
STRANGER_OWNER = "someone-else-7f3a"
STRANGER_REPO = "any-repo"
_STRANGER = f"{STRANGER_OWNER}/{STRANGER_REPO}"
_STRANGER_SUB = f"repo:{_STRANGER}:ref:refs/heads/main"
_STRANGER_JWR = f"{_STRANGER}/.github/workflows/w.yml@refs/heads/main"
_POSITIVE = ("StringEquals", "StringLike", "StringEqualsIgnoreCase")
# Claims whose value the workflow's author picks (a stranger can give them any value).
_CHOSEN = ("ref", "environment", "workflow", "runner_environment", "actor", "aud", "amr")
_MAX_PROBES = 20  # per key: the first values are enough to find an open pattern


def _claim(key: str) -> str:
    return key.rpartition(":")[2].lower()


def _wild(text: str, wildcards: bool) -> bool:
    return wildcards and ("*" in text or "?" in text)


@dataclass(frozen=True)
class Subject:
    """One ``sub`` value in words, with the parts the report groups by."""

    value: str
    words: str
    owner: str | None = None
    repository: str | None = None
    ref: str | None = None
    environment: str | None = None
    pull_request: bool = False


def _context_words(context: str, wildcards: bool) -> tuple[str, str | None, str | None, bool]:
    """(words, ref, environment, pull_request?) for the part of a sub after ``repo:O/R:``."""
    if context == "" or (wildcards and context == "*"):
        return "every branch, tag, environment and pull request", None, None, False
    if context == "pull_request":
        return "pull requests (any head branch)", None, None, True
    kind, _, rest = context.partition(":")
    if kind == "environment":
        name = decode_value(rest)
        shown = f"environments matching {name}" if _wild(name, wildcards) else f"environment {name}"
        return shown, None, name, False
    if kind == "ref":
        for prefix, noun, nouns in (
            ("refs/heads/", "branch", "branches"),
            ("refs/tags/", "tag", "tags"),
        ):
            if rest.startswith(prefix):
                name = rest[len(prefix) :]
                shown = f"{nouns} matching {name}" if _wild(name, wildcards) else f"{noun} {name}"
                return shown, rest, None, False
        return (
            (f"refs matching {rest}" if _wild(rest, wildcards) else f"ref {rest}"),
            rest,
            None,
            False,
        )
    if _wild(context, wildcards):
        return f"any context matching {context}", None, None, False
    return f"context {context}", None, None, False


def describe_subject(value: str, *, wildcards: bool) -> Subject:
    """``repo:octo-org/app:ref:refs/heads/main`` -> "octo-org/app: branch main"."""
    if wildcards and set(value) <= {"*", "?"} and value:
        return Subject(value, f'any subject ("{value}")')
    if not value.startswith("repo:"):
        return Subject(value, f'the custom subject "{value}"')
    segment, colon, context = value[len("repo:") :].partition(":")
    owner, slash, repo = segment.partition("/")
    if _wild(owner, wildcards) or not slash:
        where = f"repositories matching {segment} (any owner)"
        return Subject(value, f"{where}: {_context_words(context, wildcards)[0]}")
    if _wild(repo, wildcards):
        repo_words = (
            f"every repository of {owner}"
            if repo == "*"
            else (f"repositories of {owner} matching {repo}")
        )
        repository = f"{owner}/{repo}"
    else:
        repo_words = repository = f"{owner}/{repo}"
    words, ref, environment, pull = _context_words(context if colon else "", wildcards)
    return Subject(value, f"{repo_words}: {words}", owner, repository, ref, environment, pull)


@dataclass(frozen=True)
class Grant:
    """One Allow statement GitHub tokens can satisfy, and whom it admits."""

    statement: str
    subjects: tuple[Subject, ...]  # () when no positive sub condition
    workflows: tuple[str, ...]  # job_workflow_ref values; () when none
    conditions: tuple[str, ...]  # the other claims it tests, as written
    any_repository: bool
    never: str | None = None  # why no token can meet the statement's conditions
    denies: tuple[str, ...] = ()  # Deny statements of the policy, which take some back

    @property
    def words(self) -> list[str]:
        if self.never is not None:
            return [f"nobody: {self.never}"]
        extra = ""
        if self.workflows:
            extra += " via the reusable workflow " + " or ".join(self.workflows)
        if self.conditions:
            extra += " when " + " and ".join(self.conditions)
        if self.denies:
            extra += f", less what Deny statement {' and '.join(self.denies)} excludes"
        if self.any_repository:
            shown = " or ".join(f'"{subject.value}"' for subject in self.subjects)
            return [f"{ANY_REPOSITORY}{f' (sub {shown})' if shown else ''}{extra}"]
        if not self.subjects:
            who = "any repository" if self.workflows else "any subject"
            return [f"{who}{extra}"]
        return [f"{subject.words}{extra}" for subject in self.subjects]

    def to_dict(self) -> dict[str, object]:
        return {
            "statement": self.statement,
            "subjects": [subject.value for subject in self.subjects],
            "job_workflow_refs": list(self.workflows),
            "conditions": list(self.conditions),
            "any_repository": self.any_repository,
            "never_matches": self.never,
            "words": self.words,
        }


@dataclass(frozen=True)
class Admits:
    """Everyone a role admits, grouped; ``words`` is the plain-language answer."""

    grants: tuple[Grant, ...] = field(default_factory=tuple)

    @property
    def any_repository(self) -> bool:
        return any(grant.any_repository for grant in self.grants)

    @property
    def nobody(self) -> bool:
        return all(grant.never is not None for grant in self.grants)

    def _subjects(self) -> list[Subject]:
        return [subject for grant in self.grants for subject in grant.subjects]

    @property
    def words(self) -> list[str]:
        if not self.grants:
            return ["nobody: no Allow statement lets a GitHub token in"]
        lines = [line for grant in self.grants for line in grant.words]
        return list(dict.fromkeys(lines))

    def to_dict(self) -> dict[str, object]:
        subjects = self._subjects()

        def unique(values: Iterable[str | None]) -> list[str]:
            return list(dict.fromkeys(v for v in values if v))

        return {
            "any_repository": self.any_repository,
            "nobody": self.nobody,
            "owners": unique(s.owner for s in subjects),
            "repositories": unique(s.repository for s in subjects),
            "refs": unique(s.ref for s in subjects),
            "environments": unique(s.environment for s in subjects),
            "pull_requests": unique(s.repository for s in subjects if s.pull_request),
            "reusable_workflows": unique(w for g in self.grants for w in g.workflows),
            "words": self.words,
            "grants": [grant.to_dict() for grant in self.grants],
        }


# --- which statements let GitHub tokens in -----------------------------------------------------


def github_providers(statement: Statement) -> list[str]:
    """The GitHub provider ARNs a statement names as Federated principal."""
    if statement.principal is None:
        return []
    return [
        arn
        for arn in statement.principal.values("Federated")
        if is_github_provider_path(arn.partition(":oidc-provider/")[2])
    ]


def _opens_to_github(statement: Statement) -> bool:
    if statement.effect != "Allow":
        return False
    principal = statement.principal
    trusted = principal is None or (  # NotPrincipal in an Allow: everyone but the listed ones
        principal.wildcard
        or "*" in principal.values("Federated")
        or bool(github_providers(statement))
    )
    if statement.not_actions is not None:
        return trusted and not any(
            wildcard_match(a, ACTION, ignore_case=True) for a in statement.not_actions
        )
    return trusted and any(
        wildcard_match(a, ACTION, ignore_case=True) for a in statement.actions or ()
    )


def _positive(cond: Condition) -> bool:
    return not cond.operator.negated and cond.operator.positive in _POSITIVE


def _identity_values(statement: Statement, claim: str) -> list[tuple[str, bool]]:
    """(value, StringLike?) of every positive condition on ``claim``."""
    return [
        (value, cond.operator.base == "StringLike")
        for cond in statement.conditions
        if _claim(cond.key) == claim and _positive(cond)
        for value in cond.values
    ]


# --- the stranger's token ---------------------------------------------------------------------


def _instantiate(pattern: str, wildcards: bool, lead: str, fill: str) -> str:
    """A value a stranger can get that matches ``pattern``: a leading ``*`` becomes ``lead``
    (the stranger's own repository), any other ``*`` ``fill``, each ``?`` one letter."""
    if not wildcards:
        return pattern
    if pattern.startswith("*"):
        pattern = lead + pattern[1:]
    return pattern.replace("*", fill).replace("?", "x")


def _owner_of_sub(sub: str) -> str | None:
    """The owner a sub names (None: a custom subject naming no owner or repository)."""
    if sub.startswith("repo:"):
        return sub[len("repo:") :].partition(":")[0].partition("/")[0].partition("@")[0]
    fields = sub.split(":")
    values = dict(zip(fields[0::2], fields[1::2], strict=False))
    if "repository" in values:
        return values["repository"].partition("/")[0]
    return values.get("repository_owner")


def _chosen_claims(statement: Statement) -> dict[str, str]:
    """Claims a stranger chooses, set to fit the statement's first positive value."""
    out = {"aud": "sts.amazonaws.com", "ref": "refs/heads/main"}
    for cond in statement.conditions:
        claim = _claim(cond.key)
        if claim in _CHOSEN and _positive(cond) and cond.values:
            like = cond.operator.base == "StringLike"
            out[claim] = _instantiate(cond.values[0], like, "x", "x")
    return out


def _alone(policy: Policy, statement: Statement) -> Policy:
    """The statement with every Deny (which still wins): another Allow has its own grant."""
    kept = tuple(s for s in policy.statements if s is statement or s.effect == "Deny")
    return Policy(policy.source, policy.version, kept)


def _never(policy: Policy, statement: Statement, issuer: str) -> str | None:
    """Why even the token the statement describes is refused (each sub value tried with the
    first value of every other condition), or None when one of them gets in."""
    claims: dict[str, object] = {}
    for cond in statement.conditions:
        if _positive(cond) and cond.values and is_github_provider_path(cond.key.rpartition(":")[0]):
            like = cond.operator.base == "StringLike"
            claims.setdefault(_claim(cond.key), _instantiate(cond.values[0], like, "x", "x"))
    claims = {"aud": "sts.amazonaws.com", **claims, "iss": issuer}
    subs = [
        _instantiate(value, like, "repo:x/x", "x")
        for value, like in _identity_values(statement, "sub")
        if like or not ("*" in value or "?" in value)  # GitHub never mints a literal * or ?
    ]
    if not subs and _identity_values(statement, "sub"):
        return "StringEquals takes * and ? literally, and no subject GitHub mints holds them"
    reason = None
    alone = Policy(policy.source, policy.version, (statement,))  # a Deny may close some, not all
    for sub in subs[:_MAX_PROBES] or [str(claims.get("sub", _STRANGER_SUB))]:
        owner, _, repo = sub.removeprefix("repo:").partition(":")[0].partition("/")
        probe = {"repository": f"{owner}/{repo}", "repository_owner": owner, **claims, "sub": sub}
        decision = evaluate(alone, Request.from_claims(probe))
        if decision.allowed:
            return None
        failed = decision.condition
        reason = reason or (
            f"{failed.condition.describe()} is never true ({failed.reason})"
            if failed is not None
            else decision.reason
        )
    return reason


def _stranger_admitted(policy: Policy, statement: Statement, issuer: str) -> bool:
    subs = _identity_values(statement, "sub")[:_MAX_PROBES]
    jwrs = _identity_values(statement, "job_workflow_ref")[:_MAX_PROBES]
    sub_probes = [_instantiate(v, like, f"repo:{_STRANGER}", _STRANGER) for v, like in subs]
    jwr_probes: list[str | None] = [_instantiate(v, like, _STRANGER, _STRANGER) for v, like in jwrs]
    base = _chosen_claims(statement)
    alone = _alone(policy, statement)
    for sub, jwr in islice(product(sub_probes or [_STRANGER_SUB], jwr_probes or [None]), 100):
        owners = (_owner_of_sub(sub), None if jwr is None else jwr.partition("/")[0])
        if not all(owner is None or STRANGER_OWNER in owner for owner in owners):
            continue  # the pattern names an owner: a stranger cannot take its name
        claims: dict[str, object] = {
            **base,
            "iss": issuer,
            "sub": sub,
            "repository": _STRANGER,
            "repository_owner": STRANGER_OWNER,
            "repository_id": "1",
            "repository_owner_id": "1",
            "job_workflow_ref": jwr or _STRANGER_JWR,
        }
        if evaluate(alone, Request.from_claims(claims)).allowed:
            return True
    return False


def _issuer(statement: Statement) -> str:
    providers = github_providers(statement)
    if providers:
        return "https://" + providers[0].partition(":oidc-provider/")[2]
    for cond in statement.conditions:
        prefix = cond.key.rpartition(":")[0]
        if prefix and is_github_provider_path(prefix):
            return "https://" + prefix
    return GITHUB_ISSUER


def _other_conditions(statement: Statement) -> tuple[str, ...]:
    out = []
    for cond in statement.conditions:
        claim = _claim(cond.key)
        if claim in ("sub", "job_workflow_ref") and _positive(cond):
            continue
        if claim == "aud" and _positive(cond):
            continue  # the audience says what the token is for, not who holds it
        out.append(f"{claim} {cond.operator.text} {', '.join(cond.values)}")
    return tuple(out)


def grant_of(policy: Policy, statement: Statement) -> Grant:
    subjects = tuple(
        describe_subject(value, wildcards=like)
        for value, like in _identity_values(statement, "sub")
    )
    workflows = tuple(value for value, _ in _identity_values(statement, "job_workflow_ref"))
    issuer = _issuer(statement)
    return Grant(
        statement=statement.label,
        subjects=subjects,
        workflows=workflows,
        conditions=_other_conditions(statement),
        any_repository=_stranger_admitted(policy, statement, issuer),
        never=_never(policy, statement, issuer),
        denies=tuple(s.label for s in policy.statements if s.effect == "Deny"),
    )


def admits(policy: Policy) -> Admits:
    """Whom ``policy`` admits, statement by statement."""
    grants: Sequence[Grant] = [
        grant_of(policy, statement)
        for statement in policy.statements
        if _opens_to_github(statement)
    ]
    return Admits(tuple(grants))
