"""What cannot be known offline: the policy model every reader produces, and how lint treats it.

A reader of infrastructure code (Terraform: ``terraform.py``; CloudFormation: its own reader)
does not produce a :class:`~.policy.Policy` directly but a :class:`SymPolicy`: the same
statements, where any string may hold values not known without deploying:

- :class:`Unknown` ``(expr, source, default_note)``: one value not known offline, named by the
  expression that produces it (``var.subjects``, ``aws_iam_role.x.arn``, ``!Ref RepoName``);
  ``source`` is ``file:line`` when the reader knows it; ``default_note`` is set when the value
  is a variable's default (``var.subjects = [] (its default)``): see "two worlds" below.
- :class:`Template`: a string partly known (``"repo:${var.org}/app:*"``): parts of ``str`` and
  :class:`Unknown`.
- Where unknowns may sit (a :data:`Sym` is ``str | Template | Unknown``): any condition value,
  a whole values list, the condition key (or only its provider prefix), the operator
  (``test = var.op``), the effect, actions, principals (whole or in part), a Sid. A whole block
  whose presence is unknown (``dynamic "condition"`` / ``dynamic "statement"`` over an unknown
  collection, ``source_policy_documents``) is marked ``optional`` with the unknown deciding it.

Lint (:func:`lint_symbolic`) never sees a symbol: the policy is instantiated twice, once with
every unknown *tight* (operator StringEquals, a subject pinned to one branch, aud
``sts.amazonaws.com``, an optional condition present) and once *loose* (StringLike, ``*``, an
optional condition absent; an unknown issuer prefix GitHub's, then another issuer's; a principal
known in part GitHub's provider, then every caller, or another principal when no key names
GitHub). A finding is a fact only when both instantiations raise it (same
rule, severity, statement and condition): a verdict that depends on an unknown is dropped. An
optional statement is linted for what it says (statements are OR-ed: its looseness is its own);
a policy-wide finding must also hold without it. One advisory finding, rule ``unresolved``,
names the unknowns.

JSON-shaped documents (``jsonencode``, heredocs, CloudFormation) carry unknowns through text as
:class:`Markers` and become the model with :func:`sym_from_document`; :func:`concrete` gives the
tight :class:`~.policy.Policy` for ``check`` and line numbers.

Two worlds: readers evaluate once with variables' defaults (the value Terraform would use) and,
when a default was used, once more with those variables unknown. A fact of the first world that
is not a fact of the second was decided by a default: its message says which variable and which
default, and its fix names the variable to set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from .errors import MalformedPolicyError
from .evaluate import ACTION
from .lint import SEVERITIES, Finding, _issue, lint_policy
from .policy import (
    _STATEMENT_FIELDS,
    Condition,
    DuplicateKey,
    Policy,
    Statement,
    build_statement,
    parse_policy_document,
    scalar_text,
)

Mode = Literal["tight", "loose", "absent"]  # absent: tight, without optional statements
MAX_NAMED = 20  # unknown expressions named in one ``unresolved`` finding


@dataclass(frozen=True)
class Unknown:
    """A value not known offline, named by the expression that produces it."""

    expr: str
    source: str | None = None  # "main.tf:12"
    default_note: str | None = None  # "var.subjects = [] (its default)"

    def __str__(self) -> str:
        return f"${{{self.expr}}}"


@dataclass(frozen=True)
class Template:
    """A string partly known: ``"repo:" + Unknown(var.org) + "/app:*"``."""

    parts: tuple[str | Unknown, ...]

    def __str__(self) -> str:
        return "".join(str(part) for part in self.parts)


Sym = str | Template | Unknown
SymList = tuple[Sym, ...] | Unknown  # a whole list may be unknown


@dataclass(frozen=True)
class SymCondition:
    operator: Sym
    key: Sym
    values: SymList
    optional: Unknown | None = None  # a dynamic block over an unknown collection


@dataclass(frozen=True)
class SymStatement:
    index: int
    where: str
    sid: Sym | None
    effect: Sym | None
    principal: dict[str, SymList] | str | None  # {"Federated": [...]} or "*"
    not_principal: dict[str, SymList] | str | None
    actions: SymList | None
    not_actions: SymList | None
    conditions: tuple[SymCondition, ...]
    optional: Unknown | None = None  # a dynamic statement over an unknown collection


@dataclass(frozen=True)
class SymPolicy:
    source: str
    version: str | None
    statements: tuple[SymStatement, ...]
    duplicate_keys: tuple[DuplicateKey, ...] = ()
    extra_unknowns: tuple[Unknown, ...] = field(default=())  # named, with no place in a value

    def unknowns(self) -> list[Unknown]:
        """Every unknown, in order of appearance, each once."""
        seen: dict[Unknown, None] = dict.fromkeys(self.extra_unknowns)
        for statement in self.statements:
            for item in statement_unknowns(statement):
                seen.setdefault(item)
        return list(seen)


def _sym_unknowns(value: object) -> Iterable[Unknown]:
    if isinstance(value, Unknown):
        yield value
    elif isinstance(value, Template):
        yield from (part for part in value.parts if isinstance(part, Unknown))
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _sym_unknowns(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _sym_unknowns(item)


def statement_unknowns(statement: SymStatement) -> list[Unknown]:
    found: list[Unknown] = []
    if statement.optional is not None:
        found.append(statement.optional)
    for part in (
        statement.sid,
        statement.effect,
        statement.principal,
        statement.not_principal,
        statement.actions,
        statement.not_actions,
    ):
        found.extend(_sym_unknowns(part))
    for cond in statement.conditions:
        if cond.optional is not None:
            found.append(cond.optional)
        found.extend(_sym_unknowns((cond.operator, cond.key, cond.values)))
    return found


def is_known(policy: SymPolicy) -> bool:
    return not policy.unknowns()


# --- instantiation -------------------------------------------------------------------------

_GITHUB_HOST = "token.actions.githubusercontent.com"
_GITHUB_ARN = f"arn:aws:iam::123456789012:oidc-provider/{_GITHUB_HOST}"
_SHA = "0123456789abcdef0123456789abcdef01234567"
_OTHER_ARN = "arn:aws:iam::123456789012:role/unknown-principal"
_OTHER_HOST = "oidc.unknown-issuer.example"


def first_part(value: Unknown | Template) -> Unknown:
    if isinstance(value, Unknown):
        return value
    return next(part for part in value.parts if isinstance(part, Unknown))


def _github_key(key: Sym) -> bool:
    """Does a condition key (maybe partly unknown) say the statement is for GitHub?"""
    if isinstance(key, Unknown):
        return False  # a whole unknown key (a generic module's conditions) says nothing
    text = (
        key
        if isinstance(key, str)
        else "".join(p if isinstance(p, str) else "\0" for p in key.parts)
    )
    prefix = text.rpartition(":")[0].lower()
    # An unknown issuer may be GitHub's or not: only a written one says the statement is
    # GitHub's whatever its principal (the loose reading then trusts every caller).
    return "\0" not in prefix and ("token.actions" in prefix or "_services/token" in prefix)


class _Instantiator:
    """Turns symbols into text for one mode, remembering how to show them again."""

    def __init__(self, mode: Mode, order: Sequence[Unknown]) -> None:
        self.mode = mode
        self.tokens = {item: f"tfunknown{n}x" for n, item in enumerate(order)}
        self.shown: dict[str, str] = {}  # tight text -> "${expr}" for messages

    def _token(self, item: Unknown) -> str:
        token = self.tokens.get(item) or f"tfunknown{len(self.tokens)}x"
        self.tokens.setdefault(item, token)
        self.shown[token] = str(item)
        return token

    def whole(self, item: Unknown, tight: str, loose: str = "*") -> str:
        token = self._token(item)
        text = tight.replace("T", token) if self.mode != "loose" else loose
        if self.mode != "loose" and token in text and text != token:
            self.shown[text] = str(item)  # a stand-in built around the token
        return text

    def text(self, value: Sym | None, tight: str = "T", loose: str = "*") -> str | None:
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, Unknown):
            return self.whole(value, tight, loose)
        out = []
        for part in value.parts:
            if isinstance(part, Unknown):
                out.append(self._token(part) if self.mode != "loose" else "*")
            else:
                out.append(part)
        return "".join(out)

    def strings(self, value: SymList | None, tight: str, loose: str = "*") -> list[str] | None:
        if value is None:
            return None
        if isinstance(value, Unknown):
            return [self.whole(value, tight, loose)]
        return [self.text(item, tight, loose) or "" for item in value]

    def key(self, value: Sym) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, Unknown):
            return self.whole(value, f"{_GITHUB_HOST}:sub", f"{_GITHUB_HOST}:T")
        marked = "".join(part if isinstance(part, str) else "\0" for part in value.parts)
        prefix, _, claim = marked.rpartition(":")
        if "\0" in claim:
            return self.whole(Unknown(str(value)), f"{_GITHUB_HOST}:sub", f"{_GITHUB_HOST}:T")
        if "\0" in prefix:  # GitHub's issuer, or another one: what it tests depends on it
            return f"{_GITHUB_HOST if self.mode != 'loose' else _OTHER_HOST}:{claim}"
        return f"{prefix}:{claim}"

    def principal(self, value: dict[str, SymList] | str | None, github_keys: bool) -> object:
        """A principal known in part is unknown whole: tight, GitHub's provider; loose, every
        caller when the statement tests GitHub claims, else some other principal (then the
        GitHub rules do not apply to it)."""
        if value is None or isinstance(value, str):
            return value
        loose = "*" if github_keys else _OTHER_ARN
        out: dict[str, list[str]] = {}
        for kind, ids in value.items():
            items = [ids] if isinstance(ids, Unknown) else list(ids)
            out[kind] = [
                item if isinstance(item, str) else self.whole(first_part(item), _GITHUB_ARN, loose)
                for item in items
            ]
        return out


_TIGHT_BY_CLAIM = {
    "sub": "repo:T/T:ref:refs/heads/T",
    "job_workflow_ref": f"T/T/.github/workflows/T.yml@{_SHA}",
    "aud": "sts.amazonaws.com",
}


def _unknown_repository_only(value: Sym) -> bool:
    """``repo:${var.repo}:pull_request``: unknowns only in the repository part, the context
    after it known."""
    if not isinstance(value, Template) or not value.parts:
        return False
    head = value.parts[0]
    if not isinstance(head, str) or not head.startswith("repo:") or ":" in head[len("repo:") :]:
        return False
    context = False
    for part in value.parts[1:]:
        if context and not isinstance(part, str):
            return False
        context = context or (isinstance(part, str) and ":" in part)
    return context


def _condition(inst: _Instantiator, cond: SymCondition) -> tuple[str, str, object]:
    operator = inst.text(cond.operator, "StringEquals", "StringLike") or ""
    key = inst.key(cond.key)
    claim = key.rpartition(":")[2].lower()
    tight = _TIGHT_BY_CLAIM.get(claim, "T")
    values = cond.values
    if values == () and cond.optional is not None:
        values = cond.optional  # a condition switched on: its values come with it
    if (
        inst.mode == "loose"
        and claim == "sub"
        and isinstance(cond.operator, str)
        and "Like" not in operator
        and not isinstance(values, Unknown)
    ):
        # Under StringEquals an unknown is some literal, never a wildcard: in
        # repo:${var.repo}:CONTEXT the context decides the verdict whatever the repository is
        # (the loose `*` would only make a literal-star finding that hides it).
        return operator, key, [_loose_literal(inst, value, tight) for value in values]
    return operator, key, inst.strings(values, tight)


def _loose_literal(inst: _Instantiator, value: Sym, tight: str) -> str:
    if isinstance(value, Template) and _unknown_repository_only(value):
        return "".join(part if isinstance(part, str) else inst._token(part) for part in value.parts)
    return inst.text(value, tight) or ""


def instantiate(policy: SymPolicy, mode: Mode) -> tuple[Policy, dict[int, int], dict[str, str]]:
    """The concrete policy of one mode; ``id(Condition)`` -> its symbolic position; and the
    texts that stand for unknowns (to show ``${expr}`` in messages)."""
    inst = _Instantiator(mode, policy.unknowns())
    statements: list[Statement] = []
    positions: dict[int, int] = {}
    for sym in policy.statements:
        if sym.optional is not None and mode == "absent":
            continue  # OR-ed: whether it exists decides only the policy-wide verdicts
        github = any(_github_key(cond.key) for cond in sym.conditions)
        kept = [
            (pos, cond)
            for pos, cond in enumerate(sym.conditions)
            if cond.optional is None or mode != "loose"  # AND-ed: only narrows
        ]
        try:
            statement = build_statement(
                index=sym.index,
                where=sym.where,
                sid=inst.text(sym.sid),
                effect=inst.text(sym.effect, "Deny", "Allow") if sym.effect is not None else None,
                principal=inst.principal(sym.principal, github),
                not_principal=inst.principal(sym.not_principal, github),
                action=inst.strings(sym.actions, ACTION),
                not_action=inst.strings(sym.not_actions, ACTION),
                conditions=[_condition(inst, cond) for _, cond in kept],
            )
        except MalformedPolicyError:
            if not statement_unknowns(sym):
                raise
            continue  # an unknown where IAM's grammar wants a known shape: no verdict on it
        for (pos, _), cond_obj in zip(kept, statement.conditions, strict=True):
            positions[id(cond_obj)] = pos
        statements.append(statement)
    concrete = Policy(
        source=policy.source,
        version=policy.version,
        statements=tuple(statements),
        duplicate_keys=policy.duplicate_keys,
    )
    return concrete, positions, inst.shown


def concrete(policy: SymPolicy) -> Policy:
    """The policy with its unknowns tight, for ``check`` and for locating lines; with no
    statement when an unknown stands where IAM's grammar wants a known shape."""
    try:
        return instantiate(policy, "tight")[0]
    except MalformedPolicyError:
        if policy.unknowns():
            return Policy(policy.source, policy.version, ())
        raise


