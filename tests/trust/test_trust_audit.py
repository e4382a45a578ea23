"""``trust audit`` against moto's IAM through the real botocore client.

IAM requests go to the session's fault layer (``sts`` fixture) in front of ``moto_server``: it
records every call (ListRoles pages are counted) and injects AccessDenied, which moto cannot.
Each test gets an account of its own (:class:`localdev.iam_account.IamAccount`), and the CLI reads
its credentials from the environment, through the SDK chain.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from jsonschema import Draft4Validator

from localdev._http import free_port
from localdev.iam_account import GITHUB_HOST, IamAccount, trust_policy
from localdev.sts_faults import StsFaultProxy
from py_aws_oidc.trust.audit import audit_role, build_report
from py_aws_oidc.trust.cli import main
from py_aws_oidc.trust.iam import IamReader, OidcProvider, RoleRecord, decode_document

K = GITHUB_HOST + ":"
SUB, AUD = K + "sub", K + "aud"
ENTERPRISE = f"{GITHUB_HOST}/acme"
GHES = "ghes.example.com/_services/token"
ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())


@pytest.fixture
def account(sts: StsFaultProxy, monkeypatch: pytest.MonkeyPatch) -> IamAccount:
    acct = IamAccount.create(sts.url)
    for name, value in acct.env.items():
        monkeypatch.setenv(name, value)
    return acct


def audit(acct: IamAccount, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["audit", "--endpoint-url", acct.endpoint_url, *args], stdout=out, stderr=err)
    text, errors = out.getvalue(), err.getvalue()
    for secret in (acct.access_key_id, acct.secret_access_key, acct.session_token):
        assert secret not in text and secret not in errors
    return code, text, errors


def least_privilege(acct: IamAccount, name: str = "deploy-prod") -> str:
    return acct.add_role(
        name,
        trust_policy(
            {
                "StringEquals": {
                    AUD: "sts.amazonaws.com",
                    SUB: "repo:octo-org/app:environment:production",
                    K + "repository_id": "42",
                }
            },
            provider_arn=acct.provider_arn(),
        ),
    )


@pytest.fixture
def estate(account: IamAccount) -> IamAccount:
    """An account with every kind of role and provider the audit tells apart."""
    gh = account.add_provider()
    account.add_provider(ENTERPRISE, ("acme-aud",))
    account.add_provider(GHES, ("ghes-aud",))
    account.add_provider(f"{GITHUB_HOST}/unused-slug")
    eks = account.add_provider("oidc.eks.us-east-1.amazonaws.com/id/ABCDEF")
    least_privilege(account)
    account.add_role(
        "org-wide",
        trust_policy({"StringLike": {SUB: "repo:octo-org/*", AUD: "sts.amazonaws.com"}},
                     provider_arn=gh),
    )
    account.add_role(
        "no-sub", trust_policy({"StringEquals": {AUD: "sts.amazonaws.com"}}, provider_arn=gh)
    )
    account.add_role(
        "for-all-values",
        trust_policy({"ForAllValues:StringLike": {SUB: "repo:octo-org/app:*"}}, provider_arn=gh),
    )
    account.add_role(
        "enterprise",
        trust_policy(
            {"StringEquals": {f"{ENTERPRISE}:aud": "acme-aud",
                              f"{ENTERPRISE}:sub": "repo:acme/infra:ref:refs/heads/main"}},
            provider_arn=account.provider_arn(ENTERPRISE),
        ),
    )
    account.add_role(
        "ghes",
        trust_policy({"StringEquals": {f"{GHES}:sub": "repo:corp/api:pull_request"}},
                     provider_arn=account.provider_arn(GHES)),
    )
    account.add_role(
        "missing-provider",
        trust_policy({"StringEquals": {f"{GITHUB_HOST}/gone:sub": "repo:gone/r:ref:refs/heads/main",
                                       f"{GITHUB_HOST}/gone:aud": "sts.amazonaws.com"}},
                     provider_arn=account.provider_arn(f"{GITHUB_HOST}/gone")),
    )
    account.add_role(
        "eks-pods",
        trust_policy({"StringEquals": {"oidc.eks.us-east-1.amazonaws.com/id/ABCDEF:sub": "x"}},
                     provider_arn=eks),
    )
    account.add_role(
        "ec2",
        trust_policy(None, principal={"Service": "ec2.amazonaws.com"}, action="sts:AssumeRole"),
    )
    return account


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {role["name"]: role for role in report["roles"]}


def rules(item: dict[str, Any]) -> set[str]:
    return {finding["rule"] for finding in item["findings"]}


def test_json_lists_every_github_role_and_who_can_assume_it(estate: IamAccount) -> None:
    code, out, err = audit(estate, "--format", "json")
    report = json.loads(out)
    assert code == 1 and err == ""
    assert set(report) == {"account", "providers", "roles", "counts"}
    assert report["account"] == estate.account_id
    roles = by_name(report)
    assert set(roles) == {"deploy-prod", "org-wide", "no-sub", "for-all-values", "enterprise",
                          "ghes", "missing-provider"}  # not eks-pods, not ec2
    lp = roles["deploy-prod"]
    assert lp["arn"] == f"arn:aws:iam::{estate.account_id}:role/deploy-prod"
    assert lp["provider"] == estate.provider_arn()
    assert lp["admits"]["words"] == [
        "octo-org/app: environment production when repository_id StringEquals 42"]
    assert lp["admits"]["environments"] == ["production"] and not lp["admits"]["any_repository"]
    assert lp["findings"] == []  # pinned, and by repository_id
    org = roles["org-wide"]
    assert "subject-org-wide" in rules(org) and not org["admits"]["any_repository"]
    assert org["admits"]["words"] == [
        "every repository of octo-org: every branch, tag, environment and pull request"]
    nosub = roles["no-sub"]
    assert "no-subject-condition" in rules(nosub)
    assert nosub["admits"]["any_repository"] is True
    assert nosub["admits"]["words"] == ["any repository on GitHub"]
    assert "set-operator-single-valued" in rules(roles["for-all-values"])
    assert roles["enterprise"]["admits"]["words"] == ["acme/infra: branch main"]
    assert roles["enterprise"]["provider"] == estate.provider_arn(ENTERPRISE)
    assert roles["ghes"]["admits"]["pull_requests"] == ["corp/api"]
    assert "subject-pull-request" in rules(roles["ghes"])
    assert "provider-missing" in rules(roles["missing-provider"])
    assert roles["missing-provider"]["admits"]["words"] == [
        "nobody today (the provider it trusts is not in the account); as written: gone/r: "
        "branch main"]
    assert "provider-missing" not in rules(lp)


def test_provider_findings(estate: IamAccount) -> None:
    report = json.loads(audit(estate, "--format", "json")[1])
    providers = {p["issuer"].removeprefix("https://"): p for p in report["providers"]}
    assert len(providers) == 5
    assert providers["oidc.eks.us-east-1.amazonaws.com/id/ABCDEF"]["github"] is False
    assert rules(providers["oidc.eks.us-east-1.amazonaws.com/id/ABCDEF"]) == set()
    assert rules(providers[GITHUB_HOST]) == set()
    assert set(providers[GITHUB_HOST]["roles"]) == {"deploy-prod", "org-wide", "no-sub",
                                                    "for-all-values"}
    assert rules(providers[f"{GITHUB_HOST}/unused-slug"]) == {"provider-unused"}
    # The GHES provider lacks sts.amazonaws.com and its role does not pin another audience;
    # the enterprise one lacks it too, but every role that trusts it pins acme-aud.
    assert rules(providers[GHES]) == {"provider-audience-missing"}
    assert providers[GHES]["audiences"] == ["ghes-aud"]
    assert rules(providers[ENTERPRISE]) == set()
    counts = report["counts"]
    assert counts["roles"] == 7 and counts["github_providers"] == 4 and counts["providers"] == 5
    assert counts["any_repository"] == 1 and counts["critical"] >= 1


def test_text_is_a_table_with_control_characters_escaped(account: IamAccount) -> None:
    account.add_provider()
    account.add_role(
        "escapes",
        trust_policy({"StringEquals": {SUB: "repo:octo-org/app:environment:prod\x1b[31m",
                                       AUD: "sts.amazonaws.com"}},
                     provider_arn=account.provider_arn()),
    )
    least_privilege(account)
    code, out, _ = audit(account)
    assert code == 0
    assert "\x1b" not in out and "prod\\x1b[31m" in out
    header = next(line for line in out.splitlines() if line.startswith("ROLE"))
    assert "WORST" in header and "WHO CAN ASSUME IT" in header
    row = next(line for line in out.splitlines() if line.startswith("deploy-prod "))
    assert "clean" in row and "octo-org/app: environment production" in row
    assert out.rstrip().endswith("-> exit 0")


def test_markdown_for_a_job_summary(estate: IamAccount) -> None:
    code, out, _ = audit(estate, "--format", "markdown")
    assert code == 1
    assert out.startswith(f"## py-aws-oidc trust audit: account {estate.account_id}")
    assert "| role | worst | who can assume it | findings |" in out
    assert "| no-sub | critical | any repository on GitHub |" in out
    assert "unused-slug" in out and "provider-unused (low)" in out


def test_sarif_is_valid_and_names_the_role(estate: IamAccount) -> None:
    code, out, _ = audit(estate, "--format", "sarif")
    log = json.loads(out)
    assert code == 1
    assert list(Draft4Validator(SCHEMA).iter_errors(log)) == []
    run = log["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert {"no-subject-condition", "provider-unused", "provider-missing"} <= set(rule_ids)
    nosub_arn = f"arn:aws:iam::{estate.account_id}:role/no-sub"
    [result] = [r for r in run["results"] if r["ruleId"] == "no-subject-condition"]
    location = result["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == nosub_arn
    assert location["logicalLocations"][0]["fullyQualifiedName"] == nosub_arn
    assert result["level"] == "error" and rule_ids[result["ruleIndex"]] == result["ruleId"]
    assert run["properties"]["counts"]["roles"] == 7


@pytest.mark.parametrize(
    ("fail_on", "clean_status", "critical_status"),
    [("never", 0, 0), ("critical", 0, 1), ("high", 0, 1), ("medium", 0, 1), ("low", 1, 1)],
)
def test_exit_status_by_fail_on(
    account: IamAccount, fail_on: str, clean_status: int, critical_status: int
) -> None:
    account.add_provider()
    account.add_role(  # low findings only (name-based-subject)
        "deploy-main",
        trust_policy({"StringEquals": {SUB: "repo:octo-org/app:ref:refs/heads/main",
                                       AUD: "sts.amazonaws.com"}},
                     provider_arn=account.provider_arn()),
    )
    assert audit(account, "--fail-on", fail_on, "--format", "json")[0] == clean_status
    account.add_role("no-sub", trust_policy({"StringEquals": {AUD: "sts.amazonaws.com"}},
                                            provider_arn=account.provider_arn()))
    assert audit(account, "--fail-on", fail_on, "--format", "json")[0] == critical_status
    # --role-name-prefix leaves the critical role out
    assert audit(account, "--fail-on", fail_on, "--role-name-prefix", "deploy")[0] == clean_status


def test_more_than_one_page_of_roles(account: IamAccount, sts: StsFaultProxy) -> None:
    account.add_provider()
    for index in range(130):
        if index % 2:
            policy = trust_policy({"StringEquals": {SUB: f"repo:o/r{index}:ref:refs/heads/main"}},
                                  provider_arn=account.provider_arn())
        else:
            policy = trust_policy(None, principal={"Service": "lambda.amazonaws.com"},
                                  action="sts:AssumeRole")
        account.add_role(f"role-{index:03d}", policy)
    sts.reset()
    code, out, _ = audit(account, "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["counts"]["roles"] == 65
    assert len(sts.calls_for("ListRoles")) >= 2
    assert len(sts.calls_for("GetOpenIDConnectProvider")) == 1


@pytest.mark.parametrize(
    "call", ["ListOpenIDConnectProviders", "GetOpenIDConnectProvider", "ListRoles"]
)
def test_access_denied_is_one_line_with_the_permission(
    account: IamAccount, sts: StsFaultProxy, call: str
) -> None:
    account.add_provider()
    sts.fail_next(call, "AccessDenied",
                  f"User: arn:aws:sts::{account.account_id}:assumed-role/auditor/audit is not "
                  f"authorized to perform: iam:{call}", status=403)
    code, out, err = audit(account)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"error: {call}: AccessDenied: User: ")
    assert err.endswith(f"(grant iam:{call} to the caller)\n")
    assert len(sts.calls_for(call)) == 1  # AccessDenied is not retried


def test_wrong_endpoint_is_one_line(account: IamAccount) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    out, err = io.StringIO(), io.StringIO()
    code = main(["audit", "--endpoint-url", nowhere], stdout=out, stderr=err)
    assert code == 2 and out.getvalue() == ""
    assert err.getvalue() == (
        f"error: ListOpenIDConnectProviders: could not connect to {nowhere} (check "
        "--endpoint-url and the network); the audit needs iam:ListOpenIDConnectProviders\n"
    )


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    base.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                AWS_EC2_METADATA_DISABLED="true", **env)
    return subprocess.run([sys.executable, "-m", "py_aws_oidc", "trust", "audit", *args],
                          capture_output=True, text=True, env=base, timeout=60, check=False)


def test_no_credentials_in_a_real_process(sts: StsFaultProxy) -> None:
    proc = _cli({}, "--endpoint-url", sts.url)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: ListOpenIDConnectProviders: no AWS credentials found")
    assert proc.stderr.count("\n") == 1 and "iam:ListOpenIDConnectProviders" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_real_process_audits_and_prints_no_secret(account: IamAccount) -> None:
    least_privilege(account)
    proc = _cli(account.env, "--endpoint-url", account.endpoint_url, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [r["name"] for r in report["roles"]] == ["deploy-prod"]
    assert "provider-missing" in rules(report["roles"][0])  # no provider in this account
    for secret in (account.access_key_id, account.secret_access_key, account.session_token):
        assert secret not in proc.stdout + proc.stderr


def test_an_unknown_profile_is_one_line(sts: StsFaultProxy) -> None:
    proc = _cli({}, "--endpoint-url", sts.url, "--profile", "nope")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "nope" in proc.stderr and "Traceback" not in proc.stderr


def test_documents_as_iam_and_moto_return_them() -> None:
    doc = {"Version": "2012-10-17", "Statement": []}
    text = json.dumps(doc)
    encoded = "%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%5D%7D"
    assert json.loads(decode_document(encoded)) == doc  # IAM: URL-encoded
    assert decode_document(text) == text  # moto: plain
    assert json.loads(decode_document(doc)) == doc  # botocore's decoder, if it ran


def test_the_action_path_does_not_load_the_audit() -> None:
    code = ("import sys, py_aws_oidc.cli, py_aws_oidc.action, py_aws_oidc.trust.cli; "
            "print(sorted(m for m in sys.modules if m.startswith(('botocore', "
            "'py_aws_oidc.trust.audit', 'py_aws_oidc.trust.iam', 'py_aws_oidc.trust.admits'))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT / "src")}, check=True)
    assert proc.stdout.strip() == "[]"


EXAMPLE = ROOT / "examples" / "trust-audit" / "trust-audit.yml"


def _run_step(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # the shell GitHub uses for `run:` on Linux
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=60)


def test_the_example_uploads_sarif_and_puts_only_counts_in_the_summary(
    estate: IamAccount, tmp_path: Path
) -> None:
    import yaml

    [job] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))["jobs"].values()
    assert job["permissions"] == {"id-token": "write", "contents": "read",
                                  "security-events": "write"}
    assume = next(s for s in job["steps"] if "py-aws-oidc/host@" in s.get("uses", ""))
    assert assume["with"]["role-to-assume"] == "${{ vars.TRUST_AUDIT_ROLE_ARN }}"
    upload = next(s for s in job["steps"] if "upload-sarif" in s.get("uses", ""))
    assert re.fullmatch(r"github/codeql-action/upload-sarif@[0-9a-f]{40}", upload["uses"])
    assert upload["with"]["sarif_file"] == "trust-audit.sarif"
    output, summary = tmp_path / "github_output", tmp_path / "summary.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(estate.env, AWS_ENDPOINT_URL_IAM=estate.endpoint_url, AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true",
               GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(summary),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    audit_step = next(s for s in job["steps"] if s.get("id") == "audit")
    run = _run_step(audit_step["run"], tmp_path, env)
    assert run.returncode == 0, run.stderr
    assert output.read_text(encoding="utf-8") == "status=1\nsarif=true\n"
    log = json.loads((tmp_path / "trust-audit.sarif").read_text(encoding="utf-8"))
    assert list(Draft4Validator(SCHEMA).iter_errors(log)) == []
    counts_step = next(s for s in job["steps"] if "GITHUB_STEP_SUMMARY" in s.get("run", ""))
    run = _run_step(counts_step["run"], tmp_path, env)
    assert run.returncode == 0, run.stderr
    text = summary.read_text(encoding="utf-8")
    assert "| 7 | 1 |" in text  # 7 roles trust GitHub, 1 open to any repository
    for secret_ish in ("no-sub", "deploy-prod", "octo-org", estate.account_id, "arn:aws"):
        assert secret_ish not in text


def test_the_policy_text_is_read_as_iam_sent_it(account: IamAccount) -> None:
    """botocore's json_decode_policies is off for the audit's client: the text is parsed by the
    linter itself (duplicate keys survive), whether URL-encoded (IAM) or plain (moto)."""
    least_privilege(account)
    reader = IamReader(endpoint_url=account.endpoint_url)
    [[record]] = list(reader.role_pages())
    assert isinstance(record.document, str) and record.document.lstrip().startswith("{")
    duplicated = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": '
        f'"{account.provider_arn()}"}}, "Action": "sts:AssumeRoleWithWebIdentity", "Condition": '
        '{"StringLike": {"' + SUB + '": "repo:*"}, "StringLike": {"' + SUB + '": "repo:o/r:*"}}}]}'
    )
    encoded = RoleRecord(record.arn, "dup", quote(duplicated, safe=""))
    report = audit_role(encoded, [])
    assert report is not None
    assert "duplicate-json-key" in {f.rule for f in report.findings}


def test_throttling_is_retried(account: IamAccount, sts: StsFaultProxy) -> None:
    least_privilege(account)
    sts.fail_next("ListRoles", "Throttling", "Rate exceeded", status=400)
    code, out, _ = audit(account, "--format", "json")
    assert code == 0 and json.loads(out)["counts"]["roles"] == 1
    assert [c.status for c in sts.calls_for("ListRoles")] == [400, 200]


def test_a_slow_iam_is_cut_by_the_timeouts_and_the_deadline(
    account: IamAccount, sts: StsFaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    from py_aws_oidc.trust import iam

    monkeypatch.setattr(iam, "READ_TIMEOUT_S", 1)
    sts.stall_next(3, 2.5)
    code, out, err = audit(account)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("error: ListOpenIDConnectProviders: ReadTimeoutError:")
    assert len(sts.calls_for("ListOpenIDConnectProviders")) == 3  # standard mode: 3 attempts
    reader = IamReader(endpoint_url=account.endpoint_url, deadline_s=0)
    with pytest.raises(iam.AwsError, match=r"^ListRoles: the audit's deadline \(0 s\) passed"):
        list(reader.role_pages())


def _record(name: str, doc: dict[str, Any] | str) -> RoleRecord:
    text = doc if isinstance(doc, str) else json.dumps(doc)
    return RoleRecord(f"arn:aws:iam::111122223333:role/{name}", name, quote(text, safe=""))


def test_which_roles_are_listed() -> None:
    gh = "arn:aws:iam::111122223333:oidc-provider/" + GITHUB_HOST
    provider = OidcProvider(gh, GITHUB_HOST, ("sts.amazonaws.com",))
    keyed = trust_policy({"StringEquals": {SUB: "repo:o/r:ref:refs/heads/main"}},
                         principal={"Federated": "*"})
    pages = [[
        _record("keys-only", keyed),
        _record("service", trust_policy(None, principal={"Service": "ec2.amazonaws.com"},
                                        action="sts:AssumeRole")),
        _record("account", trust_policy(None, principal={"AWS": "111122223333"},
                                        action="sts:AssumeRole")),
        _record("broken", '{"Statement": [{"Effect": "Allow", "Principal": {"Federated": "'
                + gh + '"}, "Action": 5}]}'),
        _record("broken-other", '{"Statement": 1, "x": "oidc-provider/gitlab.com"}'),
    ]]
    report = build_report([provider], pages)
    roles = {role.name: role for role in report.roles}
    assert set(roles) == {"keys-only", "broken"}
    assert "principal-wildcard" in {f.rule for f in roles["keys-only"].findings}
    assert [f.rule for f in roles["broken"].findings] == ["trust-policy-unreadable"]
    assert roles["broken"].words == ["unknown: the trust policy could not be read"]
    assert report.account == "111122223333"
    # the provider is used by no role that names it: keys-only trusts "*", not the provider
    assert [f.rule for f in report.providers[0].findings] == ["provider-unused"]


def test_a_named_profile_from_the_shared_files(
    account: IamAccount, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    least_privilege(account)
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[security-audit]\naws_access_key_id = {account.access_key_id}\n"
        f"aws_secret_access_key = {account.secret_access_key}\n"
        f"aws_session_token = {account.session_token}\n", encoding="utf-8")
    for name in account.env:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    code, out, _ = audit(account, "--profile", "security-audit", "--format", "json")
    assert code == 0 and json.loads(out)["account"] == account.account_id


@pytest.mark.parametrize(("region", "endpoint"), [
    (None, "https://iam.amazonaws.com"),
    ("cn-north-1", "https://iam.cn-north-1.amazonaws.com.cn"),
    ("us-gov-west-1", "https://iam.us-gov.amazonaws.com"),
])
def test_the_region_picks_the_partitions_endpoint(
    monkeypatch: pytest.MonkeyPatch, region: str | None, endpoint: str
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unused")
    assert IamReader(region=region)._client.meta.endpoint_url == endpoint


def test_without_the_iam_model_says_where_to_run_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The action's image prunes botocore's data to STS and SSO (scripts/image_build.py)."""
    import botocore.session
    from botocore.exceptions import UnknownServiceError

    def no_iam(*_args: Any, **_kwargs: Any) -> Any:
        raise UnknownServiceError(service_name="iam", known_service_names="sts, sso")

    monkeypatch.setattr(botocore.session.Session, "create_client", no_iam)
    out, err = io.StringIO(), io.StringIO()
    assert main(["audit"], stdout=out, stderr=err) == 2
    assert err.getvalue().startswith("error: botocore's IAM service model is not installed here")
    assert err.getvalue().count("\n") == 1 and out.getvalue() == ""
