"""Trust policies inside Terraform files, read with a real HCL parser (python-hcl2).

Found: ``data "aws_iam_policy_document"`` blocks (``statement`` / ``principals`` / ``condition``
blocks) that are trust policies (they have ``principals``, or a role's ``assume_role_policy``
points at them), and ``aws_iam_role`` ``assume_role_policy`` values given as a JSON string, a
heredoc, ``jsonencode({...})`` or ``file("...")``.

python-hcl2 8.x keeps string literals quoted (``'"Allow"'``), marks blocks with ``__is_block__``
and returns expressions as ``"${...}"`` text; ``jsonencode({...})`` arrives as the text
``${jsonencode({...})}``, whose argument we parse again as an HCL object. A principal that
references an ``aws_iam_openid_connect_provider`` (resource or data source) is replaced by that
provider's ARN shape (``arn:<partition>:iam::<account>:oidc-provider/<url host/path>``). Any other
Terraform expression is unknown here: it becomes ``<expression>`` and is reported as unresolved.

hcl2 is imported lazily: only linting or checking a ``.tf`` file needs it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import MalformedPolicyError, UnreadableFileError
from .policy import (
    DuplicateKey,
    Policy,
    Statement,
    build_statement,
    find_duplicates,
    load_json,
    parse_policy_document,
)
from .unknown import SymPolicy, Unknown, from_policy

GITHUB_PROVIDER_URL = "https://token.actions.githubusercontent.com"


@dataclass(frozen=True)
class Unresolved:
    """A Terraform expression the linter could not evaluate."""

    statement_index: int | None
    where: str
    expression: str


@dataclass(frozen=True)
class TerraformPolicy:
    policy: Policy
    unresolved: tuple[Unresolved, ...]

    @property
    def symbolic(self) -> SymPolicy:
        return from_policy(self.policy, [Unknown(u.expression) for u in self.unresolved])

    @property
    def without_defaults(self) -> SymPolicy | None:
        return None


@dataclass(frozen=True)
class TerraformFile:
    policies: tuple[TerraformPolicy, ...]
    skipped: tuple[str, ...]  # documents that are not trust policies, and why


def _unquote_key(key: str) -> str:
    if len(key) >= 2 and key[0] == key[-1] == '"':
        return key[1:-1]
    return key


def _blocks(raw: object) -> list[dict[str, Any]]:
    if isinstance(raw, dict):
        return [raw]
    if isinstance(raw, list):
        return [item for item in raw if isinstance(item, dict)]
    return []


def _labelled(doc: dict[str, Any], section: str) -> list[tuple[str, str, dict[str, Any]]]:
    """``resource "TYPE" "NAME" {...}`` -> [(TYPE, NAME, body)]."""
    out = []
    for entry in _blocks(doc.get(section)):
        for rtype, named in entry.items():
            for name_map in _blocks(named):
                for name, body in name_map.items():
                    for item in _blocks(body):
                        out.append((_unquote_key(rtype), _unquote_key(name), item))
    return out


def _split_interpolations(text: str) -> list[tuple[str, bool]]:
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
        if text.startswith("${", i):
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
            parts.append((text[i + 2 : j - 1].strip(), True))
            i = j
            continue
        buf.append(text[i])
        i += 1
    if buf:
        parts.append(("".join(buf), False))
    return parts


def _decode_escapes(text: str) -> str:
    from hcl2.utils import process_escape_sequences

    return str(process_escape_sequences(text))


class _Resolver:
    """Turns hcl2's serialized values into plain Python values, recording what it cannot know."""

    def __init__(self, providers: dict[str, str], base_dir: Path) -> None:
        self.providers = providers  # "aws_iam_openid_connect_provider.github" -> url
        self.base_dir = base_dir
        self.unresolved: list[Unresolved] = []
        self.statement_index: int | None = None
        self.where = ""

    def expression(self, expr: str) -> str:
        """The value of a bare expression, or ``<expr>``."""
        ref = re.fullmatch(
            r"(data\.)?aws_iam_openid_connect_provider\.([A-Za-z0-9_-]+)\.(arn|id)", expr
        )
        if ref:
            kind = (
                "data.aws_iam_openid_connect_provider"
                if ref.group(1)
                else "aws_iam_openid_connect_provider"
            )
            url = self.providers.get(f"{kind}.{ref.group(2)}")
            if url:
                host = re.sub(r"^https?://", "", url).rstrip("/")
                return f"arn:<partition>:iam::<account>:oidc-provider/{host}"
        self.unresolved.append(Unresolved(self.statement_index, self.where, expr))
        return f"<{expr}>"

    def string(self, raw: object) -> object:
        """A serialized scalar: ``'"text"'`` -> ``text``; ``'${expr}'`` -> resolved or marked."""
        if not isinstance(raw, str):
            return raw
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            body = raw[1:-1]
            heredoc = re.fullmatch(r"<<-?([A-Za-z][\w.-]*)\r?\n(.*?)\r?\n?\1", body, re.S)
            if heredoc:
                body = heredoc.group(2)
            out = []
            for text, is_expr in _split_interpolations(body):
                out.append(self.expression(text) if is_expr else _decode_escapes(text))
            return "".join(out)
        parts = _split_interpolations(raw)
        if len(parts) == 1 and parts[0][1]:
            return self.expression(parts[0][0])
        return raw

    def value(self, raw: object) -> object:
        """Any serialized value, recursively (objects, lists, scalars)."""
        if isinstance(raw, dict):
            return {
                str(self.string(key) if key.startswith(('"', "${")) else key): self.value(item)
                for key, item in raw.items()
                if key not in ("__is_block__", "__comments__", "__inline_comments__")
            }
        if isinstance(raw, list):
            return [self.value(item) for item in raw]
        return self.string(raw)