# --- lint around the unknowns ----------------------------------------------------------------

_Key = tuple[str, str, int | None, int | None, int]  # rule, severity, statement, condition, nth


def _keyed(policy: SymPolicy, mode: Mode) -> tuple[dict[_Key, Finding], dict[str, str]]:
    concrete, positions, shown = instantiate(policy, mode)
    out: dict[_Key, Finding] = {}
    for finding in lint_policy(concrete):
        cond = None if finding.condition is None else positions.get(id(finding.condition))
        nth = 0
        while (finding.rule, finding.severity, finding.statement_index, cond, nth) in out:
            nth += 1
        out[(finding.rule, finding.severity, finding.statement_index, cond, nth)] = finding
    return out, shown


def _show(text: str, shown: dict[str, str]) -> str:
    for stand_in in sorted(shown, key=len, reverse=True):
        text = text.replace(stand_in, shown[stand_in])
    return text


def _sym_condition(policy: SymPolicy, index: int | None, pos: int | None) -> SymCondition | None:
    for statement in policy.statements:
        if statement.index == index and pos is not None and pos < len(statement.conditions):
            return statement.conditions[pos]
    return None


def _shown_values(values: SymList) -> tuple[str, ...]:
    """Condition values as written, unknowns as ``${expr}``."""
    if isinstance(values, Unknown):
        return (str(values),)
    return tuple(str(value) for value in values)


