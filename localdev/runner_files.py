"""The GitHub runner's parsers, ported so tests read the action's output the way the runner does.

* :func:`parse_file_commands`: ``GITHUB_ENV`` / ``GITHUB_OUTPUT`` / ``GITHUB_STATE`` files, as
  ``actions/runner`` ``src/Runner.Worker/FileCommandManager.cs`` (``EnvFileKeyValuePairs``,
  Linux build: lines end at ``\\n`` only). Per non-empty line, ``=`` or ``<<`` decides the form,
  whichever comes first; a heredoc value ends at the first line *exactly* equal to the
  delimiter. Errors are the runner's: empty name or delimiter, ``Matching delimiter not found``,
  ``EOF marker missing new line``.
* :func:`parse_commands`: workflow commands on stdout, as ``ActionCommand.TryParseV2`` (the
  ``::name::`` form) and ``ActionCommand.TryParse`` (the legacy ``##[name]`` form, anywhere in a
  line), names case-insensitive, plus the ``stop-commands`` handling of ``ActionCommandManager``.

Deliberately stricter than the runner (so a sloppy writer fails a test rather than a user):
an empty name is an error in the ``NAME=VALUE`` form too (the runner's check there is a no-op),
and with ``strict=True`` (the default) a non-empty file must end with a newline, since the next
step's append would otherwise glue its first line to our last one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path


class FileCommandError(ValueError):
    """The runner would reject this file (the step would fail)."""


def _read_line(text: str, index: int) -> tuple[str | None, int, str | None]:
    """``FileCommandManager.ReadLine`` (Linux): (line, next index, newline or None)."""
    if index >= len(text):
        return None, index, None
    lf = text.find("\n", index)
    if lf < 0:
        return text[index:], len(text), None
    return text[index:lf], lf + 1, "\n"


def parse_file_commands(text: str, *, strict: bool = True) -> list[tuple[str, str]]:
    """Entries of a runner file command file, in order (duplicates kept)."""
    entries: list[tuple[str, str]] = []
    index = 0
    line, index, _ = _read_line(text, index)
    while line is not None:
        if line:
            equals = line.find("=")
            heredoc = line.find("<<")
            if equals >= 0 and (heredoc < 0 or equals < heredoc):
                name, value = line.split("=", 1)
                if not name:
                    raise FileCommandError(f"Invalid format '{line}'. Name must not be empty")
                entries.append((name, value))
            elif heredoc >= 0 and (equals < 0 or heredoc < equals):
                name, delimiter = line.split("<<", 1)
                if not name or not delimiter:
                    raise FileCommandError(
                        f"Invalid format '{line}'. Name must not be empty and delimiter must "
                        "not be empty"
                    )
                start = end = index
                temp, index, newline = _read_line(text, index)
                while temp != delimiter:
                    if temp is None:
                        raise FileCommandError(
                            f"Invalid value. Matching delimiter not found '{delimiter}'"
                        )
                    if newline is None:
                        raise FileCommandError("Invalid value. EOF marker missing new line.")
                    end = index - len(newline)
                    temp, index, newline = _read_line(text, index)
                entries.append((name, text[start:end] if end > start else ""))
            else:  # neither '=' nor '<<'
                raise FileCommandError(f"Invalid format '{line}'")
        line, index, _ = _read_line(text, index)
    if strict and text and not text.endswith("\n"):
        raise FileCommandError("File does not end with a newline: the next append would corrupt it.")
    return entries


def read_file_commands(path: str | os.PathLike[str], *, strict: bool = True) -> list[tuple[str, str]]:
    """Entries of the file at ``path`` (``[]`` when it does not exist, as the runner does).

    The runner reads with ``File.ReadAllText``: UTF-8, a leading BOM dropped. Invalid UTF-8 is
    an error here.
    """
    p = Path(path)
    if not p.exists():
        return []
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileCommandError(f"{p.name} is not valid UTF-8: {exc}") from exc
    return parse_file_commands(text, strict=strict)


def parse_env_file(path: str | os.PathLike[str], *, strict: bool = True) -> dict[str, str]:
    """A ``GITHUB_ENV``-style file as the next step sees it (the last entry for a name wins).

    ``NODE_OPTIONS`` is refused, as the runner refuses it in ``GITHUB_ENV``.
    """
    result: dict[str, str] = {}
    for name, value in read_file_commands(path, strict=strict):
        result[name] = value
    return result


def check_env_entries(entries: Iterable[tuple[str, str]]) -> None:
    """The extra rule the runner applies to ``GITHUB_ENV`` entries."""
    for name, _ in entries:
        if name == "NODE_OPTIONS":
            raise FileCommandError(
                "Can't store NODE_OPTIONS output parameter using '$GITHUB_ENV' command."
            )


# -- workflow commands ----------------------------------------------------------------------------

# ActionCommandManager's registered commands (others are plain output); stop-commands is added by
# the manager itself. internal-set-repo-path is registered only while a runner plugin (checkout)
# runs, never for an action's step.
REGISTERED_COMMANDS = frozenset({
    "add-mask", "add-matcher", "add-path", "debug", "echo", "endgroup", "error", "group",
    "notice", "remove-matcher", "save-state", "set-env", "set-output", "stop-commands", "warning",
})
STOP_COMMANDS = "stop-commands"

_DATA_ESCAPES = (("%0D", "\r"), ("%0A", "\n"), ("%25", "%"))
_PROPERTY_ESCAPES = (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%"))
# ActionCommand._escapeMappings, used by the legacy form for its properties AND its data.
_LEGACY_ESCAPES = (("%3B", ";"), ("%0D", "\r"), ("%0A", "\n"), ("%5D", "]"), ("%25", "%"))
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# .NET char.IsWhiteSpace (what String.TrimStart/Trim remove): Python's str.isspace minus the
# four information separators U+001C..U+001F.
DOTNET_WHITESPACE = "".join(
    c for c in map(chr, range(0x3001)) if c.isspace() and not "\x1c" <= c <= "\x1f"
)


def unescape_data(value: str) -> str:
    """``ActionCommand.UnescapeData``: sequential replacements, in the runner's order."""
    for escaped, plain in _DATA_ESCAPES:
        value = value.replace(escaped, plain)
    return value


