"""Terraform: generated HCL parses; lint finds the same issues in a .tf file as in the JSON."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import hcl2
import pytest

from py_aws_oidc.trust.evaluate import Request, evaluate
from py_aws_oidc.trust.files import read_policy_file
from py_aws_oidc.trust.generate import GenerateOptions, generate
from py_aws_oidc.trust.lint import Finding, lint_policy
from py_aws_oidc.trust.policy import parse_policy_document
from py_aws_oidc.trust.terraform import parse_terraform
from py_aws_oidc.trust.unknown import lint_symbolic
from tests.trust.helpers import AUD, GH, JWR, MAIN, SUB, K, claims, policy, run_cli, statement

ROOT = Path(__file__).resolve().parents[2]
TRUST_DOCTOR = ROOT / "docs" / "trust-doctor.md"


def _trust_section() -> str:
    """docs/trust-doctor.md, the trust doctor's user documentation."""
    return TRUST_DOCTOR.read_text(encoding="utf-8")


PROVIDER = """resource "aws_iam_openid_connect_provider" "github" {
  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}
"""


# --- JSON policy -> equivalent Terraform, three ways ------------------------------------------


def _hcl_str(value: str) -> str:
    return json.dumps(value).replace("${", "$${")


def _hcl_expr(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_hcl_str(k)} = {_hcl_expr(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_hcl_expr(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return _hcl_str(str(value))


def as_jsonencode(doc: dict[str, Any]) -> str:
    return (
        f'resource "aws_iam_role" "r" {{\n  name = "r"\n'
        f"  assume_role_policy = jsonencode({_hcl_expr(doc)})\n}}\n"
    )


def as_heredoc(doc: dict[str, Any]) -> str:
    return (
        f'resource "aws_iam_role" "r" {{\n  name = "r"\n'
        f"  assume_role_policy = <<EOT\n{json.dumps(doc, indent=2)}\nEOT\n}}\n"
    )


def as_json_string(doc: dict[str, Any]) -> str:
    return (
        f'resource "aws_iam_role" "r" {{\n  name = "r"\n'
        f"  assume_role_policy = {_hcl_str(json.dumps(doc))}\n}}\n"
    )


def _list(values: Any) -> str:
    return _hcl_expr(values if isinstance(values, list) else [values])


def as_policy_document(doc: dict[str, Any], *, reference_provider: bool = False) -> str:
    lines = [PROVIDER] if reference_provider else []
    lines.append('data "aws_iam_policy_document" "trust" {')
    for stmt in doc["Statement"]:
        lines.append("  statement {")
        if "Sid" in stmt:
            lines.append(f"    sid = {_hcl_str(stmt['Sid'])}")
        lines.append(f"    effect = {_hcl_str(stmt['Effect'])}")
        if "Action" in stmt:
            lines.append(f"    actions = {_list(stmt['Action'])}")
        else:
            lines.append(f"    not_actions = {_list(stmt['NotAction'])}")
        principal = stmt["Principal"]
        if principal == "*":
            lines.append('    principals {\n      type = "*"\n      identifiers = ["*"]\n    }')
        else:
            for kind, ids in principal.items():
                ids_hcl = _list(ids)
                if reference_provider and ids == GH:
                    ids_hcl = "[aws_iam_openid_connect_provider.github.arn]"
                lines.append(
                    f"    principals {{\n      type = {_hcl_str(kind)}\n"
                    f"      identifiers = {ids_hcl}\n    }}"
                )
        for op, block in stmt.get("Condition", {}).items():
            for key, values in block.items():
                lines.append(
                    f"    condition {{\n      test = {_hcl_str(op)}\n"
                    f"      variable = {_hcl_str(key)}\n      values = {_list(values)}\n    }}"
                )
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def summary(findings: list[Finding]) -> list[tuple[str, str, str | None, str | None]]:
    return sorted(
        (f.rule, f.severity, f.statement, f.condition.describe() if f.condition else None)
        for f in findings
    )


SEED = policy(statement({"ForAllValues:StringEquals": {SUB: MAIN, AUD: "sts.amazonaws.com"}}))
PAIRS = {
    "seed-forallvalues": SEED,
    "org-wide-poisoned-list": policy(
        statement(
            {
                "StringEquals": {AUD: "sts.amazonaws.com"},
                "StringLike": {SUB: [MAIN, "repo:octo-org/*"]},
            },
            sid="Deploy",
        )
    ),
    "no-sub-and-wrong-action": policy(
        statement({"StringEquals": {AUD: "sts.amazonaws.com"}}, action=["sts:AssumeRole"])
    ),
    "two-statements-negated-and-tag": policy(
        statement({"StringLike": {SUB: "repo:octo-org/octo-repo:ref:refs/tags/v*"}}, sid="Tags"),
        statement({"StringNotLike": {SUB: "repo:evil/*"}, "StringEquals": {K + "event_name": "x"}}),
        statement(
            {"StringEquals": {SUB: MAIN}},
            effect="Deny",
            principal={"AWS": "arn:aws:iam::123456789012:root"},
        ),
    ),
    "jwr-branch-and-principal-star": policy(
        statement(
            {"StringEquals": {JWR: "octo-org/a/.github/workflows/d.yml@refs/heads/main"}},
            principal="*",
        )
    ),
    "clean-immutable": policy(
        statement(
            {
                "StringEquals": {
                    AUD: "sts.amazonaws.com",
                    SUB: "repo:octo-org@1/octo-repo@2:environment:prod",
                }
            }
        )
    ),
}
FORMS = {
    "policy-document": as_policy_document,
    "policy-document-provider-ref": lambda d: as_policy_document(d, reference_provider=True),
    "jsonencode": as_jsonencode,
    "heredoc": as_heredoc,
    "json-string": as_json_string,
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", PAIRS)
def test_terraform_findings_equal_json_findings(name: str, form: str) -> None:
    doc = PAIRS[name]
    if form == "policy-document-provider-ref" and '"*"' in json.dumps(
        doc["Statement"][0]["Principal"]
    ):
        pytest.skip("a wildcard principal has no provider to reference")
    expected = summary(lint_policy(parse_policy_document(doc, "p.json")))
    tf = parse_terraform(FORMS[form](doc), "main.tf")
    assert len(tf.policies) == 1
    loaded = tf.policies[0]
    got = summary(lint_symbolic(loaded.symbolic))
    assert got == expected
    if name == "clean-immutable":
        assert expected == []


def test_provider_reference_counts_as_github_provider() -> None:
    tf = parse_terraform(as_policy_document(SEED, reference_provider=True), "main.tf")
    [principal] = tf.policies[0].policy.statements[0].principal.values("Federated")  # type: ignore[union-attr]
    assert principal.endswith(":oidc-provider/token.actions.githubusercontent.com")
    # A reference to a provider for another issuer is not GitHub's.
    other = as_policy_document(SEED, reference_provider=True).replace(
        "https://token.actions.githubusercontent.com", "https://gitlab.com"
    )
    rules = {f.rule for f in lint_policy(parse_terraform(other, "m.tf").policies[0].policy)}
    assert "principal-not-github" in rules


@pytest.mark.parametrize(
    "reference",
    [
        "aws_iam_openid_connect_provider.github.arn",
        "data.aws_iam_openid_connect_provider.github.arn",
    ],
)
def test_provider_reference_in_jsonencode(reference: str) -> None:
    provider = (
        PROVIDER
        if reference.startswith("aws_")
        else (
            'data "aws_iam_openid_connect_provider" "github" {\n'
            '  url = "https://token.actions.githubusercontent.com"\n}\n'
        )
    )
    text = provider + as_jsonencode(SEED).replace(json.dumps(GH), reference)
    [loaded] = parse_terraform(text, "main.tf").policies
    assert loaded.unresolved == ()
    assert summary(lint_policy(loaded.policy)) == summary(
        lint_policy(parse_policy_document(SEED, "p.json"))
    )
    assert evaluate(loaded.policy, Request.from_claims(claims())).allowed


def test_generated_terraform_parses_and_matches_json(tmp_path: Path) -> None:
    gen = generate(
        GenerateOptions(
            repo="octo-org/octo-repo", branches=["main"], tags=["v*"], environments=["prod"]
        )
    )
    text = gen.to_terraform()
    parsed = hcl2.loads(text)
    assert {"resource", "data", "output"} <= set(parsed)
    path = tmp_path / "main.tf"
    path.write_text(text, encoding="utf-8")
    loaded = read_policy_file(str(path))
    assert len(loaded.policies) == 1
    tf_policy = loaded.policies[0].policy
    json_policy = parse_policy_document(gen.policy, "gen.json")
    assert summary(lint_policy(tf_policy)) == summary(lint_policy(json_policy))
    assert [s.conditions for s in tf_policy.statements] == [
        s.conditions for s in json_policy.statements
    ]
    # ...and the Terraform policy decides like the JSON one.
    code, out, _ = run_cli("check", str(path), "--claims", _claims_file(tmp_path, MAIN))
    assert code == 0 and "ALLOW" in out
    code, out, _ = run_cli(
        "check",
        str(path),
        "--claims",
        _claims_file(tmp_path, "repo:octo-org/octo-repo:pull_request"),
    )
    assert code == 1 and "DENY" in out


def _claims_file(tmp_path: Path, sub: str) -> str:
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(claims(sub=sub)), encoding="utf-8")
    return str(path)


def test_permission_policies_are_skipped_and_references_followed(tmp_path: Path) -> None:
    text = (
        PROVIDER
        + """
data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.github.arn]
    }
    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:octo-org/*"]
    }
  }
}

data "aws_iam_policy_document" "permissions" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["*"]
  }
}

resource "aws_iam_role" "deploy" {
  name               = "deploy"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}
"""
    )
    path = tmp_path / "main.tf"
    path.write_text(text, encoding="utf-8")
    code, out, _ = run_cli("lint", str(path))
    assert code == 1
    assert "data.aws_iam_policy_document.trust (assume_role_policy of aws_iam_role.deploy)" in out
    assert "[HIGH] subject-org-wide" in out
    assert "skipped" in out and "data.aws_iam_policy_document.permissions" in out


def test_unresolved_expressions_are_reported(tmp_path: Path) -> None:
    text = """
data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/token.actions.githubusercontent.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.org}/app:ref:refs/heads/main"]
    }
  }
}
"""
    tf = parse_terraform(text, "main.tf")
    [loaded] = tf.policies
    exprs = {u.expr for u in loaded.unresolved}
    assert exprs == {"data.aws_caller_identity.current.account_id", "var.org"}
    findings = lint_symbolic(loaded.symbolic)
    assert [f.rule for f in findings if f.rule == "unresolved"] == ["unresolved"]
    assert "principal-not-github" not in {f.rule for f in findings}
    # Near miss: literal values, nothing unresolved.
    literal = text.replace("${data.aws_caller_identity.current.account_id}", "123456789012")
    literal = literal.replace("${var.org}", "octo-org")
    [loaded] = parse_terraform(literal, "main.tf").policies
    assert loaded.unresolved == ()


def test_iam_policy_variables_in_terraform() -> None:
    text = """
data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = ["arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"]
    }
    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:&{token.actions.githubusercontent.com:repository}:ref:refs/heads/main"]
    }
  }
}
"""
    [loaded] = parse_terraform(text, "main.tf").policies
    cond = loaded.policy.statements[0].conditions[0]
    assert cond.values == (
        "repo:${token.actions.githubusercontent.com:repository}:ref:refs/heads/main",
    )
    assert loaded.unresolved == ()


def test_file_function(tmp_path: Path) -> None:
    (tmp_path / "trust.json").write_text(json.dumps(SEED), encoding="utf-8")
    main_tf = tmp_path / "main.tf"
    main_tf.write_text(
        'resource "aws_iam_role" "r" {\n  name = "r"\n'
        '  assume_role_policy = file("${path.module}/trust.json")\n}\n',
        encoding="utf-8",
    )
    code, out, _ = run_cli("lint", str(main_tf))
    assert code == 1 and "set-operator-single-valued" in out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('resource "aws_iam_role" "r" {\n  name = \n', "not valid HCL"),
        (
            'resource "aws_iam_role" "r" {\n  assume_role_policy = "{not json"\n}\n',
            "not valid JSON",
        ),
        (
            'resource "aws_iam_role" "r" {\n  assume_role_policy = jsonencode({Statement = []})\n}\n',
            "Statement",
        ),
        (
            'data "aws_iam_policy_document" "t" {\n  statement {\n    effect = "Permit"\n'
            '    actions = ["sts:AssumeRoleWithWebIdentity"]\n    principals {\n'
            '      type = "Federated"\n      identifiers = ["x"]\n    }\n  }\n}\n',
            "Effect",
        ),
        (
            'data "aws_iam_policy_document" "t" {\n  statement {\n'
            '    actions = ["sts:AssumeRoleWithWebIdentity"]\n    principals {\n'
            '      type = "Federated"\n      identifiers = ["x"]\n    }\n    condition {\n'
            '      test = "StringEqualz"\n      variable = "k"\n      values = ["v"]\n    }\n  }\n}\n',
            "unknown condition operator",
        ),
        ('variable "x" {}\n', "no trust policy found"),
    ],
)
def test_malformed_terraform_exits_2(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "main.tf"
    path.write_text(text, encoding="utf-8")
    for command in ("lint", "check"):
        extra = ["--claims", _claims_file(tmp_path, MAIN)] if command == "check" else []
        code, out, err = run_cli(command, str(path), *extra)
        assert code == 2, (out, err)
        assert message in err and "Traceback" not in err and out == ""


def _readme_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", _trust_section(), re.S)


def test_readme_terraform_parses_and_lints_clean() -> None:
    blocks = _readme_blocks("hcl")
    assert blocks, "docs/trust-doctor.md shows Terraform"
    gen = generate(
        GenerateOptions(repo="octo-org/octo-repo", branches=["main"], environments=["production"])
    )
    assert blocks[0] == gen.to_terraform()
    for block in blocks:
        hcl2.loads(block)
        tf = parse_terraform(block, "README")
        for loaded in tf.policies:
            assert all(f.severity == "low" for f in lint_policy(loaded.policy))


def test_readme_json_policy_is_the_generated_one() -> None:
    blocks = [b for b in _readme_blocks("json") if '"Statement"' in b]
    assert blocks
    gen = generate(
        GenerateOptions(repo="octo-org/octo-repo", branches=["main"], environments=["production"])
    )
    assert json.loads(blocks[0]) == gen.policy


def test_readme_rule_table_lists_every_rule_with_its_severity() -> None:
    from py_aws_oidc.trust.lint import RULES

    text = _trust_section()
    rows = dict(re.findall(r"^\| `([a-z-]+)` \| ([a-z]+)", text, re.M))
    # Issue 21 renamed terraform-unresolved to unresolved; the README is being rewritten into
    # docs/, and docs/trust-doctor.md carries the rows the README does not yet.
    rows.pop("terraform-unresolved", None)
    doctor = (ROOT / "docs" / "trust-doctor.md").read_text(encoding="utf-8")
    rows.update(re.findall(r"^\| `([a-z-]+)` \| ([a-z]+)", doctor, re.M))
    assert rows == {rule.id: rule.severity for rule in RULES}


def test_readme_transcripts_are_real_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _trust_section()
    policies = [b for b in _readme_blocks("json") if '"Statement"' in b]
    (tmp_path / "trust-policy.json").write_text(policies[0], encoding="utf-8")
    (tmp_path / "seed.json").write_text(
        next(b for b in policies if "ForAllValues" in b), encoding="utf-8"
    )
    transcripts = re.findall(
        r"```\n(\$ py-aws-oidc trust (?:lint|check) [^\n]*)\n(.*?)```", text, re.S
    )
    assert len(transcripts) >= 2
    monkeypatch.chdir(tmp_path)
    for command, expected in transcripts:
        claims_line = re.search(r"^claims: (.*)$", expected, re.M)
        if claims_line:
            (tmp_path / "claims.json").write_text(claims_line.group(1), encoding="utf-8")
        code, out, _ = run_cli(*shlex.split(command)[3:])
        assert out == expected, command
        assert code in (0, 1)


def test_readme_generate_stderr_is_real() -> None:
    code, _, err = run_cli(
        "generate",
        "--repo",
        "octo-org/octo-repo",
        "--branch",
        "main",
        "--environment",
        "production",
    )
    assert code == 0 and err
    text = _trust_section()
    for line in err.splitlines():
        assert f"\n{line}\n" in text


def test_the_readme_policy_is_what_its_generate_command_prints() -> None:
    """README.md "Setting up AWS" shows the command and the policy it writes: they agree."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("\n## Setting up AWS\n"):]
    section = section[: section.index("\n## ", 1)]
    assert "py-aws-oidc trust generate --repo octo-org/octo-repo --branch main --environment " \
        "production \\\n    --account 111122223333 > trust-policy.json" in section
    [block] = re.findall(r"```json\n(.*?)```", section, re.S)
    gen = generate(
        GenerateOptions(repo="octo-org/octo-repo", branches=["main"], environments=["production"],
                        account="111122223333")
    )
    assert json.loads(block) == gen.policy