# How open a subject is: a value known in part (``repo:octo-org/${var.repo}:*``) is at least as
# open as its tight reading says when the loose reading finds it as open or more.
_LOOSENESS = frozenset(
    {"subject-any-repository", "subject-org-wide", "subject-repo-wide", "subject-prefix-wildcard",
     "subject-tag-pattern", "subject-pull-request"}
)  # fmt: skip


def _lower_bound(key: _Key, loose: dict[_Key, Finding]) -> bool:
    rule, severity, statement, cond, _ = key
    if rule not in _LOOSENESS or cond is None:
        return False
    rank = SEVERITIES.index(severity)
    return any(
        other[0] in _LOOSENESS
        and other[2] == statement
        and other[3] == cond
        and SEVERITIES.index(other[1]) <= rank
        for other in loose
    )


def _facts(policy: SymPolicy) -> dict[_Key, Finding]:
    tight, shown = _keyed(policy, "tight")
    if is_known(policy):
        return tight
    loose, _ = _keyed(policy, "loose")
    absent = loose
    if any(s.optional is not None for s in policy.statements):
        absent, _ = _keyed(policy, "absent")
    facts: dict[_Key, Finding] = {}
    for key, finding in tight.items():
        bound = key not in loose and _lower_bound(key, loose)
        if (key in loose and (key[2] is not None or key in absent)) or bound:
            if bound:
                finding = replace(  # noqa: PLW2901 - the same finding, qualified
                    finding,
                    message=f"{finding.message} (at least: part of it is not known offline)",
                )
            cond = finding.condition
            if cond is not None:
                sym = _sym_condition(policy, key[2], key[3])
                cond = Condition(
                    cond.operator,
                    str(sym.key) if sym is not None else cond.key,
                    _shown_values(sym.values) if sym is not None else cond.values,
                )
            facts[key] = replace(
                finding,
                message=_show(finding.message, shown),
                statement=_show(finding.statement or "", shown) or None,
                condition=cond,
            )
    return facts


