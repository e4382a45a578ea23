"""``aws-profile`` / ``overwrite-aws-profile``: the shared credentials and config files.

The credentials file gets ``[name]`` with ``aws_access_key_id``, ``aws_secret_access_key`` and
``aws_session_token``; the config file gets ``[profile name]`` (``[default]`` for ``default``)
with ``region``. Files go where the AWS CLI looks: ``AWS_SHARED_CREDENTIALS_FILE`` /
``AWS_CONFIG_FILE``, else ``$HOME/.aws/credentials`` and ``$HOME/.aws/config``.

The INI dialect is the one botocore reads (``configparser.RawConfigParser``): sections, ``key =
value`` (``:`` is a delimiter too), full-line ``#`` / ``;`` comments, and indented continuation
lines (``s3 =`` followed by indented ``max_concurrent_requests = 20``), which are kept as a
multi-line value and written back indented. Rewriting keeps every other section and every key
of other sections but **drops comments**, and drops lines the AWS CLI would refuse anyway
(lines outside any section, lines that are neither a header nor ``key = value``).

Both files are written with :func:`safefiles.write_private_file`: mode 0600, new directories
0700, symbolic links refused, atomic replacement. Both files are read (and checked) before
either is written, so a refusal or an existing profile leaves both untouched. No secret is
ever part of a message: messages hold the profile name and the paths only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from . import safefiles
from .errors import InputError, ProfileError

__all__ = [
    "config_section_name",
    "parse_ini",
    "profile_paths",
    "render_ini",
    "validate_profile_name",
    "write_profile",
]

_NAME = re.compile(r"[A-Za-z0-9_.@+-]+")
_NAME_REMEDY = (
    "Use letters, digits and _ . @ + - only (for example 'dev' or 'ci-deploy'), and no "
    "whitespace, brackets or path separators."
)

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_HEADER = re.compile(r"\[(?P<name>.+)\]")
_DELIMITER = re.compile(r"[=:]")
_COMMENT = ("#", ";")
_INDENT = "    "


# --- names and paths ------------------------------------------------------------------------


def validate_profile_name(name: str) -> None:
    """Raise :class:`InputError` (``aws-profile``) unless ``name`` is a safe profile name."""
    if not name or not name.strip():
        raise InputError("aws-profile", "must not be empty.", remedy=_NAME_REMEDY)
    if any(ch.isspace() for ch in name):
        raise InputError(
            "aws-profile", f"{name!r} must not contain whitespace.", remedy=_NAME_REMEDY
        )
    if "[" in name or "]" in name:
        raise InputError(
            "aws-profile", f"{name!r} must not contain brackets ('[' or ']').", remedy=_NAME_REMEDY
        )
    if "/" in name or "\\" in name:
        raise InputError(
            "aws-profile",
            f"{name!r} must not contain path separators ('/' or '\\').",
            remedy=_NAME_REMEDY,
        )
    if not _NAME.fullmatch(name):
        raise InputError(
            "aws-profile",
            f"{name!r} contains characters other than A-Z a-z 0-9 _ . @ + -.",
            remedy=_NAME_REMEDY,
        )


def config_section_name(name: str) -> str:
    """The config file's section for profile ``name``: ``default`` or ``profile <name>``."""
    return "default" if name == "default" else f"profile {name}"


def _home(environ: Mapping[str, str]) -> str:
    home = environ.get("HOME", "").strip()
    if not home:
        home = os.path.expanduser("~")
    if not home or home == "~":
        raise ProfileError(
            "Cannot find the home directory for the AWS profile files: HOME is not set.",
            remedy="Set HOME, or set AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE.",
        )
    return home


def _from_env(environ: Mapping[str, str], variable: str, default: tuple[str, str]) -> Path:
    value = environ.get(variable, "").strip()
    if not value:
        return Path(os.path.abspath(os.path.join(_home(environ), *default)))
    if value == "~" or value.startswith("~/"):
        value = _home(environ) + value[1:]
    return Path(os.path.abspath(value))


def profile_paths(environ: Mapping[str, str]) -> tuple[Path, Path]:
    """(credentials file, config file), absolute.

    ``AWS_SHARED_CREDENTIALS_FILE`` and ``AWS_CONFIG_FILE`` are honoured independently (a
    leading ``~`` means HOME, a relative path is relative to the current directory, as in the
    AWS CLI); otherwise ``$HOME/.aws/credentials`` and ``$HOME/.aws/config``.
    """
    return (
        _from_env(environ, "AWS_SHARED_CREDENTIALS_FILE", (".aws", "credentials")),
        _from_env(environ, "AWS_CONFIG_FILE", (".aws", "config")),
    )


# --- INI ------------------------------------------------------------------------------------


def parse_ini(text: str) -> dict[str, dict[str, str]]:
    """Parse INI text as botocore does (section names kept literally, e.g. ``profile dev``).

    Keys and values are trimmed; a value may contain ``=``; an indented line below a key
    continues its value (joined with ``\\n``, so ``s3 =`` + indented lines gives ``"\\nk = v"``,
    the form botocore reads as a nested section). Comments and blank lines are skipped, as are
    lines that are neither a header nor ``key = value`` and lines outside any section. A
    repeated section is merged, a repeated key keeps the last value.
    """
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    key: str | None = None
    key_indent = 0
    for line in _LINE_BREAK.split(text):
        stripped = line.strip()
        if not stripped or stripped.startswith(_COMMENT):
            continue
        indent = len(line) - len(line.lstrip())
        if current is not None and key is not None and indent > key_indent:
            current[key] = f"{current[key]}\n{stripped}"
            continue
        key = None
        header = _HEADER.fullmatch(stripped)
        if header is not None:
            current = sections.setdefault(header.group("name"), {})
            continue
        if stripped == "[]":  # an empty header: what follows belongs to no section
            current = None
            continue
        delimiter = _DELIMITER.search(stripped)
        if current is None or delimiter is None or delimiter.start() == 0:
            continue
        key = stripped[: delimiter.start()].rstrip()
        key_indent = indent
        current[key] = stripped[delimiter.end() :].strip()
    return sections


