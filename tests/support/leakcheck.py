"""The leak check, applied to every :class:`~tests.support.harness.ActionResult` of every test.

Known secrets (:func:`known_secrets`): every JWT the issuer minted, every AccessKeyId /
SecretAccessKey / SessionToken the STS layer saw STS return, the OIDC request token, the values
of the key inputs and of ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN`` in
the step's environment, and whatever the test declared (``secrets.add(...)`` or
``result.add_secret(...)``).

Rules (:func:`find_leaks`):

1. stdout: a secret may appear only on its own ``::add-mask::`` line, and that line must come
   before any other line that mentions it (which is itself a leak: rule 10 of SPEC.md);
2. never in stderr, never in the job summary;
3. a secret in a ``GITHUB_ENV`` / ``GITHUB_OUTPUT`` value must have its ``::add-mask::`` line;
4. no Python traceback on stdout or stderr;
5. a failed main/post step: ``GITHUB_ENV`` and ``GITHUB_OUTPUT`` untouched (empty) and exactly
   one ``::error::`` command;
6. no line the runner would execute as a command other than the ones the action writes
   (:data:`ACTION_COMMANDS`, in the ``::`` form at the start of the line, lower-case, only a
   ``title`` property), so a ``##[stop-commands]`` or ``::set-env::`` smuggled in by a value
   fails the run even where it happens to leak nothing; no command at all on stderr (the runner
   reads both streams); and no ``##[`` on stdout outside an ``::add-mask::`` line's secret
   (every other line is neutralised by ``runner.neutralise_line``).

Messages name the secret's kind and where it leaked, never the secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from localdev.runner_files import Command, masked_set, parse_commands, split_lines, try_parse_v2

from .harness import SECRET_ENV, SECRET_INPUTS, ActionResult

if TYPE_CHECKING:
    from localdev.oidc_issuer import OidcIssuer
    from localdev.sts_faults import StsFaultProxy

# Shorter values are not checked: they would match ordinary text. Real secrets here are 20+.
MIN_SECRET_LEN = 8
TRACEBACK = "Traceback (most recent call last)"
# What py_aws_oidc.runner.Runner writes; anything else the runner would act on came from a value.
ACTION_COMMANDS = frozenset({"add-mask", "debug", "notice", "warning", "error", "group",
                             "endgroup"})
_TITLED = frozenset({"notice", "warning", "error"})
_STS_KINDS = {"AccessKeyId": "sts-access-key-id", "SecretAccessKey": "sts-secret-access-key",
              "SessionToken": "sts-session-token"}


@dataclass(frozen=True)
class Secret:
    kind: str
    value: str


class SecretRegistry:
    """Secrets a test declares (the ``secrets`` fixture)."""

    def __init__(self) -> None:
        self._items: list[Secret] = []

    def add(self, value: str, kind: str = "declared") -> str:
        """Declare ``value`` secret; returns it, so ``token = secrets.add(issuer.mint())``."""
        self._items.append(Secret(kind, value))
        return value

    def __iter__(self) -> Iterator[Secret]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)


def known_secrets(
    result: ActionResult,
    *,
    issuer: OidcIssuer | None = None,
    sts: StsFaultProxy | None = None,
    declared: Iterable[Secret] = (),
) -> list[Secret]:
    """Every secret the leak check knows for ``result`` (deduplicated by value)."""
    found: list[Secret] = []
    if issuer is not None:
        found += [Secret("oidc-jwt", t) for t in list(issuer.minted)]
        found.append(Secret("oidc-request-token", issuer.request_token))
    if sts is not None:
        for call in list(sts.calls):
            for name, kind in _STS_KINDS.items():
                if call.response.get(name):
                    found.append(Secret(kind, call.response[name]))
        found += [Secret("sts-credential", s) for s in list(sts.issued_secrets)]
    for name in SECRET_INPUTS:
        value = result.inputs.get(name)
        if value:
            found.append(Secret(f"input:{name}", value))
    for name in SECRET_ENV:
        value = result.environ.get(name)
        if value:
            found.append(Secret(f"env:{name}", value))
    found += [Secret(kind, value) for kind, value in result.server_secrets]
    found += [Secret(kind, value) for kind, value in result.extra_secrets]
    found += list(declared)
    unique: dict[str, Secret] = {}
    for secret in found:
        if len(secret.value.strip()) >= MIN_SECRET_LEN:
            unique.setdefault(secret.value, secret)
    return list(unique.values())


def _redact(line: str, secrets: list[Secret], limit: int = 160) -> str:
    for secret in sorted(secrets, key=lambda s: len(s.value), reverse=True):
        line = line.replace(secret.value, f"<{secret.kind}>")
    return line if len(line) <= limit else line[:limit] + "..."


def find_leaks(result: ActionResult, secrets: Iterable[Secret]) -> list[str]:
    """Every rule ``result`` breaks, as human-readable problems (empty = clean)."""
    secrets = list(secrets)
    problems: list[str] = []
    stdout_lines = split_lines(result.stdout)
    stderr_lines = split_lines(result.stderr)

    masked = masked_set(result.masks)
    mask_line_of: dict[str, int] = {}
    for command in result.commands:
        if command.key == "add-mask":
            mask_line_of.setdefault(command.data, command.line_no)

    for secret in secrets:
        value = secret.value
        first_mask = mask_line_of.get(value)
        for i, line in enumerate(stdout_lines):
            if value not in line:
                continue
            parsed = try_parse_v2(line)
            if parsed is not None and parsed.key == "add-mask" and parsed.data == value \
                    and first_mask is not None:
                continue  # its own (processed) mask line
            where = f"stdout line {i + 1}"
            if first_mask is None or i < first_mask:
                where += " (before any ::add-mask:: of it)"
            problems.append(f"{secret.kind} leaked on {where}: {_redact(line, secrets)!r}")
        for i, line in enumerate(stderr_lines):
            if value in line:
                problems.append(f"{secret.kind} leaked on stderr line {i + 1}: "
                                f"{_redact(line, secrets)!r}")
        if value in result.summary:
            problems.append(f"{secret.kind} leaked into the job summary (GITHUB_STEP_SUMMARY)")
        for file_name, entries in (("GITHUB_ENV", result.env_entries),
                                   ("GITHUB_OUTPUT", result.output_entries)):
            for name, entry_value in entries:
                if value in entry_value and value not in masked:
                    problems.append(f"{secret.kind} written to {file_name} {name} without an "
                                    "::add-mask:: line for it on stdout")

    problems += _foreign_commands(result, stdout_lines, secrets)

    for stream, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        if TRACEBACK in text:
            problems.append(f"a Python traceback on {stream}")

    if result.is_action_step and not result.timed_out and result.returncode != 0:
        if result.raw_env_text:
            problems.append("the failed step wrote to GITHUB_ENV (it must leave it empty)")
        if result.raw_output_text:
            problems.append("the failed step wrote to GITHUB_OUTPUT (it must leave it empty)")
        if len(result.errors) != 1:
            problems.append(f"the failed step printed {len(result.errors)} ::error:: commands "
                            "(exactly one expected)")
    return problems


def _is_our_command(command: Command, line: str) -> bool:
    allowed_props = {"title"} if command.name in _TITLED else set()
    return (not command.legacy and command.name in ACTION_COMMANDS  # exact case: as we write it
            and line.startswith(f"::{command.name}") and set(command.props) <= allowed_props)


def _foreign_commands(result: ActionResult, stdout_lines: list[str],
                      secrets: list[Secret]) -> list[str]:
    """Rule 6 (see the module docstring)."""
    problems: list[str] = []
    for command in result.commands:
        line = stdout_lines[command.line_no]
        if not _is_our_command(command, line):
            form = "##[...]" if command.legacy else "::...::"
            problems.append(f"stdout line {command.line_no + 1}: the runner would execute a "
                            f"{form} command {command.name!r} the action never writes "
                            f"(a value acting as a command): {_redact(line, secrets)!r}")
    for command in parse_commands(result.stderr):
        problems.append(f"stderr line {command.line_no + 1}: the runner would execute the "
                        f"command {command.name!r} (the runner reads stderr too)")
    mask_lines = {c.line_no for c in result.commands if c.key == "add-mask"}
    for i, line in enumerate(stdout_lines):
        if "##[" in line and i not in mask_lines:
            problems.append(f"stdout line {i + 1} carries an unescaped '##[' (the runner's "
                            f"legacy command prefix): {_redact(line, secrets)!r}")
    return problems


def assert_no_leaks(result: ActionResult, secrets: Iterable[Secret]) -> None:
    problems = find_leaks(result, secrets)
    if problems:
        raise AssertionError(format_problems([(result, problems)]))


def format_problems(found: list[tuple[ActionResult, list[str]]]) -> str:
    parts = ["Leak check failed (secrets are named by kind, never shown):"]
    for result, problems in found:
        label = " ".join(result.argv) or "main step"
        parts.append(f"  run {label!r} (exit {result.returncode}):")
        parts += [f"    - {p}" for p in problems]
    return "\n".join(parts)
