"""``trust lint --format sarif``: valid SARIF 2.1.0 (the official OASIS schema), one rule per lint
rule, results with the rule, the level and the line of the condition or statement."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from py_aws_oidc.trust.lint import RULES
from py_aws_oidc.trust.sarif import LEVELS, SECURITY_SEVERITY
from tests.trust.helpers import AUD, SUB, policy, run_cli, statement, write_json

SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8")
)
CLEAN = policy(
    statement(
        {
            "StringEquals": {
                AUD: "sts.amazonaws.com",
                SUB: "repo:octo-org@1/octo-repo@2:ref:refs/heads/main",
            }
        }
    )
)
BAD_JSON = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Deploy",
      "Effect": "Allow",
      "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
        "StringLike": {
          "token.actions.githubusercontent.com:sub": "repo:octo-org/*"
        }
      }
    },
    {
      "Effect": "Allow",
      "Principal": "*",
      "Action": "sts:AssumeRoleWithWebIdentity"
    }
  ]
}
"""
BAD_TF = """resource "aws_iam_openid_connect_provider" "github" {
  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

# a comment with a { brace and "quotes"
data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "Exact"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.github.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:octo-org/octo-repo:environment:prod:eu"]
    }
  }

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.github.arn]
    }
  }
}

resource "aws_iam_role" "inline" {
  name = "inline"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = aws_iam_openid_connect_provider.github.arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = { StringLike = { "token.actions.githubusercontent.com:sub" = "*" } }
    }]
  })
}
"""


def sarif(*argv: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = run_cli("lint", "--format", "sarif", *argv)
    log: dict[str, Any] = json.loads(out)
    errors = sorted(Draft4Validator(SCHEMA).iter_errors(log), key=str)
    assert not errors, [e.message for e in errors]
    return code, log, err


def located(log: dict[str, Any]) -> set[tuple[str, str, str, int | None]]:
    out = set()
    for result in log["runs"][0]["results"]:
        physical = result["locations"][0]["physicalLocation"]
        line = physical.get("region", {}).get("startLine")
        out.add((result["ruleId"], result["level"], physical["artifactLocation"]["uri"], line))
    return out


def test_the_schema_is_the_official_one() -> None:
    assert SCHEMA["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert Draft4Validator(SCHEMA).is_valid({"version": "2.1.0", "runs": []})
    assert not Draft4Validator(SCHEMA).is_valid({"version": "2.0.0", "runs": []})


def test_rules_describe_every_lint_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_json(tmp_path / "clean.json", CLEAN)
    code, log, _ = sarif("clean.json")
    assert code == 0
    assert log["version"] == "2.1.0" and log["runs"][0]["results"] == []
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in RULES]
    for descriptor, rule in zip(rules, RULES, strict=True):
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["fullDescription"]["text"] == rule.why
        assert descriptor["help"]["text"] == rule.fix
        assert descriptor["defaultConfiguration"]["level"] == LEVELS[rule.severity]
        assert descriptor["properties"]["security-severity"] == SECURITY_SEVERITY[rule.severity]
    assert {LEVELS[s] for s in ("critical", "high")} == {"error"}
    assert (LEVELS["medium"], LEVELS["low"]) == ("warning", "note")


def test_json_results_point_at_the_condition_or_the_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "bad.json").write_text(BAD_JSON, encoding="utf-8")
    code, log, _ = sarif("policies/bad.json")
    assert code == 1
    found = located(log)
    assert ("subject-org-wide", "error", "policies/bad.json", 12) in found  # the sub key's line
    assert ("principal-wildcard", "error", "policies/bad.json", 16) in found  # statement #1
    assert ("no-subject-condition", "error", "policies/bad.json", 16) in found
    for result in log["runs"][0]["results"]:
        rule_index = result["ruleIndex"]
        assert log["runs"][0]["tool"]["driver"]["rules"][rule_index]["id"] == result["ruleId"]
        assert "Fix:" in result["message"]["text"]


def test_terraform_results_point_at_condition_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "main.tf").write_text(BAD_TF, encoding="utf-8")
    code, log, _ = sarif("main.tf")
    assert code == 1
    found = located(log)
    assert ("set-operator-single-valued", "error", "main.tf", 20) in found
    assert ("environment-literal-colon", "warning", "main.tf", 20) in found
    assert ("no-subject-condition", "error", "main.tf", 27) in found  # the second statement
    assert ("subject-any-repository", "error", "main.tf", 38) in found  # assume_role_policy =


def test_several_files_and_an_unreadable_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_json(tmp_path / "clean.json", CLEAN)
    (tmp_path / "bad.json").write_text(BAD_JSON, encoding="utf-8")
    (tmp_path / "broken.json").write_text('{"Statement": [', encoding="utf-8")
    code, log, err = sarif("clean.json", "bad.json", "broken.json")
    assert code == 2 and "error: broken.json: not valid JSON" in err
    uris = {uri for _, _, uri, _ in located(log)}
    assert uris == {"bad.json"}
    [invocation] = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    [note] = invocation["toolExecutionNotifications"]
    assert "broken.json" in note["message"]["text"]


def test_text_and_json_formats_take_several_files_too(tmp_path: Path) -> None:
    clean = write_json(tmp_path / "clean.json", CLEAN)
    bad = tmp_path / "bad.json"
    bad.write_text(BAD_JSON, encoding="utf-8")
    code, out, _ = run_cli("lint", str(clean), str(bad), "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert report["policies"] == [str(clean), str(bad)]
    assert run_cli("lint", str(clean), str(clean))[0] == 0


def test_skip_non_policies(tmp_path: Path) -> None:
    package = write_json(tmp_path / "package.json", {"name": "x", "version": "1.0.0"})
    identity = write_json(
        tmp_path / "identity.json",
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]},
    )
    tf = tmp_path / "s3.tf"
    tf.write_text('resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n', encoding="utf-8")
    perms = tmp_path / "perms.tf"
    perms.write_text(
        'data "aws_iam_policy_document" "p" {\n  statement {\n    actions = ["s3:*"]\n  }\n}\n',
        encoding="utf-8",
    )
    broken = tmp_path / "broken.json"
    broken.write_text('{"Statement": [ {"Principal": "*"', encoding="utf-8")
    files = [str(p) for p in (package, identity, tf, perms)]
    code, _, err = run_cli("lint", "--skip-non-policies", *files)
    assert code == 0, err
    assert err.count("skipped, it holds no trust policy") == 4
    assert run_cli("lint", str(package))[0] == 2  # without the flag: not a policy is an error
    code, _, err = run_cli("lint", "--skip-non-policies", str(broken))
    assert code == 2 and "not valid JSON" in err  # a broken policy is reported, not skipped
