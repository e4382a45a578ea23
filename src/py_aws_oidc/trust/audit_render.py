"""``trust audit --format text|json|sarif|markdown``.

* text: a table a person reads in a terminal (role, worst finding, who can assume it), then each
  role's findings; control characters from role names and policies are shown escaped (``\\x1b``).
* json: ``{"account", "providers", "roles": [{"arn", "name", "provider", "admits", "findings"}],
  "counts"}``.
* sarif: SARIF 2.1.0 for code scanning: ``trust lint``'s rule metadata plus the audit's rules;
  each result's artifact is the role's (or provider's) ARN, also given as a logical location, and
  the counts are in the run's ``properties`` (what the example workflow puts in the job summary).
* markdown: for ``$GITHUB_STEP_SUMMARY`` (a private place: it names roles; the example workflow
  writes only the counts to a public summary).
"""

from __future__ import annotations

import hashlib
import json

from .audit import AUDIT_RULES, AuditReport
from .lint import RULES, SEVERITIES, Finding
from .sarif import LEVELS, sarif_log
from .textsafe import escape_controls

_ALL_RULES = (*RULES, *AUDIT_RULES)
_RULE_INDEX = {rule.id: index for index, rule in enumerate(_ALL_RULES)}


def render_json(report: AuditReport) -> str:
    return json.dumps(report.to_dict(), indent=2) + "\n"


def _counts_line(report: AuditReport) -> str:
    counts = report.counts()
    severities = ", ".join(f"{counts[s]} {s}" for s in SEVERITIES)
    return (
        f"{counts['roles']} role(s) trust GitHub ({counts['any_repository']} open to any "
        f"repository on GitHub), {counts['github_providers']} GitHub provider(s); "
        f"findings: {severities}"
    )


def render_text(report: AuditReport, exit_status: int) -> str:
    e = escape_controls
    lines = [f"account {report.account or '(unknown)'}", "", "OIDC providers:"]
    for p in report.providers:
        kind = "GitHub" if p.github else "other"
        used = f"{len(p.roles)} role(s)" if p.github else "-"
        lines.append(
            f"  {e(p.provider.path)}  [{kind}]  audiences: {e(', '.join(p.provider.audiences))}"
            f"  used by: {used}"
        )
    if not report.providers:
        lines.append("  (none)")
    width = max([len(e(r.name)) for r in report.roles] + [4])
    lines += ["", f"{'ROLE':<{width}}  {'WORST':<8}  WHO CAN ASSUME IT"]
    for role in report.roles:
        worst = role.worst.upper() if role.worst else "clean"
        who = role.words
        lines.append(f"{e(role.name):<{width}}  {worst:<8}  {e(who[0])}")
        lines.extend(f"{'':<{width}}  {'':<8}  {e(more)}" for more in who[1:])
    if not report.roles:
        lines.append("(no role trusts a GitHub OIDC provider)")
    lines += ["", "Findings:"]
    for finding in report.findings():
        where = f"statement {finding.statement}" if finding.statement else "-"
        lines.append(
            f"  [{finding.severity.upper()}] {finding.rule}: {e(finding.source)} ({where})"
        )
        if finding.condition is not None:
            lines.append(f"    condition: {e(finding.condition.describe())}")
        lines.append(f"    {e(finding.message)}")
        lines.append(f"    fix: {finding.fix}")
    lines += ["", f"{_counts_line(report)} -> exit {exit_status}"]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    """A table cell: control characters escaped, pipes and markup neutralised."""
    out = escape_controls(text)
    for char in "\\|`*_[]<>":
        out = out.replace(char, "\\" + char)
    return out


def render_markdown(report: AuditReport, exit_status: int) -> str:
    counts = report.counts()
    lines = [
        f"## py-aws-oidc trust audit: account {_md(report.account or '(unknown)')}",
        "",
        "| roles trusting GitHub | open to any repository | GitHub providers | critical | high "
        "| medium | low |",
        "|---|---|---|---|---|---|---|",
        f"| {counts['roles']} | {counts['any_repository']} | {counts['github_providers']} | "
        + " | ".join(str(counts[s]) for s in SEVERITIES)
        + " |",
        "",
        "| role | worst | who can assume it | findings |",
        "|---|---|---|---|",
    ]
    for role in report.roles:
        rules = ", ".join(dict.fromkeys(f"{f.rule} ({f.severity})" for f in role.findings))
        lines.append(
            f"| {_md(role.name)} | {role.worst or 'clean'} | "
            f"{'<br>'.join(_md(w) for w in role.words)} | {_md(rules) or '-'} |"
        )
    lines += ["", "| provider | audiences | roles | findings |", "|---|---|---|---|"]
    for p in report.providers:
        if not p.github:
            continue
        rules = ", ".join(f"{f.rule} ({f.severity})" for f in p.findings)
        lines.append(
            f"| {_md(p.provider.path)} | {_md(', '.join(p.provider.audiences))} | "
            f"{len(p.roles)} | {_md(rules) or '-'} |"
        )
    lines += ["", f"Exit status {exit_status}."]
    return "\n".join(lines) + "\n"


def _result(finding: Finding, name: str) -> dict[str, object]:
    text = finding.message
    if finding.statement is not None:
        text += f" (statement {finding.statement})"
    if finding.condition is not None:
        text += f" (condition: {finding.condition.describe()})"
    fingerprint = hashlib.sha256(
        "\0".join((finding.rule, finding.source, finding.message)).encode()
    ).hexdigest()
    return {
        "ruleId": finding.rule,
        "ruleIndex": _RULE_INDEX[finding.rule],
        "level": LEVELS[finding.severity],
        "message": {"text": f"{name}: {text}. Why: {finding.why} Fix: {finding.fix}"},
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": finding.source}},
                "logicalLocations": [
                    {"name": name, "fullyQualifiedName": finding.source, "kind": "resource"}
                ],
            }
        ],
        "partialFingerprints": {"primaryLocationLineHash": fingerprint},
        "properties": {"severity": finding.severity},
    }


def render_sarif(report: AuditReport) -> str:
    results = [_result(f, p.provider.path) for p in report.providers for f in p.findings]
    results += [_result(f, role.name) for role in report.roles for f in role.findings]
    return sarif_log(
        "py-aws-oidc trust audit",
        _ALL_RULES,
        {"executionSuccessful": True},
        results,
        {"account": report.account, "counts": report.counts()},
    )