def _defaults(items: Iterable[Unknown]) -> dict[str, Unknown]:
    return {item.expr: item for item in items if item.default_note}


def _default_notes(policy: SymPolicy, finding: Finding, position: int | None) -> list[Unknown]:
    """The defaults that may have decided ``finding``: those in its condition; for a finding
    on a whole statement, those deciding which conditions exist, then any in the statement."""
    found: dict[str, Unknown] = {}
    for statement in policy.statements:
        if finding.statement_index is not None and statement.index != finding.statement_index:
            continue
        if position is not None and position < len(statement.conditions):
            cond = statement.conditions[position]
            found.update(_defaults(_sym_unknowns((cond.operator, cond.key, cond.values))))
        elif finding.statement_index is not None:
            optional = [c.optional for c in statement.conditions if c.optional is not None]
            found.update(_defaults(optional))
            if finding.rule.startswith("principal"):
                found.update(_defaults(_sym_unknowns(statement.principal)))
            if finding.rule.startswith("action"):
                found.update(_defaults(_sym_unknowns((statement.actions, statement.not_actions))))
    if not found:
        for statement in policy.statements:
            if statement.index == finding.statement_index:
                found.update(_defaults(statement_unknowns(statement)))
    if not found:
        found.update(_defaults(policy.unknowns()))
    return list(found.values())


