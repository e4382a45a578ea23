"""An offline evaluator of IAM trust policies for ``sts:AssumeRoleWithWebIdentity``.

It follows IAM's documented rules (reference: sts-oidc-facts.md sections 5.4 and 5.5):

* a statement applies when its principal, its action and all of its conditions match;
* ``Condition``: AND across operators and keys, OR across a key's values, NOR for negated
  operators (``StringNotEquals``, ``StringNotLike``, ...: none of the values may match);
* a missing key: positive operators are false, negated operators true, ``...IfExists`` true,
  ``Null`` tests presence, ``ForAllValues:`` is (vacuously) true, ``ForAnyValue:`` false;
* a present single-valued key under a set operator is a one-element set;
* key names are case-insensitive, values compare as the operator says (``StringLike`` is
  case-sensitive, ``*`` matches any run of characters including none, ``/`` and ``:``, ``?``
  exactly one character, nothing else is special: no ``[...]`` classes);
* ``StringEquals`` takes ``*`` literally;
* Deny wins over Allow; no applicable Allow is an implicit deny.

The request: the principal is a GitHub OIDC provider (``arn:<partition>:iam::<account>:
oidc-provider/<issuer host/path>``, any account and partition unless a provider ARN is given),
the action ``sts:AssumeRoleWithWebIdentity``, and one condition key per claim AWS evaluates,
named ``<issuer without https://>:<claim>`` (so enterprise and GHES issuers get their own prefix).
Only the claims AWS evaluates become keys (:data:`IAM_GITHUB_CLAIM_KEYS`); others are absent.
``"Principal": "*"`` and ``{"AWS": "*"}`` / ``{"Federated": "*"}`` are treated as matching (the
conservative reading for a linter's companion). ``IpAddress`` and global ``aws:`` keys are absent
unless the caller adds them (``extra_context``). Policy variables (``${...}``) are expanded under
``"Version": "2012-10-17"``; one whose key is missing (and has no default) matches nothing.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import json
import operator
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from .policy import Condition, Policy, Principal, Statement, scalar_text

ACTION = "sts:AssumeRoleWithWebIdentity"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITHUB_KEY_PREFIX = "token.actions.githubusercontent.com"

# Claims AWS STS turns into condition keys for GitHub tokens: the generic OIDC keys, the keys AWS
# announced for GitHub in Feb 2026, and two more that are widely reported (repository_owner_id,
# runner_environment). A claim outside this set is absent in IAM's evaluation.
IAM_GITHUB_CLAIM_KEYS = frozenset(
    {
        "aud",
        "sub",
        "amr",
        "actor",
        "actor_id",
        "job_workflow_ref",
        "repository",
        "repository_id",
        "repository_owner_id",
        "workflow",
        "ref",
        "environment",
        "enterprise_id",
        "runner_environment",
    }
)
# Claims that identify who may assume the role (AWS's guardrail accepts either).
SCOPING_CLAIMS = ("sub", "job_workflow_ref")

DecisionKind = Literal["allow", "explicit-deny", "implicit-deny"]


def issuer_key_prefix(claims: Mapping[str, object]) -> str:
    """The condition-key prefix for the token's issuer: ``iss`` without ``https://``."""
    iss = claims.get("iss")
    if not isinstance(iss, str) or not iss.strip():
        return GITHUB_KEY_PREFIX
    prefix = iss.strip()
    for scheme in ("https://", "http://"):
        if prefix.lower().startswith(scheme):
            prefix = prefix[len(scheme) :]
    return prefix.rstrip("/") or GITHUB_KEY_PREFIX


def claim_values(value: object) -> tuple[str, ...] | None:
    """A claim as IAM sees it: a tuple of strings (``aud`` may be a list), or None if unusable."""
    if value is None:
        return None
    if isinstance(value, list):
        out = tuple(text for item in value if (text := scalar_text(item)) is not None)
        return out or None
    text = scalar_text(value)
    return None if text is None else (text,)


