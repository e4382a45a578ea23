#!/usr/bin/env python3
"""The trust doctor against checkov on the corpus of real-code fixtures (issue 21). Not a test.

    python bench/trust_corpus.py                                  # ours only
    python bench/trust_corpus.py --checkov /tmp/checkov-venv/bin/checkov --details

Ours: ``py-aws-oidc trust lint FIXTURE --format json``, one fresh process per fixture (the console
script next to this interpreter, as a pre-commit hook starts it). Checkov: one run over the
whole corpus (``-d tests/trust/corpus``, Terraform and CloudFormation frameworks; it has no
reader for plain JSON policies), its failures attributed to fixtures by file path, its time
spread evenly. Checkov's GitHub OIDC checks are CKV_AWS_358 (data aws_iam_policy_document) and
CKV_AWS_393 (aws_iam_role assume_role_policy), "only allow safe claims and claim order": a
failure stands for one of our no-subject-condition / subject-any-repository / subject-org-wide;
CKV_AWS_60 (a role anyone may assume) stands for principal-wildcard. Checkov gives no severity
offline; its failures fail the build, so they are graded high.

Both are scored with the hand verdicts (tests/trust/corpus_score.py): true positives, false
positives, misses, valid files refused, wrong critical/high findings, precision, recall, time.
Install checkov outside the repository: python3 -m venv /tmp/checkov-venv &&
/tmp/checkov-venv/bin/pip install checkov
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.trust.corpus_score import (  # noqa: E402
    CORPUS,
    Fixture,
    Found,
    Run,
    Score,
    details,
    load_fixtures,
    run_in_process,
    run_subprocess,
    score_fixture,
    table,
)

CHECKOV_RULES = {
    "CKV_AWS_358": ("no-subject-condition", "subject-any-repository", "subject-org-wide"),
    "CKV_AWS_393": ("no-subject-condition", "subject-any-repository", "subject-org-wide"),
    "CKV_AWS_60": ("principal-wildcard",),
}


def ours(fixtures: list[Fixture], in_process: bool, expand_dirs: bool) -> tuple[Score, float]:
    script = Path(sys.executable).with_name("py-aws-oidc")
    command = [str(script), "trust"] if script.exists() else [sys.executable, "-m", "py_aws_oidc", "trust"]
    start = time.perf_counter()
    scores = []
    for fx in fixtures:
        if in_process:
            run = run_in_process(fx, expand_dirs)
        else:
            run = run_subprocess(fx, command, expand_dirs=expand_dirs)
        scores.append(score_fixture(fx, run))
    return Score(scores), time.perf_counter() - start


def _checkov_failures(doc: object) -> list[dict[str, str]]:
    reports = doc if isinstance(doc, list) else [doc]
    out = []
    for report in reports:
        if isinstance(report, dict):
            out.extend(report.get("results", {}).get("failed_checks", []))
    return out


def checkov(fixtures: list[Fixture], exe: str) -> tuple[Score, float]:
    start = time.perf_counter()
    proc = subprocess.run(
        [exe, "-d", str(CORPUS), "-o", "json", "--quiet", "--compact", "--skip-download",
         "--framework", "terraform", "cloudformation", "--check", ",".join(CHECKOV_RULES)],
        capture_output=True, text=True, check=False, cwd=CORPUS,
    )
    total = time.perf_counter() - start
    try:
        doc = json.loads(proc.stdout or "[]")
    except ValueError:
        sys.exit(f"checkov printed no JSON (exit {proc.returncode}): {proc.stderr[-500:]}")
    by_dir: dict[str, list[str]] = {}
    for failure in _checkov_failures(doc):
        parts = Path(failure["file_path"].lstrip("/")).parts
        by_dir.setdefault("/".join(parts[:2]), []).append(failure["check_id"])
    per_file = total / max(len(fixtures), 1)
    scores = []
    for fx in fixtures:
        expected = {r for p in fx.problems for r in p.rules}
        found = []
        # checkov reads a directory with its defaults: its verdict stands for the fixture
        # that lints the directory without --var/--var-file
        directory = fx.directory.relative_to(CORPUS).as_posix()
        for check_id in by_dir.get(directory, []) if not fx.args else []:
            rules = CHECKOV_RULES.get(check_id, ())
            rule = next((r for r in rules if r in expected), rules[0] if rules else check_id)
            found.append(Found(rule, "high", check_id))
        scores.append(score_fixture(fx, Run(fx.key, 1 if found else 0, found, per_file, False)))
    return Score(scores), total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkov", metavar="PATH", help="the checkov executable to compare with")
    parser.add_argument("--in-process", action="store_true", help="run ours in this process")
    parser.add_argument("--details", action="store_true", help="list each fixture's misses")
    parser.add_argument(
        "--expand-dirs",
        action="store_true",
        help="pass a directory's .tf/.json/.yaml files instead of the directory (as pre-commit does)",
    )
    args = parser.parse_args(argv)
    fixtures = load_fixtures()
    problems = sum(len(fx.problems) for fx in fixtures)
    negatives = sum(1 for fx in fixtures if not fx.problems and not fx.refuse)
    print(f"corpus: {len(fixtures)} fixtures, {problems} hand-judged problems, "
          f"{negatives} fixtures with none")
    rows = []
    our_score, our_time = ours(fixtures, args.in_process, args.expand_dirs)
    rows.append(("py-aws-oidc", our_score, our_time))
    ck_score = None
    if args.checkov:
        ck_score, ck_time = checkov(fixtures, args.checkov)
        rows.append(("checkov", ck_score, ck_time))
    print(table(rows))
    if ck_score is not None:
        ours_hits = {(f.key, h) for f in our_score.fixtures for h in f.hits}
        only_checkov = [f"{f.key}: {h}" for f in ck_score.fixtures for h in f.hits
                        if (f.key, h) not in ours_hits]
        print(f"problems checkov finds that we miss: {len(only_checkov)}")
        for line in only_checkov:
            print(f"  {line}")
    if args.details:
        print("py-aws-oidc, per fixture:")
        print(details(our_score))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