def _decided_by_default(finding: Finding, defaults: list[Unknown]) -> Finding:
    notes = ", ".join(d.default_note or d.expr for d in defaults[:3])
    if len(defaults) > 3:
        notes += f" and {len(defaults) - 3} more default(s)"
    names = ", ".join(d.expr for d in defaults)
    return replace(
        finding,
        message=f"with {notes}, {finding.message}",
        fix=f"{finding.fix} If callers set {names}, lint with their values "
        "(--var NAME=VALUE or --var-file FILE).",
    )


def _short(source: str) -> str:
    """``dir/variables.tf:12`` -> ``variables.tf:12``: the module's own file is enough."""
    return source.replace("\\", "/").rsplit("/", 1)[-1]


def unresolved_finding(policy: SymPolicy, unknowns: Sequence[Unknown]) -> Finding:
    names = []
    for u in unknowns:
        where = [_short(u.source)] if u.source else []
        if u.default_note:  # read as unknown on purpose (see the module's doc)
            where.append(
                "default " + u.default_note.partition(" = ")[2].removesuffix(" (its default)")
            )
        names.append(f"`{u.expr}`" + (f" ({'; '.join(where)})" if where else ""))
    shown = ", ".join(names[:MAX_NAMED])
    if len(names) > MAX_NAMED:
        shown += f" and {len(names) - MAX_NAMED} more"
    issue = _issue(
        "unresolved",
        f"not known offline, linted around: {shown}; no finding depends on "
        f"{'it' if len(names) == 1 else 'them'}",
    )
    return Finding(
        rule=issue.rule,
        severity=issue.severity,
        source=policy.source,
        statement=None,
        condition=None,
        message=issue.message,
        why=issue.why,
        fix=issue.fix,
    )


