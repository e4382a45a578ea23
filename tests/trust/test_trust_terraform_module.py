"""Terraform modules read as Terraform reads them: a fixture per construct, exact findings.

The fixtures under data/terraform/ are our own small modules, written after the shapes real
public modules use (the registry's GitHub OIDC role module, per-repository for_each roles,
templatefile() trust policies, dynamic blocks); each test asserts every finding.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from py_aws_oidc.trust.files import lint_loaded, read_policy_file
from py_aws_oidc.trust.lint import Finding
from py_aws_oidc.trust.terraform import TfInputs, parse_terraform, read_terraform_module
from py_aws_oidc.trust.unknown import Template, Unknown, lint_symbolic
from tests.trust.helpers import run_cli

DATA = Path(__file__).parent / "data" / "terraform"


def findings_of(directory: str, inputs: TfInputs | None = None) -> list[Finding]:
    tf = read_terraform_module(str(DATA / directory), inputs or TfInputs())
    return [f for p in tf.policies for f in lint_symbolic(p.symbolic, p.without_defaults)]


def table(found: list[Finding]) -> list[tuple[str, str, str | None]]:
    return sorted((f.rule, f.severity, f.statement) for f in found)


def test_registry_style_role_is_linted_not_refused() -> None:
    """count = var.create ? 1 : 0, [0] index, locals with replace(), a for-expression over a
    variable, keys built from a local, a principal that is a variable with no default."""
    found = findings_of("registry-role")
    assert table(found) == [
        ("action-too-broad", "low", '"GithubOidcAuth" (#0)'),
        ("set-operator-single-valued", "high", '"GithubOidcAuth" (#0)'),
        ("set-operator-single-valued", "high", '"GithubOidcAuth" (#0)'),
        ("unknown-claim-key", "medium", '"GithubOidcAuth" (#0)'),
        ("unresolved", "low", None),
    ]
    assert found[0].source.endswith(
        "main.tf: data.aws_iam_policy_document.this[0] (assume_role_policy of aws_iam_role.this)"
    )
    keys = {f.condition.key for f in found if f.condition is not None}
    assert keys == {
        "token.actions.githubusercontent.com:iss",
        "token.actions.githubusercontent.com:aud",
    }
    [unresolved] = [f for f in found if f.rule == "unresolved"]
    assert "`var.provider_arn`" in unresolved.message
    assert "variables.tf:13" in unresolved.message
    # With the subjects given, the org-wide subject is a fact again.
    given = findings_of(
        "registry-role",
        TfInputs(
            variables=(
                ("subjects", '["octo-org/*"]'),
                (
                    "provider_arn",
                    "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com",
                ),
            )
        ),
    )
    assert ("subject-org-wide", "high") in {(f.rule, f.severity) for f in given}
    assert "unresolved" not in {f.rule for f in given}


def test_a_default_that_decides_the_verdict_is_named() -> None:
    found = findings_of("dynamic-default")
    assert table(found) == [("no-subject-condition", "critical", "#0")]
    assert found[0].message.startswith(
        "with var.subjects = [] (its default), no StringEquals/StringLike condition on sub"
    )
    assert "var.subjects" in found[0].fix and "--var" in found[0].fix
    # Set, the dynamic condition exists and the verdict is gone.
    given = findings_of(
        "dynamic-default",
        TfInputs(variables=(("subjects", '["repo:octo-org/app:ref:refs/heads/main"]'),)),
    )
    assert table(given) == [("name-based-subject", "low", "#0")]
    assert "its default" not in given[0].message


def test_dynamic_condition_over_an_unknown_collection_is_not_a_verdict(tmp_path: Path) -> None:
    text = (DATA / "dynamic-default" / "main.tf").read_text(encoding="utf-8")
    text = text.replace("  default     = []\n", "")
    (tmp_path / "main.tf").write_text(text, encoding="utf-8")
    code, out, _ = run_cli("lint", str(tmp_path / "main.tf"))
    assert code == 0, out
    assert "[CRITICAL]" not in out and "no-subject-condition" not in out
    assert "[LOW] unresolved" in out and "`var.subjects`" in out


def test_keys_interpolated_from_the_provider_resource() -> None:
    found = findings_of("provider-url-key")
    assert table(found) == [
        ("name-based-subject", "low", "#0"),
        ("subject-org-wide", "high", "#0"),
    ]
    org = next(f for f in found if f.rule == "subject-org-wide")
    assert org.condition is not None
    assert org.condition.key == "token.actions.githubusercontent.com:sub"
    # Org-wide whatever var.org is (the /* is written): not a verdict its default decided.
    assert org.message.startswith('sub "repo:octo-org/*" matches every repository of octo-org')


def test_keys_from_an_unknown_variable_are_not_key_findings(tmp_path: Path) -> None:
    text = (DATA / "provider-url-key" / "main.tf").read_text(encoding="utf-8")
    text = text.replace('  default = "octo-org"\n', "")
    (tmp_path / "main.tf").write_text(text, encoding="utf-8")
    found = [
        f for p in read_policy_file(str(tmp_path / "main.tf")).policies for f in lint_loaded(p)
    ]
    # "repo:${var.org}/*" is org-wide for a plain org, open to any owner for org = "*": at
    # least org-wide, and said so. Name-based it is, whatever the org.
    assert table(found) == [
        ("name-based-subject", "low", "#0"),
        ("subject-org-wide", "high", "#0"),
        ("unresolved", "low", None),
    ]
    org = next(f for f in found if f.rule == "subject-org-wide")
    assert org.message.endswith("(at least: part of it is not known offline)")
    assert org.condition is not None and org.condition.values == ("repo:${var.org}/*",)
    assert "`var.org`" in found[-1].message


def test_for_each_roles_and_each_key_index() -> None:
    found = findings_of("for-each-roles")
    sources = sorted({f.source.split(": ", 1)[1] for f in found})
    assert sources == [
        'data.aws_iam_policy_document.trust["api"] (assume_role_policy of aws_iam_role.this)',
        'data.aws_iam_policy_document.trust["web"] (assume_role_policy of aws_iam_role.this)',
    ]
    api = [f for f in found if '["api"]' in f.source]
    assert table(api) == [
        ("name-based-subject", "low", "#0"),
        ("subject-prefix-wildcard", "medium", "#0"),
    ]
    web = [f for f in found if '["web"]' in f.source]
    assert table(web) == [("name-based-subject", "low", "#0")]


def test_a_variable_as_the_operator_is_linted_around() -> None:
    found = findings_of("operator-var")
    # StringEquals would make "repo:octo-org/app:*" literal (never matches), StringLike
    # repo-wide: which one is unknown, so neither is raised.
    assert table(found) == [("name-based-subject", "low", "#0"), ("unresolved", "low", None)]
    assert "`var.subject_condition`" in found[-1].message
    given = findings_of("operator-var", TfInputs(variables=(("subject_condition", "StringLike"),)))
    assert ("subject-repo-wide", "medium") in {(f.rule, f.severity) for f in given}


def test_jsonencode_with_merge_and_a_conditional() -> None:
    found = findings_of("jsonencode-merge")
    assert table(found) == [
        ("name-based-subject", "low", "#0"),
        ("subject-org-wide", "high", "#0"),
    ]
    org = next(f for f in found if f.rule == "subject-org-wide")
    assert org.condition is not None and org.condition.operator.text == "StringLike"


def test_templatefile_renders_the_json_template() -> None:
    found = findings_of("templatefile")
    assert table(found) == [
        ("name-based-subject", "low", "#0"),
        ("subject-repo-wide", "medium", "#0"),
    ]
    wide = next(f for f in found if f.rule == "subject-repo-wide")
    assert wide.message.startswith('sub "repo:octo-org/app:*" matches every branch')


def test_a_file_named_alone_sees_its_siblings() -> None:
    path = DATA / "siblings" / "trust.tf"
    code, out, err = run_cli("lint", str(path), "--format", "json")
    report = json.loads(out)
    assert code == 0, err
    assert report["policies"] == [f"{path}: data.aws_iam_policy_document.trust"]
    rules = sorted((f["rule"], f["severity"]) for f in report["findings"])
    assert rules == [("name-based-subject", "low"), ("subject-repo-wide", "medium")]
    wide = next(f for f in report["findings"] if f["rule"] == "subject-repo-wide")
    assert wide["condition"]["values"] == ["repo:octo-org/app:*"]
    assert wide["message"].startswith('sub "repo:octo-org/app:*"')
    name = next(f for f in report["findings"] if f["rule"] == "name-based-subject")
    assert name["message"].startswith('with var.repositories = ["octo-org/app"] (its default)')


def test_a_sibling_with_no_policy_is_skipped_by_the_hook() -> None:
    code, _, err = run_cli("lint", "--skip-non-policies", str(DATA / "siblings" / "locals.tf"))
    assert code == 0 and "skipped" in err


def test_tfvars_then_var_file_then_var(tmp_path: Path) -> None:
    # terraform.tfvars is read: the org-wide subject it gives is a fact.
    assert table(findings_of("tfvars")) == [
        ("name-based-subject", "low", "#0"),
        ("subject-org-wide", "high", "#0"),
    ]
    prod = str(DATA / "tfvars" / "prod.tfvars")
    code, out, _ = run_cli("lint", str(DATA / "tfvars" / "main.tf"), "--var-file", prod)
    assert code == 0 and "subject-org-wide" not in out
    code, out, _ = run_cli(
        "lint",
        str(DATA / "tfvars" / "main.tf"),
        "--var-file",
        prod,
        "--var",
        'allowed_subjects=["*"]',
    )
    assert code == 1 and "[CRITICAL] subject-any-repository" in out
    # Without any tfvars the variable has no value: linted around.
    shutil.copy(DATA / "tfvars" / "main.tf", tmp_path / "main.tf")
    code, out, _ = run_cli("lint", str(tmp_path / "main.tf"))
    assert code == 0 and "`var.allowed_subjects`" in out and "[HIGH]" not in out


def test_var_must_be_name_equals_value(tmp_path: Path) -> None:
    code, _, err = run_cli("lint", str(DATA / "tfvars" / "main.tf"), "--var", "oops")
    assert code == 2
    assert err.startswith("error: --var 'oops': give NAME=VALUE")
    assert "Traceback" not in err


def test_dynamic_statements_over_a_known_map() -> None:
    found = findings_of("dynamic-statement")
    assert table(found) == [
        ("name-based-subject", "low", '"octo-org-app" (#0)'),
        ("name-based-subject", "low", '"octo-org-docs" (#1)'),
        ("subject-repo-wide", "medium", '"octo-org-docs" (#1)'),
    ]
    assert all("var.repositories = " in f.message for f in found)


def test_unknown_values_stay_symbols_in_the_model() -> None:
    text = """
