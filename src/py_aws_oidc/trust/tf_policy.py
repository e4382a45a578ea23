"""Which blocks of a Terraform module are trust policies, and their policy model (unknown.py).

Trust policies: ``data "aws_iam_policy_document"`` blocks a role's ``assume_role_policy``
refers to, or that have ``principals`` (static or ``dynamic``) and are not a resource's
permissions policy; a document included by ``source_policy_documents`` is linted as part of
the one including it; ``aws_iam_role`` ``assume_role_policy`` values written inline. Each
``count``/``for_each`` instance is a policy; a ``dynamic`` block over an unknown collection is
an ``optional`` condition or statement. A document whose dynamic statements are all off with
the values given is linted as if they were on (a generic module's switches), and says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .errors import MalformedPolicyError
from .policy import find_duplicates, load_json, scalar_text
from .tf_eval import Evaluator, mark_tree
from .tf_functions import Value, first_unknown, text_of
from .tf_hcl import Attr, Block, Module
from .unknown import (
    Sym,
    SymCondition,
    SymList,
    SymPolicy,
    SymStatement,
    Template,
    Unknown,
    sym_from_document,
)

MAX_INSTANCES = 20  # count / for_each instances of one policy linted (they differ by key only)
_DOC = "aws_iam_policy_document"


def _sym(value: Value) -> Sym | None:
    if value is None or isinstance(value, str | Unknown | Template):
        return value
    if isinstance(value, list | dict):
        return first_unknown(value) or json.dumps(value)
    return scalar_text(value) or text_of(value)


def _iam_vars(value: Sym) -> Sym:
    """``&{aws:username}`` is how Terraform writes IAM's ``${aws:username}``."""
    if isinstance(value, str):
        return value.replace("&{", "${")
    if isinstance(value, Template):
        return Template(
            tuple(p.replace("&{", "${") if isinstance(p, str) else p for p in value.parts)
        )
    return value


def _symlist(value: Value) -> SymList:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, Template):
        return (value,)
    items = value if isinstance(value, list) else [value]
    out: list[Sym] = []
    for item in items:
        for flat in item if isinstance(item, list) else [item]:
            sym = _sym(flat)
            if sym is not None:
                out.append(_iam_vars(sym))
    return tuple(out)


def _elements(collection: Unknown) -> dict[str, Value]:
    """``each`` / an iterator over an unknown collection: its key and value are unknown too,
    named after the collection (``keys(var.repos)``, ``var.repos[*]``)."""
    source, note = collection.source, collection.default_note
    return {
        "key": Unknown(f"keys({collection.expr})", source, note),
        "value": Unknown(f"{collection.expr}[*]", source, note),
    }


def _iterations(
    ev: Evaluator, block: Block, scope: dict[str, Value], default_name: str, switch_on: bool
) -> Iterator[tuple[dict[str, Value], Unknown | None]]:
    """A ``dynamic`` block's iterations: its scope per element, and the unknown deciding
    them when the collection is not known (then one symbolic iteration). ``switch_on``: an
    empty collection counts as unknown (a module's statement switched off by default)."""
    name = default_name
    if "iterator" in block.attrs:
        name = block.attrs["iterator"].source()
    collection = ev.attr(block.attrs["for_each"], scope) if "for_each" in block.attrs else []
    if switch_on and collection in ([], {}) and "for_each" in block.attrs:
        collection = Unknown(block.attrs["for_each"].source())
    if isinstance(collection, Unknown | Template):
        unknown = first_unknown(collection)
        assert unknown is not None
        yield {**scope, name: _elements(unknown)}, unknown
        return
    items = collection.items() if isinstance(collection, dict) else enumerate(collection)
    for key, value in list(items)[: MAX_INSTANCES * 50]:
        if isinstance(collection, list) and not isinstance(value, dict | list):
            key = value  # noqa: PLW2901 - a set's key is its value
        yield {**scope, name: {"key": key, "value": value}}, None


def _expanded(
    ev: Evaluator, block: Block, kind: str, scope: dict[str, Value], switch_on: bool = False
) -> Iterator[tuple[Block, dict[str, Value], Unknown | None]]:
    """Static ``kind`` blocks and the contents of ``dynamic "kind"`` ones, in order."""
    for child in block.blocks:
        if child.kind == kind:
            yield child, scope, None
        elif child.kind == "dynamic" and child.labels[:1] == (kind,):
            content = next(iter(child.children("content")), None)
            if content is None:
                continue
            for inner, unknown in _iterations(ev, child, scope, kind, switch_on):
                yield content, inner, unknown


