"""The CLI in-process: exit codes, output, malformed policies, claim sources (never a token)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import jwt
import pytest

from py_aws_oidc.trust import claims as claims_module
from tests.trust.helpers import AUD, MAIN, SUB, claims, policy, run_cli, statement, write_json

GOOD = policy(statement({"StringEquals": {AUD: "sts.amazonaws.com", SUB: MAIN}}, sid="Deploy"))


def token_for(payload: dict[str, Any]) -> str:
    return jwt.encode(payload, "not-a-real-key-but-long-enough-for-hs256!", algorithm="HS256")


@pytest.fixture
def good_policy(tmp_path: Path) -> Path:
    return write_json(tmp_path / "trust.json", GOOD)


@pytest.fixture
def claims_file(tmp_path: Path) -> Path:
    return write_json(tmp_path / "claims.json", claims())


def test_help_documents_the_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("--help")[0] == 0
    out = capsys.readouterr().out
    for word in ("generate", "lint", "check", "Exit status 2"):
        assert word in out
    for sub in ("generate", "lint", "check"):
        assert run_cli(sub, "--help")[0] == 0
    help_check = capsys.readouterr().out
    assert "--from-env" in help_check and "--provider-arn" in help_check
    assert "--immutable-ids" in help_check and "--job-workflow-ref" in help_check


def test_no_subcommand_and_usage_errors() -> None:
    assert run_cli()[0] == 2
    assert run_cli("check", "x.json")[0] == 2  # one claims source is required
    assert run_cli("lint", "x.json", "--format", "yaml")[0] == 2


def test_check_allow(good_policy: Path, claims_file: Path) -> None:
    code, out, err = run_cli("check", str(good_policy), "--claims", str(claims_file))
    assert code == 0, out
    assert "ALLOW" in out and 'statement: "Deploy" (#0)' in out
    assert f'condition: StringEquals {SUB} ["{MAIN}"]' in out
    assert err == ""


def test_check_deny_names_statement_and_condition(good_policy: Path, tmp_path: Path) -> None:
    env_claims = write_json(
        tmp_path / "env.json",
        claims(sub="repo:octo-org/octo-repo:environment:prod", environment="prod"),
    )
    code, out, _ = run_cli("check", str(good_policy), "--claims", str(env_claims))
    assert code == 1
    assert "DENY (implicit" in out
    assert 'closest statement: "Deploy" (#0)' in out
    assert f"condition: StringEquals {SUB}" in out
    assert '"repo:octo-org/octo-repo:environment:prod" matches none of' in out


def test_check_explicit_deny(tmp_path: Path, claims_file: Path) -> None:
    doc = policy(
        statement({"StringEquals": {SUB: MAIN}}),
        statement({"StringEquals": {SUB: MAIN}}, effect="Deny", sid="Freeze"),
    )
    code, out, _ = run_cli(
        "check", str(write_json(tmp_path / "p.json", doc)), "--claims", str(claims_file)
    )
    assert code == 1 and "DENY (explicit" in out and '"Freeze" (#1)' in out


def test_check_json_format(good_policy: Path, claims_file: Path) -> None:
    code, out, _ = run_cli(
        "check", str(good_policy), "--claims", str(claims_file), "--format", "json"
    )
    report = json.loads(out)
    assert code == 0 and report["decision"] == "allow"
    [result] = report["policies"]
    assert result["statement"] == {"sid": "Deploy", "index": 0, "effect": "Allow"}
    assert result["condition"]["key"] == SUB and result["condition"]["passed"] is True
    assert report["claims"]["sub"] == MAIN


def test_check_provider_arn(good_policy: Path, claims_file: Path) -> None:
    other = "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"
    code, out, _ = run_cli(
        "check", str(good_policy), "--claims", str(claims_file), "--provider-arn", other
    )
    assert code == 1 and "principal" in out


def test_check_reports_keys_aws_ignores(tmp_path: Path, claims_file: Path) -> None:
    doc = policy(
        statement(
            {
                "StringEquals": {SUB: MAIN},
                "StringNotEquals": {
                    "token.actions.githubusercontent.com:event_name": "pull_request"
                },
            }
        )
    )
    code, out, _ = run_cli(
        "check", str(write_json(tmp_path / "p.json", doc)), "--claims", str(claims_file)
    )
    assert code == 0
    assert "AWS does not populate token.actions.githubusercontent.com:event_name" in out


def test_token_and_token_file_never_print_the_token(good_policy: Path, tmp_path: Path) -> None:
    token = token_for(claims())
    code, out, err = run_cli("check", str(good_policy), "--token", token)
    assert code == 0 and token not in out + err
    assert f'"sub": "{MAIN}"' in out  # claims are printed
    path = tmp_path / "token.jwt"
    path.write_text(token + "\n", encoding="utf-8")
    code, out, err = run_cli("check", str(good_policy), "--token-file", str(path))
    assert code == 0 and token not in out + err


@pytest.mark.parametrize("bad", ["not-a-jwt", "a.b.c", "x" * 40 + ".y.z"])
def test_bad_token_is_exit_2_without_echo(good_policy: Path, bad: str) -> None:
    code, out, err = run_cli("check", str(good_policy), "--token", bad)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and bad not in err


def test_from_env_fetches_like_the_action(
    good_policy: Path, oidc_issuer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`check --from-env` requests the job's token from a real local token endpoint, with the
    action's request (bearer, audience merged into the query), and prints claims, never it."""
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", oidc_issuer.token_url)
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", oidc_issuer.request_token)
    code, out, err = run_cli("check", str(good_policy), "--from-env")
    assert code == 0, err
    [request] = oidc_issuer.token_requests
    assert request.query == {"api-version": "2.0", "audience": "sts.amazonaws.com"}
    assert request.authorization == f"Bearer {oidc_issuer.request_token}"
    token = oidc_issuer.minted[-1]
    lines = (out + err).splitlines()
    assert f"::add-mask::{token}" in lines
    assert [line for line in lines if token in line] == [f"::add-mask::{token}"]
    assert oidc_issuer.request_token not in out.replace(
        f"::add-mask::{oidc_issuer.request_token}", ""
    )