MAX_NESTING = 100  # real modules nest a few levels; the HCL parser recurses per level


def _check_nesting(text: str, source: str) -> None:
    """Refuse absurd nesting before the parser spends seconds and memory recursing into it.
    Brackets inside strings count too: harmless, no real policy holds 100 of them."""
    depth = 0
    for match in re.finditer(r"[\[\]{}()]", text):
        depth += 1 if match.group(0) in "[{(" else -1
        if depth > MAX_NESTING:
            raise MalformedPolicyError(
                f"{source}: brackets nested more than {MAX_NESTING} levels deep; not a Terraform "
                "file the linter reads"
            )


def _hcl_loads(text: str, source: str) -> dict[str, Any]:
    import hcl2

    _check_nesting(text, source)
    from hcl2 import SerializationOptions

    options = SerializationOptions(
        with_comments=False, preserve_heredocs=False, preserve_scientific_notation=False
    )
    try:
        doc = hcl2.loads(text, serialization_options=options)
    except Exception as exc:  # noqa: BLE001 - hcl2 raises lark errors of many kinds
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MalformedPolicyError(f"{source}: not valid HCL ({first})") from None
    if not isinstance(doc, dict):
        raise MalformedPolicyError(f"{source}: not valid HCL")
    return doc


def _jsonencode_argument(expr: str, resolver: _Resolver, source: str) -> object:
    inner = expr[len("jsonencode(") : -1]
    doc = _hcl_loads(f"value = {inner}\n", source)
    return resolver.value(doc.get("value"))


def read_terraform(path: str) -> TerraformFile:
    from .files import read_text_file

    return parse_terraform(read_text_file(path), path, base_dir=Path(path).parent)


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


def parse_terraform(text: str, source: str, *, base_dir: Path | None = None) -> TerraformFile:
    doc = _hcl_loads(text, source)
    resources = _labelled(doc, "resource")
    data = _labelled(doc, "data")
    providers: dict[str, str] = {}
    for prefix, items in (("", resources), ("data.", data)):
        for rtype, name, body in items:
            if rtype == "aws_iam_openid_connect_provider":
                url = body.get("url")
                if isinstance(url, str) and url.startswith('"'):
                    providers[f"{prefix}{rtype}.{name}"] = url.strip('"')
    base = base_dir or Path(".")
    policies: list[TerraformPolicy] = []
    skipped: list[str] = []
    referenced: dict[str, str] = {}  # data source name -> role that uses it as trust policy
    inline: list[tuple[str, object]] = []  # roles' own assume_role_policy values
    for rtype, name, body in resources:
        if rtype != "aws_iam_role" or "assume_role_policy" not in body:
            continue
        raw = body["assume_role_policy"]
        ref = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.([\w-]+)\.json\}", str(raw))
        if ref:
            referenced[ref.group(1)] = f"aws_iam_role.{name}"
        else:
            inline.append((f"{source}: aws_iam_role.{name}.assume_role_policy", raw))
    for rtype, name, body in data:
        if rtype != "aws_iam_policy_document":
            continue
        label = f"{source}: data.aws_iam_policy_document.{name}"
        if name in referenced:
            label += f" (assume_role_policy of {referenced[name]})"
        statements = _blocks(body.get("statement"))
        is_trust = name in referenced or any(
            "principals" in s or "not_principals" in s for s in statements
        )
        if "dynamic" in body and not statements:
            skipped.append(f"{label}: built from dynamic blocks; lint the JSON it renders")
            continue
        if not is_trust:
            skipped.append(f"{label}: no principals, so not a trust policy")
            continue
        policies.append(_policy_document(body, label, _Resolver(providers, base)))
    for label, raw in inline:
        policies.append(_role_policy(raw, label, _Resolver(providers, base)))
    return TerraformFile(policies=tuple(policies), skipped=tuple(skipped))


