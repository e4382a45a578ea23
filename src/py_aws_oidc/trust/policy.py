"""Trust policies as data: parse IAM's JSON grammar into typed statements, strictly.

The parser refuses what IAM would refuse (:class:`MalformedPolicyError`): invalid JSON, a
top-level array, no ``Statement``, an unknown field, an unknown condition operator, an ``Effect``
other than ``Allow``/``Deny``. Duplicate JSON keys are not an error (Python's ``json``, like most
parsers, keeps the last one silently) but they are recorded, with their path, for ``trust lint``.

Condition values may be strings, numbers or booleans (JSON ``true``/``123``); IAM compares them as
strings, so they are stored as strings (``"true"``, ``"123"``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from .errors import MalformedPolicyError
from .textsafe import MAX_LISTED, capped_json_list

Effect = Literal["Allow", "Deny"]
Qualifier = Literal["ForAllValues", "ForAnyValue"]

VERSIONS = ("2012-10-17", "2008-10-17")
_TOP_LEVEL = frozenset({"Version", "Id", "Statement"})
_STATEMENT_FIELDS = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)

# Base operator -> (family, the positive operator it negates, or None when it is positive).
_OPERATORS: dict[str, tuple[str, str | None]] = {
    "StringEquals": ("String", None),
    "StringNotEquals": ("String", "StringEquals"),
    "StringEqualsIgnoreCase": ("String", None),
    "StringNotEqualsIgnoreCase": ("String", "StringEqualsIgnoreCase"),
    "StringLike": ("String", None),
    "StringNotLike": ("String", "StringLike"),
    "NumericEquals": ("Numeric", None),
    "NumericNotEquals": ("Numeric", "NumericEquals"),
    "NumericLessThan": ("Numeric", None),
    "NumericLessThanEquals": ("Numeric", None),
    "NumericGreaterThan": ("Numeric", None),
    "NumericGreaterThanEquals": ("Numeric", None),
    "DateEquals": ("Date", None),
    "DateNotEquals": ("Date", "DateEquals"),
    "DateLessThan": ("Date", None),
    "DateLessThanEquals": ("Date", None),
    "DateGreaterThan": ("Date", None),
    "DateGreaterThanEquals": ("Date", None),
    "Bool": ("Bool", None),
    "BinaryEquals": ("Binary", None),
    "IpAddress": ("IpAddress", None),
    "NotIpAddress": ("IpAddress", "IpAddress"),
    "ArnEquals": ("Arn", None),
    "ArnLike": ("Arn", None),
    "ArnNotEquals": ("Arn", "ArnEquals"),
    "ArnNotLike": ("Arn", "ArnLike"),
    "Null": ("Null", None),
}
_CANONICAL = {name.lower(): name for name in _OPERATORS}


@dataclass(frozen=True)
class Operator:
    """A condition operator as written (``ForAllValues:StringLikeIfExists``) and what it means."""

    text: str
    base: str
    qualifier: Qualifier | None
    if_exists: bool

    @property
    def family(self) -> str:
        return _OPERATORS[self.base][0]

    @property
    def negated(self) -> bool:
        return _OPERATORS[self.base][1] is not None

    @property
    def positive(self) -> str:
        """The operator this one negates (``StringNotLike`` -> ``StringLike``), else itself."""
        return _OPERATORS[self.base][1] or self.base


def parse_operator(text: str) -> Operator | None:
    """``None`` when IAM does not know the operator."""
    rest = text
    qualifier: Qualifier | None = None
    head, sep, tail = text.partition(":")
    if sep:
        lowered = head.lower()
        if lowered == "forallvalues":
            qualifier = "ForAllValues"
        elif lowered == "foranyvalue":
            qualifier = "ForAnyValue"
        else:
            return None
        rest = tail
    if_exists = False
    base = _CANONICAL.get(rest.lower())
    if base is None and rest.lower().endswith("ifexists"):
        base = _CANONICAL.get(rest[: -len("IfExists")].lower())
        if_exists = True
    if base is None or (base == "Null" and (if_exists or qualifier)):
        return None
    return Operator(text=text, base=base, qualifier=qualifier, if_exists=if_exists)


@dataclass(frozen=True)
class Condition:
    """One operator/key pair of a ``Condition`` block with its values (OR-ed, or NOR-ed)."""

    operator: Operator
    key: str
    values: tuple[str, ...]

    def describe(self) -> str:
        """One line; at most :data:`textsafe.MAX_LISTED` values, then "and N more"."""
        return f"{self.operator.text} {self.key} {capped_json_list(self.values)}"

    def to_dict(self) -> dict[str, object]:
        """At most :data:`textsafe.MAX_LISTED` values; ``values_omitted`` counts the rest."""
        out: dict[str, object] = {
            "operator": self.operator.text,
            "key": self.key,
            "values": list(self.values[:MAX_LISTED]),
        }
        if len(self.values) > MAX_LISTED:
            out["values_omitted"] = len(self.values) - MAX_LISTED
        return out


@dataclass(frozen=True)
class Principal:
    """``"Principal": "*"`` (``wildcard``) or ``{"Federated": [...], "AWS": [...], ...}``."""

    wildcard: bool
    entries: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def values(self, principal_type: str) -> tuple[str, ...]:
        out: list[str] = []
        for kind, values in self.entries:
            if kind == principal_type:
                out.extend(values)
        return tuple(out)

    def all_values(self) -> tuple[str, ...]:
        return tuple(value for _, values in self.entries for value in values)

    def describe(self) -> str:
        if self.wildcard:
            return '"*"'
        return json.dumps({kind: list(values) for kind, values in self.entries})


@dataclass(frozen=True)
class Statement:
    index: int
    sid: str | None
    effect: Effect
    principal: Principal | None
    not_principal: Principal | None
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    conditions: tuple[Condition, ...]

    @property
    def label(self) -> str:
        """How findings and decisions name the statement: its Sid and its index."""
        return f'"{self.sid}" (#{self.index})' if self.sid else f"#{self.index}"

    def to_dict(self) -> dict[str, object]:
        return {"sid": self.sid, "index": self.index, "effect": self.effect}


@dataclass(frozen=True)
class DuplicateKey:
    """A JSON object key that appeared more than once; the last occurrence was kept."""

    path: str
    key: str
    statement_index: int | None


@dataclass(frozen=True)
class Policy:
    source: str
    version: str | None
    statements: tuple[Statement, ...]
    duplicate_keys: tuple[DuplicateKey, ...] = ()


class _Object(dict[str, object]):
    """A JSON object that remembers which keys it saw twice."""

    duplicates: list[str]


def _object_pairs(pairs: list[tuple[str, object]]) -> _Object:
    obj = _Object()
    obj.duplicates = []
    for key, value in pairs:
        if key in obj and key not in obj.duplicates:
            obj.duplicates.append(key)
        obj[key] = value
    return obj


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def load_json(text: str, source: str) -> object:
    """JSON with duplicate keys recorded (see :func:`find_duplicates`); errors are malformed."""
    try:
        return json.loads(text, object_pairs_hook=_object_pairs, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        where = ""
        if isinstance(exc, json.JSONDecodeError):
            where = f" at line {exc.lineno} column {exc.colno}: {exc.msg}"
        raise MalformedPolicyError(f"{source}: not valid JSON{where}") from None


def find_duplicates(doc: object) -> tuple[DuplicateKey, ...]:
    found: list[DuplicateKey] = []

    def walk(node: object, path: str, statement: int | None) -> None:
        if path == "Statement" and isinstance(node, dict):
            statement = 0  # a single statement object
        if isinstance(node, dict):
            for key in getattr(node, "duplicates", ()):
                found.append(
                    DuplicateKey(path=path or "(top level)", key=key, statement_index=statement)
                )
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else key, statement)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                inner = index if path == "Statement" else statement
                walk(value, f"{path}[{index}]", inner)

    walk(doc, "", None)
    return tuple(found)


def parse_policy_text(text: str, source: str) -> Policy:
    doc = load_json(text, source)
    return parse_policy_document(doc, source, duplicates=find_duplicates(doc))


def parse_policy_document(
    doc: object, source: str, *, duplicates: Sequence[DuplicateKey] = ()
) -> Policy:
    """A decoded JSON policy (``dict``) -> :class:`Policy`, or :class:`MalformedPolicyError`."""
    if isinstance(doc, list):
        raise MalformedPolicyError(
            f"{source}: the policy is a JSON array; a policy is an object with "
            '"Version" and "Statement"'
        )
    if not isinstance(doc, dict):
        raise MalformedPolicyError(f"{source}: the policy must be a JSON object")
    unknown = sorted(set(doc) - _TOP_LEVEL)
    if unknown:
        raise MalformedPolicyError(
            f"{source}: unknown top-level field(s) {', '.join(map(repr, unknown))}; "
            "a policy has only Version, Id and Statement"
        )
    version = doc.get("Version")
    if version is not None and version not in VERSIONS:
        raise MalformedPolicyError(
            f'{source}: Version {json.dumps(version)} is not one IAM knows (use "2012-10-17")'
        )
    if "Statement" not in doc:
        raise MalformedPolicyError(f"{source}: the policy has no Statement")
    raw = doc["Statement"]
    items = [raw] if isinstance(raw, dict) else raw
    if not isinstance(items, list) or not items:
        raise MalformedPolicyError(
            f"{source}: Statement must be an object or a non-empty list of objects"
        )
    statements = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise MalformedPolicyError(f"{source}: Statement #{index} is not an object")
        statements.append(_parse_statement(item, index, source))
    return Policy(
        source=source,
        version=version if isinstance(version, str) else None,
        statements=tuple(statements),
        duplicate_keys=tuple(duplicates),
    )


def _parse_statement(item: Mapping[str, object], index: int, source: str) -> Statement:
    where = f"{source}: Statement #{index}"
    unknown = sorted(set(item) - _STATEMENT_FIELDS)
    if unknown:
        raise MalformedPolicyError(f"{where}: unknown field(s) {', '.join(map(repr, unknown))}")
    sid = item.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise MalformedPolicyError(f"{where}: Sid must be a string")
    if isinstance(sid, str):
        where = f'{source}: Statement #{index} ("{sid}")'
    conditions_raw = item.get("Condition", {})
    if not isinstance(conditions_raw, dict):
        raise MalformedPolicyError(f"{where}: Condition must be an object")
    conditions: list[tuple[str, str, object]] = []
    for op_text, block in conditions_raw.items():
        if not isinstance(block, dict):
            raise MalformedPolicyError(
                f"{where}: Condition operator {op_text!r} must map condition keys to values"
            )
        conditions.extend((op_text, key, value) for key, value in block.items())
    return build_statement(
        index=index,
        where=where,
        sid=sid,
        effect=item.get("Effect"),
        principal=item.get("Principal"),
        not_principal=item.get("NotPrincipal"),
        action=item.get("Action"),
        not_action=item.get("NotAction"),
        conditions=conditions,
    )


def build_statement(
    *,
    index: int,
    where: str,
    sid: str | None,
    effect: object,
    principal: object,
    not_principal: object,
    action: object,
    not_action: object,
    conditions: Iterable[tuple[str, str, object]],
) -> Statement:
    """Validate and build one statement (shared by the JSON and Terraform readers)."""
    if effect not in ("Allow", "Deny"):
        shown = "missing" if effect is None else json.dumps(effect)
        raise MalformedPolicyError(f'{where}: Effect is {shown}; it must be "Allow" or "Deny"')
    if (principal is None) == (not_principal is None):
        raise MalformedPolicyError(
            f"{where}: a trust policy statement needs exactly one of Principal or NotPrincipal"
        )
    if (action is None) == (not_action is None):
        raise MalformedPolicyError(f"{where}: needs exactly one of Action or NotAction")
    parsed_conditions = []
    for op_text, key, value in conditions:
        operator = parse_operator(op_text)
        if operator is None:
            raise MalformedPolicyError(f"{where}: unknown condition operator {op_text!r}")
        if not isinstance(key, str) or not key:
            raise MalformedPolicyError(f"{where}: {op_text}: condition keys must be strings")
        parsed_conditions.append(
            Condition(operator=operator, key=key, values=_condition_values(value, where, key))
        )
    return Statement(
        index=index,
        sid=sid,
        effect="Allow" if effect == "Allow" else "Deny",
        principal=None if principal is None else _principal(principal, where, "Principal"),
        not_principal=(
            None if not_principal is None else _principal(not_principal, where, "NotPrincipal")
        ),
        actions=None if action is None else _strings(action, where, "Action"),
        not_actions=None if not_action is None else _strings(not_action, where, "NotAction"),
        conditions=tuple(parsed_conditions),
    )


def scalar_text(value: object) -> str | None:
    """IAM compares condition values as strings: ``true`` -> ``"true"``, ``5`` -> ``"5"``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return None


def _condition_values(value: object, where: str, key: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        text = scalar_text(item)
        if text is None:
            raise MalformedPolicyError(
                f"{where}: condition key {key!r} has a value that is not a string, number or "
                f"boolean ({json.dumps(item)})"
            )
        out.append(text)
    return tuple(out)


def _strings(value: object, where: str, field: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise MalformedPolicyError(f"{where}: {field} must be a string or a list of strings")
    return tuple(str(item) for item in items)


def _principal(value: object, where: str, field: str) -> Principal:
    if value == "*":
        return Principal(wildcard=True)
    if not isinstance(value, dict) or not value:
        raise MalformedPolicyError(
            f'{where}: {field} must be "*" or an object such as {{"Federated": "<provider ARN>"}}'
        )
    entries = tuple(
        (str(kind), _strings(values, where, f"{field}.{kind}")) for kind, values in value.items()
    )
    return Principal(wildcard=False, entries=entries)
