"""HCL as the Terraform reader sees it: python-hcl2's parse tree cut into blocks and attributes.

python-hcl2 (a real HCL2 grammar on lark) gives a tree with positions; we keep each attribute's
expression as a tree (evaluated later by tf_eval.py) together with the text of its file, so an
unknown can be named by the expression as written. hcl2 is imported lazily.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import MalformedPolicyError, MissingExtraError

if TYPE_CHECKING:
    from lark import Tree

MAX_NESTING = 100  # real modules nest a few levels; the HCL parser recurses per level


@dataclass(frozen=True)
class Attr:
    """One attribute's expression, with the text it was parsed from (for naming unknowns)."""

    node: Any  # a lark Tree (an expression)
    text: str
    file: str

    @property
    def line(self) -> int:
        return int(getattr(self.node.meta, "line", 0) or 0)

    def source(self) -> str:
        """The expression as written."""
        meta = self.node.meta
        start, end = getattr(meta, "start_pos", None), getattr(meta, "end_pos", None)
        if start is None or end is None:
            return "<expression>"
        return " ".join(self.text[start:end].split())


@dataclass
class Block:
    kind: str
    labels: tuple[str, ...]
    file: str
    line: int
    attrs: dict[str, Attr] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def children(self, kind: str) -> list[Block]:
        return [b for b in self.blocks if b.kind == kind]

    def dynamic(self, label: str) -> list[Block]:
        return [b for b in self.blocks if b.kind == "dynamic" and b.labels[:1] == (label,)]


@dataclass
class Module:
    """A Terraform module: the blocks of every ``*.tf`` of one directory."""

    directory: Path
    blocks: list[Block]


def check_nesting(text: str, source: str) -> None:
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


TERRAFORM_EXTRA_HINT = (
    "reading Terraform needs the parser of the 'trust' extra, which this installation (e.g. "
    "the action's container image) lacks: pip install 'py-aws-oidc[trust]'"
)


def parse_tree(text: str, source: str) -> Tree[Any]:
    try:
        import hcl2
    except ImportError:
        raise MissingExtraError(f"{source}: {TERRAFORM_EXTRA_HINT}") from None

    check_nesting(text, source)
    try:
        return hcl2.parses_to_tree(text)
    except Exception as exc:  # noqa: BLE001 - lark raises errors of many kinds
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MalformedPolicyError(f"{source}: not valid HCL ({first})") from None


def token_text(node: Any) -> str:
    """The name of an identifier/keyword/literal node, or the value of a plain string label."""
    from lark import Token

    if isinstance(node, Token):
        return str(node)
    if node.data == "string":
        return "".join(
            str(part.children[0])
            for part in node.children
            if getattr(part, "data", "") == "string_part"
        )
    return "".join(token_text(child) for child in node.children)


def _body(body: Any, text: str, file: str) -> tuple[dict[str, Attr], list[Block]]:
    attrs: dict[str, Attr] = {}
    blocks: list[Block] = []
    for item in body.children:
        data = getattr(item, "data", None)
        if data == "attribute":
            name = token_text(item.children[0])
            attrs[name] = Attr(item.children[-1], text, file)
        elif data == "block":
            words = [
                token_text(c)
                for c in item.children
                if getattr(c, "data", None) in ("identifier", "keyword", "literal_value", "string")
            ]
            inner = next(c for c in item.children if getattr(c, "data", None) == "body")
            sub_attrs, sub_blocks = _body(inner, text, file)
            line = int(getattr(item.meta, "line", 0) or 0)
            blocks.append(Block(words[0], tuple(words[1:]), file, line, sub_attrs, sub_blocks))
    return attrs, blocks


def file_blocks(text: str, file: str) -> tuple[dict[str, Attr], list[Block]]:
    """Top-level attributes (tfvars) and blocks of one HCL file."""
    tree = parse_tree(text, file)
    return _body(tree.children[0], text, file)


def expression_attr(expr: str, file: str) -> Attr:
    """An expression found inside a heredoc or template (``${expr}``), parsed on its own."""
    text = f"x = {expr}\n"
    attrs, _ = file_blocks(text, file)
    return attrs["x"]
