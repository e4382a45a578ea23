"""`trust lint DIR` (issue 21): a tree read as users lay it out: Terraform modules, templates
rendered from their module, CloudFormation, plain JSON policies, and unrelated files skipped."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.trust.helpers import GH, SUB, policy, run_cli, statement, write_json

MODULE_TF = """\
variable "repository" {
  type    = string
  default = "octo-org/app"
}

resource "aws_iam_role" "deploy" {
  name = "deploy"
  assume_role_policy = templatefile("${path.module}/trust.json.tpl", {
    subject = "repo:${var.repository}:*"
  })
}
"""
MODULE_TPL = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": "'
    + GH
    + '"}, "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {"StringLike": {"'
    + SUB
    + '": "${subject}"}}}]}\n'
)
OTHER_TF = 'resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}\n'
CFN = """\
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Action: sts:AssumeRoleWithWebIdentity
            Principal: {Federated: !Sub "arn:aws:iam::${AWS::AccountId}:oidc-provider/token.actions.githubusercontent.com"}
            Condition:
              StringLike: {token.actions.githubusercontent.com:sub: "repo:octo-org/*"}
"""
BUCKET = "Resources:\n  Logs:\n    Type: AWS::S3::Bucket\n"
WORKFLOW = "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps: [{run: echo}]\n"
IDENTITY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}  # fmt: skip
OPEN = policy(statement({"StringLike": {SUB: "*"}}))


def _tree(root: Path) -> Path:
    files = {
        "infra/modules/deploy/main.tf": MODULE_TF,
        "infra/modules/deploy/trust.json.tpl": MODULE_TPL,
        "infra/modules/deploy/s3.tf": OTHER_TF,
        "infra/cfn/role.yaml": CFN,
        "infra/cfn/bucket.yml": BUCKET,
        ".github/workflows/ci.yml": WORKFLOW,
        "package.json": '{"name": "x", "version": "1.0.0"}',
        "package-lock.json": '{"x": "' + "a" * (1024 * 1024) + '"}',  # over the cap: skipped
        "templates/orphan.json.tpl": MODULE_TPL,  # a template no module renders: not linted alone
        "policies/identity.json": json.dumps(IDENTITY),
        # never entered: a critical policy in each would show
        ".terraform/modules/x/open.json": json.dumps(OPEN),
        "node_modules/pkg/open.json": json.dumps(OPEN),
        ".git/open.json": json.dumps(OPEN),
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    write_json(
        root / "policies" / "trust.json",
        policy(statement({"StringEquals": {SUB: "repo:o/r.git:ref:refs/heads/main"}})),
    )
    return root  # fmt: skip


def test_lint_dir_reads_modules_templates_and_policies(tmp_path: Path) -> None:
    root = _tree(tmp_path / "repo")
    code, out, err = run_cli("lint", "--format", "json", str(root))
    assert err == "", err
    report = json.loads(out)
    shown = {source.replace(str(root) + os.sep, "") for source in report["policies"]}
    assert shown == {
        "infra/cfn/role.yaml: Role",
        "policies/trust.json",
        *[s for s in shown if s.startswith("infra/modules/deploy/main.tf")],
    }
    assert any(s.startswith("infra/modules/deploy/main.tf") for s in shown)
    rules = {(f["source"].replace(str(root) + os.sep, "").split(":")[0], f["rule"]) for f in report["findings"]}  # fmt: skip
    assert ("infra/modules/deploy/main.tf", "subject-repo-wide") in rules  # the template, rendered
    assert ("infra/cfn/role.yaml", "subject-org-wide") in rules
    assert ("policies/trust.json", "subject-never-matches") in rules
    assert not any(rule == "subject-any-repository" for _, rule in rules)  # skipped dirs
    skipped = " ".join(report["skipped"])
    for name in (
        "bucket.yml",
        "ci.yml",
        "package.json",
        "package-lock.json",
        "identity.json",
        "s3.tf",
    ):
        assert name in skipped, name
    assert "orphan" not in skipped and "open.json" not in skipped
    assert report["refused"] == [] and code == 1 and report["exit_code"] == 1


def test_lint_dir_text_output_skips_quietly_and_files_still_work(tmp_path: Path) -> None:
    root = _tree(tmp_path / "repo")
    code, out, err = run_cli("lint", str(root))
    assert code == 1 and err == ""
    assert "package.json" not in out and "bucket.yml" not in out
    assert "infra/cfn/role.yaml: Role" in out
    # a file named explicitly keeps its old behaviour: not a policy -> exit 2
    code, _, err = run_cli("lint", str(root / "policies" / "identity.json"))
    assert code == 2 and "identity.json" in err


def test_lint_dir_refuses_only_what_is_not_valid_syntax(tmp_path: Path) -> None:
    root = _tree(tmp_path / "repo")
    (root / "policies" / "broken.json").write_text('{"Statement": [', encoding="utf-8")
    (root / "infra" / "cfn" / "broken.yaml").write_text(
        "Resources: {AssumeRolePolicyDocument: [\n", encoding="utf-8"
    )
    code, out, err = run_cli("lint", "--format", "json", str(root))
    refused = {Path(item["file"]).name for item in json.loads(out)["refused"]}
    assert code == 2 and refused == {"broken.json", "broken.yaml"}
    assert err.count("error: ") == 2


def test_a_dir_and_a_file_in_it_are_linted_once(tmp_path: Path) -> None:
    root = _tree(tmp_path / "repo")
    trust = root / "policies" / "trust.json"
    code, out, _ = run_cli("lint", "--format", "json", str(trust), str(root))
    assert code == 1
    sources = json.loads(out)["policies"]
    assert sources.count(str(trust)) == 1


def test_a_directory_without_policies_says_so_and_exits_zero(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"name": "x"}', encoding="utf-8")
    code, out, err = run_cli("lint", str(tmp_path))
    assert (code, err) == (0, "") and out.startswith("0 finding(s)")


def test_a_module_split_over_files_lints_each_policy_once(tmp_path: Path) -> None:
    (tmp_path / "policy.tf").write_text(
        'data "aws_iam_policy_document" "trust" {\n  statement {\n'
        '    actions = ["sts:AssumeRoleWithWebIdentity"]\n'
        f'    principals {{\n      type = "Federated"\n      identifiers = ["{GH}"]\n    }}\n'
        f'    condition {{\n      test = "StringLike"\n      variable = "{SUB}"\n'
        '      values = ["repo:o/*"]\n    }\n  }\n}\n',
        encoding="utf-8",
    )
    (tmp_path / "role.tf").write_text(
        'resource "aws_iam_role" "r" {\n  name = "r"\n'
        "  assume_role_policy = data.aws_iam_policy_document.trust.json\n}\n",
        encoding="utf-8",
    )
    code, out, _ = run_cli("lint", "--format", "json", str(tmp_path))
    report = json.loads(out)
    assert code == 1 and len(report["policies"]) == 1
    assert [f["rule"] for f in report["findings"]].count("subject-org-wide") == 1


# A module whose only role is a Lambda role (the corpus fixture terraform/unrelated-module).
LAMBDA_TF = Path(__file__).parent / "corpus" / "terraform" / "unrelated-module" / "main.tf"
LAMBDA_CFN = """\
Resources:
  Resize:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Action: sts:AssumeRole
            Principal: {Service: lambda.amazonaws.com}
