"""``trust lint --format sarif``: the findings as SARIF 2.1.0, for GitHub code scanning.

One ``reportingDescriptor`` per lint rule (its id, a short and a full description, the fix as
help, a default level from its severity, and GitHub's ``security-severity`` property, which code
scanning shows as critical/high/medium/low); one ``result`` per finding with the file and, for
JSON and Terraform, the line of the condition, else of the statement, else of the policy. Files
that could not be read are ``toolExecutionNotifications`` of the invocation.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .files import PolicyFile, is_terraform
from .lint import RULES, Finding, Rule, Severity
from .locate import PolicyLines, hcl_outline, json_policy_lines, terraform_policy_lines

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
LEVELS: dict[Severity, str] = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "low": "note",
}
# A CVSS-like score; each value sits inside its CVSS v3 band (critical 9.0-10.0, high 7.0-8.9,
# medium 4.0-6.9, low 0.1-3.9), which code scanning shows as the alert's security severity.
SECURITY_SEVERITY: dict[Severity, str] = {
    "critical": "9.5",
    "high": "8.0",
    "medium": "5.5",
    "low": "2.0",
}
_RULE_INDEX = {rule.id: index for index, rule in enumerate(RULES)}


@dataclass(frozen=True)
class LintedFile:
    """One FILE argument: what was read from it and its findings, or why it could not be."""

    path: str
    policy_file: PolicyFile | None
    findings: tuple[Finding, ...] = ()
    error: str | None = None


def _uri(path: str) -> str:
    """Relative paths stay relative (code scanning resolves them against the checkout)."""
    as_path = Path(path)
    return as_path.resolve().as_uri() if as_path.is_absolute() else as_path.as_posix()


def _version() -> str:
    try:
        return metadata.version("py-aws-oidc")
    except metadata.PackageNotFoundError:
        return "0"


def _rules(rules: Sequence[Rule]) -> list[dict[str, object]]:
    return [
        {
            "id": rule.id,
            "name": "".join(word.capitalize() for word in rule.id.split("-")),
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.why},
            "help": {"text": rule.fix, "markdown": f"**Fix:** {rule.fix}"},
            "defaultConfiguration": {"level": LEVELS[rule.severity]},
            "properties": {
                "tags": ["security", "iam", "github-oidc"],
                "security-severity": SECURITY_SEVERITY[rule.severity],
                "precision": "high",
                "problem.severity": rule.severity,
            },
        }
        for rule in rules
    ]


def _policy_lines(linted: LintedFile) -> dict[str, PolicyLines]:
    """Each policy's lines in the file, by the policy's source label."""
    policy_file = linted.policy_file
    if policy_file is None or not policy_file.text:
        return {}
    if is_terraform(policy_file.path):
        outline = hcl_outline(policy_file.text)
        return {
            loaded.policy.source: terraform_policy_lines(loaded.policy, outline)
            for loaded in policy_file.policies
        }
    return {
        loaded.policy.source: json_policy_lines(loaded.policy, policy_file.text)
        for loaded in policy_file.policies
    }


def _line(finding: Finding, linted: LintedFile, lines: dict[str, PolicyLines]) -> int | None:
    where = lines.get(finding.source)
    if where is None or linted.policy_file is None:
        return None
    condition_index = None
    if finding.statement_index is not None and finding.condition is not None:
        for loaded in linted.policy_file.policies:
            if loaded.policy.source != finding.source:
                continue
            for statement in loaded.policy.statements:
                if statement.index == finding.statement_index:
                    conditions = statement.conditions
                    if finding.condition in conditions:
                        condition_index = conditions.index(finding.condition)
    return where.line(finding.statement_index, condition_index)


def _result(finding: Finding, linted: LintedFile, line: int | None) -> dict[str, object]:
    physical: dict[str, object] = {"artifactLocation": {"uri": _uri(linted.path)}}
    if line is not None:
        physical["region"] = {"startLine": line}
    location: dict[str, object] = {"physicalLocation": physical}
    if finding.statement is not None:
        location["logicalLocations"] = [
            {"name": f"statement {finding.statement}", "kind": "object"}
        ]
    text = finding.message
    if finding.condition is not None:
        text += f" (condition: {finding.condition.describe()})"
    return {
        "ruleId": finding.rule,
        "ruleIndex": _RULE_INDEX[finding.rule],
        "level": LEVELS[finding.severity],
        "message": {"text": f"{text}. Why: {finding.why} Fix: {finding.fix}"},
        "locations": [location],
        "properties": {"severity": finding.severity, "policy": finding.source},
    }


def render_sarif(files: Sequence[LintedFile]) -> str:
    results: list[dict[str, object]] = []
    notifications: list[dict[str, object]] = []
    for linted in files:
        if linted.error is not None:
            notifications.append(
                {
                    "level": "error",
                    "message": {"text": linted.error},
                    "locations": [
                        {"physicalLocation": {"artifactLocation": {"uri": _uri(linted.path)}}}
                    ],
                }
            )
            continue
        lines = _policy_lines(linted)
        results.extend(_result(f, linted, _line(f, linted, lines)) for f in linted.findings)
    invocation: dict[str, object] = {"executionSuccessful": not notifications}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return sarif_log("py-aws-oidc trust lint", RULES, invocation, results)


def sarif_log(
    tool: str,
    rules: Sequence[Rule],
    invocation: dict[str, object],
    results: list[dict[str, object]],
    properties: dict[str, object] | None = None,
) -> str:
    """One run of ``tool`` as a SARIF 2.1.0 log (``trust lint`` and ``trust audit``)."""
    run: dict[str, object] = {
        "tool": {
            "driver": {
                "name": tool,
                "semanticVersion": _version(),
                "rules": _rules(rules),
            }
        },
        "invocations": [invocation],
        "results": results,
    }
    if properties is not None:
        run["properties"] = properties
    log = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2) + "\n"