def unescape_property(value: str) -> str:
    for escaped, plain in _PROPERTY_ESCAPES:
        value = value.replace(escaped, plain)
    return value


def unescape_legacy(value: str) -> str:
    """``ActionCommand.Unescape`` (the legacy form's properties and data)."""
    for escaped, plain in _LEGACY_ESCAPES:
        value = value.replace(escaped, plain)
    return value


def fold_name(name: str) -> str:
    """A key for ``StringComparer.OrdinalIgnoreCase``: each UTF-16 unit upper-cased by the simple
    (one-to-one) mapping. ``"ADD-MASK"`` names the same command as ``"add-mask"``."""
    return "".join(u if len(u := c.upper()) == 1 else c for c in name)


_REGISTERED_FOLDED = frozenset(fold_name(n) for n in REGISTERED_COMMANDS)


@dataclass(frozen=True)
class Command:
    """A workflow command the runner would act on."""

    name: str  # as written in the line (the runner matches it case-insensitively)
    props: dict[str, str] = field(default_factory=dict)
    data: str = ""
    line_no: int = 0  # 0-based index in :func:`split_lines` of the stream
    legacy: bool = False  # the ``##[name props]data`` form

    @property
    def key(self) -> str:
        """The registered command's canonical (lower-case) name, or the folded name."""
        folded = fold_name(self.name)
        return next((n for n in REGISTERED_COMMANDS if fold_name(n) == folded), folded)