def test_from_env_without_permission(good_policy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACTIONS_ID_TOKEN_REQUEST_URL", raising=False)
    monkeypatch.delenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", raising=False)
    code, out, err = run_cli("check", str(good_policy), "--from-env")
    assert code == 2 and out == ""
    assert "permissions: id-token: write" in err


@pytest.mark.parametrize(
    ("fault", "message"),
    [(403, "HTTP 403"), ("no-value", "without a 'value'"), ("non-json", "did not answer JSON")],
)
def test_from_env_endpoint_errors(oidc_issuer: Any, fault: object, message: str) -> None:
    """--from-env uses the action's token request against a real local token endpoint."""
    oidc_issuer.queue_faults([fault])
    env = {
        "ACTIONS_ID_TOKEN_REQUEST_URL": oidc_issuer.token_url,
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": oidc_issuer.request_token,
    }
    with pytest.raises(claims_module.ClaimsError, match=message):
        claims_module.fetch_token_from_env("sts.amazonaws.com", env)


def test_from_env_fetches_masks_and_decodes(
    oidc_issuer: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {
        "ACTIONS_ID_TOKEN_REQUEST_URL": oidc_issuer.token_url,
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": oidc_issuer.request_token,
    }
    token = claims_module.fetch_token_from_env("sts.amazonaws.com", env)
    assert token == oidc_issuer.minted[-1]
    assert oidc_issuer.token_requests[-1].query["audience"] == "sts.amazonaws.com"
    assert f"::add-mask::{token}" in capsys.readouterr().out.splitlines()
    assert claims_module.decode_token(token)["aud"] == "sts.amazonaws.com"


def test_from_env_network_error() -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        "ACTIONS_ID_TOKEN_REQUEST_URL": f"http://127.0.0.1:{port}/token?api-version=2.0",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t",
    }
    with pytest.raises(claims_module.ClaimsError, match="failed after 3 attempts"):
        claims_module.fetch_token_from_env("sts.amazonaws.com", env)


def test_from_env_without_permission_names_it() -> None:
    with pytest.raises(claims_module.ClaimsError, match="id-token: write"):
        claims_module.fetch_token_from_env("sts.amazonaws.com", {})


MALFORMED = {
    "invalid-json": ('{"Version": "2012-10-17", "Statement": [', "not valid JSON"),
    "top-level-array": ("[]", "JSON array"),
    "no-statement": ('{"Version": "2012-10-17"}', "no Statement"),
    "unknown-top-level": (
        '{"Version": "2012-10-17", "Statement": [], "Extra": 1}',
        "unknown top-level field",
    ),
    "unknown-operator": (
        json.dumps(policy(statement({"StringEqualz": {SUB: MAIN}}))),
        "unknown condition operator 'StringEqualz'",
    ),
    "bad-effect": (
        json.dumps(policy(statement({"StringEquals": {SUB: MAIN}}, effect="allow"))),
        'Effect is "allow"',
    ),
    "missing-effect": (
        json.dumps({"Statement": [{"Principal": "*", "Action": "*"}]}),
        "Effect is missing",
    ),
    "empty-statement": ('{"Version": "2012-10-17", "Statement": []}', "Statement"),
    "bad-version": ('{"Version": "2020-01-01", "Statement": {}}', "Version"),
    "unknown-statement-field": (
        json.dumps(policy({**statement(None), "Conditions": {}})),
        "unknown field",
    ),
    "null-condition-value": (
        json.dumps(policy(statement({"StringEquals": {SUB: None}}))),
        "not a string, number or boolean",
    ),
    "nan": ('{"Statement": NaN}', "not valid JSON"),
    "set-operator-on-null": (
        json.dumps(policy(statement({"ForAllValues:Null": {SUB: "true"}}))),
        "unknown condition operator",
    ),
    "no-principal": (json.dumps({"Statement": [{"Effect": "Allow", "Action": "*"}]}), "Principal"),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_policy_exits_2(name: str, tmp_path: Path, claims_file: Path) -> None:
    text, message = MALFORMED[name]
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    for argv in (["lint", str(path)], ["check", str(path), "--claims", str(claims_file)]):
        code, out, err = run_cli(*argv)
        assert code == 2, (name, out, err)
        assert out == "" and message in err and "Traceback" not in err


def test_missing_files_exit_2(tmp_path: Path, claims_file: Path, good_policy: Path) -> None:
    assert run_cli("lint", str(tmp_path / "nope.json"))[0] == 2
    code, _, err = run_cli("check", str(good_policy), "--claims", str(tmp_path / "nope.json"))
    assert code == 2 and "does not exist" in err
    bad = tmp_path / "claims.json"
    bad.write_text("[1]", encoding="utf-8")
    code, _, err = run_cli("check", str(good_policy), "--claims", str(bad))
    assert code == 2 and "JSON object" in err


def test_claims_file_accepts_the_action_summary(good_policy: Path, tmp_path: Path) -> None:
    # What the action prints on AccessDenied, "(absent)" markers and all, goes back in as is.
    path = write_json(
        tmp_path / "c.json",
        {
            "iss": "https://token.actions.githubusercontent.com",
            "sub": MAIN,
            "aud": "sts.amazonaws.com",
            "environment": "(absent)",
        },
    )
    assert run_cli("check", str(good_policy), "--claims", str(path))[0] == 0


def test_lint_accepts_statement_object_and_check_allows_it(
    tmp_path: Path, claims_file: Path
) -> None:
    doc = {"Version": "2012-10-17", "Statement": statement({"StringEquals": {SUB: MAIN}})}
    path = write_json(tmp_path / "p.json", doc)
    assert run_cli("check", str(path), "--claims", str(claims_file))[0] == 0
    code, out, _ = run_cli("lint", str(path))
    assert code == 0 and "aud-not-pinned" in out


# -- help and usage errors as a newcomer reads them (issue 19) ----------------------------------


def test_trust_help_lists_each_command_once(capsys: pytest.CaptureFixture[str]) -> None:
    from py_aws_oidc.trust.cli import _commands, build_parser

    assert run_cli("--help")[0] == 0
    out = capsys.readouterr().out
    names = list(_commands(build_parser()))
    assert names[:3] == ["generate", "lint", "check"]
    for name in names:
        listed = [line for line in out.splitlines() if line.split()[:1] == [name]]
        assert len(listed) == 1, (name, out)
    assert "{generate,lint,check}" not in out


def test_every_format_option_shows_its_choices_and_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from py_aws_oidc.trust.cli import _commands, build_parser

    checked = 0
    for name, parser in _commands(build_parser()).items():
        for action in parser._actions:
            if "--format" not in action.option_strings:
                continue
            assert action.choices and action.default in action.choices, name
            assert run_cli(name, "--help")[0] == 0
            out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
            assert f"--format {{{','.join(action.choices)}}} output format (default: " \
                f"{action.default})" in out, (name, out)
            checked += 1
    assert checked >= 3


@pytest.mark.parametrize(
    ("argv", "usage", "message"),
    [
        (["lint", "--formt", "json", "x.json"], "usage: py-aws-oidc trust lint ",
         "py-aws-oidc trust lint: error: unrecognized argument '--formt'; "
         "did you mean '--format'?"),
        (["generate", "--repo", "o/r", "--brnach", "main"], "usage: py-aws-oidc trust generate ",
         "py-aws-oidc trust generate: error: unrecognized argument '--brnach'; "
         "did you mean '--branch'?"),
        (["check", "p.json", "--clams=c.json"], "usage: py-aws-oidc trust check ",
         "did you mean '--claims'?"),
        (["--formt"], "usage: py-aws-oidc trust [-h]",
         "py-aws-oidc trust: error: unrecognized argument '--formt'"),
        (["lint", "--skip", "x.json", "--format=jsn"], "usage: py-aws-oidc trust lint ",
         "argument --format: invalid choice: 'jsn'"),
        (["generate", "--repo", "o/r", "stray"], "usage: py-aws-oidc trust generate ",
         "py-aws-oidc trust generate: error: unrecognized arguments: 'stray'"),
    ],
)
def test_a_misspelled_flag_gets_its_commands_usage_and_the_closest_flag(
    capsys: pytest.CaptureFixture[str], argv: list[str], usage: str, message: str
) -> None:
    assert run_cli(*argv)[0] == 2
    err = capsys.readouterr().err
    assert err.startswith(usage), err
    assert message in err.splitlines()[-1], err


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("lnit", "unknown command 'lnit'; did you mean 'lint'?"),
        ("chekc", "unknown command 'chekc'; did you mean 'check'?"),
        ("generat", "unknown command 'generat'; did you mean 'generate'?"),
        ("frobnicate", "unknown command 'frobnicate'"),
    ],
)
def test_a_misspelled_command_names_the_closest_one(
    capsys: pytest.CaptureFixture[str], word: str, message: str
) -> None:
    assert run_cli(word, "x.json")[0] == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert last == f"py-aws-oidc trust: error: {message}", last
    assert "invalid choice" not in last and "[" not in last


