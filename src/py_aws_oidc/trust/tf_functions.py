"""The Terraform functions trust policies use, over values that may be unknown (see unknown.py).

A value is a plain Python value (``str``, ``int``, ``float``, ``bool``, ``None``, ``list``,
``dict``), an :class:`~.unknown.Unknown` or a :class:`~.unknown.Template` (a string partly known).
A function given an unknown argument returns that unknown (the root cause stays named), except
where the known part still tells something: ``concat``/``flatten``/``compact``/``distinct`` keep
the known elements (an unknown element stands for "some elements"), string templates keep their
known text. ``file``/``templatefile`` are not here: they read files (terraform.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from .unknown import Template, Unknown

Value = Any
MAX_ITEMS = 10_000  # a list longer than this becomes unknown: no policy needs it


def first_unknown(value: Value) -> Unknown | None:
    """The first unknown inside ``value`` (deeply), or None."""
    if isinstance(value, Unknown):
        return value
    if isinstance(value, Template):
        return next((p for p in value.parts if isinstance(p, Unknown)), None)
    if isinstance(value, list | tuple):
        for item in value:
            found = first_unknown(item)
            if found is not None:
                return found
    if isinstance(value, dict):
        for item in value.values():
            found = first_unknown(item)
            if found is not None:
                return found
    return None


def text_of(value: Value) -> str:
    """Terraform's conversion of a primitive to string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if value is None:
        return ""
    return str(value)


def concat_text(parts: list[Value]) -> Value:
    """Join string pieces; a piece unknown makes a Template (or stays the Unknown alone)."""
    out: list[str | Unknown] = []
    for part in parts:
        pieces = part.parts if isinstance(part, Template) else (part,)
        for piece in pieces:
            if isinstance(piece, Unknown):
                out.append(piece)
            elif isinstance(piece, list | dict):
                found = first_unknown(piece)
                out.append(found if found else json.dumps(piece))
            elif out and isinstance(out[-1], str):
                out[-1] += text_of(piece)
            else:
                out.append(text_of(piece))
    if all(isinstance(p, str) for p in out):
        return "".join(str(p) for p in out)
    if len(out) == 1:
        return out[0]
    return Template(tuple(out))


def _map_text(value: Value, fn: Callable[[str], str]) -> Value:
    if isinstance(value, Template):
        return Template(tuple(fn(p) if isinstance(p, str) else p for p in value.parts))
    if isinstance(value, Unknown):
        return value
    return fn(text_of(value))


def _as_list(value: Value) -> list[Value]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    return [value]


def _flatten(value: Value) -> list[Value]:
    out: list[Value] = []
    for item in _as_list(value):
        out.extend(_flatten(item) if isinstance(item, list) else [item])
    return out