def _principals(
    ev: Evaluator, block: Block, kind: str, scope: dict[str, Value], switch_on: bool = False
) -> Any:
    entries: dict[str, list[Sym]] = {}
    found = False
    for child, inner, _ in _expanded(ev, block, kind, scope, switch_on):
        found = True
        ptype = _sym(ev.attr(child.attrs["type"], inner)) if "type" in child.attrs else None
        ids = (
            _symlist(ev.attr(child.attrs["identifiers"], inner))
            if "identifiers" in child.attrs
            else ()
        )
        type_text = ptype if isinstance(ptype, str) else "Federated"
        if isinstance(ids, Unknown):
            ids = (ids,)
        if type_text == "*" and ids == ("*",):
            return "*"
        entries.setdefault(type_text, []).extend(ids)
    if not found:
        return None
    return {kind_: tuple(ids) for kind_, ids in entries.items()}


def _conditions(
    ev: Evaluator, block: Block, scope: dict[str, Value], switch_on: bool = False
) -> tuple[SymCondition, ...]:
    out = []
    for child, inner, unknown in _expanded(ev, block, "condition", scope, switch_on):

        def get(name: str) -> Value:
            return ev.attr(child.attrs[name], inner) if name in child.attrs else None  # noqa: B023

        operator, key = _sym(get("test")), _sym(get("variable"))
        out.append(
            SymCondition(operator or "", key or "", _symlist(get("values") or []), optional=unknown)
        )
    return tuple(out)


def _statement(
    ev: Evaluator,
    block: Block,
    scope: dict[str, Value],
    index: int,
    label: str,
    optional: Unknown | None,
    switch_on: bool = False,
) -> SymStatement:
    def get(name: str) -> Value:
        return ev.attr(block.attrs[name], scope) if name in block.attrs else None

    sid = _sym(get("sid"))
    # A statement switched on by the doctor has its inner blocks switched on too.
    principal = _principals(ev, block, "principals", scope, switch_on)
    not_principal = _principals(ev, block, "not_principals", scope, switch_on)
    actions = _symlist(get("actions")) if "actions" in block.attrs else None
    not_actions = _symlist(get("not_actions")) if "not_actions" in block.attrs else None
    # Generic modules write both of a pair from one unknown object: one of them is null.
    if principal is not None and not_principal is not None and first_unknown(not_principal):
        not_principal = None
    if actions is not None and not_actions is not None:
        if first_unknown(not_actions) or not_actions == ():
            not_actions = None
        elif first_unknown(actions) or actions == ():
            actions = None
    return SymStatement(
        index=index,
        where=f"{label}: statement #{index}" + (f' ("{sid}")' if sid else ""),
        sid=sid,
        effect=_sym(get("effect")) or "Allow",
        principal=principal,
        not_principal=not_principal,
        actions=actions,
        not_actions=not_actions,
        conditions=_conditions(ev, block, scope, switch_on),
        optional=optional,
    )


def _unknown_statement(index: int, label: str, unknown: Unknown) -> SymStatement:
    """Statements that may exist but cannot be read: only the loose instantiation has them."""
    return SymStatement(
        index=index, where=f"{label}: statement #{index}", sid=None, effect=unknown,
        principal={"Federated": unknown}, not_principal=None, actions=unknown, not_actions=None,
        conditions=(), optional=unknown,
    )  # fmt: skip


