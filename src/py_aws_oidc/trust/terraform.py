"""Trust policies in Terraform: a module (every ``*.tf`` of a directory) read and evaluated offline.

This module loads the module (files, tfvars, ``--var``/``--var-file``, variables) and runs the
two readings; which blocks are trust policies and their model is tf_policy.py. Found: ``data
"aws_iam_policy_document"`` blocks and ``aws_iam_role`` ``assume_role_policy`` values (a JSON
string, a heredoc, ``jsonencode({...})``, ``file("...")``, ``templatefile("x.json.tpl",
{...})``). A ``.tf`` file named on its own is read
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
from dataclasses import dataclass
from pathlib import Path

from .errors import UnreadableFileError
from .policy import Policy, load_json
from .tf_eval import Context, Evaluator
from .tf_functions import Value
from .tf_hcl import Block, Module, expression_attr, file_blocks
from .unknown import (
    SymPolicy,
    Template,
    Unknown,
    concrete,
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
        return concrete(self.symbolic)

    @property
    def unresolved(self) -> tuple[Unknown, ...]:
        return tuple(self.symbolic.unknowns())


@dataclass(frozen=True)
class TerraformFile:
    policies: tuple[TerraformPolicy, ...]
    skipped: tuple[str, ...]  # documents that are not trust policies, and why


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


def given_values(directory: Path | None, inputs: TfInputs) -> dict[str, Value]:
    """Variable values from the module's tfvars files (``directory``: None for none) and the
    command line, in Terraform's order."""
    values: dict[str, Value] = {}
    auto: list[Path] = []
    if directory is not None:
        auto = [directory / "terraform.tfvars", directory / "terraform.tfvars.json"]
        auto += sorted(directory.glob("*.auto.tfvars"))
        auto += sorted(directory.glob("*.auto.tfvars.json"))
    for path in auto:
        if path.is_file():
            values.update(_tfvars(path, str(path)))
    for name in inputs.var_files:
        values.update(_tfvars(Path(name), f"--var-file {name}"))
    for name, raw in inputs.variables:
        if raw.strip()[:1] in ("[", "{", '"'):
            values[name] = Evaluator(Context()).attr(expression_attr(raw, f"--var {name}"))
        else:  # as Terraform converts it for a bool variable; other scalars stay text
            values[name] = {"true": True, "false": False}.get(raw.strip(), raw)
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
        elif "default" not in block.attrs:
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


def _evaluate(
    module: Module, variables: dict[str, Value], files: set[str] | None, shown: dict[str, str]
) -> tuple[list[tuple[str, SymPolicy]], list[str]]:
    from .tf_policy import trust_policies

    label = next(iter(shown.values()), str(module.directory))
    return trust_policies(module, Evaluator(_context(module, variables, label)), files, shown)


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
    given = given_values(directory if with_tfvars else None, inputs)
    shown = {path: path for path in texts}
    variables, used_default = _variables(module, given, defaults_unknown=False)
    found, skipped = _evaluate(module, variables, files, shown)
    second: dict[str, SymPolicy] = {}
    if used_default:
        unknown_vars, _ = _variables(module, given, defaults_unknown=True)
        for base, policy in _evaluate(module, unknown_vars, files, shown)[0]:
            second.setdefault(base, policy)
    policies = [TerraformPolicy(policy, second.get(base)) for base, policy in found]
    return TerraformFile(policies=tuple(policies), skipped=tuple(skipped))


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
