"""GitHub runner I/O: inputs, workflow commands and file commands. Ours, small and typed.

Why not ``actions-toolkit``: it falls back silently to disabled commands, has no OIDC timeout and
pulls PyGithub. This module follows the runner's own parsers (``ActionCommand.cs``,
``FileCommandManager.cs``):

* inputs are ``INPUT_<NAME>`` with the name upper-cased, spaces to ``_``, hyphens kept;
* workflow commands are ``::name props::data`` with ``%``, CR, LF escaped in data and, in
  properties, ``:`` and ``,`` too;
* the runner also executes the legacy form ``##[name props]data`` anywhere in a line (see
  :func:`neutralise_line`), so every line we print is neutralised against both forms;
* file commands (GITHUB_ENV, GITHUB_OUTPUT, GITHUB_STATE) use the heredoc form with a random
  ``ghadelimiter_<uuid>`` and refuse names or values that could add another entry.

Every line is scrubbed of registered secrets, so a secret is never printed even when a caller
makes a mistake (``::add-mask::`` is a safety net, not a licence), and then neutralised, so no
value from outside can become a workflow command (:meth:`Runner.info` is the one way to print a
plain line; the annotation commands neutralise their text the same way).
File commands are buffered and written by :meth:`Runner.commit` only once the step has succeeded,
so a failed run leaves GITHUB_ENV and GITHUB_OUTPUT untouched.
"""

from __future__ import annotations

import errno
import json
import os
import re
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

from .errors import (
    ExportWriteError,
    FileCommandInjectionError,
    InputError,
    RunnerEnvironmentError,
)

TRUE_VALUES = frozenset({"true", "True", "TRUE"})
FALSE_VALUES = frozenset({"false", "False", "FALSE"})

# Names the runner would parse differently, or that would change how later steps run.
_BAD_NAME = re.compile(r"[=\r\n\x00]|<<")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_FORBIDDEN_ENV = frozenset({"NODE_OPTIONS"})


def input_env_name(name: str) -> str:
    """The variable the runner sets for input ``name`` (``role-to-assume`` -> ``INPUT_ROLE-TO-ASSUME``)."""
    return "INPUT_" + name.replace(" ", "_").upper()