class _Reader:
    """Trust policies of one evaluated module."""

    def __init__(self, module: Module, ev: Evaluator, shown_file: dict[str, str]) -> None:
        self.module = module
        self.ev = ev
        self.shown_file = shown_file  # a block's file -> how findings name it
        self.notes: list[str] = []
        self.docs = {
            b.labels[1]: b for b in module.blocks if b.kind == "data" and b.labels[:1] == (_DOC,)
        }

    def label(self, block: Block) -> str:
        return self.shown_file.get(block.file, block.file)

    def instances(self, block: Block) -> list[tuple[str, dict[str, Value]]]:
        """``count`` / ``for_each`` instances of a block: a suffix and the scope of each. With
        none (``count = var.create ? 1 : 0`` false with the values given), the block is still
        linted once, its index unknown: a module's policy is worth checking before it is used."""
        ev = self.ev
        found: list[tuple[str, dict[str, Value]]] = [("", {})]
        if "for_each" in block.attrs:
            each = ev.attr(block.attrs["for_each"])
            if isinstance(each, Unknown | Template):
                unknown = first_unknown(each)
                assert unknown is not None
                return [("", {"each": _elements(unknown)})]
            items = each.items() if isinstance(each, dict) else ((v, v) for v in each)
            found = [
                (f'["{k}"]', {"each": {"key": k, "value": v}})
                for k, v in list(items)[:MAX_INSTANCES]
            ]
        elif "count" in block.attrs:
            count = ev.attr(block.attrs["count"])
            if not isinstance(count, int | float):
                return [("", {"count": {"index": first_unknown(count)}})]
            found = [
                (f"[{i}]", {"count": {"index": i}}) for i in range(min(int(count), MAX_INSTANCES))
            ]
        if not found:
            where = block.attrs.get("for_each") or block.attrs["count"]
            self.notes.append(
                f"{self.label(block)}: {'.'.join(block.labels)}: {where.source()} creates no "
                "instance with the values given; linted as if it did"
            )
            each = Unknown("each.value")
            return [
                (
                    "",
                    {
                        "count": {"index": Unknown("count.index")},
                        "each": {"key": each, "value": each},
                    },
                )
            ]
        return found

    def statements(
        self,
        block: Block,
        scope: dict[str, Value],
        label: str,
        seen: frozenset[str],
        switch_on: bool = False,
    ) -> list[SymStatement]:
        out: list[SymStatement] = []
        for attr in (
            "source_policy_documents",
            "override_policy_documents",
            "source_json",
            "override_json",
        ):
            if attr in block.attrs:
                out.extend(self._included(block.attrs[attr], scope, label, seen, len(out)))
        for child, inner, unknown in _expanded(self.ev, block, "statement", scope, switch_on):
            out.append(_statement(self.ev, child, inner, len(out), label, unknown, switch_on))
        return out

    def _included(
        self, attr: Attr, scope: dict[str, Value], label: str, seen: frozenset[str], start: int
    ) -> list[SymStatement]:
        import re

        names = re.findall(rf"data\.{_DOC}\.([\w-]+)", attr.source())
        out: list[SymStatement] = []
        for name in names:
            if name in self.docs and name not in seen:
                for stmt in self.statements(self.docs[name], scope, label, seen | {name}):
                    out.append(_renumber(stmt, start + len(out), label))
        value = self.ev.attr(attr, scope)
        documents = {f"data.{_DOC}.{name}.json" for name in names}
        items = value if isinstance(value, list) else [value]
        for item in items:
            unknown = first_unknown(item)
            if unknown is not None and unknown.expr not in documents:
                out.append(_unknown_statement(start + len(out), label, unknown))
            elif unknown is None and isinstance(item, str) and item.strip():
                out.extend(self._json_statements(item, label, start + len(out)))
        return out

    def _json_statements(self, text: str, label: str, start: int) -> list[SymStatement]:
        """A source document given as JSON text (``file()``, a heredoc)."""
        doc = load_json(text, label)
        policy = sym_from_document(doc, label, self.ev.markers)
        return [_renumber(stmt, start + n, label) for n, stmt in enumerate(policy.statements)]

    def doc_policies(self, block: Block, role: str | None) -> list[SymPolicy]:
        name = block.labels[1]
        out = []
        for suffix, scope in self.instances(block):
            label = f"{self.label(block)}: data.{_DOC}.{name}{suffix}"
            if role:
                label += f" (assume_role_policy of {role})"
            statements = self.statements(block, scope, label, frozenset({name}))
            if not statements and block.dynamic("statement"):
                statements = self.statements(block, scope, label, frozenset({name}), True)
                self.notes.append(
                    f"{label}: no statement with the values given (its dynamic statements are "
                    "off); linted as if they were on"
                )
            if not statements:
                raise MalformedPolicyError(f"{label}: the policy document has no statement")
            version = (
                _sym(self.ev.attr(block.attrs["version"], scope))
                if "version" in block.attrs
                else None
            )
            out.append(
                SymPolicy(
                    label, version if isinstance(version, str) else "2012-10-17", tuple(statements)
                )
            )
        return out

    def role_policies(self, block: Block) -> list[SymPolicy]:
        out = []
        for suffix, scope in self.instances(block):
            label = (
                f"{self.label(block)}: aws_iam_role.{block.labels[1]}{suffix}.assume_role_policy"
            )
            value = self.ev.attr(block.attrs["assume_role_policy"], scope)
            out.append(self._role_policy(value, label))
        return out

    def _role_policy(self, value: Value, label: str) -> SymPolicy:
        markers = self.ev.markers
        if isinstance(value, dict):
            value = json.dumps(mark_tree(value, markers), ensure_ascii=False)
        if isinstance(value, Unknown):
            return SymPolicy(label, None, (_unknown_statement(0, label, value),))
        text = markers.mark(value) if isinstance(value, Template) else text_of(value)
        try:
            doc = load_json(text, label)
        except MalformedPolicyError:
            if isinstance(value, Template):  # unknowns written where JSON wants a value
                unknown = first_unknown(value)
                assert unknown is not None
                return SymPolicy(label, None, (_unknown_statement(0, label, unknown),))
            raise
        return sym_from_document(doc, label, markers, find_duplicates(doc))