def split_lines(text: str) -> list[str]:
    """Lines as the runner reads process output (``\\r\\n``, ``\\r`` or ``\\n`` end a line)."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _props(text: str, separator: str, unescape: Callable[[str], str]) -> dict[str, str]:
    # String.Split(separator, RemoveEmptyEntries), then Split('=', 2, RemoveEmptyEntries).
    props: dict[str, str] = {}
    for prop in text.split(separator):
        if not prop:
            continue
        key, sep, value = prop.partition("=")
        if key and sep and value:
            props[key] = unescape(value)
    return props


def try_parse_v2(
    message: str, registered: frozenset[str] = _REGISTERED_FOLDED
) -> Command | None:
    """``ActionCommand.TryParseV2`` for one line; ``None`` when it is not a command.
    ``registered`` holds :func:`fold_name` keys."""
    if not message:
        return None
    message = message.lstrip(DOTNET_WHITESPACE)
    if not message.startswith("::"):
        return None
    end = message.find("::", 2)
    if end < 0:
        return None
    info = message[2:end]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if not name or fold_name(name) not in registered:
        return None
    props = _props(info[space + 1:].strip(DOTNET_WHITESPACE), ",", unescape_property) \
        if space > 0 else {}
    return Command(name, props, unescape_data(message[end + 2:]))


def try_parse_legacy(
    message: str, registered: frozenset[str] = _REGISTERED_FOLDED
) -> Command | None:
    """``ActionCommand.TryParse``: the FIRST ``##[`` anywhere in the line, up to the next ``]``.
    Only that first occurrence counts: if it names no registered command, the line is text."""
    if not message:
        return None
    prefix = message.find("##[")
    if prefix < 0:
        return None
    bracket = message.find("]", prefix)
    if bracket < 0:
        return None
    info = message[prefix + 3:bracket]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if not name or fold_name(name) not in registered:
        return None
    props = _props(info[space + 1:], ";", unescape_legacy) if space > 0 else {}
    return Command(name, props, unescape_legacy(message[bracket + 1:]), legacy=True)


def try_parse(message: str, registered: frozenset[str] = _REGISTERED_FOLDED) -> Command | None:
    """What ``ActionCommandManager.TryProcessCommand`` parses: the ``::`` form, else the legacy
    form (a line that is a ``::`` command is never read as a legacy one)."""
    return try_parse_v2(message, registered) or try_parse_legacy(message, registered)


def _invalid_stop_token(token: str, registered: frozenset[str]) -> bool:
    # ActionCommandManager.ValidateStopToken: the runner throws (the step fails) unless
    # ACTIONS_ALLOW_UNSECURE_STOP_COMMAND_TOKENS is set; commands are not stopped.
    return not token or fold_name(token) in registered or fold_name(token) == "PAUSE-LOGGING"


def parse_commands(stdout: str) -> list[Command]:
    """Every command the runner would process in ``stdout``, in order, with the
    ``stop-commands`` handling of ``ActionCommandManager`` for both forms: a ``stop-commands``
    (listed) registers its token as a command name and ignores every command until a line
    that parses as that name (listed too, under the token's name) resumes processing."""
    commands: list[Command] = []
    registered = _REGISTERED_FOLDED
    stop_token: str | None = None
    for i, line in enumerate(split_lines(stdout)):
        if "##[" not in line and "::" not in line:  # OutputManager.OnDataReceived
            continue
        parsed = try_parse(line, registered)
        if parsed is None:
            continue
        command = Command(parsed.name, parsed.props, parsed.data, i, parsed.legacy)
        if stop_token is not None:
            if fold_name(command.name) == fold_name(stop_token):
                commands.append(command)
                registered = _REGISTERED_FOLDED
                stop_token = None
            continue
        commands.append(command)
        if fold_name(command.name) == fold_name(STOP_COMMANDS) \
                and not _invalid_stop_token(command.data, registered):
            stop_token = command.data
            registered = registered | {fold_name(stop_token)}
    return commands


def mask_values(commands: Iterable[Command]) -> list[str]:
    """Values registered by ``::add-mask::`` (empty/whitespace-only ones are not registered)."""
    return [c.data for c in commands if c.key == "add-mask" and c.data.strip()]


def masked_set(masks: Iterable[str]) -> set[str]:
    """What the runner's masker holds: each value and each of its trimmed lines."""
    held: set[str] = set()
    for value in masks:
        held.add(value)
        for part in _LINE_BREAK.split(value):
            if part.strip():
                held.add(part.strip())
    return held