"""


def test_roles_unrelated_to_github_are_skipped_not_reported(tmp_path: Path) -> None:
    """A Lambda role in a module or a template is no GitHub trust policy: no principal-not-github
    (corpus terraform/unrelated-module), a skipped note instead; a GitHub role beside it is
    still linted, and a plain JSON Service policy named on the command line still is too."""
    (tmp_path / "lambda.tf").write_text(LAMBDA_TF.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "lambda.yaml").write_text(LAMBDA_CFN, encoding="utf-8")
    code, out, err = run_cli("lint", "--format", "json", str(tmp_path))
    report = json.loads(out)
    assert (code, err, report["findings"], report["refused"]) == (0, "", [], [])
    skipped = " ".join(report["skipped"])
    assert "lambda_assume" in skipped and "lambda.yaml: Resize" in skipped
    code, out, _ = run_cli("lint", "--format", "json", str(tmp_path / "lambda.tf"))
    assert code == 0 and json.loads(out)["findings"] == []
    (tmp_path / "deploy.yaml").write_text(CFN, encoding="utf-8")
    code, out, _ = run_cli("lint", "--format", "json", str(tmp_path))
    assert {f["rule"] for f in json.loads(out)["findings"]} >= {"subject-org-wide"}
    service = policy(statement({}, principal={"Service": "lambda.amazonaws.com"}))
    code, out, _ = run_cli("lint", "--format", "json", str(write_json(tmp_path / "p.json", service)))
    assert "principal-not-github" in {f["rule"] for f in json.loads(out)["findings"]}
