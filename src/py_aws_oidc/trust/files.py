"""Reading a FILE argument: a JSON trust policy, or a Terraform file holding trust policies."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import NoTrustPolicyError, UnreadableFileError
from .policy import Policy, parse_policy_text

if TYPE_CHECKING:
    from .lint import Finding
    from .terraform import TfInputs
    from .unknown import SymPolicy

# IAM caps a trust policy at a few KiB; Terraform modules are larger but not megabytes. The cap
# keeps a hostile or mistaken FILE (a 20 MB blob, /dev/zero) from costing memory or minutes.
MAX_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class LoadedPolicy:
    """One policy as read: ``policy`` is concrete (unknowns instantiated tight, for ``check``
    and for locating lines); ``symbolic`` keeps the unknowns (see unknown.py) and
    ``without_defaults`` is the same policy with variables that took their default unknown."""

    policy: Policy
    symbolic: SymPolicy | None = None
    without_defaults: SymPolicy | None = None


def lint_loaded(loaded: LoadedPolicy) -> list[Finding]:
    """The findings of one policy as read, linted around its unknowns."""
    if loaded.symbolic is None:
        from .lint import lint_policy

        return lint_policy(loaded.policy)
    from .unknown import lint_symbolic

    return lint_symbolic(loaded.symbolic, loaded.without_defaults)


@dataclass(frozen=True)
class PolicyFile:
    path: str
    policies: tuple[LoadedPolicy, ...]
    skipped: tuple[str, ...] = ()
    text: str = ""  # the file's text, for locating findings (SARIF)


def is_terraform(path: str) -> bool:
    return path.endswith(".tf")


def read_text_file(path: str | Path, what: str | None = None) -> str:
    """The UTF-8 text of a regular file of at most :data:`MAX_FILE_BYTES`, or a clear error.

    Devices, FIFOs and directories are refused before anything is read (``/dev/zero`` would
    never end); the size is checked on the open file, and at most one byte past the cap is read
    even if the file grows meanwhile.
    """
    shown = what or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise UnreadableFileError(f"{shown}: no such file (it does not exist)") from None
    except OSError as exc:
        raise UnreadableFileError(f"{shown}: cannot open it ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFileError(
                f"{shown}: not a regular file (a device, a FIFO or a directory); give a file"
            )
        if info.st_size > MAX_FILE_BYTES:
            raise UnreadableFileError(
                f"{shown}: {info.st_size} bytes, more than the {MAX_FILE_BYTES} bytes a trust "
                "policy or Terraform file can sensibly hold"
            )
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_FILE_BYTES and (chunk := os.read(fd, MAX_FILE_BYTES + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise UnreadableFileError(f"{shown}: cannot read it ({exc.strerror})") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableFileError(f"{shown}: more than {MAX_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(
            f"{shown}: not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        ) from None


def read_policy_file(path: str, inputs: TfInputs | None = None) -> PolicyFile:
    """Every trust policy in ``path``; :class:`MalformedPolicyError` if there is none to read.
    A ``.tf`` file is read with its directory's module (``inputs``: --var / --var-file)."""
    text = read_text_file(path)
    if is_terraform(path):
        from .terraform import TfInputs, read_terraform

        tf = read_terraform(path, inputs or TfInputs())
        if not tf.policies:
            why = "".join(f"; skipped {note}" for note in tf.skipped)
            raise NoTrustPolicyError(
                f"{path}: no trust policy found (no aws_iam_policy_document with principals, no "
                f"aws_iam_role assume_role_policy){why}"
            )
        return _github_roles(
            PolicyFile(
                path=path,
                policies=tuple(
                    LoadedPolicy(p.policy, p.symbolic, p.without_defaults) for p in tf.policies
                ),
                skipped=tf.skipped,
                text=text,
            )
        )
    if is_cloudformation(path, text):
        return _github_roles(_read_cloudformation(path, text))
    return PolicyFile(path=path, policies=(LoadedPolicy(parse_policy_text(text, path)),), text=text)


