"""Terraform expressions evaluated offline, over python-hcl2's parse tree.

Values are plain Python values, :class:`~.unknown.Unknown` or :class:`~.unknown.Template` (see
tf_functions.py). References resolve against a :class:`Context` built by terraform.py: ``var.*``
(values given, tfvars, defaults), ``local.*`` (evaluated on demand, cycles are unknown),
attributes written in the module's ``resource``/``data`` blocks, ``each``/``count``/iterators in
scope. Anything else (a computed attribute, a module output, ``terraform.workspace``) is an
:class:`Unknown` named by the expression. Work is bounded: at most :data:`MAX_STEPS` nodes per
evaluation, lists of at most ``MAX_ITEMS``; past that the value is unknown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .tf_functions import FUNCTIONS, MAX_ITEMS, Value, concat_text, first_unknown, text_of
from .tf_hcl import Attr, Block, expression_attr
from .unknown import Markers, Template, Unknown

MAX_STEPS = 200_000  # expression nodes per attribute (with the locals it reads)
_SKIP = frozenset({"new_line_or_comment"})
_ROOTS = frozenset({"var", "local", "data", "module", "path", "terraform", "self"})


class EvalError(Exception):
    """An expression Terraform itself would refuse (a missing key): ``try()`` catches it."""


class _TooMuch(Exception):
    pass


@dataclass(frozen=True)
class Ref:
    """A reference being walked: ``data.aws_x.name`` before its attribute is read."""

    parts: tuple[str, ...]

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass
class Context:
    variables: dict[str, Value] = field(default_factory=dict)
    locals: dict[str, Attr] = field(default_factory=dict)
    blocks: dict[str, Block] = field(default_factory=dict)  # "data.T.N" / "T.N"
    read_file: Callable[[str], str] | None = None  # file(): confined to the module


def kids(node: Any) -> list[Any]:
    """Children that carry meaning (no newlines/comments, no punctuation tokens)."""
    return [c for c in node.children if hasattr(c, "data") and c.data not in _SKIP]


class Evaluator:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.steps = 0
        self._depth = 0
        self._locals: dict[str, Value] = {}
        self._busy: set[str] = set()
        self.text = ""
        self.file = ""
        self.markers = Markers()  # unknowns inside object keys and JSON text

    # --- entry points ---------------------------------------------------------------------

    def attr(
        self, attr: Attr, scope: dict[str, Value] | None = None, name: str | None = None
    ) -> Value:
        """An attribute's value; what cannot be evaluated is an Unknown named ``name`` or by
        the expression's text."""
        saved = (self.text, self.file)
        self.text, self.file = attr.text, attr.file
        if self._depth == 0:
            self.steps = 0  # the bound is per attribute read from outside
        self._depth += 1
        try:
            return self.eval(attr.node, scope or {})
        except (EvalError, RecursionError, _TooMuch, ArithmeticError, TypeError, ValueError):
            return Unknown(name or attr.source())
        finally:
            self.text, self.file = saved
            self._depth -= 1

    def source(self, node: Any) -> str:
        meta = node.meta
        start, end = getattr(meta, "start_pos", None), getattr(meta, "end_pos", None)
        if start is None or end is None or not self.text:
            return "<expression>"
        return " ".join(self.text[start:end].split())

    def eval(self, node: Any, scope: dict[str, Value]) -> Value:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _TooMuch
        handler = getattr(self, f"_e_{node.data}", None)
        if handler is None:
            return Unknown(self.source(node))
        value = handler(node, scope)
        if isinstance(value, Ref):
            return self._finish_ref(value)
        return value

    def _eval_ref(self, node: Any, scope: dict[str, Value]) -> Value:
        """Like eval, but a reference stays a Ref until its attribute is read."""
        handler = getattr(self, f"_e_{node.data}", None)
        self.steps += 1
        if handler is None:
            return Unknown(self.source(node))
        return handler(node, scope)

    # --- literals and collections ------------------------------------------------------------

    def _e_expr_term(self, node: Any, scope: dict[str, Value]) -> Value:
        inner = kids(node)
        return self._eval_ref(inner[0], scope)

    def _e_int_lit(self, node: Any, scope: dict[str, Value]) -> Value:
        return int(str(node.children[0]))

    def _e_float_lit(self, node: Any, scope: dict[str, Value]) -> Value:
        return float(str(node.children[0]))

    def _e_literal_value(self, node: Any, scope: dict[str, Value]) -> Value:
        return {"true": True, "false": False, "null": None}[str(node.children[0])]

    def _e_tuple(self, node: Any, scope: dict[str, Value]) -> Value:
        return [self.eval(child, scope) for child in kids(node)]

    def _e_object(self, node: Any, scope: dict[str, Value]) -> Value:
        out: dict[Any, Value] = {}
        for elem in kids(node):
            key_node, value_node = kids(elem)[0], kids(elem)[-1]
            key_expr = kids(key_node)[0] if key_node.data == "object_elem_key" else key_node
            bare = kids(key_expr)[0] if key_expr.data == "expr_term" and kids(key_expr) else None
            if bare is not None and bare.data in ("identifier", "keyword", "literal_value"):
                key: Value = "".join(str(t) for t in bare.children)
            else:
                key = self.eval(key_expr, scope)
            if isinstance(key, Unknown | Template):
                key = self.markers.mark(key)  # an unknown key (an operator, a condition key)
            out[text_of(key)] = self.eval(value_node, scope)
        return out

    def _e_string(self, node: Any, scope: dict[str, Value]) -> Value:
        from hcl2.utils import process_escape_sequences

        parts: list[Value] = []
        for part in node.children:
            if getattr(part, "data", None) != "string_part":
                continue
            child = part.children[0]
            if hasattr(child, "data"):
                if child.data != "interpolation":
                    return self._directive_string(node, scope)  # %{ if } / %{ for }
                value = self.eval(kids(child)[0], scope)
                # Terraform refuses null in a template: a null default means "set me".
                parts.append(Unknown(self.source(kids(child)[0])) if value is None else value)
            elif child.type in {"ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE"}:
                parts.append(str(child)[1:])
            else:
                parts.append(str(process_escape_sequences(str(child))))
        return concat_text(parts) if parts else ""

    def _directive_string(self, node: Any, scope: dict[str, Value]) -> Value:
        """A quoted string holding ``%{ if }`` / ``%{ for }`` directives, rendered as a template
        (``"repo:%{if x}${r}%{else}${r}:*%{endif}"``); unknown when a directive's test is unknown
        or the string holds escapes."""
        start = getattr(node.meta, "start_pos", None)
        end = getattr(node.meta, "end_pos", None)
        raw = self.text[start:end] if start is not None and end is not None and self.text else ""
        if len(raw) < 2 or not raw.startswith('"') or not raw.endswith('"') or "\\" in raw:
            return Unknown(self.source(node))
        try:
            return self.template(raw[1:-1], scope)
        except EvalError:
            return Unknown(self.source(node))

    def _e_heredoc_template(self, node: Any, scope: dict[str, Value]) -> Value:
        raw = str(node.children[0])
        body = raw.split("\n", 1)[1] if "\n" in raw else ""
        body = body.rstrip("\n").rsplit("\n", 1)[0] + "\n" if "\n" in body.rstrip("\n") else ""
        return self.template(body, scope)

    def _e_heredoc_template_trim(self, node: Any, scope: dict[str, Value]) -> Value:
        raw = str(node.children[0])
        lines = raw.split("\n")[1:-2]
        indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
        return self.template("\n".join(x[indent:] for x in lines) + "\n", scope)

    def template(self, text: str, scope: dict[str, Value]) -> Value:
        """A template's text (a heredoc, a templatefile): ``${expr}`` evaluated, ``%{ for }``
        and ``%{ if }`` directives rendered, ``~`` strip markers applied."""
        from .terraform import split_interpolations

        out, _ = self._render(_trimmed(split_interpolations(text)), 0, scope, ())
        return concat_text(out) if out else ""

    def _template_expr(self, expr: str, scope: dict[str, Value]) -> Value:
        saved = (self.text, self.file)
        attr = expression_attr(expr, self.file)
        self.text = attr.text
        try:
            return self.eval(attr.node, scope)
        finally:
            self.text, self.file = saved

    def _render(
        self, pieces: list[tuple[str, str]], i: int, scope: dict[str, Value], stops: tuple[str, ...]
    ) -> tuple[list[Value], int]:
        out: list[Value] = []
        while i < len(pieces):
            piece, kind = pieces[i]
            if kind == "text":
                out.append(piece)
            elif kind == "expr":
                out.append(self._template_expr(piece, scope))
            elif (piece.split(None, 1) or [""])[0] in stops:
                return out, i
            elif piece.startswith("for "):
                i = self._render_for(pieces, i, scope, out)
            elif piece.startswith("if "):
                i = self._render_if(pieces, i, scope, out)
            else:
                raise EvalError(f"template directive %{{{piece}}}")
            i += 1
        if stops:
            raise EvalError("a template directive is not closed")
        return out, i

    def _render_for(
        self, pieces: list[tuple[str, str]], i: int, scope: dict[str, Value], out: list[Value]
    ) -> int:
        match = re.fullmatch(r"for\s+(\w+)(?:\s*,\s*(\w+))?\s+in\s+(.+)", pieces[i][0], re.S)
        if match is None:
            raise EvalError("template for")
        collection = self._template_expr(match.group(3), scope)
        end = _closing(pieces, i, "for", "endfor")
        body = pieces[i + 1 : end]
        if isinstance(collection, Unknown | Template):
            pairs: list[tuple[Value, Value]] = [(first_unknown(collection),) * 2]
        elif isinstance(collection, dict):
            pairs = list(collection.items())
        else:
            pairs = list(enumerate(collection))
        for key, value in pairs:
            inner = dict(scope)
            if match.group(2):
                inner[match.group(1)], inner[match.group(2)] = key, value
            else:
                inner[match.group(1)] = value
            out.extend(self._render(body, 0, inner, ())[0])
        return end

    def _render_if(
        self, pieces: list[tuple[str, str]], i: int, scope: dict[str, Value], out: list[Value]
    ) -> int:
        test = self._template_expr(pieces[i][0][len("if ") :], scope)
        if isinstance(test, Unknown | Template):
            raise EvalError("template if on an unknown value")
        end = _closing(pieces, i, "if", "endif")
        body = pieces[i + 1 : end]
        depth, split = 0, len(body)
        for n, (piece, kind) in enumerate(body):
            word = piece.split(None, 1)[0] if kind == "directive" else ""
            depth += (word == "if") - (word == "endif")
            if word == "else" and depth == 0:
                split = n
                break
        chosen = body[:split] if test else body[split + 1 :]
        out.extend(self._render(chosen, 0, scope, ())[0])
        return end

    # --- references ------------------------------------------------------------------------

    def _e_identifier(self, node: Any, scope: dict[str, Value]) -> Value:
        name = str(node.children[0])
        if name in scope:
            return scope[name]
        if name in ("each", "count"):
            return Unknown(name)
        return Ref((name,))

    def _e_get_attr_expr_term(self, node: Any, scope: dict[str, Value]) -> Value:
        base_node, get_attr = kids(node)
        base = self._eval_ref(base_node, scope)
        name = "".join(str(t) for t in kids(get_attr)[0].children)
        return self._get(base, name, node)

    def _get(self, base: Value, name: str, node: Any) -> Value:
        if isinstance(base, Ref):
            return self._walk_ref(Ref((*base.parts, name)))
        if isinstance(base, Unknown):  # named by the path read: var.repos[*].org
            return Unknown(f"{base.expr}.{name}", base.source, base.default_note)
        if isinstance(base, dict):
            if name not in base:
                raise EvalError(name)
            return base[name]
        if isinstance(base, list) and name.isdigit():
            return self._index(base, int(name))
        raise EvalError(self.source(node))

    def _e_index_expr_term(self, node: Any, scope: dict[str, Value]) -> Value:
        base_node, index_node = kids(node)
        base = self._eval_ref(base_node, scope)
        if index_node.data == "short_index":
            key: Value = int(str(index_node.children[-1]))
        else:
            key = self.eval(kids(index_node)[0], scope)
        if isinstance(base, Ref):
            return base  # an instance of a resource with count/for_each: read as the block
        if isinstance(base, Unknown):
            return base
        if isinstance(key, Unknown | Template):
            return first_unknown(key)
        return self._index(base, key)

    def _index(self, base: Value, key: Value) -> Value:
        if isinstance(base, list) and isinstance(key, int | float) and 0 <= int(key) < len(base):
            return base[int(key)]
        if isinstance(base, dict) and text_of(key) in base:
            return base[text_of(key)]
        raise EvalError(f"index {key!r}")

    def _walk_ref(self, ref: Ref) -> Value:
        parts = ref.parts
        root = parts[0]
        if root == "var" and len(parts) == 2:
            return self.ctx.variables.get(parts[1], Unknown(ref.text))
        if root == "local" and len(parts) == 2:
            return self._local(parts[1])
        if root == "path" and len(parts) == 2:
            return "."
        if (root == "module" and len(parts) == 3) or (
            root in ("terraform", "self") and len(parts) == 2
        ):
            return Unknown(ref.text)
        if root == "data" and len(parts) == 4:
            return self._block_attr(".".join(parts[:3]), parts[3])
        if root not in _ROOTS and len(parts) == 3:
            return self._block_attr(".".join(parts[:2]), parts[2])
        return ref

    def _finish_ref(self, ref: Ref) -> Value:
        return Unknown(ref.text)

    def _local(self, name: str) -> Value:
        if name in self._locals:
            return self._locals[name]
        attr = self.ctx.locals.get(name)
        if attr is None or name in self._busy:
            return Unknown(f"local.{name}")
        self._busy.add(name)
        try:
            value = self.attr(attr, name=f"local.{name}")
        finally:
            self._busy.discard(name)
        self._locals[name] = value
        return value

    def _block_attr(self, address: str, name: str) -> Value:
        block = self.ctx.blocks.get(address)
        text = f"{address}.{name}"
        if block is None:
            return Unknown(text)
        kind = address.removeprefix("data.").split(".")[0]
        if kind == "aws_iam_openid_connect_provider" and name in ("arn", "id"):
            if name in block.attrs:
                return self.attr(block.attrs[name])
            url = self.attr(block.attrs["url"]) if "url" in block.attrs else None
            if isinstance(url, str):
                host = re.sub(r"^https?://", "", url).rstrip("/")
                return f"arn:<partition>:iam::<account>:oidc-provider/{host}"
            return Unknown(text)
        if kind == "aws_iam_openid_connect_provider" and name == "url" and "url" in block.attrs:
            url = self.attr(block.attrs["url"])  # read back without its scheme, as AWS gives it
            return re.sub(r"^https?://", "", url) if isinstance(url, str) else url
        if name in block.attrs and name not in ("json", "arn", "id"):
            value = self.attr(block.attrs[name])
            return Unknown(text) if isinstance(value, Unknown) else value
        return Unknown(text)

    def _e_full_splat_expr_term(self, node: Any, scope: dict[str, Value]) -> Value:
        return self._splat(node, scope)

    def _e_attr_splat_expr_term(self, node: Any, scope: dict[str, Value]) -> Value:
        return self._splat(node, scope)

    def _splat(self, node: Any, scope: dict[str, Value]) -> Value:
        base_node, splat = kids(node)
        base = self._eval_ref(base_node, scope)
        names = [
            "".join(str(t) for t in kids(op)[0].children)
            for op in kids(splat)
            if op.data == "get_attr"
        ]
        if isinstance(base, Ref):
            value: Value = base
            for name in names:
                value = self._get(value, name, node)
            return [Unknown(base.text) if isinstance(value, Ref) else value]
        if isinstance(base, Unknown):
            return base
        out = []
        for item in base if isinstance(base, list) else [base]:
            for name in names:
                item = self._get(item, name, node)  # noqa: PLW2901 - walking the splat
            out.append(item)
        return out

    # --- operators and expressions -------------------------------------------------------

    def _e_conditional(self, node: Any, scope: dict[str, Value]) -> Value:
        cond, yes, no = kids(node)
        test = self.eval(cond, scope)
        if isinstance(test, Unknown | Template):
            return first_unknown(test)
        return self.eval(yes if test else no, scope)

    def _e_unary_op(self, node: Any, scope: dict[str, Value]) -> Value:
        op = str(node.children[0])
        value = self.eval(kids(node)[-1], scope)
        if isinstance(value, Unknown | Template):
            return first_unknown(value)
        return (not value) if op == "!" else -value

    def _e_binary_op(self, node: Any, scope: dict[str, Value]) -> Value:
        left_node, term = kids(node)
        op_node, right_node = kids(term)
        op = str(op_node.children[0])
        left = self.eval(left_node, scope)
        if (op == "&&" and left is False) or (op == "||" and left is True):
            return left
        right = self.eval(right_node, scope)
        unknown = first_unknown([left, right])
        if unknown is not None:
            return unknown
        return _BINARY[op](left, right)

    def _e_function_call(self, node: Any, scope: dict[str, Value]) -> Value:
        parts = kids(node)
        name = "".join(str(t) for t in parts[0].children)
        arg_nodes = kids(parts[-1]) if len(parts) > 1 and parts[-1].data == "arguments" else []
        if name == "try":
            return self._try(arg_nodes, scope)
        if name == "can" and len(arg_nodes) == 1:
            try:
                value = self.eval(arg_nodes[0], scope)
            except EvalError:
                return False
            return first_unknown(value) or True
        args = [self.eval(arg, scope) for arg in arg_nodes]
        expand = len(parts) > 1 and any(str(t) == "..." for t in parts[-1].children)
        if expand and args and isinstance(args[-1], list):
            args = [*args[:-1], *args[-1]]
        return self.call(name, args, node)

    def jsonencode(self, value: Value) -> Value:
        """JSON text; unknowns stay unknown inside it (a Template), to be decoded again."""
        text = json.dumps(mark_tree(value, self.markers), ensure_ascii=False)
        return self.markers.unmark(text)

    def _try(self, arg_nodes: list[Any], scope: dict[str, Value]) -> Value:
        for arg in arg_nodes:
            try:
                return self.eval(arg, scope)
            except EvalError:
                continue
        raise EvalError("try(): no argument could be evaluated")

    def call(self, name: str, args: list[Value], node: Any) -> Value:
        from .tf_functions import PARTIAL

        if name == "jsonencode" and len(args) == 1:
            return self.jsonencode(args[0])
        if name == "file" and len(args) == 1 and isinstance(args[0], str) and self.ctx.read_file:
            return self.ctx.read_file(args[0])
        if name == "templatefile" and len(args) == 2:
            return self._templatefile(args[0], args[1], node)
        fn = FUNCTIONS.get(name)
        if fn is None:
            return first_unknown(args) or Unknown(self.source(node))
        if name not in PARTIAL:
            unknown = next((a for a in args if isinstance(a, Unknown)), None)
            if unknown is not None:
                return unknown
        result = fn(*args)
        if isinstance(result, list) and len(result) > MAX_ITEMS:
            raise _TooMuch
        return result

    def _templatefile(self, path: Value, variables: Value, node: Any) -> Value:
        if not isinstance(path, str) or not isinstance(variables, dict) or not self.ctx.read_file:
            return first_unknown([path, variables]) or Unknown(self.source(node))
        text = self.ctx.read_file(path)
        return self.template(text, dict(variables))

    def _e_for_tuple_expr(self, node: Any, scope: dict[str, Value]) -> Value:
        intro, *rest = kids(node)
        out = []
        for inner in self._for_scopes(intro, rest, scope):
            out.append(self.eval(rest[0], inner))
        return out

    def _e_for_object_expr(self, node: Any, scope: dict[str, Value]) -> Value:
        intro, *rest = kids(node)
        grouped = any(str(t) == "..." for t in node.children)
        out: dict[str, Value] = {}
        for inner in self._for_scopes(intro, rest, scope):
            key = self.eval(rest[0], inner)
            value = self.eval(rest[1], inner)
            if isinstance(key, Unknown | Template):
                return first_unknown(key)
            if grouped:
                out.setdefault(text_of(key), []).append(value)
            else:
                out[text_of(key)] = value
        return out

    def _for_scopes(
        self, intro: Any, rest: list[Any], scope: dict[str, Value]
    ) -> list[dict[str, Value]]:
        names = [str(c.children[0]) for c in kids(intro) if c.data == "identifier"]
        collection = self.eval(kids(intro)[-1], scope)
        cond = next((c for c in rest if c.data == "for_cond"), None)
        if isinstance(collection, Unknown | Template):
            unknown = first_unknown(collection)
            assert unknown is not None
            element = Unknown(f"{unknown.expr}[*]", unknown.source, unknown.default_note)
            pairs: list[tuple[Value, Value]] = [(element, element)]
        elif isinstance(collection, dict):
            pairs = list(collection.items())
        elif isinstance(collection, list):
            pairs = list(enumerate(collection))
        else:
            raise EvalError("for over a value that is not a collection")
        scopes = []
        for key, value in pairs:
            inner = dict(scope)
            if len(names) == 2:
                inner[names[0]], inner[names[1]] = key, value
            else:
                inner[names[0]] = value
            if cond is not None:
                keep = self.eval(kids(cond)[-1], inner)
                if keep is False:
                    continue
            scopes.append(inner)
        return scopes


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "%": lambda a, b: a % b,
    "&&": lambda a, b: bool(a and b),
    "||": lambda a, b: bool(a or b),
}