def escape_data(value: str) -> str:
    """Escape workflow-command data the way the runner unescapes it."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a workflow-command property value (``title=...``)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


# The runner (actions/runner ActionCommandManager.TryProcessCommand) tries, for every output line,
# ActionCommand.TryParseV2 and then ActionCommand.TryParse:
#   V2:     the line, after .NET TrimStart (whitespace), starts with "::"; "::name props::data".
#   legacy: the FIRST "##[" anywhere in the line, up to the next "]": "##[name props]data".
# Command names match case-insensitively. A "stop-commands" in either form switches commands off
# until a line names its token, so a "##[stop-commands]x" smuggled inside a value would make every
# later "::add-mask::" print its secret in clear. Wrapping a value in ::stop-commands:: is no
# defence (a mask inside would not apply): we escape instead.
#
# The escape is one backslash inserted where a command would begin: "##[" -> "##\[" (anywhere)
# and a leading "::" -> "\::" (after the line's whitespace). The runner never executes either:
# "##\[" contains no "##[" at all, and "\::" does not start with "::". A reader still sees the
# value (as a backslash-escaped markdown character), and the escape is reversible: a run of
# backslashes already in those places gets one more ("##\\[" stays distinguishable from an
# escaped "##["), so removing one backslash from each such place gives the original back. Text
# without those two patterns is printed unchanged.
#
# The runner compares with .NET culture-sensitive IndexOf/StartsWith, which skip "ignorable"
# characters (soft hyphen, zero-width joiner...). They cannot turn an escaped line back into a
# command: the runner takes the name at a fixed offset after the prefix, so a prefix "found"
# across ignorable characters yields a name containing "[" (or ":"), which is never registered.
_LEGACY_PREFIX = re.compile(r"##(\\*)\[")
# Python's \s (str.isspace) is a superset of .NET's char.IsWhiteSpace, which TrimStart uses.
_LEADING_PREFIX = re.compile(r"\A(\s*)(\\*)::")


def neutralise_line(line: str) -> str:
    """``line`` (no CR or LF in it) escaped so that the runner executes no workflow command in it,
    in either form; readable and reversible (:func:`restore_line`)."""
    line = _LEGACY_PREFIX.sub(lambda m: "##\\" + m.group(1) + "[", line)
    return _LEADING_PREFIX.sub(lambda m: m.group(1) + "\\" + m.group(2) + "::", line, count=1)


def restore_line(line: str) -> str:
    """The inverse of :func:`neutralise_line` (for tests and for readers of a log)."""
    line = re.sub(r"\A(\s*)\\(\\*)::", lambda m: m.group(1) + m.group(2) + "::", line, count=1)
    return re.sub(r"##\\(\\*)\[", lambda m: "##" + m.group(1) + "[", line)


def parse_bool(input_name: str, raw: str, default: bool) -> bool:
    """YAML 1.2 core-schema booleans only; empty means ``default``."""
    value = raw.strip()
    if not value:
        return default
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    raise InputError(
        input_name,
        f"{show(value)} is not a YAML 1.2 boolean.",
        remedy="Use true or false (also True/TRUE/False/FALSE), or leave it empty for the default.",
    )


# JSON inputs (policies, tags) nest a few levels; Python's parser would raise RecursionError
# (not a ValueError) on about a thousand, so deeper documents are refused before parsing.
MAX_JSON_DEPTH = 32


def load_json_input(input_name: str, raw: str) -> object:
    """Parse a JSON input; every failure, however odd the text, is an :class:`InputError`
    naming the input (issue 12: absurd nesting was "Unexpected error (RecursionError)")."""
    depth = _json_depth(raw)
    if depth > MAX_JSON_DEPTH:
        raise InputError(
            input_name,
            f"is JSON nested more than {MAX_JSON_DEPTH} levels deep.",
            remedy="Pass a flat JSON object (a policy document, or tags as key/value pairs).",
        )
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(
            input_name, f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})."
        ) from None
    except (RecursionError, ValueError) as exc:  # a number too long to convert, ...
        raise InputError(input_name, f"is not usable JSON ({type(exc).__name__}).") from None


def _json_depth(text: str) -> int:
    """The deepest nesting of ``[`` / ``{`` outside strings (linear, no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


# The longest value :func:`show` prints (a role ARN may have 2048 characters).
SHOW_LIMIT = 2048
# Characters that cannot be printed as they are: line breaks are shown as ``\x0a``/``\x0d``
# (the runner masks each line of a multi-line secret, so every line still appears whole); any
# other control character would need an escape inside a line, which no mask would match.
_LINE_BREAK = re.compile(r"[\r\n]")
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def show(value: str, limit: int = SHOW_LIMIT) -> str:
    """A user-supplied value for an error or log line: whole and as given, or not at all.

    The runner masks a secret (``${{ secrets.X }}`` passed as an input) only where it appears
    whole, so a value is never cut to a fragment, and no character inside a line is escaped
    (``'`` and ``\\`` are printed as they are). A value longer than ``limit``, one with a
    control character other than a line break or tab, or one holding ``##[`` (which every printed
    line escapes, see :func:`neutralise_line`) is described by its length instead. Line breaks
    are shown as ``\x0a``/``\x0d``, so the result never spans lines; it is quoted, so it never
    starts a line."""
    if len(value) > limit:
        return f"(a value of {len(value)} characters, not shown)"
    if _UNPRINTABLE.search(value) or "##[" in value:
        return f"(a value of {len(value)} characters with control characters or '##[', not shown)"
    return "'" + _LINE_BREAK.sub(lambda m: f"\\x{ord(m.group()):02x}", value) + "'"


@dataclass
class _Pending:
    env: list[tuple[str, str]] = field(default_factory=list)
    output: list[tuple[str, str]] = field(default_factory=list)
    state: list[tuple[str, str]] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)


class Runner:
    """Talks to the GitHub runner: reads inputs, prints commands, writes file commands."""

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        stream: TextIO | None = None,
    ) -> None:
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self._stream = stream
        self._secrets: set[str] = set()
        self._pending = _Pending()
        # Profiles are assumed in threads: a line or a mask is written whole, never interleaved.
        self._lock = threading.RLock()
        self._prefix = ""
        self._written: list[str] = []
        self.debug_enabled = (
            self.environ.get("RUNNER_DEBUG") == "1"
            or self.environ.get("ACTIONS_STEP_DEBUG", "").lower() == "true"
        )

    # -- inputs -------------------------------------------------------------------------------

    def get_input(self, name: str) -> str:
        """The input's value, trimmed; ``''`` when unset."""
        return self.environ.get(input_env_name(name), "").strip()

    def get_bool(self, name: str, default: bool) -> bool:
        return parse_bool(name, self.get_input(name), default)

    def get_lines(self, name: str, *, commas: bool = False) -> list[str]:
        """A multi-line input: one item per line (and per comma when ``commas``), blanks dropped."""
        raw = self.get_input(name)
        parts = re.split(r"[\r\n,]" if commas else r"[\r\n]", raw)
        return [p.strip() for p in parts if p.strip()]

    # -- output -------------------------------------------------------------------------------

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stdout

    def scrub(self, text: str) -> str:
        """Replace every registered secret (longest first) with ``***``."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, "***")
        return text

    def _write(self, line: str) -> None:
        # Scrubbed again as a last net: "***" cannot form a command prefix.
        with self._lock:
            self.stream.write(self.scrub(line) + "\n")
            self.stream.flush()

    def prefixed(self, prefix: str) -> Runner:
        """A view of this runner whose log lines and annotations start with ``prefix`` (one
        profile's chain, in its thread). It shares the secrets, the buffered file commands,
        the stream and the lock."""
        view = Runner(self.environ, self._stream)
        view._secrets = self._secrets
        view._pending = self._pending
        view._lock = self._lock
        view._written = self._written
        view.debug_enabled = self.debug_enabled
        view._prefix = self._prefix + prefix
        return view

    def mask(self, value: str | None) -> None:
        """Register a secret with the runner before anything could print it."""
        if value is None or not value.strip():
            return
        with self._lock:
            if value in self._secrets:
                return
            # The mask line itself must carry the value; it is the only line that may.
            self.stream.write(f"::add-mask::{escape_data(value)}\n")
            self.stream.flush()
            self._secrets.add(value)
            # The runner also masks each line of a multi-line secret; so do we.
            for part in re.split(r"[\r\n]+", value):
                if part.strip():
                    self._secrets.add(part.strip())

    def is_secret(self, value: str) -> bool:
        return value in self._secrets

    def info(self, message: str) -> None:
        """Plain log lines: the one way to print text that is not a command. Secrets are
        scrubbed first (an escape inside a secret would hide it from the scrubber and from the
        runner's masker), then CR is shown as ``\\r`` (the runner would end the line there) and
        each line is neutralised (:func:`neutralise_line`), so no value can act as a command."""
        for line in self.scrub(message).split("\n"):
            self._write(neutralise_line(self._prefix + line.replace("\r", "\\r")))

    def _command(self, name: str, message: str, title: str | None = None) -> None:
        # A ::name:: line is parsed as such before the legacy form is tried, so its data could
        # not start a command today; it is neutralised anyway, so that no "##[" from a value
        # appears anywhere in our output (the only exception is an ::add-mask:: line's secret,
        # which must stay exact to be masked).
        props = ""
        if title:
            props = f" title={neutralise_line(escape_property(self.scrub(title)))}"
        data = neutralise_line(escape_data(self.scrub(self._prefix + message)))
        self._write(f"::{name}{props}::{data}")

    def debug(self, message: str) -> None:
        self._command("debug", message)

    def notice(self, message: str, title: str | None = None) -> None:
        self._command("notice", message, title)

    def warning(self, message: str, title: str | None = None) -> None:
        self._command("warning", message, title)

    def error(self, message: str, title: str | None = None) -> None:
        self._command("error", message, title)

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        self._command("group", title)
        try:
            yield
        finally:
            self._write("::endgroup::")

    # -- file commands (buffered until commit) -------------------------------------------------

    def export_variable(self, name: str, value: str) -> None:
        if not _ENV_NAME.fullmatch(name) or name in _FORBIDDEN_ENV:
            raise FileCommandInjectionError(f"Refusing to export the variable name {show(name)}.")
        self._check_value(name, value)
        self._pending.env.append((name, value))

    def set_output(self, name: str, value: str) -> None:
        if not _OUTPUT_NAME.fullmatch(name):
            raise FileCommandInjectionError(f"Refusing to set the output name {show(name)}.")
        self._check_value(name, value)
        self._pending.output.append((name, value))

    def save_state(self, name: str, value: str) -> None:
        if not _OUTPUT_NAME.fullmatch(name):
            raise FileCommandInjectionError(f"Refusing to save the state name {show(name)}.")
        self._check_value(name, value)
        self._pending.state.append((name, value))

    def add_summary(self, markdown: str) -> None:
        self._pending.summary.append(self.scrub(markdown))

    @staticmethod
    def _check_value(name: str, value: str) -> None:
        # The runner reads CR as a line end (the value would change); NUL ends C strings.
        if "\x00" in value or "\r" in value:
            raise FileCommandInjectionError(
                f"Refusing a NUL or CR character in the value of {show(name)}."
            )

    def pending_env(self) -> list[tuple[str, str]]:
        return list(self._pending.env)

    def pending_outputs(self) -> list[tuple[str, str]]:
        return list(self._pending.output)

    def commit_summary(self) -> None:
        """After a failure: write only the job summary (diagnostics), never env or outputs.
        A summary that cannot be written is a warning: the step has already failed."""
        summary = self._pending.summary
        self._pending = _Pending()
        path = self.environ.get("GITHUB_STEP_SUMMARY", "")
        if summary and path:
            try:
                with open(path, "a", encoding="utf-8") as fh:
                    fh.write("\n".join(summary) + "\n")
            except OSError as exc:
                self.warning(f"The job summary {path} could not be written ({exc.strerror}).")

    @property
    def written(self) -> list[str]:
        """What this step has handed to later steps so far (names and paths, no values)."""
        return list(self._written)

    def record_written(self, description: str) -> None:
        """Note a write that later steps can see (a profile file), for a failure half-way."""
        self._written.append(description)

    def commit_state(self) -> None:
        """Write the buffered GITHUB_STATE entries now (before files whose cleanup they
        describe are written, so that the post step finds them even if a later write fails)."""
        entries, self._pending.state = self._pending.state, []
        path = self.environ.get("GITHUB_STATE", "")
        if entries and path:
            write_file_command(path, entries)

    def commit(
        self, *, require_env: bool = True, before_write: Callable[[], None] | None = None
    ) -> None:
        """Write every buffered file command. Called once, after the step has succeeded.

        Every file is checked and opened first, so a missing variable, a directory or an
        unwritable path fails before anything is written; then ``before_write`` runs (the profile
        files), then the entries are written. A write that still fails (a full disk) raises
        :class:`ExportWriteError` saying what was already written."""
        try:
            self._commit(require_env, before_write)
        except BaseException:
            # The buffered summary describes a success: the failure's handler must not write it.
            self._pending = _Pending()
            raise
        self._pending = _Pending()

    def _commit(self, require_env: bool, before_write: Callable[[], None] | None) -> None:
        targets = self._commit_targets(require_env)
        with ExitStack() as stack:
            opened = [
                (label, path, stack.enter_context(self._open_target(label, path)), text, names)
                for label, path, text, names in targets
            ]
            if before_write is not None:
                before_write()
            for label, path, handle, text, names in opened:
                try:
                    _write_all(handle, text.encode("utf-8"))
                except OSError as exc:
                    raise self._write_failed(label, path, exc, partly=True) from None
                self._written.append(f"{label} ({names})" if names else label)

    def _commit_targets(self, require_env: bool) -> list[tuple[str, str, str, str]]:
        """``(label, path, text, names)`` for each file with something to write."""
        targets = []
        for var, entries in (
            ("GITHUB_ENV", self._pending.env),
            ("GITHUB_OUTPUT", self._pending.output),
            ("GITHUB_STATE", self._pending.state),
        ):
            if not entries:
                continue
            path = self.environ.get(var, "")
            if not path:
                if var == "GITHUB_STATE" or not require_env:
                    continue
                raise RunnerEnvironmentError(
                    f"{var} is not set, so the result cannot be handed to later steps.",
                    remedy="Run the action on a GitHub runner (or act), which sets it.",
                )
            text = "".join(format_file_command(name, value) for name, value in entries)
            targets.append((var, path, text, ", ".join(dict.fromkeys(n for n, _ in entries))))
        summary_path = self.environ.get("GITHUB_STEP_SUMMARY", "")
        if self._pending.summary and summary_path:
            text = "\n".join(self._pending.summary) + "\n"
            targets.append(("the job summary (GITHUB_STEP_SUMMARY)", summary_path, text, ""))
        return targets

    @contextmanager
    def _open_target(self, label: str, path: str) -> Iterator[BinaryIO]:
        try:
            # Unbuffered: a failed write leaves nothing behind for close() to retry.
            handle = open(path, "ab", buffering=0)  # noqa: SIM115 - closed below
        except OSError as exc:
            raise self._write_failed(label, path, exc, partly=False) from None
        with handle:
            yield handle

    def _write_failed(
        self, label: str, path: str, exc: OSError, *, partly: bool
    ) -> ExportWriteError:
        problem = f"{label} ({path}) could not be {'written' if partly else 'opened'}"
        reason = f" ({exc.strerror})" if exc.strerror else ""
        if not self._written:
            done = "Nothing else was written." if partly else "Nothing was exported."
        else:
            done = f"Already written: {'; '.join(self._written)}."
        partial = f" {label} may hold part of its entries." if partly else ""
        return ExportWriteError(
            f"{problem}{reason}. {done}{partial}",
            remedy=(
                "Later steps of this job see whatever was written. Check that path's "
                "permissions and free space."
            ),
        )


def _write_all(handle: BinaryIO, data: bytes) -> None:
    view = memoryview(data)
    while view:
        count = handle.write(view)
        if not count:  # no progress (a FIFO without a reader): fail rather than spin
            raise OSError(errno.EIO, "no data could be written")
        view = view[count:]


def format_file_command(name: str, value: str, delimiter: str | None = None) -> str:
    """One entry in the runner's heredoc format, with a fresh random delimiter."""
    if not name or _BAD_NAME.search(name):
        raise FileCommandInjectionError(f"Refusing the file-command name {show(name)}.")
    delim = delimiter or f"ghadelimiter_{uuid.uuid4()}"
    if delim in name or delim in value:
        raise FileCommandInjectionError(
            f"Refusing the value of {show(name)}: it contains the file-command delimiter."
        )
    return f"{name}<<{delim}\n{value}\n{delim}\n"


def write_file_command(path: str, entries: list[tuple[str, str]]) -> None:
    """Append entries to a runner file in one write (UTF-8, ``\\n`` line ends)."""
    text = "".join(format_file_command(name, value) for name, value in entries)
    with open(path, "ab") as fh:
        fh.write(text.encode("utf-8"))