def _base_label(label: str) -> str:
    """A policy's label without its instance (``trust["api"]`` -> ``trust``): how the two
    readings (with defaults, and with them unknown) are matched."""
    import re

    return re.sub(
        r"^(.*?(?:data\.aws_iam_policy_document|aws_iam_role)\.[\w-]+)\[[^\]]*\]", r"\1", label
    )


def _renumber(stmt: SymStatement, index: int, label: str) -> SymStatement:
    from dataclasses import replace

    where = f"{label}: statement #{index}" + (f' ("{stmt.sid}")' if stmt.sid else "")
    return replace(stmt, index=index, where=where)


def _has_principals(block: Block) -> bool:
    for child in block.children("statement") + [
        c for d in block.dynamic("statement") for c in d.children("content")
    ]:
        if child.children("principals") or child.children("not_principals"):
            return True
        if child.dynamic("principals") or child.dynamic("not_principals"):
            return True
    return False


def _permission_uses(module: Module) -> dict[str, str]:
    """Documents a resource uses as a permissions policy (``aws_iam_role_policy.policy``,
    ``aws_iam_policy.policy``, a role's ``inline_policy``): name -> where."""
    import re

    uses: dict[str, str] = {}
    for block in module.blocks:
        if block.kind != "resource" or len(block.labels) != 2:
            continue
        attrs = dict(block.attrs)
        for inner in block.blocks:
            attrs.update({f"{inner.kind}.{k}": v for k, v in inner.attrs.items()})
        for attr_name, attr in attrs.items():
            if block.labels[0] == "aws_iam_role" and attr_name == "assume_role_policy":
                continue
            for name in re.findall(rf"data\.{_DOC}\.([\w-]+)", attr.source()):
                uses.setdefault(name, f"{'.'.join(block.labels)}.{attr_name}")
    return uses


def trust_policies(
    module: Module, ev: Evaluator, files: set[str] | None, shown: dict[str, str]
) -> tuple[list[tuple[str, SymPolicy]], list[str]]:
    """(base label, policy) for every trust policy in ``files`` (None: all), and notes on the
    documents skipped. ``shown``: a file -> how findings name it."""
    import re

    reader = _Reader(module, ev, shown)
    mine = [b for b in module.blocks if files is None or b.file in files]
    referenced: dict[str, str] = {}
    policies: list[SymPolicy] = []
    roles = [b for b in module.blocks if b.kind == "resource" and b.labels[:1] == ("aws_iam_role",)]
    for role in roles:
        attr = role.attrs.get("assume_role_policy")
        if attr is None:
            continue
        names = re.findall(rf"data\.{_DOC}\.([\w-]+)", attr.source())
        for name in names:
            referenced.setdefault(name, f"aws_iam_role.{role.labels[1]}")
        if not names and role in mine:
            policies.extend(reader.role_policies(role))
    skipped: list[str] = []
    permissions = _permission_uses(module)
    included = {
        name: f"data.{_DOC}.{block.labels[1]}"
        for block in reader.docs.values()
        for attr in ("source_policy_documents", "override_policy_documents")
        if attr in block.attrs
        for name in re.findall(rf"data\.{_DOC}\.([\w-]+)", block.attrs[attr].source())
    }
    for block in mine:
        if block.kind != "data" or block.labels[:1] != (_DOC,):
            continue
        name = block.labels[1]
        if name in included and name not in referenced:
            skipped.append(
                f"{reader.label(block)}: data.{_DOC}.{name}: linted as part of {included[name]}"
            )
            continue
        if name not in referenced and name in permissions:
            skipped.append(
                f"{reader.label(block)}: data.{_DOC}.{name}: the permissions policy of "
                f"{permissions[name]}, not a trust policy"
            )
            continue
        if name not in referenced and not _has_principals(block):
            skipped.append(
                f"{reader.label(block)}: data.{_DOC}.{name}: no principals, so not a trust policy"
            )
            continue
        policies.extend(reader.doc_policies(block, referenced.get(name)))
    found = [(_base_label(p.source), p) for p in policies]
    return found, [*skipped, *reader.notes]
