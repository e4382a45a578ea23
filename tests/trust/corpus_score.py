"""Score ``trust lint`` (or another tool) against the hand-judged corpus in tests/trust/corpus.

The corpus is our own fixtures, written after studying real GitHub OIDC trust policies in public
repositories (tests/trust/corpus/SOURCES.md). Each fixture is a directory; ``verdicts.json``
holds, for each, what to lint (``paths``, relative to the fixture's directory, which is its key
unless ``dir`` names a directory several fixtures share; ``args``, where ``{dir}`` is that
directory) and the hand verdict:

* ``problems``: the real problems, each a rule id (or a list of rule ids any of which names the
  same problem) with the severity judged by hand; ``unresolved`` counts as a problem where a value
  the verdict depends on cannot be known offline;
* ``acceptable``: rule ids that are defensible but not required (neither hit nor false alarm);
  ``default_acceptable`` applies to every fixture;
* ``unresolved``: expressions the advisory ``unresolved`` finding should name (a soft check);
* ``refuse``: the file is malformed and must be refused (exit 2).

A problem is (fixture, rule). Severity is judged separately: a critical or high finding where the
verdict has none (a false alarm), or where the verdict says medium or lower, is a *wrong
critical/high*; other severity differences are listed but do not count against precision.
This module is used by tests/trust/test_trust_corpus.py and bench/trust_corpus.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parent / "corpus"
VERDICTS = CORPUS / "verdicts.json"
RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1}
FAILING = frozenset({"critical", "high"})
_HOOK_SUFFIXES = frozenset({".tf", ".json", ".yaml", ".yml"})


@dataclass(frozen=True)
class Expected:
    rules: tuple[str, ...]  # alternatives naming the same problem
    severity: str

    @property
    def label(self) -> str:
        return "|".join(self.rules)


@dataclass(frozen=True)
class Fixture:
    key: str
    directory: Path
    paths: tuple[str, ...]
    args: tuple[str, ...]
    problems: tuple[Expected, ...]
    acceptable: frozenset[str]
    unresolved: tuple[str, ...]
    refuse: bool
    source: str
    note: str

    def targets(self, expand_dirs: bool = False) -> list[str]:
        """What to lint; with ``expand_dirs``, a directory becomes the files a pre-commit hook
        would pass (its .tf, .json and .yaml files), to measure a reader without ``lint DIR``."""
        out: list[str] = []
        for p in self.paths:
            target = self.directory / p
            if expand_dirs and target.is_dir():
                out.extend(
                    str(f) for f in sorted(target.iterdir()) if f.suffix in _HOOK_SUFFIXES
                )
            else:
                out.append(str(target))
        return out

    def argv(self) -> list[str]:
        return [a.replace("{dir}", str(self.directory)) for a in self.args]


@dataclass(frozen=True)
class Found:
    rule: str
    severity: str
    text: str  # message and anything else the tool said about it


@dataclass
class Run:
    """What one tool said about one fixture."""

    key: str
    exit_code: int
    findings: list[Found]
    seconds: float
    refused: bool
    error: str = ""


@dataclass
class FixtureScore:
    key: str
    hits: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)
    wrong_high: list[str] = field(default_factory=list)
    severity_diffs: list[str] = field(default_factory=list)
    unnamed_unknowns: list[str] = field(default_factory=list)
    refusal: str = ""  # "valid refused" / "malformed accepted" / ""
    seconds: float = 0.0


@dataclass
class Score:
    fixtures: list[FixtureScore]

    def _sum(self, attr: str) -> int:
        return sum(len(getattr(f, attr)) for f in self.fixtures)

    @property
    def tp(self) -> int:
        return self._sum("hits")

    @property
    def fp(self) -> int:
        return self._sum("false_alarms")

    @property
    def fn(self) -> int:
        return self._sum("misses")

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def wrong_high(self) -> list[str]:
        return [f"{f.key}: {w}" for f in self.fixtures for w in f.wrong_high]

    @property
    def refusals(self) -> list[str]:
        return [f"{f.key}: {f.refusal}" for f in self.fixtures if f.refusal]

    @property
    def valid_refused(self) -> list[str]:
        return [f.key for f in self.fixtures if f.refusal.startswith("valid refused")]

    @property
    def max_seconds(self) -> float:
        return max((f.seconds for f in self.fixtures), default=0.0)

    def slow(self, limit: float) -> list[str]:
        return [f"{f.key}: {f.seconds:.2f} s" for f in self.fixtures if f.seconds > limit]


def load_fixtures(path: Path = VERDICTS) -> list[Fixture]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    default_ok = frozenset(doc.get("default_acceptable", []))
    out = []
    for key, v in sorted(doc["fixtures"].items()):
        problems = tuple(
            Expected(
                tuple(p["rule"]) if isinstance(p["rule"], list) else (p["rule"],), p["severity"]
            )
            for p in v.get("problems", [])
        )
        out.append(
            Fixture(
                key=key,
                directory=path.parent / v.get("dir", key),
                paths=tuple(v.get("paths", ["."])),
                args=tuple(v.get("args", [])),
                problems=problems,
                acceptable=default_ok | frozenset(v.get("acceptable", [])),
                unresolved=tuple(v.get("unresolved", [])),
                refuse=bool(v.get("refuse", False)),
                source=v.get("source", ""),
                note=v.get("note", ""),
            )
        )
    return out


def _finding_dicts(doc: Any) -> Iterator[dict[str, Any]]:
    """Every object with a rule and a severity, wherever the JSON report nests them."""
    if isinstance(doc, dict):
        if isinstance(doc.get("rule"), str) and isinstance(doc.get("severity"), str):
            yield doc
            return
        for value in doc.values():
            yield from _finding_dicts(value)
    elif isinstance(doc, list):
        for item in doc:
            yield from _finding_dicts(item)


def _has_error(doc: Any) -> bool:
    """A JSON report that lists a refused file (SPEC 1.2: refused files appear with their error)."""
    if isinstance(doc, dict):
        if isinstance(doc.get("error"), str) and doc["error"]:
            return True
        return any(_has_error(v) for k, v in doc.items() if k != "findings")
    if isinstance(doc, list):
        return any(_has_error(v) for v in doc)
    return False


def parse_report(key: str, exit_code: int, stdout: str, stderr: str, seconds: float) -> Run:
    findings: list[Found] = []
    doc: Any = None
    try:
        doc = json.loads(stdout) if stdout.strip() else None
    except ValueError:
        doc = None
    for item in _finding_dicts(doc):
        text = json.dumps(item, sort_keys=True)
        findings.append(Found(item["rule"], item["severity"], text))
    refused = exit_code == 2 or (exit_code not in (0, 1)) or _has_error(doc)
    error = stderr.strip().splitlines()[-1] if refused and stderr.strip() else ""
    return Run(key, exit_code, findings, seconds, refused, error)


def lint_argv(fixture: Fixture, expand_dirs: bool = False) -> list[str]:
    hook = ["--skip-non-policies"] if expand_dirs else []  # as the pre-commit hook runs it
    return ["lint", *fixture.targets(expand_dirs), *hook, *fixture.argv(), "--format", "json"]


def run_in_process(fixture: Fixture, expand_dirs: bool = False) -> Run:
    """``py-aws-oidc trust lint ... --format json`` through the CLI's own entry point."""
    from py_aws_oidc.trust.cli import main

    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    try:  # argparse writes usage errors to sys.stderr itself
        with contextlib.redirect_stderr(err):
            code = main(lint_argv(fixture, expand_dirs), stdout=out, stderr=err)
    except Exception as exc:  # noqa: BLE001 (a traceback is scored as the worst refusal)
        code = 3
        err.write(f"crash: {type(exc).__name__}: {exc}\n")
    seconds = time.perf_counter() - start
    return parse_report(fixture.key, code, out.getvalue(), err.getvalue(), seconds)


