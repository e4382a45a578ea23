"""``trust audit``: every role of a live account that a GitHub workflow can assume.

The account's OIDC providers are read first (so a role that trusts a provider the account lacks
is known as soon as its page arrives), then ListRoles page by page: each role whose trust policy
names a GitHub provider (a Federated principal, or a condition key with a GitHub issuer prefix)
is linted with ``trust lint``'s rules (:func:`.lint.lint_policy`, the one rule engine) and
described with :func:`.admits.admits`. Provider findings come last, when every role is known.
Rendering is in :mod:`.audit_render`; the IAM calls in :mod:`.iam`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from .admits import Admits, admits, github_providers
from .errors import MalformedPolicyError
from .iam import OidcProvider, RoleRecord, decode_document
from .lint import SEVERITIES, Finding, Rule, Severity, is_github_provider_path, lint_policy
from .policy import Policy, parse_policy_text

STS_AUDIENCE = "sts.amazonaws.com"
FAIL_ON = (*SEVERITIES, "never")

AUDIT_RULES: tuple[Rule, ...] = (
    Rule(
        "provider-missing",
        "medium",
        "A role trusts a GitHub OIDC provider that does not exist in the account",
        "STS refuses tokens from an issuer the account has no provider for, so the role cannot "
        "be assumed from GitHub today; the day someone creates that provider, the role's trust "
        "policy applies as written, unreviewed.",
        "Create the provider (audience sts.amazonaws.com) if the role is in use, or delete the "
        "role.",
    ),
    Rule(
        "provider-audience-missing",
        "medium",
        "A GitHub OIDC provider whose audience list (client IDs) lacks sts.amazonaws.com",
        "STS refuses a token whose aud is not among the provider's client IDs; GitHub's tokens "
        "for AWS carry sts.amazonaws.com (the action's default audience), so roles trusting "
        "this provider fail unless every workflow requests another audience.",
        "Add sts.amazonaws.com to the provider's client IDs (aws iam "
        "add-client-id-to-open-id-connect-provider), or pin the audience your workflows request.",
    ),
    Rule(
        "provider-unused",
        "low",
        "A GitHub OIDC provider that no role trusts",
        "It admits nobody today, but any role later created to trust it (by hand, from a "
        "tutorial) is one step from being open, and an unused trust anchor is one more thing "
        "an audit has to explain.",
        "Delete the provider if no role is meant to trust it.",
    ),
    Rule(
        "trust-policy-unreadable",
        "medium",
        "A role's trust policy names a GitHub provider but is not a policy the linter can read",
        "Its conditions were not checked, so nobody knows whom it admits.",
        "Read it with `aws iam get-role` and fix or lint it by hand.",
    ),
)
AUDIT_RULE_BY_ID = {rule.id: rule for rule in AUDIT_RULES}
_GITHUB_ARN = re.compile(r"oidc-provider/([^\"',\s}\]]+)", re.IGNORECASE)


def audit_finding(rule_id: str, source: str, message: str) -> Finding:
    rule = AUDIT_RULE_BY_ID[rule_id]
    return Finding(rule.id, rule.severity, source, None, None, message, rule.why, rule.fix)


@dataclass
class ProviderReport:
    provider: OidcProvider
    github: bool
    roles: list[str] = field(default_factory=list)  # names of the roles that trust it
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "arn": self.provider.arn,
            "issuer": f"https://{self.provider.path}",
            "github": self.github,
            "audiences": list(self.provider.audiences),
            "roles": list(self.roles),
            "findings": [finding.to_dict() for finding in self.findings],
        }


@dataclass
class RoleReport:
    arn: str
    name: str
    providers: list[str]  # the GitHub provider ARNs the role trusts
    admits: Admits | None  # None: the policy could not be read
    findings: list[Finding]
    pinned_audiences: set[str] = field(default_factory=set)
    provider_missing: bool = False  # every GitHub provider it names is missing from the account

    @property
    def words(self) -> list[str]:
        """Who can assume it, in plain words."""
        if self.admits is None:
            return ["unknown: the trust policy could not be read"]
        if self.provider_missing and not self.admits.nobody:
            return [
                "nobody today (the provider it trusts is not in the account); as written: "
                + "; ".join(self.admits.words)
            ]
        return self.admits.words

    @property
    def worst(self) -> Severity | None:
        return min((f.severity for f in self.findings), key=SEVERITIES.index, default=None)

    def to_dict(self) -> dict[str, object]:
        return {
            "arn": self.arn,
            "name": self.name,
            "provider": self.providers[0] if self.providers else None,
            "providers": list(self.providers),
            "admits": None
            if self.admits is None
            else {**self.admits.to_dict(), "words": self.words},
            "findings": [finding.to_dict() for finding in self.findings],
        }


@dataclass
class AuditReport:
    account: str | None
    providers: list[ProviderReport]
    roles: list[RoleReport]

    def findings(self) -> Iterator[Finding]:
        for provider in self.providers:
            yield from provider.findings
        for role in self.roles:
            yield from role.findings

    def counts(self) -> dict[str, int]:
        out = {
            "providers": len(self.providers),
            "github_providers": sum(1 for p in self.providers if p.github),
            "roles": len(self.roles),
            "any_repository": sum(1 for r in self.roles if r.admits and r.admits.any_repository),
        }
        out.update(dict.fromkeys(SEVERITIES, 0))
        for finding in self.findings():
            out[finding.severity] += 1
        return out

    def to_dict(self) -> dict[str, object]:
        return {
            "account": self.account,
            "providers": [provider.to_dict() for provider in self.providers],
            "roles": [role.to_dict() for role in self.roles],
            "counts": self.counts(),
        }


def exit_code(findings: Iterable[Finding], fail_on: str) -> int:
    """1 when a finding is at least as severe as ``fail_on`` (``never``: always 0)."""
    if fail_on == "never":
        return 0
    limit = [str(s) for s in SEVERITIES].index(fail_on)
    return 1 if any(SEVERITIES.index(f.severity) <= limit for f in findings) else 0


# --- one role -------------------------------------------------------------------------------------


def _names_github(policy: Policy) -> list[str] | None:
    """The GitHub provider ARNs the policy trusts; None when it names no GitHub issuer at all."""
    arns: list[str] = []
    keyed = False
    for statement in policy.statements:
        arns.extend(a for a in github_providers(statement) if a not in arns)
        keyed = keyed or any(
            is_github_provider_path(c.key.rpartition(":")[0]) for c in statement.conditions
        )
    return arns if arns or keyed else None


def _pinned_audiences(policy: Policy) -> set[str]:
    return {
        value
        for statement in policy.statements
        if statement.effect == "Allow"
        for cond in statement.conditions
        if cond.key.rpartition(":")[2].lower() == "aud"
        and cond.operator.base == "StringEquals"
        and not cond.operator.negated
        for value in cond.values
    }


def _unreadable(record: RoleRecord, text: str, error: str) -> RoleReport | None:
    named = [m.group(1) for m in _GITHUB_ARN.finditer(text)]
    github = [path for path in named if is_github_provider_path(path)]
    if not github:
        return None
    finding = audit_finding("trust-policy-unreadable", record.arn, error)
    return RoleReport(record.arn, record.name, [], None, [finding])


def audit_role(record: RoleRecord, known: Sequence[OidcProvider]) -> RoleReport | None:
    """The role's report, or None when its trust policy names no GitHub provider."""
    text = decode_document(record.document)
    try:
        policy = parse_policy_text(text, record.arn)
    except MalformedPolicyError as exc:
        return _unreadable(record, text, exc.message)
    providers = _names_github(policy)
    if providers is None:
        return None
    findings = lint_policy(policy)
    known_arns = {p.arn.lower() for p in known}
    missing = [arn for arn in providers if arn.lower() not in known_arns]
    findings.extend(
        audit_finding(
            "provider-missing",
            record.arn,
            f"the role trusts {arn}, which is not an OIDC provider of this account",
        )
        for arn in missing
    )
    findings.sort(key=lambda f: SEVERITIES.index(f.severity))
    return RoleReport(
        record.arn,
        record.name,
        providers,
        admits(policy),
        findings,
        _pinned_audiences(policy),
        provider_missing=bool(providers) and len(missing) == len(providers),
    )