def lint_symbolic(policy: SymPolicy, without_defaults: SymPolicy | None = None) -> list[Finding]:
    """The findings that hold whatever the unknowns are, most severe first, and one
    ``unresolved`` finding naming the unknowns. ``without_defaults``: the same policy read with
    the variables that took their default unknown (see the module's doc)."""
    try:
        facts = _facts(policy)
    except MalformedPolicyError:
        if not policy.unknowns():
            raise
        facts = {}  # an unknown stands where IAM's grammar needs a known shape: no verdict
    if without_defaults is not None and without_defaults.unknowns() != policy.unknowns():
        try:
            kept = _facts(without_defaults)
        except MalformedPolicyError:
            kept = {}
        for key, finding in list(facts.items()):
            if key not in kept:
                defaults = _default_notes(without_defaults, finding, key[3])
                if defaults:
                    facts[key] = _decided_by_default(finding, defaults)
    found = sorted(facts.values(), key=lambda f: SEVERITIES.index(f.severity))
    unknowns = policy.unknowns()
    if unknowns:
        found.append(unresolved_finding(policy, unknowns))
    return found


# --- unknowns through text (JSON written by jsonencode or a heredoc, CloudFormation's Fn::Sub)
_MARK = re.compile("\ue000(\\d+)\ue001")


class Markers:
    """Unknowns carried through text as private-use markers, and back."""

    def __init__(self) -> None:
        self.table: list[Unknown] = []

    def mark(self, value: Sym) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, Unknown):
            self.table.append(value)
            return f"\ue000{len(self.table) - 1}\ue001"
        return "".join(self.mark(part) for part in value.parts)

    def unmark(self, text: str) -> Sym:
        if "\ue000" not in text:
            return text
        parts: list[str | Unknown] = []
        last = 0
        for match in _MARK.finditer(text):
            if match.start() > last:
                parts.append(text[last : match.start()])
            parts.append(self.table[int(match.group(1))])
            last = match.end()
        if last < len(text):
            parts.append(text[last:])
        if len(parts) == 1 and isinstance(parts[0], Unknown):
            return parts[0]
        return Template(tuple(parts))


def _sym_scalar(value: object, markers: Markers) -> Sym:
    if isinstance(value, str):
        return markers.unmark(value)
    if isinstance(value, Unknown | Template):
        return value
    return scalar_text(value) or json.dumps(value)


def _sym_list(value: object, markers: Markers) -> SymList:
    if isinstance(value, str) and isinstance(whole := markers.unmark(value), Unknown):
        return whole
    if isinstance(value, Unknown):
        return value
    items = value if isinstance(value, list) else [value]
    return tuple(_sym_scalar(item, markers) for item in items)


def _sym_principal(value: object, markers: Markers) -> dict[str, SymList] | str | None:
    if value is None or value == "*":
        return value
    if isinstance(value, dict):
        return {
            markers.mark(markers.unmark(str(k))): _sym_list(v, markers) for k, v in value.items()
        }
    return {"Federated": _sym_list(value, markers)}  # unknown: assumed a provider