@dataclass(frozen=True)
class Request:
    """What STS evaluates: the caller's provider, the action and the condition keys."""

    key_prefix: str
    provider_arn: str | None
    context: Mapping[str, tuple[str, ...]]  # lower-cased key name -> values
    action: str = ACTION
    role_arn: str | None = None  # the caller is a session of this role (a chained hop)

    @classmethod
    def from_role(
        cls, role_arn: str, action: str, context: Mapping[str, object] | None = None
    ) -> Request:
        """A later hop of a chain: a session of ``role_arn`` calls ``action`` (sts:AssumeRole,
        sts:TagSession, sts:SetSourceIdentity) with these ``aws:...`` condition keys."""
        values = {
            name.lower(): found
            for name, value in (context or {}).items()
            if (found := claim_values(value)) is not None
        }
        return cls(
            key_prefix="", provider_arn=None, context=values, action=action, role_arn=role_arn
        )

    @classmethod
    def from_claims(
        cls,
        claims: Mapping[str, object],
        *,
        provider_arn: str | None = None,
        claim_keys: Collection[str] = IAM_GITHUB_CLAIM_KEYS,
        extra_context: Mapping[str, object] | None = None,
    ) -> Request:
        prefix = issuer_key_prefix(claims)
        context: dict[str, tuple[str, ...]] = {}
        for name, value in claims.items():
            values = claim_values(value)
            if name in claim_keys and values is not None:
                context[f"{prefix}:{name}".lower()] = values
        for name, value in (extra_context or {}).items():
            values = claim_values(value)
            if values is not None:
                context[name.lower()] = values
        return cls(key_prefix=prefix, provider_arn=provider_arn, context=context)

    def get(self, key: str) -> tuple[str, ...] | None:
        return self.context.get(key.lower())

    def describe_principal(self) -> str:
        if self.role_arn:
            return self.role_arn
        if self.provider_arn:
            return self.provider_arn
        return f"arn:<partition>:iam::<account>:oidc-provider/{self.key_prefix}"


# --- matching primitives -------------------------------------------------------------------


Segment = tuple[str | None, ...]  # characters to match in order; None is `?` (any one character)


@lru_cache(maxsize=4096)
def _segments(pattern: tuple[tuple[str, bool], ...]) -> tuple[Segment, ...]:
    """A pattern split at its ``*`` wildcards (literal segments keep their ``*`` and ``?``)."""
    segments: list[list[str | None]] = [[]]
    for text, literal in pattern:
        for char in text:
            if not literal and char == "*":
                segments.append([])
            else:
                segments[-1].append(None if not literal and char == "?" else char)
    return tuple(tuple(segment) for segment in segments)


def _segment_at(segment: Segment, value: str, pos: int, fold: bool) -> bool:
    if pos < 0 or pos + len(segment) > len(value):
        return False
    for offset, want in enumerate(segment):
        have = value[pos + offset]
        if want is not None and have != want and not (fold and have.lower() == want.lower()):
            return False
    return True


def _find_segment(segment: Segment, value: str, start: int, end: int, fold: bool) -> int:
    """The leftmost position >= start where ``segment`` fits inside ``value[:end]``, or -1."""
    if not fold and None not in segment:
        return value.find("".join(char or "" for char in segment), start, end)
    for pos in range(start, end - len(segment) + 1):
        if _segment_at(segment, value, pos, fold):
            return pos
    return -1


def _glob_match(pattern: tuple[tuple[str, bool], ...], value: str, fold: bool) -> bool:
    """IAM's wildcard match without a regex: no backtracking, so hostile patterns stay cheap.

    The first segment is anchored at the start, the last at the end; each one between is found
    at its leftmost place after the previous one (leftmost is always right for ``*``: it leaves
    the most room to the rest). Cost: O(len(value) x longest segment), not exponential.
    """
    segments = _segments(pattern)
    if len(segments) == 1:
        return len(segments[0]) == len(value) and _segment_at(segments[0], value, 0, fold)
    first, *middle, last = segments
    end = len(value) - len(last)
    if len(first) > end or not _segment_at(first, value, 0, fold):
        return False
    if not _segment_at(last, value, end, fold):
        return False
    pos = len(first)
    for segment in middle:
        found = _find_segment(segment, value, pos, end, fold)
        if found < 0:
            return False
        pos = found + len(segment)
    return True


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's ``StringLike``: ``*`` any run (also empty, ``/`` and ``:``), ``?`` one character."""
    return _glob_match(((pattern, False),), value, ignore_case)