def _distinct(items: list[Value]) -> list[Value]:
    out: list[Value] = []
    seen: set[str] = set()
    for item in items:
        key = repr(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _format(spec: Value, *args: Value) -> Value:
    if not isinstance(spec, str):
        return first_unknown(spec) or spec
    pieces = re.split(r"(%%|%[-+ #0]*\d*(?:\.\d+)?[a-zA-Z])", spec)
    out: list[Value] = []
    index = 0
    for piece in pieces:
        if piece == "%%":
            out.append("%")
        elif piece.startswith("%") and len(piece) > 1:
            value = args[index] if index < len(args) else ""
            index += 1
            out.append(json.dumps(value) if piece.endswith("q") else value)
        else:
            out.append(piece)
    return concat_text(out)


def _formatlist(spec: Value, *args: Value) -> Value:
    lists = [a for a in args if isinstance(a, list)]
    if isinstance(spec, Unknown) or any(isinstance(a, Unknown) for a in args):
        length = 1
    else:
        length = len(lists[0]) if lists else 1
    rows = []
    for i in range(length):
        row = [(a[i] if i < len(a) else "") if isinstance(a, list) else a for a in args]
        rows.append(_format(spec, *row))
    return rows


def _lookup(mapping: Value, key: Value, *default: Value) -> Value:
    if isinstance(mapping, dict) and isinstance(key, str):
        if key in mapping:
            return mapping[key]
        return default[0] if default else Unknown(f"lookup(..., {key!r})")
    return first_unknown([mapping, key]) or (default[0] if default else None)


def _coalesce(*args: Value) -> Value:
    for arg in args:
        if isinstance(arg, Unknown):
            return arg
        if arg is not None and arg != "":
            return arg
    return None


def _merge(*args: Value) -> Value:
    out: dict[str, Value] = {}
    for arg in args:
        if isinstance(arg, Unknown):
            return arg
        if isinstance(arg, dict):
            out.update(arg)
    return out


def _concat(*args: Value) -> Value:
    out: list[Value] = []
    for arg in args:
        out.extend(_as_list(arg))
    return out


def _join(sep: Value, *lists: Value) -> Value:
    parts: list[Value] = []
    for items in lists:
        for item in _as_list(items):
            if parts:
                parts.append(sep)
            parts.append(item)
    return concat_text(parts)


def _split(sep: Value, text: Value) -> Value:
    if isinstance(sep, str) and isinstance(text, str):
        return text.split(sep) if text else []
    return [first_unknown([sep, text])]


def _replace(text: Value, old: Value, new: Value) -> Value:
    if not isinstance(old, str) or isinstance(new, Unknown | Template):
        return first_unknown([text, old, new])
    if len(old) > 1 and old.startswith("/") and old.endswith("/"):
        pattern = re.compile(old[1:-1])
        repl = re.sub(r"\$\{?(\d+)\}?", r"\\\1", text_of(new))
        return _map_text(text, lambda s: pattern.sub(repl, s))
    return _map_text(text, lambda s: s.replace(old, text_of(new)))


def _length(value: Value) -> Value:
    if isinstance(value, list | dict | str):
        return len(value)
    return first_unknown(value)


def _jsondecode(text: Value) -> Value:
    if not isinstance(text, str):
        return first_unknown(text)
    try:
        return json.loads(text)
    except ValueError:
        return Unknown("jsondecode(<not JSON>)")


def _tolist(value: Value) -> Value:
    return list(value.values()) if isinstance(value, dict) else value


def _toset(value: Value) -> Value:
    return _distinct(_as_list(value)) if isinstance(value, list) else value


def _regexall(pattern: Value, text: Value) -> Value:
    if not isinstance(pattern, str) or not isinstance(text, str):
        return first_unknown([pattern, text])
    if len(text) > 100_000:
        return Unknown("regexall(<a long text>)")
    return [m.group(0) if not m.groups() else list(m.groups()) for m in re.finditer(pattern, text)]


def _regex(pattern: Value, text: Value) -> Value:
    found = _regexall(pattern, text)
    if isinstance(found, list):
        return found[0] if found else Unknown(f"regex({pattern!r}, ...): no match")
    return found


def _range(*args: Value) -> Value:
    if not all(isinstance(a, int | float) for a in args) or not 1 <= len(args) <= 3:
        return first_unknown(list(args)) or Unknown("range(...)")
    bounds = [int(a) for a in args]
    if len(range(*bounds)) > MAX_ITEMS:
        return Unknown(f"range({', '.join(map(str, bounds))}): too long")
    return list(range(*bounds))


FUNCTIONS: dict[str, Callable[..., Value]] = {
    "range": _range,
    "regexall": _regexall,
    "setunion": lambda *sets: _distinct([i for s in sets for i in _as_list(s)]),
    "tobool": lambda v: {"true": True, "false": False}.get(v, v) if isinstance(v, str) else v,
    "tonumber": lambda v: float(v) if isinstance(v, str) and v.replace(".", "", 1).isdigit() else v,
    "coalescelist": lambda *lists: next((x for x in lists if x != []), []),
    "regex": _regex,
    "startswith": lambda v, p: text_of(v).startswith(text_of(p)),
    "endswith": lambda v, p: text_of(v).endswith(text_of(p)),
    "strcontains": lambda v, p: text_of(p) in text_of(v),
    "sort": lambda v: sorted(v, key=text_of) if isinstance(v, list) else v,
    "tomap": lambda v: v,
    "alltrue": lambda v: all(v) if isinstance(v, list) else v,
    "anytrue": lambda v: any(v) if isinstance(v, list) else v,
    "concat": _concat,
    "merge": _merge,
    "format": _format,
    "formatlist": _formatlist,
    "replace": _replace,
    "flatten": lambda v: _flatten(v) if isinstance(v, list) else v,
    "distinct": lambda v: _distinct(v) if isinstance(v, list) else v,
    "compact": lambda v: [i for i in v if i not in (None, "")] if isinstance(v, list) else v,
    "lookup": _lookup,
    "coalesce": _coalesce,
    "tolist": _tolist,
    "toset": _toset,
    "tostring": lambda v: v if isinstance(v, Unknown | Template) else text_of(v),
    "join": _join,
    "split": _split,
    "lower": lambda v: _map_text(v, str.lower),
    "upper": lambda v: _map_text(v, str.upper),
    "trimprefix": lambda v, p: _map_text(v, lambda s: s.removeprefix(text_of(p))),
    "trimsuffix": lambda v, p: _map_text(v, lambda s: s.removesuffix(text_of(p))),
    "trimspace": lambda v: _map_text(v, str.strip),
    "length": _length,
    "jsondecode": _jsondecode,
    "keys": lambda v: sorted(v) if isinstance(v, dict) else first_unknown(v),
    "values": lambda v: [v[k] for k in sorted(v)] if isinstance(v, dict) else first_unknown(v),
    "contains": lambda v, x: x in v if isinstance(v, list) else first_unknown(v),
    "element": lambda v, i: (
        v[i % len(v)] if isinstance(v, list) and v and isinstance(i, int) else first_unknown([v, i])
    ),
}
# Functions whose known elements survive an unknown argument (see the module's doc).
PARTIAL = frozenset({"concat", "flatten", "compact", "distinct", "format", "formatlist", "join",
                     "replace", "lower", "upper", "trimprefix", "trimsuffix", "trimspace",
                     "tostring", "coalesce", "merge", "lookup", "tolist", "toset",
                     "coalescelist", "setunion"})  # fmt: skip
