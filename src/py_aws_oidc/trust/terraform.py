"""Trust policies in Terraform: a module (every ``*.tf`` of a directory) read and evaluated offline.

Found: ``data "aws_iam_policy_document"`` blocks that are trust policies (they have
``principals``, static or ``dynamic``, or a role's ``assume_role_policy`` refers to them), and
``aws_iam_role`` ``assume_role_policy`` values (a JSON string, a heredoc, ``jsonencode({...})``,
``file("...")``, ``templatefile("x.json.tpl", {...})``). A ``.tf`` file named on its own is read
with its directory's module (its siblings' variables, locals and data); its own policies are
linted and findings name it.

Variables take, in Terraform's order: ``terraform.tfvars[.json]``, ``*.auto.tfvars[.json]``,
``--var-file``, ``--var``, else their default; with none they are unknown. Expressions are
evaluated by tf_eval.py (functions: tf_functions.py); what stays unknown is kept in the policy
model of unknown.py. When a default was used, the module is evaluated a second time with those
variables unknown, so lint can say which verdict a default decided.

An ``aws_iam_openid_connect_provider`` (resource or data source) whose ``url`` is known stands
for its ARN ``arn:<partition>:iam::<account>:oidc-provider/<host/path>``: a principal that refers
to GitHub's provider is GitHub's provider.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import MalformedPolicyError, UnreadableFileError
from .policy import Policy, find_duplicates, load_json, scalar_text
from .tf_eval import Context, Evaluator, mark_tree
from .tf_functions import Value, first_unknown, text_of
from .tf_hcl import Attr, Block, expression_attr, file_blocks
from .unknown import (
    Sym,
    SymCondition,
    SymList,
    SymPolicy,
    SymStatement,
    Template,
    Unknown,
    instantiate,
    sym_from_document,
)

GITHUB_PROVIDER_URL = "https://token.actions.githubusercontent.com"
MAX_INSTANCES = 20  # count / for_each instances of one policy linted (they differ by key only)
_DOC = "aws_iam_policy_document"


@dataclass(frozen=True)
class TfInputs:
    """Variable values from the command line: ``--var-file FILE`` and ``--var NAME=VALUE``."""

    var_files: tuple[str, ...] = ()
    variables: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TerraformPolicy:
    symbolic: SymPolicy
    without_defaults: SymPolicy | None = None

    @property
    def policy(self) -> Policy:
        """Concrete: unknowns instantiated tight (for ``check`` and locating lines)."""
        return instantiate(self.symbolic, "tight")[0]

    @property
    def unresolved(self) -> tuple[Unknown, ...]:
        return tuple(self.symbolic.unknowns())


@dataclass(frozen=True)
class TerraformFile:
    policies: tuple[TerraformPolicy, ...]
    skipped: tuple[str, ...]  # documents that are not trust policies, and why


@dataclass
class Module:
    directory: Path
    blocks: list[Block]


def split_interpolations(text: str) -> list[tuple[str, bool]]:
    """``a${x}b`` -> [("a", False), ("x", True), ("b", False)], braces balanced, ``$${`` kept."""
    parts: list[tuple[str, bool]] = []
    buf: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$${", i):
            buf.append("${")
            i += 3
            continue
        if text.startswith("%%{", i):
            buf.append("%{")
            i += 3
            continue
        if text.startswith("${", i) or text.startswith("%{", i):
            directive = text[i] == "%"
            depth, j = 1, i + 2
            quote = False
            while j < len(text) and depth:
                char = text[j]
                if char == '"' and text[j - 1] != "\\":
                    quote = not quote
                elif not quote and char == "{":
                    depth += 1
                elif not quote and char == "}":
                    depth -= 1
                j += 1
            if buf:
                parts.append(("".join(buf), False))
                buf = []
            inner = text[i + 2 : j - 1].strip()
            parts.append((("%" + inner) if directive else inner, True))
            i = j
            continue
        buf.append(text[i])
        i += 1
    if buf:
        parts.append(("".join(buf), False))
    return parts


def _module_file(base_dir: Path, name: str, label: str) -> str:
    """``file("NAME")``: only a regular file inside the module's directory (no ``..`` out of
    it, no absolute path, no symlink leading out), read with the same size cap as FILE."""
    from .files import read_text_file

    relative = name.replace("${path.module}", ".")
    module = base_dir.resolve()
    target = (module / relative).resolve()
    if Path(relative).is_absolute() or not target.is_relative_to(module):
        raise UnreadableFileError(
            f'{label}: file("{name}") is outside the module directory {module}; the linter reads '
            "only files inside it (give a path relative to ${path.module})"
        )
    return read_text_file(target, f'{label}: file("{name}")')


# --- loading ---------------------------------------------------------------------------------


def load_module(directory: Path, texts: dict[str, str]) -> Module:
    """Blocks of every file given (path -> text); refused only when a file is not HCL."""
    blocks: list[Block] = []
    for path, text in texts.items():
        _, found = file_blocks(text, path)
        blocks.extend(found)
    return Module(directory, blocks)


def module_texts(directory: Path, named: str | None = None) -> tuple[dict[str, str], list[str]]:
    """Every ``*.tf`` of ``directory`` (the file named, if any, under the name given), and
    notes on siblings that could not be read (too large, not text): their values are unknown."""
    from .files import read_text_file

    texts: dict[str, str] = {}
    notes: list[str] = []
    if named is not None:
        texts[named] = read_text_file(named)
    named_real = Path(named).resolve() if named is not None else None
    for path in sorted(directory.glob("*.tf")):
        if path.resolve() == named_real or not path.is_file():
            continue
        try:
            texts[str(path)] = read_text_file(path)
        except UnreadableFileError as exc:
            if named is None:
                raise
            notes.append(f"{path}: not read ({exc.message}); what it defines is unknown")
    return texts, notes


def _tfvars(path: Path, label: str) -> dict[str, Value]:
    from .files import read_text_file

    text = read_text_file(path, label)
    if path.name.endswith(".json"):
        data = load_json(text, label)
        return dict(data) if isinstance(data, dict) else {}
    attrs, _ = file_blocks(text, label)
    ev = Evaluator(Context())
    return {name: ev.attr(attr) for name, attr in attrs.items()}


def given_values(directory: Path, inputs: TfInputs) -> dict[str, Value]:
    """Variable values from tfvars files and the command line, in Terraform's order."""
    values: dict[str, Value] = {}
    auto = [directory / "terraform.tfvars", directory / "terraform.tfvars.json"]
    auto += sorted(directory.glob("*.auto.tfvars")) + sorted(directory.glob("*.auto.tfvars.json"))
    for path in auto:
        if path.is_file():
            values.update(_tfvars(path, str(path)))
    for name in inputs.var_files:
        values.update(_tfvars(Path(name), f"--var-file {name}"))
    for name, raw in inputs.variables:
        if raw.strip()[:1] in ("[", "{", '"'):
            values[name] = Evaluator(Context()).attr(expression_attr(raw, f"--var {name}"))
        else:
            values[name] = raw
    return values


