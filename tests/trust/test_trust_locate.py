"""Line numbers for SARIF: JSON paths and Terraform blocks, with the traps (strings holding
braces and quotes, comments, heredocs, a single statement object)."""

from __future__ import annotations

from py_aws_oidc.trust.locate import hcl_outline, json_key_lines, json_policy_lines
from py_aws_oidc.trust.policy import parse_policy_text

SINGLE = """{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Principal": {"Federated": "a{b}[c]\\\\\\"d"},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {"StringEquals": {
      "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
      "token.actions.githubusercontent.com:sub": ["x", "y"]
    }}
  }
}"""


def test_json_paths_and_a_single_statement_object() -> None:
    lines = json_key_lines(SINGLE)
    assert lines[("Statement",)] == 3
    assert lines[("Statement", "Principal", "Federated")] == 5
    assert (
        lines[
            ("Statement", "Condition", "StringEquals", "token.actions.githubusercontent.com:sub", 1)
        ]
        == 9
    )
    policy = parse_policy_text(SINGLE, "single.json")
    where = json_policy_lines(policy, SINGLE)
    assert where.line(0, 0) == 8 and where.line(0, 1) == 9
    assert where.line(0, None) == 3 and where.line(None, None) == 3


def test_hcl_outline_skips_strings_comments_and_heredocs() -> None:
    text = """# a { comment
/* a block
   comment { */
data "aws_iam_policy_document" "x" {
  // another {
  statement {
    sid = "a{b"
    condition {
      test = "StringEquals"
      values = [
        "}",
      ]
    }
  }
}

resource "aws_iam_role" "r" {
  description = <<-EOT
    { not a block }
  EOT
  assume_role_policy = "{}"
}
"""
    root = hcl_outline(text)
    [document, role] = root.children
    assert document.labels == ("data", "aws_iam_policy_document", "x") and document.line == 4
    [statement] = document.blocks("statement")
    assert statement.line == 6 and statement.attributes == {"sid": 7}
    [condition] = statement.blocks("condition")
    assert condition.line == 8 and condition.attributes == {"test": 9, "values": 10}
    assert role.labels == ("resource", "aws_iam_role", "r")
    assert role.attributes == {"description": 18, "assume_role_policy": 21}