variable "org" {}
data "aws_iam_policy_document" "t" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [module.oidc.provider_arn]
    }
    condition {
      test     = var.op
      variable = "${var.issuer}:sub"
      values   = ["repo:${var.org}/app:ref:refs/heads/main"]
    }
  }
}
"""
    [policy] = parse_terraform(text, "m.tf").policies
    [statement] = policy.symbolic.statements
    assert statement.principal == {"Federated": (Unknown("module.oidc.provider_arn"),)}
    [cond] = statement.conditions
    assert cond.operator == Unknown("var.op")
    assert isinstance(cond.key, Template) and str(cond.key) == "${var.issuer}:sub"
    assert cond.values == (
        Template(("repo:", Unknown("var.org", "m.tf:2"), "/app:ref:refs/heads/main")),
    )
    assert [u.expr for u in policy.symbolic.unknowns()] == [
        "module.oidc.provider_arn",
        "var.op",
        "var.issuer",
        "var.org",
    ]


def lint_sub_condition(test: str, values: str, before: str = "") -> list[Finding]:
    """One module: ``before`` (variables), then a GitHub statement with aud pinned and the sub
    condition ``test`` over ``values`` (HCL), linted in both worlds."""
    text = f"""{before}
data "aws_iam_policy_document" "t" {{
  statement {{
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {{
      type        = "Federated"
      identifiers = ["arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"]
    }}
    condition {{
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }}
    condition {{
      test     = "{test}"
      variable = "token.actions.githubusercontent.com:sub"
      values   = {values}
    }}
  }}
}}
"""
    [policy] = parse_terraform(text, "m.tf").policies
    return lint_symbolic(policy.symbolic, policy.without_defaults)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # A known loose value stays a fact, whatever the unknown next to it.
        ('["repo:octo-org/*", var.more]', {("subject-org-wide", "high")}),
        # The verdict depends on the unknown value only: not raised.
        ("[var.more]", set()),
        ('["repo:${var.more}:ref:refs/heads/main"]', set()),
    ],
)
def test_known_values_beside_unknown_ones(values: str, expected: set[tuple[str, str]]) -> None:
    found = lint_sub_condition("StringLike", values)
    serious = {(f.rule, f.severity) for f in found if f.severity != "low"}
    assert serious == expected
    assert [f.rule for f in found if f.rule == "unresolved"] == ["unresolved"]


@pytest.mark.parametrize(
    ("test", "values", "expected"),
    [
        # Only the repository is unknown: the known context decides, whatever the repository.
        ("StringEquals", '["repo:${var.repo}:pull_request"]', {("subject-pull-request", "medium")}),
        ("StringLike", '["repo:${var.repo}:*"]', {("subject-repo-wide", "medium")}),
        # The context is unknown too, or no repo: prefix at all: no verdict (a template's
        # fields could name anything).
        ("StringEquals", '["repo:${var.repo}:ref:refs/heads/${var.branch}"]', set()),
        ("StringEquals", '["${var.prefix}:pull_request"]', set()),
        ("StringEquals", '["repo:${var.repo}"]', set()),
    ],
)
def test_an_unknown_repository_with_a_known_context(
    test: str, values: str, expected: set[tuple[str, str]]
) -> None:
    found = lint_sub_condition(test, values)
    assert {(f.rule, f.severity) for f in found if f.severity != "low"} == expected


@pytest.mark.parametrize(
    ("repos", "expected"),
    [
        ('["acme/app", "acme/infra:ref:refs/heads/main"]', {("subject-repo-wide", "medium")}),
        ('["acme/infra:ref:refs/heads/main"]', set()),
    ],
)
def test_a_directive_in_a_quoted_string_is_rendered(
    repos: str, expected: set[tuple[str, str]]
) -> None:
    """``"repo:%{if ...}${r}%{else}${r}:*%{endif}"`` (corpus template-directive-subjects): each
    value takes the branch Terraform takes, not one unknown for the whole string."""
    values = (
        '[for r in var.repos : "repo:%{if length(split(":", r)) > 1}${r}%{else}${r}:*%{endif}"]'
    )
    found = lint_sub_condition(
        "StringLike", values, f'variable "repos" {{\n  default = {repos}\n}}'
    )
    assert {(f.rule, f.severity) for f in found if f.severity != "low"} == expected
    assert "unresolved" not in {f.rule for f in found}


def test_only_invalid_hcl_is_refused(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('data "x" "y" {\n  a = \n}\n', encoding="utf-8")
    code, _, err = run_cli("lint", str(tmp_path / "main.tf"))
    assert code == 2 and "not valid HCL" in err
    # A sibling that is not HCL refuses the module it belongs to, naming the sibling.
    shutil.copy(DATA / "operator-var" / "main.tf", tmp_path / "trust.tf")
    code, _, err = run_cli("lint", str(tmp_path / "trust.tf"))
    assert code == 2 and "main.tf: not valid HCL" in err


def test_every_fixture_lints_fast() -> None:
    for directory in sorted(DATA.iterdir()):
        start = time.perf_counter()
        findings_of(directory.name)
        assert time.perf_counter() - start < 5, directory.name


def test_template_directives_are_rendered() -> None:
    """%{ for } / %{ if } with ~ strip markers in a .json.tpl, its values from the caller."""
    found = findings_of("template-directives")
    assert table(found) == [
        ("name-based-subject", "low", "#0"),
        ("subject-repo-wide", "medium", "#0"),  # one finding per rule and condition (SPEC 1.2)
    ]
    wide = next(f for f in found if f.rule == "subject-repo-wide")
    assert wide.values == ("repo:octo-org/app:*", "repo:octo-org/web:*")
    cond = found[0].condition
    assert cond is not None and cond.values == ("repo:octo-org/app:*", "repo:octo-org/web:*")


def test_source_policy_documents_are_merged_and_unknown_ones_named() -> None:
    tf = read_terraform_module(str(DATA / "source-documents"))
    assert [p.symbolic.source.split(": ", 1)[1] for p in tf.policies] == [
        "data.aws_iam_policy_document.trust (assume_role_policy of aws_iam_role.deploy)"
    ]
    assert any("linted as part of data.aws_iam_policy_document.trust" in n for n in tf.skipped)
    found = findings_of("source-documents")
    assert table(found) == [
        ("name-based-subject", "low", '"GitHub" (#0)'),
        ("unresolved", "low", None),
    ]
    assert "`var.extra_trust_documents`" in found[-1].message


def test_an_oversized_sibling_is_unknown_not_a_refusal(tmp_path: Path) -> None:
    shutil.copy(DATA / "siblings" / "trust.tf", tmp_path / "trust.tf")
    (tmp_path / "locals.tf").write_text("locals {\n" + "#" * (1024 * 1024) + "\n}\n")
    code, out, _ = run_cli("lint", str(tmp_path / "trust.tf"))
    assert code == 0, out
    assert "locals.tf: not read" in out and "`local.provider_arn`" in out


def test_statements_switched_off_by_defaults_are_linted_as_if_on() -> None:
    """A generic role module: every statement is a dynamic block switched on by a variable
    whose default is off. Terraform would render no statement; the doctor lints what the
    module writes when it is switched on, and says so. (Modelled on the registry's generic
    role module, whose EKS and SAML statements must not get GitHub verdicts.)"""
    tf = read_terraform_module(str(DATA / "toggled-statements"))
    assert any("no statement with the values given" in note for note in tf.skipped)
    assert any(
        "data.aws_iam_policy_document.permissions: the permissions policy of "
        "aws_iam_role_policy.this.policy" in note
        for note in tf.skipped
    )
    found = findings_of("toggled-statements")
    assert table(found) == [
        ("action-too-broad", "low", '"GitHubActions" (#0)'),
        ("unresolved", "low", None),
    ]
    # Switched on: the collection that was empty is the unknown, and so are the ones of the
    # conditions inside (var.github_subjects = [] does not make "no subject condition").
    assert "`var.enable_github_oidc ? [1] : []`" in found[-1].message
    assert "`length(var.github_subjects) > 0 ? [1] : []`" in found[-1].message
    on = findings_of(
        "toggled-statements",
        TfInputs(
            variables=(("enable_github_oidc", "true"), ("github_subjects", '["octo-org/app:*"]'))
        ),
    )
    assert table(on) == [
        ("action-too-broad", "low", '"GitHubActions" (#0)'),
        ("name-based-subject", "low", '"GitHubActions" (#0)'),
        ("subject-repo-wide", "medium", '"GitHubActions" (#0)'),
        ("unresolved", "low", None),
    ]


def test_a_key_whose_issuer_is_unknown_gets_no_github_verdict() -> None:
    """An EKS service-account role whose issuer comes from a variable: its sub is not a GitHub
    subject, and nothing says it is (the wrong critical the issue measured)."""
    text = """