def run_subprocess(
    fixture: Fixture, command: list[str], timeout: float = 60.0, expand_dirs: bool = False
) -> Run:
    """The same through a console script (``[.venv/bin/py-aws-oidc, "trust"]``)."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [*command, *lint_argv(fixture, expand_dirs)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Run(fixture.key, -1, [], time.perf_counter() - start, True, "timeout")
    seconds = time.perf_counter() - start
    return parse_report(fixture.key, proc.returncode, proc.stdout, proc.stderr, seconds)


def score_fixture(fixture: Fixture, run: Run) -> FixtureScore:
    fs = FixtureScore(fixture.key, seconds=run.seconds)
    if fixture.refuse:
        if not run.refused:
            fs.refusal = "malformed accepted"
        return fs
    if run.refused:
        fs.refusal = "valid refused" + (f" ({run.error})" if run.error else "")
    worst: dict[str, Found] = {}
    for f in run.findings:
        if f.rule not in worst or RANK.get(f.severity, 0) > RANK.get(worst[f.rule].severity, 0):
            worst[f.rule] = f
    explained: set[str] = set()
    for exp in fixture.problems:
        explained.update(exp.rules)
        got = next((worst[r] for r in exp.rules if r in worst), None)
        if got is None:
            fs.misses.append(f"{exp.label} ({exp.severity})")
            continue
        fs.hits.append(exp.label)
        if got.severity != exp.severity and not (
            exp.severity == "advisory" and got.severity not in FAILING
        ):
            fs.severity_diffs.append(f"{got.rule}: {got.severity}, judged {exp.severity}")
            if got.severity in FAILING and RANK.get(exp.severity, 0) < RANK["high"]:
                fs.wrong_high.append(f"{got.rule} {got.severity} (judged {exp.severity})")
    for rule, f in sorted(worst.items()):
        if rule in explained:
            continue
        if rule in fixture.acceptable:
            if f.severity in FAILING and rule == "unresolved":
                fs.wrong_high.append(f"unresolved raised as {f.severity}")
            continue
        fs.false_alarms.append(f"{rule} ({f.severity})")
        if f.severity in FAILING:
            fs.wrong_high.append(f"{rule} {f.severity} (no such problem)")
    if fixture.unresolved and "unresolved" in worst:
        said = " ".join(f.text for f in run.findings if f.rule == "unresolved")
        fs.unnamed_unknowns = [name for name in fixture.unresolved if name not in said]
    return fs


def score(fixtures: Iterable[Fixture], runner: Callable[[Fixture], Run]) -> Score:
    return Score([score_fixture(fx, runner(fx)) for fx in fixtures])


def table(rows: list[tuple[str, Score, float]]) -> str:
    """The comparison table: per tool, hits, false alarms, misses, refusals, wrong
    critical/high, precision, recall, total and slowest time."""
    head = (
        f"{'tool':<16} {'TP':>4} {'FP':>4} {'miss':>5} {'refused':>8} {'wrong c/h':>9} "
        f"{'precision':>9} {'recall':>7} {'total s':>8} {'max s':>6}"
    )
    lines = [head, "-" * len(head)]
    for name, s, total in rows:
        lines.append(
            f"{name:<16} {s.tp:>4} {s.fp:>4} {s.fn:>5} {len(s.valid_refused):>8} "
            f"{len(s.wrong_high):>9} {s.precision:>9.2f} {s.recall:>7.2f} {total:>8.1f} "
            f"{s.max_seconds:>6.2f}"
        )
    return "\n".join(lines)


def details(s: Score) -> str:
    """Per fixture: what was missed, what was a false alarm, refusals, unnamed unknowns."""
    out = []
    for f in s.fixtures:
        parts = []
        if f.refusal:
            parts.append(f.refusal)
        if f.misses:
            parts.append("missed " + ", ".join(f.misses))
        if f.false_alarms:
            parts.append("false alarm " + ", ".join(f.false_alarms))
        if f.wrong_high:
            parts.append("WRONG " + "; ".join(f.wrong_high))
        if f.severity_diffs:
            parts.append("severity " + "; ".join(f.severity_diffs))
        if f.unnamed_unknowns:
            parts.append("unresolved does not name " + ", ".join(f.unnamed_unknowns))
        if parts:
            out.append(f"  {f.key}: " + " | ".join(parts))
    return "\n".join(out)