_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"""^(?P<key>[^,]+?)\s*,\s*'(?P<default>[^']*)'$""")
Template = tuple[tuple[str, bool], ...]  # (text, literal?) segments


def _expand(value: str, request: Request, variables: bool) -> Template | None:
    """Substitute policy variables (Version 2012-10-17). None: a variable has no value."""
    if not variables or "${" not in value:
        return ((value, False),)
    segments: list[tuple[str, bool]] = []
    pos = 0
    for match in _VARIABLE.finditer(value):
        if match.start() > pos:
            segments.append((value[pos : match.start()], False))
        inner = match.group(1).strip()
        if inner in ("*", "?", "$"):
            segments.append((inner, True))
        else:
            default = _DEFAULT.match(inner)
            key = default.group("key").strip() if default else inner
            found = request.get(key)
            if found is not None and len(found) == 1:
                segments.append((found[0], True))
            elif default:
                segments.append((default.group("default"), True))
            else:
                return None
        pos = match.end()
    if pos < len(value):
        segments.append((value[pos:], False))
    return tuple(segments)


def _flat(template: Template) -> str:
    return "".join(text for text, _ in template)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> _dt.datetime | None:
    stripped = text.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", stripped):
        return _dt.datetime.fromtimestamp(float(stripped), tz=_dt.timezone.utc)
    try:
        parsed = _dt.datetime.fromisoformat(stripped.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_dt.timezone.utc)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "LessThanEquals": operator.le,
    "GreaterThan": operator.gt,
    "GreaterThanEquals": operator.ge,
}


def _value_matches(positive: str, request_value: str, template: Template) -> bool:
    """Does one request value satisfy the positive operator against one policy value?"""
    policy_value = _flat(template)
    if positive in ("StringEquals", "BinaryEquals"):
        return request_value == policy_value
    if positive == "StringEqualsIgnoreCase":
        return request_value.casefold() == policy_value.casefold()
    if positive == "StringLike":
        return _glob_match(template, request_value, False)
    if positive == "Bool":
        return request_value.lower() == policy_value.lower()
    if positive.startswith(("Numeric", "Date")):
        family = "Numeric" if positive.startswith("Numeric") else "Date"
        compare = _COMPARE[positive[len(family) :]]
        parse = _number if family == "Numeric" else _date
        left, right = parse(request_value), parse(policy_value)
        return left is not None and right is not None and bool(compare(left, right))
    if positive == "IpAddress":
        try:
            return ipaddress.ip_address(request_value) in ipaddress.ip_network(
                policy_value, strict=False
            )
        except ValueError:
            return False
    if positive in ("ArnEquals", "ArnLike"):
        want, have = policy_value.split(":", 5), request_value.split(":", 5)
        return len(want) == len(have) == 6 and all(
            wildcard_match(w, h) for w, h in zip(want, have, strict=True)
        )
    raise AssertionError(f"no matcher for {positive}")  # parse_operator knows no other


# --- conditions, statements, decisions -----------------------------------------------------


@dataclass(frozen=True)
class ConditionOutcome:
    condition: Condition
    passed: bool
    request_values: tuple[str, ...] | None  # None: the key is absent from the request
    reason: str

    def to_dict(self) -> dict[str, object]:
        out = self.condition.to_dict()
        out.update(
            passed=self.passed,
            request_values=None if self.request_values is None else list(self.request_values),
            reason=self.reason,
        )
        return out


def _show(values: tuple[str, ...]) -> str:
    return json.dumps(values[0] if len(values) == 1 else list(values))