def _trimmed(parts: list[tuple[str, bool]]) -> list[tuple[str, str]]:
    """(text, kind) with kind text/expr/directive; ``~`` strips the whitespace beside it."""
    out: list[tuple[str, str]] = []
    strip_next = False
    for piece, is_expr in parts:
        if not is_expr:
            out.append((piece.lstrip() if strip_next else piece, "text"))
            strip_next = False
            continue
        kind = "directive" if piece.startswith("%") else "expr"
        body = piece[1:] if kind == "directive" else piece
        if body.startswith("~"):
            body = body[1:]
            if out and out[-1][1] == "text":
                out[-1] = (out[-1][0].rstrip(), "text")
        strip_next = body.endswith("~")
        out.append((body.removesuffix("~").strip(), kind))
    return out


def _closing(pieces: list[tuple[str, str]], i: int, opener: str, closer: str) -> int:
    depth = 0
    for n in range(i, len(pieces)):
        piece, kind = pieces[n]
        if kind != "directive":
            continue
        word = piece.split(None, 1)[0] if piece else ""
        depth += (word == opener) - (word == closer)
        if depth == 0:
            return n
    raise EvalError(f"%{{ {opener} }} without %{{ {closer} }}")


def mark_tree(value: Value, markers: Markers) -> Any:
    """A value with unknowns -> plain JSON-able data whose strings carry markers."""
    if isinstance(value, Unknown | Template):
        return markers.mark(value)
    if isinstance(value, list):
        return [mark_tree(item, markers) for item in value]
    if isinstance(value, dict):
        return {key: mark_tree(item, markers) for key, item in value.items()}
    return value