# --- the account ----------------------------------------------------------------------------------


def _provider_findings(report: ProviderReport, users: list[RoleReport]) -> None:
    provider = report.provider
    if not users:
        report.findings.append(
            audit_finding(
                "provider-unused",
                provider.arn,
                f"no role of the account trusts the provider {provider.path}",
            )
        )
    audiences = set(provider.audiences)
    # Roles that each pin an audience the provider lists do not need sts.amazonaws.com.
    served = bool(users) and all(role.pinned_audiences & audiences for role in users)
    if STS_AUDIENCE not in audiences and not served:
        shown = ", ".join(provider.audiences) or "none"
        report.findings.append(
            audit_finding(
                "provider-audience-missing",
                provider.arn,
                f"the provider {provider.path} lists the audiences {shown}, not {STS_AUDIENCE}",
            )
        )


def _account_of(arns: Iterable[str]) -> str | None:
    for arn in arns:
        parts = arn.split(":")
        if len(parts) > 4 and parts[4]:
            return parts[4]
    return None


def build_report(
    providers: Sequence[OidcProvider], role_pages: Iterable[Sequence[RoleRecord]]
) -> AuditReport:
    """Lint each page of roles as it arrives, then judge the providers."""
    roles: list[RoleReport] = []
    seen_arns: list[str] = [p.arn for p in providers]
    for page in role_pages:
        for record in page:
            if len(seen_arns) < 2:
                seen_arns.append(record.arn)
            role = audit_role(record, providers)
            if role is not None:
                roles.append(role)
    provider_reports = []
    for provider in providers:
        github = is_github_provider_path(provider.path)
        report = ProviderReport(provider, github)
        if github:
            users = [r for r in roles if provider.arn.lower() in {a.lower() for a in r.providers}]
            report.roles = [r.name for r in users]
            _provider_findings(report, users)
        provider_reports.append(report)
    roles.sort(key=lambda r: (SEVERITIES.index(r.worst) if r.worst else len(SEVERITIES), r.name))
    return AuditReport(_account_of(seen_arns), provider_reports, roles)


def run_audit(
    *,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    name_prefix: str,
) -> AuditReport:
    from .iam import IamReader

    reader = IamReader(profile=profile, region=region, endpoint_url=endpoint_url)
    providers = reader.providers()
    return build_report(providers, reader.role_pages(name_prefix))
