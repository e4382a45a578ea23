"""`trust lint` on real infrastructure code: the corpus score (issue 21, SPEC 1.2).

Every fixture under tests/trust/corpus is linted through the CLI's JSON output and compared with
its hand verdict (tests/trust/corpus/verdicts.json; scoring rules in tests/trust/corpus_score.py).
Goals: precision >= 0.95, recall >= 0.90, no wrong critical or high finding, no valid file
refused, every file under 5 s. `pytest -s` prints the score table and what each fixture got wrong.
"""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from tests.trust.corpus_score import (
    CORPUS,
    RANK,
    VERDICTS,
    details,
    load_fixtures,
    run_in_process,
    score,
    table,
)

PRECISION_GOAL = 0.95
RECALL_GOAL = 0.90
SECONDS_PER_FILE = 5.0
KNOWN_RULES_SPEC = {"unresolved", "subject-never-matches"}  # new in SPEC 1.2


def test_corpus_is_large_and_varied() -> None:
    """The yardstick itself: enough fixtures of each kind, problems and true negatives."""
    fixtures = load_fixtures()
    kinds = Counter(fx.key.split("/")[0] for fx in fixtures)
    assert len(fixtures) >= 60
    assert {"terraform", "cloudformation-yaml", "cloudformation-json", "sam", "json"} <= set(kinds)
    assert kinds["terraform"] >= 20
    assert sum(1 for fx in fixtures if not fx.problems and not fx.refuse) >= 15
    assert sum(len(fx.problems) for fx in fixtures) >= 60
    for fx in fixtures:
        assert fx.directory.is_dir(), fx.key
        for target in fx.targets():
            assert (CORPUS / target).exists(), target
        assert fx.source, f"{fx.key}: say which real code it reproduces"


def test_verdicts_use_known_rules() -> None:
    """Every rule a verdict names exists in lint.RULES or is one SPEC 1.2 adds."""
    from py_aws_oidc.trust.lint import RULES

    known = {rule.id for rule in RULES} | KNOWN_RULES_SPEC
    doc = json.loads(VERDICTS.read_text(encoding="utf-8"))
    for key, v in doc["fixtures"].items():
        for p in v.get("problems", []):
            rules = p["rule"] if isinstance(p["rule"], list) else [p["rule"]]
            assert set(rules) <= known, (key, rules)
            assert p["severity"] in (*RANK, "advisory"), (key, p)
            if "unresolved" in rules:
                assert p["severity"] == "advisory", key
        assert set(v.get("acceptable", [])) <= known, key


@pytest.mark.xfail(
    strict=False,
    reason=(
        "issue 21: the Terraform module evaluator (branch h21tf) and the CloudFormation reader, "
        "`lint DIR` and subject-never-matches (branch h21rules) are not merged yet; main refuses "
        "directories and templates. The lead removes this mark at merge."
    ),
)
def test_corpus_score_meets_the_goals() -> None:
    fixtures = [fx for fx in load_fixtures()]
    start = time.perf_counter()
    result = score(fixtures, run_in_process)
    total = time.perf_counter() - start
    print()
    print(f"trust lint on the corpus: {len(fixtures)} fixtures, {CORPUS}")
    print(table([("py-aws-oidc", result, total)]))
    print(details(result))
    assert result.valid_refused == [], f"valid files refused: {result.refusals}"
    assert [r for r in result.refusals if "malformed accepted" in r] == []
    assert result.wrong_high == [], f"wrong critical/high findings: {result.wrong_high}"
    assert result.slow(SECONDS_PER_FILE) == [], result.slow(SECONDS_PER_FILE)
    assert result.precision >= PRECISION_GOAL, f"precision {result.precision:.2f}"
    assert result.recall >= RECALL_GOAL, f"recall {result.recall:.2f}"