def _default_note(name: str, value: Value) -> str:
    shown = json.dumps(value) if not isinstance(value, Unknown | Template) else str(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"var.{name} = {shown} (its default)"


def _variables(
    module: Module, given: dict[str, Value], *, defaults_unknown: bool
) -> tuple[dict[str, Value], bool]:
    """Each variable's value, and whether a default was used."""
    out: dict[str, Value] = {}
    used_default = False
    bare = Evaluator(Context())
    for block in module.blocks:
        if block.kind != "variable" or not block.labels:
            continue
        name = block.labels[0]
        where = f"{block.file}:{block.line}"
        default = bare.attr(block.attrs["default"]) if "default" in block.attrs else None
        if name in given:
            out[name] = given[name]
        elif default is None:
            out[name] = Unknown(f"var.{name}", where)
        else:
            used_default = True
            note = _default_note(name, default)
            out[name] = Unknown(f"var.{name}", where, note) if defaults_unknown else default
    for name, value in given.items():
        out.setdefault(name, value)
    return out, used_default


def _context(module: Module, variables: dict[str, Value], label: str) -> Context:
    ctx = Context(variables=variables)
    for block in module.blocks:
        if block.kind == "locals":
            ctx.locals.update(block.attrs)
        elif block.kind == "resource" and len(block.labels) == 2:
            ctx.blocks[".".join(block.labels)] = block
        elif block.kind == "data" and len(block.labels) == 2:
            ctx.blocks["data." + ".".join(block.labels)] = block
    ctx.read_file = lambda name: _module_file(module.directory, name, label)
    return ctx


# --- from values to the policy model ------------------------------------------------------------


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


def _iterations(
    ev: Evaluator, block: Block, scope: dict[str, Value], default_name: str
) -> Iterator[tuple[dict[str, Value], Unknown | None]]:
    """A ``dynamic`` block's iterations: its scope per element, and the unknown deciding
    them when the collection is not known (then one symbolic iteration)."""
    name = default_name
    if "iterator" in block.attrs:
        name = block.attrs["iterator"].source()
    collection = ev.attr(block.attrs["for_each"], scope) if "for_each" in block.attrs else []
    if isinstance(collection, Unknown | Template):
        unknown = first_unknown(collection)
        assert unknown is not None
        yield {**scope, name: {"key": unknown, "value": unknown}}, unknown
        return
    items = collection.items() if isinstance(collection, dict) else enumerate(collection)
    for key, value in list(items)[: MAX_INSTANCES * 50]:
        if isinstance(collection, list) and not isinstance(value, dict | list):
            key = value  # noqa: PLW2901 - a set's key is its value
        yield {**scope, name: {"key": key, "value": value}}, None


def _expanded(
    ev: Evaluator, block: Block, kind: str, scope: dict[str, Value]
) -> Iterator[tuple[Block, dict[str, Value], Unknown | None]]:
    """Static ``kind`` blocks and the contents of ``dynamic "kind"`` ones, in order."""
    for child in block.blocks:
        if child.kind == kind:
            yield child, scope, None
        elif child.kind == "dynamic" and child.labels[:1] == (kind,):
            content = next(iter(child.children("content")), None)
            if content is None:
                continue
            for inner, unknown in _iterations(ev, child, scope, kind):
                yield content, inner, unknown


def _principals(ev: Evaluator, block: Block, kind: str, scope: dict[str, Value]) -> Any:
    entries: dict[str, list[Sym]] = {}
    found = False
    for child, inner, _ in _expanded(ev, block, kind, scope):
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


def _conditions(ev: Evaluator, block: Block, scope: dict[str, Value]) -> tuple[SymCondition, ...]:
    out = []
    for child, inner, unknown in _expanded(ev, block, "condition", scope):

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
) -> SymStatement:
    def get(name: str) -> Value:
        return ev.attr(block.attrs[name], scope) if name in block.attrs else None

    sid = _sym(get("sid"))
    return SymStatement(
        index=index,
        where=f"{label}: statement #{index}" + (f' ("{sid}")' if sid else ""),
        sid=sid,
        effect=_sym(get("effect")) or "Allow",
        principal=_principals(ev, block, "principals", scope),
        not_principal=_principals(ev, block, "not_principals", scope),
        actions=_symlist(get("actions")) if "actions" in block.attrs else None,
        not_actions=_symlist(get("not_actions")) if "not_actions" in block.attrs else None,
        conditions=_conditions(ev, block, scope),
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
        self.docs = {
            b.labels[1]: b for b in module.blocks if b.kind == "data" and b.labels[:1] == (_DOC,)
        }

    def label(self, block: Block) -> str:
        return self.shown_file.get(block.file, block.file)

    def instances(self, block: Block) -> list[tuple[str, dict[str, Value]]]:
        """``count`` / ``for_each`` instances of a block: a suffix and the scope of each."""
        ev = self.ev
        if "for_each" in block.attrs:
            each = ev.attr(block.attrs["for_each"])
            if isinstance(each, Unknown | Template):
                unknown = first_unknown(each)
                return [("", {"each": {"key": unknown, "value": unknown}})]
            items = each.items() if isinstance(each, dict) else ((v, v) for v in each)
            return [
                (f'["{k}"]', {"each": {"key": k, "value": v}})
                for k, v in list(items)[:MAX_INSTANCES]
            ]
        if "count" in block.attrs:
            count = ev.attr(block.attrs["count"])
            if isinstance(count, int | float):
                return [
                    (f"[{i}]", {"count": {"index": i}})
                    for i in range(min(int(count), MAX_INSTANCES))
                ]
            return [("", {"count": {"index": first_unknown(count)}})]
        return [("", {})]

    def statements(
        self, block: Block, scope: dict[str, Value], label: str, seen: frozenset[str]
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
        for child, inner, unknown in _expanded(self.ev, block, "statement", scope):
            out.append(_statement(self.ev, child, inner, len(out), label, unknown))
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


def _evaluate(
    module: Module, variables: dict[str, Value], files: set[str] | None, shown: dict[str, str]
) -> tuple[list[tuple[str, SymPolicy]], list[str]]:
    """(label, policy) for every trust policy in ``files`` (None: all), and skipped notes."""
    import re

    label = next(iter(shown.values()), str(module.directory))
    reader = _Reader(module, Evaluator(_context(module, variables, label)), shown)
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
        if name not in referenced and not _has_principals(block):
            skipped.append(
                f"{reader.label(block)}: data.{_DOC}.{name}: no principals, so not a trust policy"
            )
            continue
        policies.extend(reader.doc_policies(block, referenced.get(name)))
    return [(p.source, p) for p in policies], skipped


def read_module(
    directory: Path,
    texts: dict[str, str],
    inputs: TfInputs = TfInputs(),
    *,
    files: set[str] | None = None,
    with_tfvars: bool = True,
) -> TerraformFile:
    """The trust policies of a module (``texts``: its files), those in ``files`` only."""
    module = load_module(directory, texts)
    given = given_values(directory, inputs) if with_tfvars else given_values_cli(inputs)
    shown = {path: path for path in texts}
    variables, used_default = _variables(module, given, defaults_unknown=False)
    found, skipped = _evaluate(module, variables, files, shown)
    second: dict[str, SymPolicy] = {}
    if used_default:
        unknown_vars, _ = _variables(module, given, defaults_unknown=True)
        second = dict(_evaluate(module, unknown_vars, files, shown)[0])
    policies = tuple(TerraformPolicy(policy, second.get(label)) for label, policy in found)
    return TerraformFile(policies=policies, skipped=tuple(skipped))


def given_values_cli(inputs: TfInputs) -> dict[str, Value]:
    return given_values(Path("/nonexistent-module-dir"), inputs)


def read_terraform(path: str, inputs: TfInputs = TfInputs()) -> TerraformFile:
    """A ``.tf`` file read with its directory's module; only its own policies are returned."""
    directory = Path(path).parent
    texts, notes = module_texts(directory, named=path)
    found = read_module(directory, texts, inputs, files={path})
    return TerraformFile(found.policies, (*found.skipped, *notes))


def read_terraform_module(directory: str, inputs: TfInputs = TfInputs()) -> TerraformFile:
    """Every trust policy of the module in ``directory`` (every ``*.tf`` in it)."""
    base = Path(directory)
    return read_module(base, module_texts(base)[0], inputs)


def parse_terraform(
    text: str, source: str, *, base_dir: Path | None = None, inputs: TfInputs = TfInputs()
) -> TerraformFile:
    """One file's text read as a module on its own (no siblings, no tfvars)."""
    return read_module(base_dir or Path("."), {source: text}, inputs, with_tfvars=False)
