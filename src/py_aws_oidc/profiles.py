"""``aws-profile`` / ``overwrite-aws-profile``: the shared credentials and config files.

The credentials file gets ``[name]`` with ``aws_access_key_id``, ``aws_secret_access_key`` and
``aws_session_token``; the config file gets ``[profile name]`` (``[default]`` for ``default``)
with ``region``. Files go where the AWS CLI looks: ``AWS_SHARED_CREDENTIALS_FILE`` /
``AWS_CONFIG_FILE``, else ``$HOME/.aws/credentials`` and ``$HOME/.aws/config`` (on a runner host:
``$RUNNER_TEMP/_github_home/.aws``, which the step then exports; ``hostos.paths``).

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

import json
import os
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import safefiles
from .errors import InputError, ProfileError
from .hostos import paths as hostos_paths

__all__ = [
    "PreparedWrite",
    "ProfileKeys",
    "WriteRecord",
    "WrittenFile",
    "config_section_name",
    "parse_ini",
    "prepare_profiles",
    "profile_paths",
    "remove_written",
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


def validate_profile_name(name: str, *, input_name: str = "aws-profile") -> None:
    """Raise :class:`InputError` (naming ``input_name``) unless ``name`` is a safe profile name."""
    if not name or not name.strip():
        raise InputError(input_name, "a profile name must not be empty.", remedy=_NAME_REMEDY)
    if any(ch.isspace() for ch in name):
        raise InputError(
            input_name, f"{name!r} must not contain whitespace.", remedy=_NAME_REMEDY
        )
    if "[" in name or "]" in name:
        raise InputError(
            input_name,
            f"{name!r} must not contain brackets ('[' or ']').",
            remedy=_NAME_REMEDY,
        )
    if "/" in name or "\\" in name:
        raise InputError(
            input_name,
            f"{name!r} must not contain path separators ('/' or '\\').",
            remedy=_NAME_REMEDY,
        )
    if not _NAME.fullmatch(name):
        raise InputError(
            input_name,
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
        on_host = hostos_paths.profile_dir_on_host(environ)  # $RUNNER_TEMP/_github_home/.aws
        if on_host is not None:
            return Path(os.path.abspath(os.path.join(on_host, default[1])))
        return Path(os.path.abspath(os.path.join(_home(environ), *default)))
    if value == "~" or value.startswith("~/"):
        value = _home(environ) + value[1:]
    return Path(os.path.abspath(value))


def profile_paths(environ: Mapping[str, str]) -> tuple[Path, Path]:
    """(credentials file, config file), absolute.

    ``AWS_SHARED_CREDENTIALS_FILE`` and ``AWS_CONFIG_FILE`` are honoured independently (a
    leading ``~`` means HOME, a relative path is relative to the current directory, as in the
    AWS CLI); otherwise ``credentials`` and ``config`` in ``$RUNNER_TEMP/_github_home/.aws`` on a
    runner host (the host runtime: the runner empties RUNNER_TEMP after the job), else in
    ``$HOME/.aws`` (the container, where that is the same host directory; a developer's shell).
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

CREDENTIALS_LABEL = "AWS credentials file"
CONFIG_LABEL = "AWS config file"
_RECORD_VERSION = 1


@dataclass(frozen=True, repr=False)
class ProfileKeys:
    """What goes into one profile: its name and the session's keys."""

    name: str
    access_key_id: str
    secret_access_key: str
    session_token: str | None

    def __repr__(self) -> str:  # never print a secret, even in a debugger or a traceback
        return f"ProfileKeys(name={self.name!r}, ***)"


@dataclass(frozen=True)
class WrittenFile:
    """One file the step wrote: its path, whether the step created it, the sections it wrote."""

    path: str
    label: str
    created: bool
    sections: tuple[str, ...]


@dataclass(frozen=True)
class WriteRecord:
    """What a step wrote to the shared files, so that the post step removes exactly that.

    Saved as JSON in the step's state (``GITHUB_STATE``): paths and section names, no secret.
    """

    files: tuple[WrittenFile, ...]
    created_dirs: tuple[str, ...]

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": _RECORD_VERSION,
                "files": [
                    {
                        "path": f.path,
                        "label": f.label,
                        "created": f.created,
                        "sections": list(f.sections),
                    }
                    for f in self.files
                ],
                "created_dirs": list(self.created_dirs),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> WriteRecord:
        """Raises ``ValueError`` for anything but a record written by :meth:`to_json`."""
        doc = json.loads(text)
        if not isinstance(doc, dict) or doc.get("version") != _RECORD_VERSION:
            raise ValueError("not a profile-file record of this version")
        files = []
        for item in doc.get("files", []):
            if not isinstance(item, dict):
                raise ValueError("malformed file entry")
            path, label = item.get("path"), item.get("label")
            sections, created = item.get("sections"), item.get("created")
            if not (
                isinstance(path, str)
                and path.startswith("/")
                and isinstance(label, str)
                and isinstance(created, bool)
                and isinstance(sections, list)
                and all(isinstance(x, str) for x in sections)
            ):
                raise ValueError("malformed file entry")
            files.append(WrittenFile(path, label, created, tuple(sections)))
        dirs = doc.get("created_dirs", [])
        if not isinstance(dirs, list) or not all(
            isinstance(d, str) and d.startswith("/") for d in dirs
        ):
            raise ValueError("malformed directory list")
        return cls(tuple(files), tuple(dirs))


    def confined_to(self, paths: Sequence[Path]) -> tuple[WriteRecord, tuple[str, ...]]:
        """(this record limited to the files in ``paths`` and the directories above them, the
        recorded paths left out).

        The record comes back to the post step through the job's environment (``STATE_*``),
        which an earlier step can set too: a crafted record must not make the post step (root in
        the container) rewrite or delete anything but the shared files themselves.
        """
        allowed = {os.path.normpath(str(path)) for path in paths}
        files = tuple(f for f in self.files if os.path.normpath(f.path) in allowed)
        kept = [os.path.normpath(f.path) for f in files]
        dirs = tuple(
            d
            for d in self.created_dirs
            if os.path.normpath(d) != "/"
            and any(path.startswith(os.path.normpath(d) + "/") for path in kept)
        )
        left = tuple(
            [f.path for f in self.files if os.path.normpath(f.path) not in allowed]
            + [d for d in self.created_dirs if d not in dirs]
        )
        return WriteRecord(files, dirs), left


@dataclass(frozen=True, repr=False)
class PreparedWrite:
    """Both files read, checked and rendered; nothing written yet (:meth:`write` does that)."""

    credentials_path: Path
    config_path: Path
    texts: dict[Path, str]
    labels: dict[Path, str]
    record: WriteRecord

    def __repr__(self) -> str:
        return f"PreparedWrite({self.credentials_path}, {self.config_path})"

    def write(self) -> None:
        _write_files(self.texts, self.labels)


def _missing_dirs(path: Path) -> list[str]:
    """The directories above ``path`` that do not exist yet (outermost last)."""
    missing = []
    parent = Path(safefiles.normalize(path)).parent
    while parent != parent.parent and not os.path.lexists(parent):
        missing.append(str(parent))
        parent = parent.parent
    return missing


@dataclass(frozen=True, repr=False)
class _Section:
    """One section to write: where, under which name, what, and for which profile."""

    path: Path
    label: str
    name: str
    data: dict[str, str]
    profile: str


def _sections(
    entries: Sequence[ProfileKeys], credentials_path: Path, config_path: Path, region: str
) -> list[_Section]:
    sections = []
    for entry in entries:
        credentials = {
            "aws_access_key_id": entry.access_key_id,
            "aws_secret_access_key": entry.secret_access_key,
            "aws_session_token": entry.session_token or "",
        }
        sections.append(
            _Section(
                credentials_path,
                CREDENTIALS_LABEL,
                entry.name,
                {key: value for key, value in credentials.items() if value},
                entry.name,
            )
        )
        sections.append(
            _Section(
                config_path,
                CONFIG_LABEL,
                config_section_name(entry.name),
                {"region": region} if region else {},
                entry.name,
            )
        )
    return sections


def _config_profile(section: str) -> str | None:
    """The profile a config-file section defines for botocore (``build_profile_map``): ``[default]``,
    and ``[profile NAME]`` split as a shell would, so ``[profile "dev"]``, ``[profile  dev]`` and
    ``[profile default]`` are profiles too; None for anything else."""
    if section == "default":
        return section
    if not section.startswith("profile"):
        return None
    try:
        parts = shlex.split(section)
    except ValueError:
        return None
    return parts[1] if len(parts) == 2 else None


def _refuse_clashes(
    plan: list[_Section], originals: dict[Path, dict[str, dict[str, str]]], overwrite_input: str
) -> None:
    clashes = [
        (s.profile, str(s.path))
        for s in plan
        if s.name in originals[s.path]
        or (
            s.label == CONFIG_LABEL
            and any(_config_profile(name) == s.profile for name in originals[s.path])
        )
    ]
    if not clashes:
        return
    names = list(dict.fromkeys(name for name, _ in clashes))
    where = " and ".join(dict.fromkeys(path for _, path in clashes))
    shown = ", ".join(f'"{name}"' for name in names)
    several = len(names) > 1
    raise ProfileError(
        f"Profile{'s' if several else ''} with name {shown} already "
        f"exist{'' if several else 's'} in {where}; nothing was written.",
        remedy=(
            f"Set 'overwrite-aws-profile: true' to replace {'them' if several else 'it'}, or "
            f"choose another '{overwrite_input}' name."
        ),
    )


def _render_all(
    updated: dict[Path, dict[str, dict[str, str]]], labels: dict[Path, str]
) -> dict[Path, str]:
    texts: dict[Path, str] = {}
    for path, sections in updated.items():
        try:
            texts[path] = render_ini(sections)
        except ValueError as exc:
            raise ProfileError(
                f"{labels[path]} {path} cannot be rewritten safely: {exc}.",
                remedy="Fix that entry in the file, or point the variable at another file.",
            ) from None
    return texts


def prepare_profiles(
    entries: Sequence[ProfileKeys],
    *,
    region: str,
    overwrite: bool,
    environ: Mapping[str, str],
    overwrite_input: str = "aws-profile",
) -> PreparedWrite:
    """Read and check both files and render what :meth:`PreparedWrite.write` will write.

    Without ``overwrite``, a ``[name]`` section in the credentials file or a ``[profile name]``
    (``[default]``) section in the config file, for any of the entries, raises
    :class:`ProfileError` and nothing is written. With it, those sections are replaced whole
    (keys not written now are removed). Empty values (e.g. no session token) are left out.
    Other sections are kept; comments are dropped. ``overwrite_input`` is the input a clash's
    remedy tells the user to rename.
    """
    for entry in entries:
        validate_profile_name(entry.name)
    credentials_path, config_path = profile_paths(environ)
    plan = _sections(entries, credentials_path, config_path, region)

    # Read (and check for symbolic links) both files before writing either.
    originals: dict[Path, dict[str, dict[str, str]]] = {}
    existed: dict[Path, bool] = {}
    labels: dict[Path, str] = {}
    for section in plan:
        if section.path not in originals:
            text = safefiles.read_optional_file(section.path, what=section.label)
            existed[section.path] = text is not None
            originals[section.path] = parse_ini(text or "")
            labels[section.path] = section.label
    if not overwrite:
        _refuse_clashes(plan, originals, overwrite_input)

    updated = {path: dict(sections) for path, sections in originals.items()}
    written: dict[Path, list[str]] = {path: [] for path in originals}
    for section in plan:
        if section.name in written[section.path]:  # one file for both, and the names coincide
            updated[section.path][section.name].update(section.data)
        else:
            updated[section.path][section.name] = dict(section.data)
            written[section.path].append(section.name)

    created_dirs = list(dict.fromkeys(d for path in originals for d in _missing_dirs(path)))
    record = WriteRecord(
        files=tuple(
            WrittenFile(str(path), labels[path], not existed[path], tuple(written[path]))
            for path in originals
        ),
        created_dirs=tuple(sorted(created_dirs, key=len, reverse=True)),
    )
    return PreparedWrite(
        credentials_path, config_path, _render_all(updated, labels), labels, record
    )


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

    One profile through :func:`prepare_profiles` (same rules), written at once.
    """
    prepared = prepare_profiles(
        [ProfileKeys(name, access_key_id, secret_access_key, session_token)],
        region=region,
        overwrite=overwrite,
        environ=environ,
    )
    prepared.write()
    return prepared.credentials_path, prepared.config_path


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


# --- the post step: remove what the step wrote ----------------------------------------------


def remove_written(
    record: WriteRecord, warn: Callable[[str], None] | None = None
) -> list[str]:
    """Remove the sections the step wrote, the files it created once they hold nothing else,
    and the directories it created once empty. Return what was done, one line per file.

    Sections written by anyone else stay, and so does every file the step did not create. A
    file recorded as created is removed only while it still holds every section the record
    names (the record comes back through the job's environment, which an earlier step can
    forge): otherwise it is left in place, said through ``warn`` (or among the lines returned).
    A file that is gone already is skipped. Raises :class:`ProfileError` (symbolic links,
    unreadable files), having done what it could before.
    """
    done: list[str] = []
    problems: list[ProfileError] = []
    for written in record.files:
        try:
            line, ok = _remove_sections(written)
        except ProfileError as exc:
            problems.append(exc)
            continue
        if line and not ok and warn is not None:
            warn(line)
        elif line:
            done.append(line)
    for directory in record.created_dirs:
        if safefiles.remove_empty_dir(Path(directory)):
            done.append(f"Removed the empty directory {directory}")
    if problems:
        first = problems[0]
        raise ProfileError(first.message, remedy=first.remedy)
    return done


def _remove_sections(written: WrittenFile) -> tuple[str, bool]:
    """(what was done, False when it is a file left in place that the record says we made)."""
    path = Path(written.path)
    text = safefiles.read_optional_file(path, what=written.label)
    if text is None:
        return "", True
    sections = parse_ini(text)
    ours = [name for name in written.sections if name in sections]
    remaining = {name: data for name, data in sections.items() if name not in ours}
    if written.created and ours and len(ours) == len(written.sections) and not remaining:
        safefiles.remove_file(path, what=written.label)
        return f"Removed {written.label} {path} (created by this step)", True
    if not ours:
        if written.created:
            return (
                f"Left {path} in place: it does not hold the profiles this step wrote, so this "
                "step did not make it (or something replaced it since).",
                False,
            )
        return "", True
    try:
        rendered = render_ini(remaining) if remaining else ""
    except ValueError as exc:  # pragma: no cover - parse_ini output always renders
        raise ProfileError(f"{written.label} {path} cannot be rewritten safely: {exc}.") from None
    safefiles.write_private_file(path, rendered, what=written.label)
    shown = ", ".join(f"[{name}]" for name in ours)
    return f"Removed {shown} from {written.label} {path}", True