variable "oidc_issuer" { type = string }
variable "provider_arn" { type = string }
data "aws_iam_policy_document" "irsa" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:sub"
      values   = ["system:serviceaccount:kube-system:aws-node"]
    }
  }
}
"""
    [policy] = parse_terraform(text, "m.tf").policies
    found = lint_symbolic(policy.symbolic)
    assert table(found) == [("unresolved", "low", None)]
    # The same key written with GitHub's issuer is a GitHub subject, and a bad one.
    github = text.replace("${var.oidc_issuer}", "token.actions.githubusercontent.com")
    [policy] = parse_terraform(github, "m.tf").policies
    assert ("subject-any-repository", "critical") in {
        (f.rule, f.severity) for f in lint_symbolic(policy.symbolic)
    }


def test_check_refuses_a_policy_that_depends_on_unknowns(tmp_path: Path) -> None:
    claims = tmp_path / "claims.json"
    claims.write_text(
        json.dumps({"sub": "repo:octo-org/app:ref:refs/heads/main", "aud": "sts.amazonaws.com"})
    )
    code, _, err = run_cli("check", str(DATA / "operator-var" / "main.tf"), "--claims", str(claims))
    assert code == 2
    assert "depends on var.subject_condition, not known offline" in err
    # Known values (tfvars): check evaluates as before.
    code, out, _ = run_cli("check", str(DATA / "tfvars" / "main.tf"), "--claims", str(claims))
    assert code == 0 and "allow" in out.lower()