def evaluate_condition(
    condition: Condition, request: Request, *, variables: bool = True
) -> ConditionOutcome:
    op = condition.operator
    present = request.get(condition.key)
    name = condition.key
    if op.base == "Null":
        wants_absent = [
            v.lower() == "true" for v in condition.values if v.lower() in ("true", "false")
        ]
        passed = any(want == (present is None) for want in wants_absent)
        state = "absent" if present is None else "present"
        return ConditionOutcome(
            condition,
            passed,
            present,
            f"{name} is {state}: Null {_show(condition.values)} is {passed}",
        )
    if present is None:
        if op.if_exists:
            return ConditionOutcome(condition, True, None, f"{name} is absent: ...IfExists is true")
        if op.qualifier == "ForAllValues":
            return ConditionOutcome(
                condition, True, None, f"{name} is absent: ForAllValues is (vacuously) true"
            )
        if op.qualifier == "ForAnyValue":
            return ConditionOutcome(
                condition, False, None, f"{name} is absent: ForAnyValue is false"
            )
        if op.negated:
            return ConditionOutcome(
                condition, True, None, f"{name} is absent: a negated operator is true"
            )
        return ConditionOutcome(
            condition, False, None, f"{name} is absent: a positive operator is false"
        )
    templates = [_expand(value, request, variables) for value in condition.values]

    def matching(request_value: str) -> list[str]:
        return [
            value
            for value, template in zip(condition.values, templates, strict=True)
            if template is not None and _value_matches(op.positive, request_value, template)
        ]

    hits = {value: matching(value) for value in present}
    # Per request value: does it satisfy the operator? Negated operators: NOR over the values.
    satisfied = {value: (not found) if op.negated else bool(found) for value, found in hits.items()}
    # ForAnyValue, or a plain operator on a (usually single-valued) key: any value will do.
    passed = all(satisfied.values()) if op.qualifier == "ForAllValues" else any(satisfied.values())
    shown = _show(present)
    matched = sorted({v for found in hits.values() for v in found})
    if matched:
        detail = f"{name} {shown} matches {_show(tuple(matched))}"
    else:
        detail = f"{name} {shown} matches none of {_show(condition.values)}"
    if op.negated:
        detail += " (negated operator: " + ("true)" if passed else "false)")
    return ConditionOutcome(condition, passed, present, detail)


def _principal_values_match(principal: Principal, request: Request) -> bool:
    if principal.wildcard:
        return True
    if "*" in principal.values("AWS") or "*" in principal.values("Federated"):
        return True
    if request.role_arn is not None:
        return _role_matches(principal.values("AWS"), request.role_arn)
    federated = principal.values("Federated")
    if request.provider_arn is not None:
        return request.provider_arn in federated
    pattern = provider_arn_pattern(request.key_prefix)
    return any(pattern.fullmatch(arn) for arn in federated)


def _role_matches(trusted: tuple[str, ...], role_arn: str) -> bool:
    """IAM names a role session's caller by its role ARN; an account (ID or ``:root`` ARN) as
    principal trusts every principal of that account whose own policy allows the call."""
    parts = role_arn.split(":", 5)
    account = parts[4] if len(parts) == 6 else ""
    root = f"{':'.join(parts[:2])}:iam::{account}:root" if account else None
    return any(value in (role_arn, account, root) for value in trusted)


@lru_cache(maxsize=64)
def provider_arn_pattern(key_prefix: str) -> re.Pattern[str]:
    """ARNs of the IAM OIDC provider for an issuer, any partition and account."""
    return re.compile(r"arn:[^:]+:iam::[^:]*:oidc-provider/" + re.escape(key_prefix), re.IGNORECASE)


@dataclass(frozen=True)
class StatementOutcome:
    statement: Statement
    principal_matched: bool
    action_matched: bool
    conditions: tuple[ConditionOutcome, ...]
    reason: str

    @property
    def applies(self) -> bool:
        return (
            self.principal_matched
            and self.action_matched
            and all(outcome.passed for outcome in self.conditions)
        )

    @property
    def failed(self) -> tuple[ConditionOutcome, ...]:
        return tuple(outcome for outcome in self.conditions if not outcome.passed)

    def to_dict(self) -> dict[str, object]:
        out = self.statement.to_dict()
        out.update(
            applies=self.applies,
            principal_matched=self.principal_matched,
            action_matched=self.action_matched,
            conditions=[outcome.to_dict() for outcome in self.conditions],
        )
        return out