def _github_roles(read: PolicyFile) -> PolicyFile:
    """``read`` without the roles of infrastructure code that do not involve GitHub's OIDC at
    all (see :func:`.lint.unrelated_to_github`): each becomes a skipped note."""
    from .lint import unrelated_to_github

    unrelated = [unrelated_to_github(p.policy) for p in read.policies]
    if not any(unrelated):
        return read
    kept = tuple(p for p, skip in zip(read.policies, unrelated, strict=True) if not skip)
    notes = tuple(
        f"{p.policy.source}: not a GitHub OIDC trust policy (no web-identity action, no "
        "Federated principal, no GitHub key); not linted"
        for p, skip in zip(read.policies, unrelated, strict=True)
        if skip
    )
    return replace(read, policies=kept, skipped=read.skipped + notes)


def is_yaml(path: str) -> bool:
    return path.lower().endswith((".yaml", ".yml", ".template"))


def is_cloudformation(path: str, text: str) -> bool:
    """A CloudFormation / SAM template: any ``.yaml``/``.yml``/``.template`` file, or JSON with
    a top-level ``Resources`` object (a plain policy has ``Statement`` instead)."""
    if is_yaml(path):
        return True
    if '"Resources"' not in text:
        return False
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(doc, dict) and isinstance(doc.get("Resources"), dict)


def _read_cloudformation(path: str, text: str) -> PolicyFile:
    from .cloudformation import load_template, read_template
    from .unknown import instantiate

    found, skipped = read_template(load_template(text, path), path)
    return PolicyFile(
        path=path,
        policies=tuple(
            LoadedPolicy(instantiate(p.symbolic, "tight")[0], p.symbolic, p.without_defaults)
            for p in found
        ),
        skipped=tuple(skipped),
        text=text,
    )


def holds_trust_policy(path: str) -> bool:
    """For hooks that see every ``*.json``/``*.tf`` file: might this file be a trust policy?

    A ``.tf`` file: it mentions ``assume_role_policy`` or ``aws_iam_policy_document``. A JSON
    file: its text mentions ``"Statement"`` and either it is not valid JSON (a broken policy is
    reported, not skipped) or some statement has a ``Principal`` or ``NotPrincipal`` (identity
    policies have none). Anything else (package.json, tsconfig.json, ...) is skipped.
    """
    text = read_text_file(path)
    if is_terraform(path):
        return "assume_role_policy" in text or "aws_iam_policy_document" in text
    if is_yaml(path) or is_cloudformation(path, text):
        return "AssumeRolePolicyDocument" in text
    if '"Statement"' not in text:
        return False
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return True
    if not isinstance(doc, dict):
        return False
    raw = doc.get("Statement")
    statements = raw if isinstance(raw, list) else [raw]
    return any(
        isinstance(item, dict) and ("Principal" in item or "NotPrincipal" in item)
        for item in statements
    )


# Directories a tree walk never enters: VCS data, Terraform's provider/module cache, packages.
SKIP_DIRS = frozenset({".git", ".terraform", "node_modules"})
# What a directory is read for; *.tpl / *.json.tpl templates are rendered by the module whose
# templatefile() names them, never linted on their own.
DIRECTORY_SUFFIXES = (".tf", ".json", ".yaml", ".yml", ".template")


def expand_paths(paths: Sequence[str]) -> list[tuple[str, bool]]:
    """Each PATH as (file, named explicitly?): a directory becomes the files under it (sorted,
    without :data:`SKIP_DIRS`, symlinked directories not followed), each file once."""
    out: dict[str, bool] = {}
    for given in paths:
        if not os.path.isdir(given):
            out[given] = True
            continue
        for root, dirs, files in os.walk(given):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            for name in sorted(files):
                if name.lower().endswith(DIRECTORY_SUFFIXES):
                    out.setdefault(os.path.join(root, name), False)
    return list(out.items())
