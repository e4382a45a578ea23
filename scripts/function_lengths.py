"""Functions longer than a limit (default 80 lines, decorators and docstring included).

    python scripts/function_lengths.py [--limit 80] [DIR ...]     # default: src

Prints ``lines path:line qualified.name`` for each, longest first; exits 1 if any is found
outside argparse builders (functions whose body calls ``add_argument``/``add_parser``), which
are listed but not counted. docs/DESIGN.md states the rule.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path


def _is_argparse_builder(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr in ("add_argument", "add_parser")
        for n in ast.walk(node)
    )


def long_functions(root: Path, limit: int) -> list[tuple[int, str, str, bool]]:
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        stack: list[tuple[ast.AST, str]] = [(tree, "")]
        while stack:
            node, prefix = stack.pop()
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    name = f"{prefix}{child.name}"
                    stack.append((child, name + "."))
                    if isinstance(child, ast.ClassDef):
                        continue
                    first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                    length = (child.end_lineno or child.lineno) - first + 1
                    if length > limit:
                        where = f"{path}:{child.lineno}"
                        found.append((length, where, name, _is_argparse_builder(child)))
    return sorted(found, reverse=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=80)
    parser.add_argument("dirs", nargs="*", default=["src"])
    args = parser.parse_args(argv)
    counted = 0
    for d in args.dirs:
        for length, where, name, builder in long_functions(Path(d), args.limit):
            note = "  (argparse builder: not counted)" if builder else ""
            counted += not builder
            print(f"{length:5d} {where} {name}{note}")
    print(f"{counted} function(s) over {args.limit} lines outside argparse builders")
    return 1 if counted else 0


if __name__ == "__main__":
    sys.exit(main())
