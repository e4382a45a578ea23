"""Where a statement or a condition is written in its file: line numbers for SARIF results.

The parsers (``json``, python-hcl2) keep no positions, so the text is scanned again, linearly and
without recursion: for JSON, the line of every object key and array element by path; for
Terraform, the line of every block and attribute. :class:`PolicyLines` then maps a statement
index, and a condition's index inside it, to a line. A line that cannot be found is ``None``; the
result then points at the policy, or at the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from .policy import Policy

JsonPath = tuple[str | int, ...]


@dataclass(frozen=True)
class PolicyLines:
    """1-based lines of one policy, its statements and their conditions (by index)."""

    policy: int | None = None
    statements: dict[int, int] = field(default_factory=dict)
    conditions: dict[tuple[int, int], int] = field(default_factory=dict)

    def line(self, statement: int | None, condition: int | None) -> int | None:
        if statement is not None and condition is not None:
            found = self.conditions.get((statement, condition))
            if found is not None:
                return found
        if statement is not None and statement in self.statements:
            return self.statements[statement]
        return self.policy


@dataclass
class _Frame:
    is_object: bool
    key: str | int  # the current key (object) or element index (array)
    expecting: bool = True  # a key (object) or an element (array) comes next


def json_key_lines(text: str) -> dict[JsonPath, int]:
    """The line of each object key and array element of a valid JSON text, by its path."""
    lines: dict[JsonPath, int] = {}
    frames: list[_Frame] = []
    line, i, n = 1, 0, len(text)
    while i < n:
        char = text[i]
        top = frames[-1] if frames else None
        if char == "\n":
            line += 1
        elif char in " \t\r":
            pass
        elif char == ":" and top is not None:
            top.expecting = False
        elif char == "," and top is not None:
            top.expecting = True
            if not top.is_object:
                top.key = int(top.key) + 1
        elif char in "}]":
            frames.pop()
        else:
            if top is not None and not top.is_object and top.expecting:
                lines[tuple(frame.key for frame in frames)] = line  # an array element starts
                top.expecting = False
            if char == '"':
                end = i + 1
                while end < n and text[end] != '"':
                    end += 2 if text[end] == "\\" else 1
                if top is not None and top.is_object and top.expecting:
                    top.key = json.loads(text[i : end + 1])
                    lines[tuple(frame.key for frame in frames)] = line
                i = end
            elif char in "{[":
                frames.append(_Frame(is_object=char == "{", key="" if char == "{" else 0))
        i += 1
    return lines


def json_policy_lines(policy: Policy, text: str, base: JsonPath = ()) -> PolicyLines:
    """Lines of a JSON policy; ``base`` is the path of the policy inside ``text``."""
    try:
        lines = json_key_lines(text)
    except (ValueError, IndexError):
        return PolicyLines()
    statements: dict[int, int] = {}
    conditions: dict[tuple[int, int], int] = {}
    for statement in policy.statements:
        at = (*base, "Statement", statement.index)
        if at not in lines:
            at = (*base, "Statement")  # a single statement object
        if at in lines:
            statements[statement.index] = lines[at]
        for index, cond in enumerate(statement.conditions):
            found = lines.get((*at, "Condition", cond.operator.text, cond.key))
            if found is not None:
                conditions[(statement.index, index)] = found
    return PolicyLines(lines.get((*base, "Statement")), statements, conditions)


# --- Terraform -------------------------------------------------------------------------------

_IDENT = re.compile(r'[A-Za-z_][\w-]*|"(?:[^"\\]|\\.)*"')
_HEREDOC = re.compile(r"<<-?([A-Za-z_][\w-]*)[ \t]*\r?\n")


@dataclass
class HclBlock:
    """A block's labels, its line, its attributes' lines and its child blocks, in order."""

    labels: tuple[str, ...]
    line: int
    attributes: dict[str, int] = field(default_factory=dict)
    children: list[HclBlock] = field(default_factory=list)

    def blocks(self, name: str) -> list[HclBlock]:
        return [child for child in self.children if child.labels[:1] == (name,)]


def hcl_outline(text: str) -> HclBlock:
    """The block structure of an HCL text (comments, strings and heredocs skipped)."""
    root = HclBlock((), 1)
    stack = [root]
    words: list[str] = []
    line, i, n = 1, 0, len(text)
    depth = 0  # brackets and braces of expressions (objects, lists, function calls)
    while i < n:
        char = text[i]
        if char == "\n":
            line += 1
            words = []
            i += 1
        elif char == "#" or text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += text.count("\n", i, end)
            i = end
        elif char == "<" and (heredoc := _HEREDOC.match(text, i)):
            closing = re.compile(rf"^[ \t]*{re.escape(heredoc.group(1))}[ \t]*$", re.M)
            end_match = closing.search(text, heredoc.end())
            end = n if end_match is None else end_match.end()
            line += text.count("\n", i, end)
            i = end
        elif char == '"':
            end = i + 1
            while end < n and text[end] != '"' and text[end] != "\n":
                end += 2 if text[end] == "\\" else 1
            if depth == 0:
                words.append(text[i + 1 : end])
            i = end + 1
        elif char == "{" and depth == 0 and words and "=" not in words:
            block = HclBlock(tuple(words), line)
            stack[-1].children.append(block)
            stack.append(block)
            words = []
            i += 1
        elif char == "}" and depth == 0:
            if len(stack) > 1:
                stack.pop()
            words = []
            i += 1
        elif char in "{[(":
            depth += 1
            i += 1
        elif char in "}])":
            depth = max(0, depth - 1)
            i += 1
        elif char == "=" and depth == 0 and len(words) == 1 and not text.startswith("==", i):
            stack[-1].attributes.setdefault(words[0], line)
            words.append("=")
            i += 1
        elif (ident := _IDENT.match(text, i)) and depth == 0:
            words.append(ident.group(0))
            i = ident.end()
        else:
            i += 1
    return root


def _find_block(root: HclBlock, kind: str, rtype: str, name: str) -> HclBlock | None:
    for block in root.children:
        if block.labels == (kind, rtype, name):
            return block
    return None


def terraform_policy_lines(policy: Policy, outline: HclBlock) -> PolicyLines:
    """Lines of a policy read from Terraform, found by its label (see terraform.py)."""
    source = policy.source
    document = re.search(r"data\.aws_iam_policy_document\.([\w-]+)", source)
    role = re.search(r"aws_iam_role\.([\w-]+)\.assume_role_policy", source)
    if role:
        block = _find_block(outline, "resource", "aws_iam_role", role.group(1))
        line = None if block is None else block.attributes.get("assume_role_policy", block.line)
        return PolicyLines(line)
    if not document:
        return PolicyLines()
    block = _find_block(outline, "data", "aws_iam_policy_document", document.group(1))
    if block is None:
        return PolicyLines()
    statements: dict[int, int] = {}
    conditions: dict[tuple[int, int], int] = {}
    for index, statement in enumerate(block.blocks("statement")):
        statements[index] = statement.line
        for cond_index, cond in enumerate(statement.blocks("condition")):
            conditions[(index, cond_index)] = cond.line
    return PolicyLines(block.line, statements, conditions)