def _role_policy(raw: object, label: str, resolver: _Resolver) -> TerraformPolicy:
    resolver.where = "assume_role_policy"
    duplicates: tuple[DuplicateKey, ...] = ()
    expr = raw[2:-1].strip() if isinstance(raw, str) and raw.startswith("${") else None
    if expr is not None and expr.startswith("jsonencode(") and expr.endswith(")"):
        doc = _jsonencode_argument(expr, resolver, label)
    elif expr is not None and (m := re.fullmatch(r'file\("([^"]+)"\)', expr)):
        text = _module_file(resolver.base_dir, m.group(1), label)
        doc = load_json(text, f'{label} (file("{m.group(1)}"))')
        duplicates = find_duplicates(doc)
    elif expr is not None:
        raise MalformedPolicyError(
            f"{label}: the expression ${{{expr}}} cannot be read without running Terraform; "
            "lint the JSON it produces instead (terraform console, or the plan's JSON)"
        )
    else:
        value = resolver.string(raw)
        if not isinstance(value, str):
            raise MalformedPolicyError(f"{label}: assume_role_policy is not a string")
        if resolver.unresolved and not value.lstrip().startswith("{"):
            raise MalformedPolicyError(
                f"{label}: the value depends on {resolver.unresolved[0].expression}, which cannot "
                "be read without running Terraform; lint the JSON it produces instead"
            )
        doc = load_json(value, label)
        duplicates = find_duplicates(doc)
    policy = parse_policy_document(doc, label, duplicates=duplicates)
    return TerraformPolicy(policy=policy, unresolved=tuple(resolver.unresolved))


def _strings(resolver: _Resolver, raw: object) -> list[str]:
    value = resolver.value(raw)
    items = value if isinstance(value, list) else [value]
    return [str(item) for item in items if item is not None]


def _policy_document(body: dict[str, Any], label: str, resolver: _Resolver) -> TerraformPolicy:
    for attr in (
        "source_policy_documents",
        "override_policy_documents",
        "source_json",
        "override_json",
    ):
        if attr in body:
            resolver.unresolved.append(Unresolved(None, attr, str(body[attr])))
    if "dynamic" in body:
        resolver.unresolved.append(Unresolved(None, "dynamic block", "dynamic"))
    version = resolver.value(body.get("version", '"2012-10-17"'))
    statements: list[Statement] = []
    for index, block in enumerate(_blocks(body.get("statement"))):
        resolver.statement_index = index
        sid = resolver.value(block.get("sid")) if "sid" in block else None
        where = f"{label}: statement #{index}" + (f' ("{sid}")' if sid else "")
        resolver.where = where
        principal = _principals(resolver, block.get("principals"))
        not_principal = _principals(resolver, block.get("not_principals"))
        conditions = []
        for cond in _blocks(block.get("condition")):
            test = resolver.value(cond.get("test"))
            variable = resolver.value(cond.get("variable"))
            values = _strings(resolver, cond.get("values", []))
            conditions.append((str(test), str(variable), [v.replace("&{", "${") for v in values]))
        statements.append(
            build_statement(
                index=index,
                where=where,
                sid=str(sid) if sid is not None else None,
                effect=resolver.value(block.get("effect", '"Allow"')),
                principal=principal,
                not_principal=not_principal,
                action=_strings(resolver, block["actions"]) if "actions" in block else None,
                not_action=_strings(resolver, block["not_actions"])
                if "not_actions" in block
                else None,
                conditions=conditions,
            )
        )
    if not statements:
        raise MalformedPolicyError(f"{label}: the policy document has no statement")
    policy = Policy(
        source=label,
        version=str(version) if version is not None else None,
        statements=tuple(statements),
    )
    return TerraformPolicy(policy=policy, unresolved=tuple(resolver.unresolved))


def _principals(resolver: _Resolver, raw: object) -> object:
    blocks = _blocks(raw)
    if not blocks:
        return None
    entries: dict[str, list[str]] = {}
    for block in blocks:
        kind = str(resolver.value(block.get("type")))
        ids = _strings(resolver, block.get("identifiers", []))
        if kind == "*" and ids == ["*"]:
            return "*"
        entries.setdefault(kind, []).extend(ids)
    return entries