def _sym_conditions(raw: object, markers: Markers) -> tuple[SymCondition, ...]:
    whole = _sym_list(raw, markers) if isinstance(raw, str) else None
    if isinstance(whole, Unknown) or isinstance(raw, Unknown):
        item = whole if isinstance(whole, Unknown) else raw
        assert isinstance(item, Unknown)
        return (SymCondition(item, item, item, optional=item),)
    if not isinstance(raw, dict):
        return ()
    out: list[SymCondition] = []
    for op_text, block in raw.items():
        operator = markers.unmark(str(op_text))
        if isinstance(block, str) and isinstance(markers.unmark(block), Unknown):
            item = markers.unmark(block)
            assert isinstance(item, Unknown)
            out.append(SymCondition(operator, item, item, optional=item))
            continue
        if not isinstance(block, dict):
            raise MalformedPolicyError(
                f"Condition operator {op_text!r} must map condition keys to values"
            )
        for key, values in block.items():
            out.append(SymCondition(operator, markers.unmark(str(key)), _sym_list(values, markers)))
    return tuple(out)


def sym_from_document(
    doc: object, source: str, markers: Markers, duplicates: Sequence[DuplicateKey] = ()
) -> SymPolicy:
    """A policy document decoded from JSON whose strings may hold markers -> the model.
    The structure must be known (an object with ``Statement``); leaves may be unknown."""
    if not isinstance(doc, dict):
        parse_policy_document(doc, source)  # raises the usual message
        raise MalformedPolicyError(f"{source}: the policy must be a JSON object")
    unknown_fields = sorted(set(doc) - {"Version", "Id", "Statement"})
    if unknown_fields or "Statement" not in doc:
        parse_policy_document(doc, source)  # raises the usual message
    raw = doc["Statement"]
    items = [raw] if isinstance(raw, dict) else raw
    if isinstance(raw, str) and isinstance(whole := markers.unmark(raw), Unknown):
        items = [{"Effect": raw, "Principal": raw, "Action": raw}]
        optional: Unknown | None = whole
    else:
        optional = None
    if not isinstance(items, list) or not items:
        raise MalformedPolicyError(
            f"{source}: Statement must be an object or a non-empty list of objects"
        )
    statements = []
    for index, raw_item in enumerate(items):
        item = raw_item
        if isinstance(item, str) and isinstance(whole := markers.unmark(item), Unknown):
            item, optional = {"Effect": item, "Principal": item, "Action": item}, whole
        if not isinstance(item, dict):
            raise MalformedPolicyError(f"{source}: Statement #{index} is not an object")
        extra = sorted(set(item) - _STATEMENT_FIELDS)
        if extra:
            raise MalformedPolicyError(
                f"{source}: Statement #{index}: unknown field(s) {', '.join(map(repr, extra))}"
            )
        sid = _sym_scalar(item["Sid"], markers) if "Sid" in item else None
        statements.append(
            SymStatement(
                index=index,
                where=f"{source}: Statement #{index}" + (f' ("{sid}")' if sid else ""),
                sid=sid,
                effect=_sym_scalar(item["Effect"], markers) if "Effect" in item else None,
                principal=_sym_principal(item.get("Principal"), markers),
                not_principal=_sym_principal(item.get("NotPrincipal"), markers),
                actions=_sym_list(item["Action"], markers) if "Action" in item else None,
                not_actions=_sym_list(item["NotAction"], markers) if "NotAction" in item else None,
                conditions=_sym_conditions(item.get("Condition", {}), markers),
                optional=optional,
            )
        )
        optional = None
    version = doc.get("Version")
    return SymPolicy(
        source=source,
        version=version if isinstance(version, str) else None,
        statements=tuple(statements),
        duplicate_keys=tuple(duplicates),
    )