def evaluate_statement(
    statement: Statement, request: Request, *, variables: bool = True
) -> StatementOutcome:
    if statement.principal is not None:
        principal_ok = _principal_values_match(statement.principal, request)
        principal_text = statement.principal.describe()
    else:
        assert statement.not_principal is not None
        principal_ok = not _principal_values_match(statement.not_principal, request)
        principal_text = "NotPrincipal " + statement.not_principal.describe()
    if statement.actions is not None:
        action_ok = any(
            wildcard_match(a, request.action, ignore_case=True) for a in statement.actions
        )
        action_text = _show(statement.actions)
    else:
        assert statement.not_actions is not None
        action_ok = not any(
            wildcard_match(a, request.action, ignore_case=True) for a in statement.not_actions
        )
        action_text = "NotAction " + _show(statement.not_actions)
    outcomes = tuple(
        evaluate_condition(c, request, variables=variables) for c in statement.conditions
    )
    if not principal_ok:
        reason = (
            f"its principal {principal_text} is not the caller ({request.describe_principal()})"
        )
    elif not action_ok:
        reason = f"its action {action_text} does not cover {request.action}"
    elif any(not o.passed for o in outcomes):
        first = next(o for o in outcomes if not o.passed)
        reason = f"condition {first.condition.describe()} is false: {first.reason}"
    else:
        reason = "principal, action and every condition match"
    return StatementOutcome(statement, principal_ok, action_ok, outcomes, reason)


@dataclass(frozen=True)
class Decision:
    """The result, with the statement and the condition that decided it."""

    kind: DecisionKind
    statement: Statement | None
    condition: ConditionOutcome | None
    reason: str
    outcomes: tuple[StatementOutcome, ...]

    @property
    def allowed(self) -> bool:
        return self.kind == "allow"

    def to_dict(self) -> dict[str, object]:
        return {
            "decision": "allow" if self.allowed else "deny",
            "kind": self.kind,
            "statement": None if self.statement is None else self.statement.to_dict(),
            "condition": None if self.condition is None else self.condition.to_dict(),
            "reason": self.reason,
            "statements": [outcome.to_dict() for outcome in self.outcomes],
        }


def _key_claim(key: str) -> str:
    return key.rsplit(":", 1)[-1].lower()


def _deciding_condition(outcome: StatementOutcome) -> ConditionOutcome | None:
    for claim in SCOPING_CLAIMS:
        for item in outcome.conditions:
            if _key_claim(item.condition.key) == claim:
                return item
    return outcome.conditions[0] if outcome.conditions else None


def evaluate(policy: Policy, request: Request) -> Decision:
    variables = policy.version == "2012-10-17"
    outcomes = tuple(evaluate_statement(s, request, variables=variables) for s in policy.statements)
    for outcome in outcomes:
        if outcome.applies and outcome.statement.effect == "Deny":
            return Decision(
                "explicit-deny",
                outcome.statement,
                _deciding_condition(outcome),
                f"Deny statement {outcome.statement.label} applies (an explicit Deny wins)",
                outcomes,
            )
    for outcome in outcomes:
        if outcome.applies:
            return Decision(
                "allow",
                outcome.statement,
                _deciding_condition(outcome),
                f"Allow statement {outcome.statement.label} applies: {outcome.reason}",
                outcomes,
            )
    allows = [o for o in outcomes if o.statement.effect == "Allow"]
    if not allows:
        return Decision("implicit-deny", None, None, "the policy has no Allow statement", outcomes)
    # The closest Allow: the caller's principal and action, then the fewest false conditions.
    closest = min(
        allows,
        key=lambda o: (not o.principal_matched, not o.action_matched, len(o.failed)),
    )
    return Decision(
        "implicit-deny",
        closest.statement,
        closest.failed[0] if closest.principal_matched and closest.action_matched else None,
        f"no Allow statement applies; the closest, {closest.statement.label}, fails because "
        + closest.reason,
        outcomes,
    )


def evaluate_claims(
    policy: Policy,
    claims: Mapping[str, object],
    *,
    provider_arn: str | None = None,
) -> Decision:
    """Convenience: :func:`evaluate` for a token's claims."""
    return evaluate(policy, Request.from_claims(claims, provider_arn=provider_arn))
