"""``trust check``: would this trust policy let this token in? Exit 0 allow, 1 deny, 2 malformed.

The report names the statement and the condition that decided: for an allow, the Allow statement
that applied (and its sub/job_workflow_ref condition); for an explicit deny, the Deny statement;
for an implicit deny, the first false condition of the closest Allow statement.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .errors import MalformedPolicyError
from .evaluate import IAM_GITHUB_CLAIM_KEYS, Decision, Request, evaluate
from .files import PolicyFile
from .hints import claims_json


@dataclass(frozen=True)
class CheckResult:
    source: str
    decision: Decision
    ignored_keys: tuple[str, ...]  # GitHub keys the policy tests that AWS never populates


def check_policies(
    policy_file: PolicyFile, claims: Mapping[str, object], *, provider_arn: str | None = None
) -> list[CheckResult]:
    request = Request.from_claims(claims, provider_arn=provider_arn)
    results = []
    for loaded in policy_file.policies:
        unknowns = loaded.symbolic.unknowns() if loaded.symbolic is not None else []
        if unknowns:
            names = ", ".join(u.expr for u in unknowns[:5])
            raise MalformedPolicyError(
                f"{loaded.policy.source}: depends on {names}, not known offline; give the "
                "values (terraform.tfvars, --var-file) to `trust lint`, or check the rendered JSON"
            )
        decision = evaluate(loaded.policy, request)
        prefix = request.key_prefix.lower() + ":"
        ignored = sorted(
            {
                c.key
                for s in loaded.policy.statements
                for c in s.conditions
                if c.key.lower().startswith(prefix)
                and c.key.lower()[len(prefix) :] not in IAM_GITHUB_CLAIM_KEYS
            }
        )
        results.append(CheckResult(loaded.policy.source, decision, tuple(ignored)))
    return results


def exit_code(results: Sequence[CheckResult]) -> int:
    return 0 if results and all(r.decision.allowed for r in results) else 1


def _decision_lines(result: CheckResult) -> list[str]:
    decision = result.decision
    headline = {
        "allow": "ALLOW",
        "explicit-deny": "DENY (explicit: a Deny statement applies)",
        "implicit-deny": "DENY (implicit: no Allow statement applies)",
    }[decision.kind]
    lines = [f"{result.source}: {headline}"]
    if decision.statement is not None:
        label = "statement" if decision.kind != "implicit-deny" else "closest statement"
        lines.append(f"  {label}: {decision.statement.label}")
    if decision.condition is not None:
        lines.append(f"  condition: {decision.condition.condition.describe()}")
        lines.append(f"  because: {decision.condition.reason}")
    else:
        lines.append(f"  because: {decision.reason}")
    for key in result.ignored_keys:
        lines.append(
            f"  note: AWS does not populate {key} for GitHub tokens; it was evaluated as absent"
        )
    return lines


def render_text(results: Sequence[CheckResult], claims: Mapping[str, object]) -> str:
    lines = [f"claims: {claims_json(claims)}"]
    for result in results:
        lines += _decision_lines(result)
    return "\n".join(lines) + "\n"


def render_json(results: Sequence[CheckResult], claims: Mapping[str, object]) -> str:
    return (
        json.dumps(
            {
                "claims": json.loads(claims_json(claims)),
                "decision": "allow" if exit_code(results) == 0 else "deny",
                "policies": [
                    {
                        "source": r.source,
                        **r.decision.to_dict(),
                        "ignored_keys": list(r.ignored_keys),
                    }
                    for r in results
                ],
            },
            indent=2,
        )
        + "\n"
    )
