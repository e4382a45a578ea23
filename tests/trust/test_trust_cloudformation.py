"""CloudFormation / SAM templates (issue 21): a fixture per construct, the findings exact."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from py_aws_oidc.trust.cloudformation import load_template, read_template
from py_aws_oidc.trust.errors import MalformedPolicyError, NoTrustPolicyError, TrustError
from py_aws_oidc.trust.files import lint_loaded, read_policy_file
from py_aws_oidc.trust.lint import Finding
from py_aws_oidc.trust.unknown import instantiate, lint_symbolic
from tests.trust.helpers import run_cli

DATA = Path(__file__).parent / "data" / "cloudformation"


def findings_of(name: str) -> list[Finding]:
    policy_file = read_policy_file(str(DATA / name))
    return [f for loaded in policy_file.policies for f in lint_loaded(loaded)]


def table(found: list[Finding]) -> list[tuple[str, str, str]]:
    return [(f.source.split(": ", 1)[1], f.rule, f.severity) for f in found]


def test_short_form_tags_become_long_form_and_unknown_tags_stay() -> None:
    doc = load_template(
        "A: !Sub x-${B}\nC: !GetAtt R.Arn\nD: !If [Cond, 1, 2]\nE: !Vendor::Thing {k: v}\n"
        "F: !Select [0, !Split [',', 'a,b']]\nG: !Join ['', [a, !Ref P]]\nV: 2012-10-17\n",
        "t.yaml",
    )
    assert doc == {
        "A": {"Fn::Sub": "x-${B}"},
        "C": {"Fn::GetAtt": ["R", "Arn"]},
        "D": {"Fn::If": ["Cond", 1, 2]},
        "E": {"Fn::Vendor::Thing": {"k": "v"}},
        "F": {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]},
        "G": {"Fn::Join": ["", ["a", {"Ref": "P"}]]},
        "V": "2012-10-17",  # a timestamp stays text
    }


def test_each_branch_of_an_if_is_linted_and_named() -> None:
    """configure-aws-credentials' sample layout: the provider created or given, chosen by !If;
    a branch that contradicts a default makes that parameter unknown there."""
    found = findings_of("provider-if.yaml")
    assert table(found) == [
        ("Role (when CreateOIDCProvider true)", "subject-repo-wide", "medium"),
        ("Role (when CreateOIDCProvider true)", "name-based-subject", "low"),
        ("Role (when CreateOIDCProvider true)", "unresolved", "low"),
        ("Role (when CreateOIDCProvider false)", "subject-repo-wide", "medium"),
        ("Role (when CreateOIDCProvider false)", "name-based-subject", "low"),
        ("Role (when CreateOIDCProvider false)", "unresolved", "low"),
    ]
    # !Sub repo:${GitHubOrg}/${RepositoryName}:* with RepositoryName's default "app"
    assert found[0].message.startswith('sub "repo:${!Ref GitHubOrg}/app:*" matches every')
    assert "`!Ref GitHubOrg`" in found[2].message and "OIDCProviderArn" not in found[2].message
    assert "`!Ref OIDCProviderArn`" in found[5].message  # its default "" contradicts the branch
    assert not any(f.severity in ("critical", "high") for f in found)


def test_getatt_of_githubs_provider_is_github_and_function_roles_are_skipped() -> None:
    policy_file = read_policy_file(str(DATA / "sam-getatt.yaml"))
    assert [loaded.policy.source for loaded in policy_file.policies] == [
        f"{DATA / 'sam-getatt.yaml'}: DeployRole"
    ]
    assert any("ApiRole: not a trust policy for GitHub" in note for note in policy_file.skipped)
    found = findings_of("sam-getatt.yaml")
    assert table(found) == [
        ("DeployRole", "set-operator-single-valued", "high"),
        ("DeployRole", "unknown-claim-key", "medium"),
        ("DeployRole", "name-based-subject", "low"),
    ]
    # the Branch parameter's default went into the !Sub; the iss condition is to be deleted
    assert found[2].condition is not None
    assert found[2].condition.values == ("repo:octo-org/octo-repo:ref:refs/heads/main",)
    assert found[0].fix == found[1].fix and found[0].fix.startswith("Delete the iss condition")


def test_json_template_with_join_select_split_findinmap_and_pseudo_parameters() -> None:
    found = findings_of("join-select.json")
    assert table(found) == [
        ("Role", "subject-never-matches", "medium"),
        ("Role", "name-based-subject", "low"),
        ("Role", "unresolved", "low"),
    ]
    assert found[0].values == ("repo:octo-org/web.git:ref:refs/heads/main",)
    assert found[1].condition is not None
    assert found[1].condition.values[0] == "repo:octo-org/api:environment:production"
    assert "`AWS::Partition`" in found[2].message and "`!Ref Account`" in found[2].message


def test_an_unknown_tag_is_unknown_and_a_list_default_decides_named() -> None:
    found = findings_of("unknown-tag.yaml")
    assert table(found) == [
        ("Role", "subject-repo-wide", "medium"),
        ("Role", "name-based-subject", "low"),
        ("Role", "unresolved", "low"),
    ]
    assert found[0].message.startswith('with Subjects = ["repo:octo-org/app:ref:refs/heads/main"')
    assert "(its default)" in found[0].message
    assert "`!Vendor::Audience" in found[2].message and "`AWS::AccountId`" in found[2].message


def test_a_template_without_a_role_or_broken_yaml_is_refused_when_named() -> None:
    with pytest.raises(NoTrustPolicyError, match="no AWS::IAM::Role"):
        read_policy_file(str(DATA / "no-role.yaml"))
    with pytest.raises(MalformedPolicyError, match=r"not valid YAML \(line 3"):
        read_policy_file(str(DATA / "broken.yaml"))
    code, out, err = run_cli("lint", "--format", "json", str(DATA / "broken.yaml"))
    assert code == 2 and json.loads(out)["refused"][0]["file"].endswith("broken.yaml")
    code, _, err = run_cli("lint", "--skip-non-policies", str(DATA / "no-role.yaml"))
    assert code == 0 and "skipped" in err


def test_read_template_rejects_a_document_that_is_not_a_template() -> None:
    with pytest.raises(NoTrustPolicyError, match="not a CloudFormation template"):
        read_template({"Statement": []}, "p.json")


def test_yaml_aliases_cannot_blow_up_the_evaluation(tmp_path: Path) -> None:
    lines = ["a0: &a0 [repo:o/r:ref:refs/heads/main]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, 40)]
    lines += [
        "Resources:",
        "  Role:",
        "    Type: AWS::IAM::Role",
        "    Properties:",
        "      AssumeRolePolicyDocument:",
        "        Statement:",
        "          - Effect: Allow",
        "            Action: sts:AssumeRoleWithWebIdentity",
        "            Principal: {Federated: arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com}",
        "            Condition: {StringEquals: {token.actions.githubusercontent.com:sub: *a39}}",
    ]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "py_aws_oidc", "trust", "lint", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode in (0, 1, 2) and "Traceback" not in done.stderr
    assert len(done.stdout) < 100_000


def test_a_policy_written_as_json_text_in_sub_is_read_with_its_parameters() -> None:
    found = findings_of("sub-json-text.yaml")
    assert table(found) == [
        ("Role", "subject-never-matches", "medium"),
        ("Role", "name-based-subject", "low"),
        ("Role", "unresolved", "low"),
    ]
    assert found[0].message.startswith('with Repo = "app.git" (its default), sub "repo:octo-org/')
    assert "`AWS::AccountId`" in found[2].message


def test_sarif_of_a_template_points_at_the_file(tmp_path: Path) -> None:
    code, out, _ = run_cli("lint", "--format", "sarif", str(DATA / "sam-getatt.yaml"))
    results = json.loads(out)["runs"][0]["results"]
    assert code == 1 and {r["ruleId"] for r in results} >= {"unknown-claim-key"}
    lines = (DATA / "sam-getatt.yaml").read_text(encoding="utf-8").splitlines()
    for result in results:
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"].endswith("sam-getatt.yaml")
        assert lines[location["region"]["startLine"] - 1] == "  DeployRole:"  # the role
        assert result["properties"]["policy"].endswith("sam-getatt.yaml: DeployRole")


def test_sarif_of_a_json_template_points_at_the_role() -> None:
    code, out, _ = run_cli("lint", "--format", "sarif", str(DATA / "join-select.json"))
    lines = (DATA / "join-select.json").read_text(encoding="utf-8").splitlines()
    starts = {
        r["locations"][0]["physicalLocation"]["region"]["startLine"]
        for r in json.loads(out)["runs"][0]["results"]
    }
    assert code == 0 and [lines[n - 1].strip() for n in starts] == ['"Role": {']


def test_without_pyyaml_a_template_is_one_error_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)  # import yaml -> ImportError
    code, out, err = run_cli("lint", str(DATA / "sam-getatt.yaml"))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "needs PyYAML" in err and "py-aws-oidc[trust]" in err


_LEAVES = st.sampled_from(
    ["repo:o/r:*", "", "x", "${AWS::AccountId}", "P", "C", "1", "0", ",", "AWS::NoValue"]
)
_INTRINSICS = st.recursive(
    _LEAVES | st.integers(-2, 3) | st.booleans() | st.none(),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(
        st.sampled_from(
            ["Ref", "Fn::Sub", "Fn::Join", "Fn::If", "Fn::Select", "Fn::Split", "Fn::GetAtt",
             "Fn::FindInMap", "Fn::Vendor", "Condition", "Effect", "Statement"]
        ),
        inner,
        min_size=1,
        max_size=2,
    ),
    max_leaves=12,
)  # fmt: skip


@given(_INTRINSICS, _INTRINSICS)
@settings(max_examples=300, deadline=None)
def test_any_intrinsic_tree_is_read_or_refused_in_one_line(sub: object, principal: object) -> None:
    template = {
        "Parameters": {"P": {"Type": "String", "Default": "v"}},
        "Conditions": {"C": {"Fn::Equals": [{"Ref": "P"}, "v"]}},
        "Mappings": {"M": {"k": {"v": "repo:o/r:*"}}},
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "sts:AssumeRoleWithWebIdentity",
                                "Principal": {"Federated": principal},
                                "Condition": {"StringLike": {"k:sub": sub}},
                            }
                        ]
                    }
                },
            }
        },
    }
    try:  # as files.py reads it: the tight instance (refused if IAM would), then lint
        found, _ = read_template(template, "t.yaml")
        for item in found:
            instantiate(item.symbolic, "tight")
            lint_symbolic(item.symbolic, item.without_defaults)
    except TrustError as exc:
        assert "\n" not in exc.message