@pytest.mark.parametrize(
    ("argv", "last"),
    [
        (["trsut", "lint"], "py-aws-oidc: unknown command 'trsut'; did you mean 'trust'?"),
        (["psot"], "py-aws-oidc: unknown command 'psot'; did you mean 'post'?"),
        (["--verison"], "py-aws-oidc: unknown option '--verison'; did you mean '--version'?"),
        (["post", "now"], "py-aws-oidc: 'post' takes no arguments (got 'now')"),
        (["deploy"], "py-aws-oidc: unknown command 'deploy'"),
        (["##[stop-commands]x"], "py-aws-oidc: unknown command '##\\[stop-commands]x'"),
    ],
)
def test_the_top_level_command_names_the_closest_command_never_a_list(
    capsys: pytest.CaptureFixture[str], argv: list[str], last: str
) -> None:
    from py_aws_oidc.cli import main as top_main

    assert top_main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: py-aws-oidc ")
    assert err.splitlines()[-1] == last


def test_terraform_without_the_trust_extra_is_one_line_naming_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The action's image ships without python-hcl2 (issue 20): a .tf file is exit 2 with one
    line that says how to get the parser; JSON policies still lint."""
    monkeypatch.setitem(sys.modules, "hcl2", None)  # import hcl2 -> ImportError
    tf = tmp_path / "main.tf"
    tf.write_text('data "aws_iam_policy_document" "trust" {\n}\n', encoding="utf-8")
    code, out, err = run_cli("lint", str(tf))
    assert code == 2, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "pip install 'py-aws-oidc[trust]'" in lines[0] and str(tf) in lines[0]
    good = write_json(tmp_path / "p.json", GOOD)
    assert run_cli("lint", str(good))[0] == 0
