"""Text the trust doctor prints, made safe and bounded.

Policies, file names and claims come from outside: a ``Sid`` holding ``ESC]0;...`` retitles the
terminal, a carriage return overwrites the ``[HIGH]`` line a pre-commit run shows, a newline
forges a line of its own. :func:`escape_controls` writes every control character visibly
(``\\x1b``, ``\\r``, ``\\u202e``); :func:`listed` shows at most :data:`MAX_LISTED` values of a
list, so a condition with 8,000 values costs one line, not 8,000.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

MAX_LISTED = 20

# C0 and C1 controls, DEL, and the invisible format characters that reorder or break a line
# (bidirectional overrides and isolates, line and paragraph separators).
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escape_controls(text: str) -> str:
    """``text`` with every control character (and every other character Python does not print
    as itself: separators, format characters) written as an escape: one printable line. The
    trust doctor's lint/check output and `trust audit`'s output and error lines share it."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape_char(ch) for ch in text)


def has_controls(text: str) -> bool:
    return _CONTROLS.search(text) is not None


def listed(values: Sequence[str], limit: int = MAX_LISTED) -> str:
    """``"a", "b", ... and N more``: the first ``limit`` values, JSON-quoted."""
    shown = ", ".join(json.dumps(value) for value in values[:limit])
    rest = len(values) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown


def capped_json_list(values: Sequence[str], limit: int = MAX_LISTED) -> str:
    """``["a", "b", ... and N more]``: a list printed at most ``limit`` values long."""
    return f"[{listed(values, limit)}]"