def _check_section(name: str) -> None:
    if not name or "\r" in name or "\n" in name:
        raise ValueError(f"section name {name!r} cannot be written to an INI file")


def _check_key(key: str, first_line: str) -> None:
    if (
        not key
        or key != key.strip()
        or _DELIMITER.search(key)
        or "\r" in key
        or "\n" in key
        or key.startswith(_COMMENT)
        or _HEADER.fullmatch(f"{key} = {first_line}".strip())
    ):
        raise ValueError(f"key {key!r} cannot be written to an INI file")


def _value_lines(key: str, value: str) -> list[str]:
    if "\r" in value:
        raise ValueError(f"the value of {key!r} contains a carriage return")
    first, *rest = value.split("\n")
    if first != first.strip():
        raise ValueError(f"the value of {key!r} has leading or trailing whitespace")
    for line in rest:
        if not line or line != line.strip() or line.startswith(_COMMENT):
            raise ValueError(f"a continuation line of {key!r} would not read back")
    return [first, *rest]


def render_ini(sections: Mapping[str, Mapping[str, str]]) -> str:
    """INI text: ``[s]\\nk = v\\n``, one blank line between sections, ``"\\n"`` when empty.

    Multi-line values are written as indented continuation lines. Raises ``ValueError`` for a
    name, key or value that :func:`parse_ini` would not read back as given.
    """
    blocks: list[str] = []
    for name, data in sections.items():
        _check_section(name)
        lines = [f"[{name}]"]
        for key, value in data.items():
            first, *rest = _value_lines(key, value)
            _check_key(key, first)
            lines.append(f"{key} = {first}" if first else f"{key} =")
            lines.extend(f"{_INDENT}{line}" for line in rest)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


# --- writing --------------------------------------------------------------------------------


def write_profile(
    name: str,
    *,
    access_key_id: str,
    secret_access_key: str,
    session_token: str | None,
    region: str,
    overwrite: bool,
    environ: Mapping[str, str],
) -> tuple[Path, Path]:
    """Write profile ``name`` to the credentials and config files; return their paths.

    Without ``overwrite``, a ``[name]`` section in the credentials file or a ``[profile name]``
    (``[default]``) section in the config file raises :class:`ProfileError` and nothing is
    written. With it, those sections are replaced whole (keys not written now are removed).
    Empty values (e.g. no session token) are left out. Other sections are kept; comments are
    dropped.
    """
    validate_profile_name(name)
    credentials_path, config_path = profile_paths(environ)
    credentials = {
        "aws_access_key_id": access_key_id,
        "aws_secret_access_key": secret_access_key,
        "aws_session_token": session_token or "",
    }
    plan: list[tuple[Path, str, str, dict[str, str]]] = [
        (
            credentials_path,
            "AWS credentials file",
            name,
            {key: value for key, value in credentials.items() if value},
        ),
        (
            config_path,
            "AWS config file",
            config_section_name(name),
            {"region": region} if region else {},
        ),
    ]

    # Read (and check for symbolic links) both files before writing either.
    originals: dict[Path, dict[str, dict[str, str]]] = {}
    labels: dict[Path, str] = {}
    for path, label, _section, _data in plan:
        if path not in originals:
            originals[path] = parse_ini(safefiles.read_optional_file(path, what=label) or "")
            labels[path] = label
    clashes = [str(path) for path, _label, section, _data in plan if section in originals[path]]
    if clashes and not overwrite:
        raise ProfileError(
            f'Profile with name "{name}" already exists in {" and ".join(dict.fromkeys(clashes))}; '
            "nothing was written.",
            remedy=(
                "Set 'overwrite-aws-profile: true' to replace it, or choose another "
                "'aws-profile' name."
            ),
        )

    updated = {path: dict(sections) for path, sections in originals.items()}
    replaced: set[tuple[Path, str]] = set()
    for path, _label, section, data in plan:
        if (path, section) in replaced:  # both files are one file and the names coincide
            updated[path][section].update(data)
        else:
            updated[path][section] = dict(data)
            replaced.add((path, section))

    texts: dict[Path, str] = {}
    for path, sections in updated.items():
        try:
            texts[path] = render_ini(sections)
        except ValueError as exc:
            raise ProfileError(
                f"{labels[path]} {path} cannot be rewritten safely: {exc}.",
                remedy="Fix that entry in the file, or point the variable at another file.",
            ) from None
    _write_files(texts, labels)
    return credentials_path, config_path


def _write_files(texts: Mapping[Path, str], labels: Mapping[Path, str]) -> None:
    """Write each file; a failure after the first says which file already holds the profile."""
    written: list[str] = []
    for path, text in texts.items():
        try:
            safefiles.write_private_file(path, text, what=labels[path])
        except ProfileError as exc:
            if not written:
                raise
            raise ProfileError(
                f"{exc.message} The {' and the '.join(written)} was already written.",
                remedy=exc.remedy,
            ) from None
        written.append(f"{labels[path]} {path}")
