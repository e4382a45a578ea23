"""Tests of the test harness itself: the runner's parsers, the local servers, the leak check.

Each of these can fail: the parsers are fed hand-written runner-format text (good and
malformed), the servers are driven over real HTTP (boto3 for STS), and the leak checker is run on
fabricated results with planted leaks.
"""

from __future__ import annotations

import functools
import socket
import sys
import time
from pathlib import Path
from typing import Any

import botocore.exceptions
import jwt
import pytest
import requests

from localdev.forward_proxy import ForwardProxy
from localdev.oidc_issuer import OidcIssuer, derive_sub
from localdev.runner_files import (
    FileCommandError,
    check_env_entries,
    mask_values,
    parse_commands,
    parse_env_file,
    parse_file_commands,
    split_lines,
    unescape_data,
)
from localdev.sts_faults import (
    MSG_CHAINING,
    MSG_MAX_SESSION,
    MSG_PACKED,
    StsFaultProxy,
)
from py_aws_oidc.runner import format_file_command, input_env_name
from tests.support.action_yml import declared_inputs, input_environment
from tests.support.harness import (
    ActionResult,
    ActionTimeout,
    collect_files,
    make_runner_paths,
    make_sts_client,
)
from tests.support.leakcheck import Secret, find_leaks

ROLE = "arn:aws:iam::111122223333:role/gha-entry"
TARGET = "arn:aws:iam::444455556666:role/target"


def client_error_code(exc: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def client_error_message(exc: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> str:
    return str(exc.value.response["Error"]["Message"])


# =================================================================================================
# runner file commands (FileCommandManager.cs)
# =================================================================================================


def test_simple_lines_blank_lines_and_last_wins(tmp_path: Path) -> None:
    text = "A=1\n\nB=x=y\nA=2\n"
    assert parse_file_commands(text) == [("A", "1"), ("B", "x=y"), ("A", "2")]
    path = tmp_path / "env"
    path.write_text(text)
    assert parse_env_file(path) == {"A": "2", "B": "x=y"}


def test_heredoc_values_span_lines_and_end_at_the_exact_delimiter() -> None:
    text = (
        "MULTI<<EOF\nline one\nEOF not yet\n EOF\nline=four<<x\nEOF\n"
        "EMPTY<<END\nEND\n"
        "BLANKLINE<<D\n\nD\n"
    )
    assert parse_file_commands(text) == [
        ("MULTI", "line one\nEOF not yet\n EOF\nline=four<<x"),
        ("EMPTY", ""),
        ("BLANKLINE", ""),
    ]


def test_whichever_of_equals_and_heredoc_comes_first_decides() -> None:
    assert parse_file_commands("A=b<<C\n") == [("A", "b<<C")]
    assert parse_file_commands("A<<EOF=x\nv\nEOF=x\n") == [("A", "v")]


def test_cr_is_part_of_the_value_on_linux() -> None:
    assert parse_file_commands("A=b\r\n") == [("A", "b\r")]
    # A CRLF heredoc header makes "EOF\r" the delimiter; a bare "EOF" line does not end it.
    with pytest.raises(FileCommandError, match="Matching delimiter not found"):
        parse_file_commands("A<<EOF\r\nv\nEOF\n")


def test_the_actions_own_writer_round_trips() -> None:
    entries = [("AWS_REGION", "us-east-1"), ("X", "a\nEOF\nB=c\n"), ("E", "")]
    text = "".join(format_file_command(n, v) for n, v in entries)
    assert parse_file_commands(text) == entries


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("=value\n", "Name must not be empty"),
        ("<<EOF\nv\nEOF\n", "Name must not be empty and delimiter must not be empty"),
        ("NAME<<\nv\n\n", "Name must not be empty and delimiter must not be empty"),
        ("NAME<<EOF\nvalue\n", "Matching delimiter not found 'EOF'"),
        ("NAME<<EOF\nvalue", "EOF marker missing new line"),
        ("JUST TEXT\n", "Invalid format 'JUST TEXT'"),
        ("A=1", "does not end with a newline"),
    ],
)
def test_malformed_files_raise_like_the_runner(text: str, message: str) -> None:
    with pytest.raises(FileCommandError, match=message):
        parse_file_commands(text)


def test_runner_exact_mode_accepts_a_missing_final_newline() -> None:
    assert parse_file_commands("A=1", strict=False) == [("A", "1")]
    assert parse_file_commands("A<<EOF\nv\nEOF", strict=False) == [("A", "v")]


def test_env_file_reading_drops_a_bom_and_refuses_node_options(tmp_path: Path) -> None:
    path = tmp_path / "env"
    path.write_bytes(b"\xef\xbb\xbfA=1\n")
    assert parse_env_file(path) == {"A": "1"}
    assert parse_env_file(tmp_path / "absent") == {}
    with pytest.raises(FileCommandError, match="NODE_OPTIONS"):
        check_env_entries([("NODE_OPTIONS", "--require x")])


# =================================================================================================
# workflow commands (ActionCommand.TryParseV2)
# =================================================================================================


def test_command_name_props_and_unescaping() -> None:
    out = "::error title=Bad%3A input%2C really,file=a.py::line one%0Aline two 100%25\n"
    [cmd] = parse_commands(out)
    assert cmd.name == "error"
    assert cmd.props == {"title": "Bad: input, really", "file": "a.py"}
    assert cmd.data == "line one\nline two 100%"


def test_unescape_order_matches_the_runner() -> None:
    # %25 is unescaped last, so an escaped "%0A" stays literal.
    assert unescape_data("%250A") == "%0A"
    assert unescape_data("a%0D%0Ab") == "a\r\nb"


def test_what_is_and_is_not_a_command() -> None:
    out = "\n".join([
        "   ::warning::leading spaces are trimmed",
        "text ::error::not at the start",
        "::unknown-command::plain output",
        "::error no closing separator",
        "::add-mask::",
        "::add-mask::   ",
        "::notice::ok",
    ])
    commands = parse_commands(out)
    assert [(c.name, c.data) for c in commands] == [
        ("warning", "leading spaces are trimmed"),
        ("add-mask", ""),
        ("add-mask", "   "),
        ("notice", "ok"),
    ]
    assert [c.line_no for c in commands] == [0, 4, 5, 6]


def test_stop_commands_suspends_processing_until_its_token() -> None:
    out = "::stop-commands::tok123\n::add-mask::hidden\n::error::ignored\n::tok123::\n::error::seen\n"
    commands = parse_commands(out)
    # The stop and the resume are listed (the runner acts on them); nothing in between is.
    assert [(c.name, c.data) for c in commands] == [
        ("stop-commands", "tok123"), ("tok123", ""), ("error", "seen")]


# The runner's own cases (actions/runner src/Test/L0/Worker/ActionCommandManagerL0.cs and
# ActionCommandL0.cs), through our port.
def test_legacy_form_anywhere_in_a_line() -> None:
    out = "\n".join([
        "text before ##[error]legacy error%5D%3B%0Anext",
        "##[warning file=a.py;line=3]w",
        "##[unknown]plain text",
        "##[unknown]then ##[error]a later prefix does not count",
        "##[error no closing bracket",
        "::notice::v2 wins ##[stop-commands]not-a-stop",
        "::unknown:: a failed v2 line is tried as legacy ##[error]e2",
        "##[ADD-MASK]case-insensitive",
    ])
    commands = parse_commands(out)
    assert [(c.name, c.data, c.legacy, c.line_no) for c in commands] == [
        ("error", "legacy error];\nnext", True, 0),
        ("warning", "w", True, 1),
        ("notice", "v2 wins ##[stop-commands]not-a-stop", False, 5),
        ("error", "e2", True, 6),
        ("ADD-MASK", "case-insensitive", True, 7),
    ]
    assert commands[1].props == {"file": "a.py", "line": "3"}
    assert commands[4].key == "add-mask"
    assert mask_values(commands) == ["case-insensitive"]


def test_stop_and_resume_in_either_form_and_any_case() -> None:
    out = "\n".join([
        "x ##[stop-commands]stopToken",
        "##[set-env name=foo]bar",
        "::add-mask::not applied",
        "::STOPTOKEN::",
        "::error::seen",
        "::Stop-Commands::t2",
        "::add-mask::not applied either",
        "text ##[T2]",
        "::add-mask::applied",
    ])
    commands = parse_commands(out)
    assert [(c.key, c.data) for c in commands] == [
        ("stop-commands", "stopToken"), ("STOPTOKEN", ""), ("error", "seen"),
        ("stop-commands", "t2"), ("T2", ""), ("add-mask", "applied")]
    assert mask_values(commands) == ["applied"]


def test_an_invalid_stop_token_does_not_stop() -> None:
    # The runner refuses a registered name, an empty token or pause-logging (the step fails).
    for token in ("add-mask", "", "PAUSE-LOGGING"):
        commands = parse_commands(f"::stop-commands::{token}\n::add-mask::still applied\n")
        assert mask_values(commands) == ["still applied"], token


def test_lines_split_like_the_runner_reads_them() -> None:
    assert split_lines("a\r\nb\rc\nd\n") == ["a", "b", "c", "d"]


# =================================================================================================
# action.yml defaults
# =================================================================================================


def test_every_declared_input_gets_an_env_var_and_given_ones_win() -> None:
    env = input_environment({"role-to-assume": "arn:x", "audience": None, "extra": "1"})
    assert set(env) >= {input_env_name(n) for n in declared_inputs()}
    assert env["INPUT_ROLE-TO-ASSUME"] == "arn:x"
    assert env["INPUT_AUDIENCE"] == ""  # omitted: the declared default (none -> "")
    assert env["INPUT_EXTRA"] == "1"


# =================================================================================================
# the OIDC issuer
# =================================================================================================


def get_token(issuer: OidcIssuer, audience: str | None = "sts.amazonaws.com",
              auth: str | None = None, timeout: float = 5) -> requests.Response:
    url = issuer.token_url + (f"&audience={audience}" if audience is not None else "")
    headers = {"Authorization": auth if auth is not None else f"Bearer {issuer.request_token}"}
    return requests.get(url, headers=headers, timeout=timeout)


def test_token_endpoint_requires_the_bearer_request_token(oidc_issuer: OidcIssuer) -> None:
    assert requests.get(oidc_issuer.token_url, timeout=5).status_code == 401
    assert get_token(oidc_issuer, auth="Bearer wrong").status_code == 401
    assert get_token(oidc_issuer, auth=f"Basic {oidc_issuer.request_token}").status_code == 401
    resp = get_token(oidc_issuer, auth=f"bEaReR {oidc_issuer.request_token}")
    assert resp.status_code == 200
    body = resp.json()
    assert body["count"] == 1
    assert body["value"] in oidc_issuer.minted
    [*_, last] = oidc_issuer.token_requests
    assert last.query["api-version"] == "2.0"
    assert last.authorization == f"bEaReR {oidc_issuer.request_token}"


def test_token_is_rs256_verifiable_with_the_served_jwks(oidc_issuer: OidcIssuer) -> None:
    token = get_token(oidc_issuer, audience="api://custom").json()["value"]
    discovery = requests.get(f"{oidc_issuer.url}/.well-known/openid-configuration",
                             timeout=5).json()
    assert discovery["issuer"] == oidc_issuer.url
    jwks = requests.get(discovery["jwks_uri"], timeout=5).json()
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    [key] = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"],
                        audience="api://custom")
    assert claims["aud"] == "api://custom"
    assert claims["iss"] == "https://token.actions.githubusercontent.com"
    assert claims["exp"] - claims["iat"] == 300
    assert claims["sub"] == "repo:octo-org/octo-repo:ref:refs/heads/main"
    for name in ("actor", "run_id", "repository_id", "ref_protected", "job_workflow_ref",
                 "runner_environment", "workflow_sha", "base_ref"):
        assert isinstance(claims[name], str), name
    assert "environment" not in claims
    assert oidc_issuer.verify(token, "api://custom")["jti"] == claims["jti"]


def test_default_audience_is_the_owner_url(oidc_issuer: OidcIssuer) -> None:
    token = get_token(oidc_issuer, audience=None).json()["value"]
    assert jwt.decode(token, options={"verify_signature": False})["aud"] == (
        "https://github.com/octo-org"
    )


def test_claim_overrides_and_derived_subjects(oidc_issuer: OidcIssuer) -> None:
    oidc_issuer.claims["environment"] = "prod:eu"
    oidc_issuer.claims["actor_id"] = None
    claims = oidc_issuer.verify(oidc_issuer.mint(), "sts.amazonaws.com")
    assert claims["sub"] == "repo:octo-org/octo-repo:environment:prod%3Aeu"
    assert claims["environment"] == "prod:eu"
    assert "actor_id" not in claims
    assert derive_sub({"repository": "o/r", "event_name": "pull_request"}) == (
        "repo:o/r:pull_request"
    )
    oidc_issuer.claims = {"sub": "custom", "repo_property_team": "infra"}
    claims = oidc_issuer.verify(oidc_issuer.mint(event_name="pull_request"), "sts.amazonaws.com")
    assert claims["sub"] == "custom"
    assert claims["repo_property_team"] == "infra"


def test_fault_queue_applies_in_order(oidc_issuer: OidcIssuer) -> None:
    oidc_issuer.queue_faults([503, "non-json", "no-value", ("expired",), 429])
    first = get_token(oidc_issuer)
    assert first.status_code == 503
    second = get_token(oidc_issuer)
    assert second.status_code == 200
    assert second.headers["Content-Type"].startswith("text/html")
    assert get_token(oidc_issuer).json() == {"count": 1}
    expired = get_token(oidc_issuer).json()["value"]
    with pytest.raises(jwt.ExpiredSignatureError):
        oidc_issuer.verify(expired, "sts.amazonaws.com")
    assert get_token(oidc_issuer).status_code == 429
    assert get_token(oidc_issuer).status_code == 200
    assert oidc_issuer.pending_faults == 0


def test_stall_fault_and_latency(oidc_issuer: OidcIssuer) -> None:
    oidc_issuer.queue_faults([("stall", 2.0)])
    with pytest.raises(requests.exceptions.ReadTimeout):
        get_token(oidc_issuer, timeout=0.3)
    oidc_issuer.latency_s = 0.3
    start = time.monotonic()
    assert get_token(oidc_issuer).status_code == 200
    assert time.monotonic() - start >= 0.3


def test_reset_clears_claims_faults_and_records(oidc_issuer: OidcIssuer) -> None:
    oidc_issuer.claims["actor"] = "mallory"
    oidc_issuer.queue_faults([500])
    oidc_issuer.lifetime_s = 5
    oidc_issuer.mint()
    oidc_issuer.reset()
    assert (oidc_issuer.claims, oidc_issuer.pending_faults, oidc_issuer.minted) == ({}, 0, [])
    assert oidc_issuer.lifetime_s == 300


# =================================================================================================
# the STS fault layer, driven by boto3 over HTTP
# =================================================================================================


@functools.cache
def _client(url: str, unsigned: bool) -> Any:
    return make_sts_client(url, unsigned=unsigned)


def signed_client(sts: StsFaultProxy) -> Any:
    """A (cached) client with fake long-term keys; creating boto3 clients is slow."""
    return _client(sts.url, False)


def web_identity(sts: StsFaultProxy, token: str, **kwargs: Any) -> dict[str, Any]:
    client = _client(sts.url, True)
    result: dict[str, Any] = client.assume_role_with_web_identity(
        RoleArn=kwargs.pop("RoleArn", ROLE), RoleSessionName=kwargs.pop("RoleSessionName", "s1"),
        WebIdentityToken=token, **kwargs)
    return result


def test_unsigned_web_identity_gets_moto_credentials(sts: StsFaultProxy,
                                                     oidc_issuer: OidcIssuer) -> None:
    resp = web_identity(sts, oidc_issuer.mint())
    creds = resp["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert resp["AssumedRoleUser"]["Arn"] == "arn:aws:sts::111122223333:assumed-role/gha-entry/s1"
    # What real STS returns and moto leaves out, added from the verified token:
    assert resp["SubjectFromWebIdentityToken"] == "repo:octo-org/octo-repo:ref:refs/heads/main"
    assert resp["Audience"] == "sts.amazonaws.com"
    [call] = sts.calls_for("AssumeRoleWithWebIdentity")
    assert (call.signed, call.access_key_id, call.session_token_header) == (False, None, False)
    assert call.status == 200
    assert call.role_session_name == "s1"
    assert {creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]} <= set(
        sts.issued_secrets
    )


def test_queued_error_is_a_botocore_client_error(sts: StsFaultProxy,
                                                 oidc_issuer: OidcIssuer) -> None:
    sts.fail_next("AssumeRole", "AccessDenied", "not for ARWWI", status=403)
    sts.fail_next(None, "Throttling", "Rate exceeded")
    token = oidc_issuer.mint()
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        web_identity(sts, token)
    assert client_error_code(exc) == "Throttling"
    assert client_error_message(exc) == "Rate exceeded"
    assert web_identity(sts, token)["Credentials"]
    assert [c.error_code for c in sts.calls] == ["Throttling", None]
    assert sts.calls[0].injected
    assert sts.pending_faults == 1  # the AssumeRole one is still queued


@pytest.mark.parametrize(("code", "status"), [("ServiceUnavailable", 503),
                                              ("InternalFailure", 500)])
def test_server_errors_carry_status_and_code(sts: StsFaultProxy, oidc_issuer: OidcIssuer,
                                             code: str, status: int) -> None:
    sts.fail_next(None, code, "try again", status=status, times=2)
    for _ in range(2):
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            web_identity(sts, oidc_issuer.mint())
        assert client_error_code(exc) == code
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert web_identity(sts, oidc_issuer.mint())


def test_throttle_fraction_is_seeded(sts: StsFaultProxy, oidc_issuer: OidcIssuer) -> None:
    sts.throttle_fraction = 1.0
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        web_identity(sts, oidc_issuer.mint())
    assert client_error_code(exc) == "Throttling"
    sts.throttle_fraction = 0.5
    outcomes = []
    for _ in range(12):
        try:
            web_identity(sts, oidc_issuer.mint())
            outcomes.append("ok")
        except botocore.exceptions.ClientError:
            outcomes.append("throttled")
    assert "ok" in outcomes
    assert "throttled" in outcomes


def test_max_session_duration_per_role_and_default(sts: StsFaultProxy,
                                                   oidc_issuer: OidcIssuer) -> None:
    sts.max_session_duration[ROLE] = 7200
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        web_identity(sts, oidc_issuer.mint(), DurationSeconds=43200)
    assert client_error_code(exc) == "ValidationError"
    assert client_error_message(exc) == MSG_MAX_SESSION
    assert web_identity(sts, oidc_issuer.mint(), DurationSeconds=7200)
    sts.default_max_session_duration = 3600
    other = "arn:aws:iam::111122223333:role/other"
    with pytest.raises(botocore.exceptions.ClientError):
        web_identity(sts, oidc_issuer.mint(), RoleArn=other, DurationSeconds=3601)
    assert web_identity(sts, oidc_issuer.mint(), RoleArn=other)  # absent = 3600


def test_role_chaining_is_capped_at_one_hour(sts: StsFaultProxy,
                                             oidc_issuer: OidcIssuer) -> None:
    creds = web_identity(sts, oidc_issuer.mint())["Credentials"]
    chained = make_sts_client(sts.url, credentials=creds)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        chained.assume_role(RoleArn=TARGET, RoleSessionName="hop2", DurationSeconds=7200)
    assert client_error_message(exc) == MSG_CHAINING
    assert chained.assume_role(RoleArn=TARGET, RoleSessionName="hop2", DurationSeconds=3600)
    call = sts.calls_for("AssumeRole")[-1]
    assert call.signed
    assert call.session_token_header
    assert call.access_key_id == creds["AccessKeyId"]
    # Long-term keys are not chaining.
    static = signed_client(sts)
    assert static.assume_role(RoleArn=TARGET, RoleSessionName="keys", DurationSeconds=7200)


def test_packed_policy_limit_and_tag_records(sts: StsFaultProxy) -> None:
    client = signed_client(sts)
    sts.packed_policy_max_tags = 2
    tags = [{"Key": f"K{i}", "Value": f"v{i}"} for i in range(3)]
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        client.assume_role(RoleArn=TARGET, RoleSessionName="tagged", Tags=tags,
                           TransitiveTagKeys=["K0"])
    assert client_error_code(exc) == "PackedPolicyTooLarge"
    assert client_error_message(exc) == MSG_PACKED
    call = sts.calls_for("AssumeRole")[-1]
    assert call.tags == {"K0": "v0", "K1": "v1", "K2": "v2"}
    assert call.transitive_tag_keys == ["K0"]
    assert client.assume_role(RoleArn=TARGET, RoleSessionName="tagged", Tags=tags[:2])


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"RoleSessionName": "dependabot[bot]"},
         "at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular "
         "expression pattern: [\\w+=,.@-]*"),
        ({"RoleSessionName": "x" * 65}, "Member must have length less than or equal to 64"),
        ({"DurationSeconds": 50000}, "Member must have value less than or equal to 43200"),
        ({"Tags": [{"Key": f"k{i}", "Value": "v"} for i in range(51)]},
         "at 'tags' failed to satisfy constraint"),
        ({"Tags": [{"Key": "Repo", "Value": "a"}, {"Key": "repo", "Value": "b"}]},
         "Duplicate tag keys"),
        ({"ExternalId": "bad id!"}, "at 'externalId'"),
    ],
)
def test_validation_moto_lacks(sts: StsFaultProxy, kwargs: dict[str, Any], fragment: str) -> None:
    client = signed_client(sts)
    params: dict[str, Any] = {"RoleArn": TARGET, "RoleSessionName": "ok-name", **kwargs}
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        client.assume_role(**params)
    assert fragment in client_error_message(exc)
    assert client_error_code(exc) in ("ValidationError", "InvalidParameterValue")


def test_web_identity_with_tags_is_refused(sts: StsFaultProxy, oidc_issuer: OidcIssuer) -> None:
    # botocore cannot even send this (no Tags member), so post the form by hand.
    body = {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": ROLE,
            "RoleSessionName": "s", "WebIdentityToken": oidc_issuer.mint(),
            "Tags.member.1.Key": "a", "Tags.member.1.Value": "b"}
    resp = requests.post(sts.url + "/", data=body, timeout=5)
    assert resp.status_code == 400
    assert "<Code>ValidationError</Code>" in resp.text
    assert sts.calls[-1].tags == {"a": "b"}


def test_token_verification(sts: StsFaultProxy, oidc_issuer: OidcIssuer) -> None:
    cases = [
        (oidc_issuer.mint(expired=True), "ExpiredTokenException", "Token expired: current date/time"),
        (oidc_issuer.mint(audience="api://other"), "InvalidIdentityToken",
         "Incorrect token audience"),
        (OidcIssuer().mint(), "InvalidIdentityToken", "could not be validated"),  # foreign key
        (oidc_issuer.mint(iss="https://evil.example"), "InvalidIdentityToken",
         "No OpenIDConnect provider found in your account for https://evil.example"),
        ("not-a-jwt", "InvalidIdentityToken", "could not be validated"),
    ]
    for token, code, message in cases:
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            web_identity(sts, token)
        assert client_error_code(exc) == code
        assert message in client_error_message(exc)
    sts.allowed_audiences.add("api://other")
    assert web_identity(sts, oidc_issuer.mint(audience="api://other"))


def test_trust_callable_denies_with_access_denied(sts: StsFaultProxy,
                                                  oidc_issuer: OidcIssuer) -> None:
    sts.trust = lambda claims: claims.get("ref") == "refs/heads/main"
    assert web_identity(sts, oidc_issuer.mint())
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        web_identity(sts, oidc_issuer.mint(ref="refs/heads/feature"))
    assert client_error_code(exc) == "AccessDenied"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert client_error_message(exc) == "Not authorized to perform sts:AssumeRoleWithWebIdentity"


def test_stall_with_a_short_read_timeout_then_recovery(sts: StsFaultProxy) -> None:
    sts.stall_next(1, 1.5)
    client = make_sts_client(sts.url, read_timeout=0.3)
    start = time.monotonic()
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        client.get_caller_identity()
    assert time.monotonic() - start < 1.2
    assert client.get_caller_identity()["Account"]


def test_disconnect_and_raw_html_faults(sts: StsFaultProxy) -> None:
    client = signed_client(sts)
    sts.disconnect_next()
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        client.get_caller_identity()
    sts.respond_next("GetCallerIdentity", 502, "<html>Bad Gateway</html>")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        client.get_caller_identity()
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 502
    identity = client.get_caller_identity()
    assert sts.calls[-1].response["Account"] == identity["Account"]


def test_reset_clears_records_and_rules(sts: StsFaultProxy) -> None:
    sts.fail_next(None, "Throttling", "Rate exceeded", times=5)
    with pytest.raises(botocore.exceptions.ClientError):
        signed_client(sts).get_caller_identity()
    sts.max_session_duration["x"] = 3600
    sts.trust = lambda claims: False
    sts.stall_s = 5
    sts.reset()
    assert sts.calls == []
    assert sts.pending_faults == 0
    assert sts.max_session_duration == {}
    assert sts.trust is None
    assert sts.stall_s == 0
    assert sts.verify_tokens is not None  # the constructor's default comes back


# =================================================================================================
# the forward proxy
# =================================================================================================


def test_forward_proxy_records_what_goes_through(forward_proxy: ForwardProxy,
                                                 oidc_issuer: OidcIssuer,
                                                 sts: StsFaultProxy) -> None:
    proxies = {"http": forward_proxy.url, "https": forward_proxy.url}
    resp = requests.get(oidc_issuer.token_url, proxies=proxies, timeout=5,
                        headers={"Authorization": f"Bearer {oidc_issuer.request_token}"})
    assert resp.status_code == 200
    assert resp.json()["value"]
    # boto3 through the proxy (absolute-URI POST), then a direct call that bypasses it.
    client = make_sts_client(sts.url, proxies={"http": forward_proxy.url})
    assert client.get_caller_identity()["Account"]
    signed_client(sts).get_caller_identity()
    assert forward_proxy.urls() == [("GET", oidc_issuer.token_url),
                                    ("POST", sts.url + "/")]
    assert forward_proxy.went_through(f":{sts.port}")


def test_forward_proxy_tunnels_connect(forward_proxy: ForwardProxy,
                                       oidc_issuer: OidcIssuer) -> None:
    target = f"127.0.0.1:{oidc_issuer.port}"
    with socket.create_connection(("127.0.0.1", forward_proxy.port), timeout=5) as sock:
        sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        assert sock.recv(4096).startswith(b"HTTP/1.0 200")
        sock.sendall(b"GET /.well-known/jwks HTTP/1.0\r\nHost: x\r\n\r\n")
        data = b""
        for _ in range(100):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    assert b'"keys"' in data
    assert forward_proxy.urls() == [("CONNECT", target)]


# =================================================================================================
# the leak check, on fabricated results
# =================================================================================================

JWT_SECRET = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXBhcnQ"
KEY_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRET"


def fabricate(tmp_path: Path, stdout: str, *, stderr: str = "", env_file: str = "",
              output_file: str = "", summary: str = "", returncode: int = 0) -> ActionResult:
    paths = make_runner_paths(tmp_path / "fab")
    paths.env_file.write_text(env_file)
    paths.output_file.write_text(output_file)
    paths.summary_file.write_text(summary)
    result = ActionResult(argv=[], inputs={}, environ={}, paths=paths, returncode=returncode,
                          stdout=stdout, stderr=stderr, duration_s=0.1)
    return collect_files(result)


SECRETS = [Secret("oidc-jwt", JWT_SECRET), Secret("sts-secret-access-key", KEY_SECRET)]


def test_clean_result_passes(tmp_path: Path) -> None:
    result = fabricate(
        tmp_path,
        f"::add-mask::{JWT_SECRET}\n::add-mask::{KEY_SECRET}\nAssumed the role\n",
        env_file=format_file_command("AWS_SECRET_ACCESS_KEY", KEY_SECRET),
    )
    assert find_leaks(result, SECRETS) == []


def test_planted_leaks_are_reported_by_kind_and_place_without_the_secret(tmp_path: Path) -> None:
    result = fabricate(
        tmp_path,
        f"token is {JWT_SECRET}\n::add-mask::{JWT_SECRET}\n::debug::{KEY_SECRET}\n",
        stderr=f"boom {KEY_SECRET}\n",
        summary=f"| key | {KEY_SECRET} |\n",
        env_file=format_file_command("AWS_SECRET_ACCESS_KEY", KEY_SECRET),
    )
    problems = find_leaks(result, SECRETS)
    text = "\n".join(problems)
    assert "oidc-jwt leaked on stdout line 1 (before any ::add-mask:: of it)" in text
    assert "sts-secret-access-key leaked on stdout line 3" in text
    assert "sts-secret-access-key leaked on stderr line 1" in text
    assert "sts-secret-access-key leaked into the job summary" in text
    assert "sts-secret-access-key written to GITHUB_ENV AWS_SECRET_ACCESS_KEY without" in text
    assert JWT_SECRET not in text
    assert KEY_SECRET not in text
    assert "<oidc-jwt>" in text  # the offending line, redacted


def test_a_mask_inside_stop_commands_does_not_count(tmp_path: Path) -> None:
    result = fabricate(
        tmp_path,
        f"::stop-commands::t1\n::add-mask::{KEY_SECRET}\n::t1::\n",
        output_file=format_file_command("aws-secret-access-key", KEY_SECRET),
    )
    problems = find_leaks(result, SECRETS)
    assert any("stdout line 2" in p for p in problems)
    assert any("GITHUB_OUTPUT aws-secret-access-key" in p for p in problems)


def test_a_smuggled_legacy_stop_makes_the_later_masks_leak(tmp_path: Path) -> None:
    # As on the runner: the mask after a "##[stop-commands]" is printed, not applied.
    result = fabricate(
        tmp_path,
        f"Assuming role arn:aws:iam::111122223333:role/##[stop-commands]tok1234/x\n"
        f"::add-mask::{KEY_SECRET}\n",
        output_file=format_file_command("aws-secret-access-key", KEY_SECRET),
    )
    problems = "\n".join(find_leaks(result, SECRETS))
    assert "sts-secret-access-key leaked on stdout line 2" in problems
    assert "stdout line 1: the runner would execute a ##[...] command 'stop-commands'" in problems
    assert "GITHUB_OUTPUT aws-secret-access-key without" in problems


@pytest.mark.parametrize("line", [
    "text ##[set-env name=A]1",  # legacy form anywhere
    "##[ADD-MASK]arn",  # any case; an add-mask of a non-secret
    "::set-output name=x::1",  # a command the action never writes
    "  ::warning::indented",  # we write commands at column 0 only
    "::Warning::other case",
    "::error file=a.py::props we never write",
    "x ##[unknown]an unescaped legacy prefix",
])
def test_any_command_the_action_does_not_write_fails(tmp_path: Path, line: str) -> None:
    problems = find_leaks(fabricate(tmp_path, f"::add-mask::{JWT_SECRET}\n{line}\n"), SECRETS)
    assert any("stdout line 2" in p for p in problems), problems
    assert JWT_SECRET not in "".join(problems)


def test_a_command_on_stderr_fails(tmp_path: Path) -> None:
    problems = find_leaks(fabricate(tmp_path, "", stderr="warn ##[error]x\n"), SECRETS)
    assert problems == ["stderr line 1: the runner would execute the command 'error' (the runner "
                        "reads stderr too)"]


def test_the_commands_the_action_writes_pass(tmp_path: Path) -> None:
    result = fabricate(tmp_path, "".join([
        f"::add-mask::{JWT_SECRET}\n", f"::add-mask::{KEY_SECRET}\n",
        "::add-mask::a-secret-with-##[stop-commands]-inside\n",  # a mask stays exact
        "::group::Assume\n", "::debug::d\n", "::notice title=T::n ##\\[stop-commands]x\n",
        "::warning::w\n", "::endgroup::\n", "plain ##\\[stop-commands]x\n",
        "\\::set-env name=A::1\n",
    ]))
    assert find_leaks(result, [*SECRETS, Secret("declared", "a-secret-with-##[stop-commands]-inside")]) == []


def test_failure_shape_and_tracebacks(tmp_path: Path) -> None:
    bad = fabricate(
        tmp_path,
        "::error::one\n::error::two\n",
        stderr="Traceback (most recent call last):\n  File x\n",
        env_file="AWS_REGION=us-east-1\n",
        returncode=1,
    )
    problems = find_leaks(bad, SECRETS)
    assert "a Python traceback on stderr" in problems
    assert "the failed step wrote to GITHUB_ENV (it must leave it empty)" in problems
    assert any("printed 2 ::error:: commands" in p for p in problems)
    good = fabricate(tmp_path / "2", "::error::Missing aws-region\n", returncode=1)
    assert find_leaks(good, SECRETS) == []


def test_run_action_registers_for_the_leak_check(run_action: Any, secrets: Any) -> None:
    """A run that fails validation (no region): the leak check demands one ::error:: and no
    file writes; the request token must not be printed."""
    secrets.add("declared-secret-value")
    result = run_action({"aws-region": ""}, oidc=True)
    assert result.returncode != 0
    assert result.environ["INPUT_AWS-REGION"] == ""
    assert result.environ["GITHUB_ACTIONS"] == "true"
    assert "HOME" in result.environ
    assert result.env == {}


def fake_action(make_harness: Any, script: str) -> Any:
    """A harness whose "action" is a Python one-liner (to test the harness, not the action)."""
    return make_harness(command=[sys.executable, "-c", script])


def test_step_environment_is_built_from_scratch(make_harness: Any, monkeypatch: Any,
                                                 oidc_issuer: OidcIssuer,
                                                 sts: StsFaultProxy) -> None:
    monkeypatch.setenv("HOST_ONLY_VARIABLE", "1")
    h = fake_action(make_harness, "pass")
    first = h.run_action({"role-to-assume": "arn:x", "sts-endpoint": None},
                         env={"GITHUB_ACTIONS": None, "EXTRA": "1"})
    env = first.environ
    assert "HOST_ONLY_VARIABLE" not in env
    assert "GITHUB_ACTIONS" not in env
    assert env["EXTRA"] == "1"
    assert env["INPUT_ROLE-TO-ASSUME"] == "arn:x"
    assert env["INPUT_STS-ENDPOINT"] == ""
    assert env["ACTIONS_ID_TOKEN_REQUEST_URL"] == oidc_issuer.token_url
    assert env["AWS_EC2_METADATA_DISABLED"] == "true"
    assert not Path(env["AWS_SHARED_CREDENTIALS_FILE"]).exists()
    for name in ("GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_STEP_SUMMARY"):
        assert Path(env[name]).read_bytes() == b""
    second = h.run_action({}, oidc=False)
    assert "ACTIONS_ID_TOKEN_REQUEST_URL" not in second.environ
    assert second.environ["INPUT_STS-ENDPOINT"] == sts.url
    # Fresh file-command files per step; HOME and RUNNER_TEMP shared by the job's steps.
    assert second.environ["GITHUB_ENV"] != env["GITHUB_ENV"]
    assert second.environ["HOME"] == env["HOME"]


def test_a_file_the_runner_would_reject_fails_the_run(make_harness: Any) -> None:
    h = fake_action(make_harness, "import os; open(os.environ['GITHUB_ENV'], 'a').write('A<<EOF\\nx\\n')")
    with pytest.raises(FileCommandError, match="Matching delimiter not found"):
        h.run_action({})


def test_a_hung_step_is_killed_and_reported(make_harness: Any) -> None:
    h = fake_action(make_harness, "import time; print('working', flush=True); time.sleep(30)")
    start = time.monotonic()
    with pytest.raises(ActionTimeout, match=r"did not finish within 0\.5s"):
        h.run_action({}, timeout=0.5)
    assert time.monotonic() - start < 5
    assert h.results[-1].timed_out
    assert h.results[-1].stdout == "working\n"


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="proves the per-test leak check fails a test whose run leaks")
def test_the_leak_check_fails_a_leaking_test(make_harness: Any) -> None:
    h = fake_action(make_harness,
                    "import os; print('token:', os.environ['ACTIONS_ID_TOKEN_REQUEST_TOKEN'])")
    result = h.run_action({})
    assert result.ok  # the body passes; only the leak check (after the test) fails it


# =================================================================================================
# smoke: the real action through the whole harness
# =================================================================================================


def test_smoke_oidc_role_assumption(run_action: Any, sts: StsFaultProxy) -> None:
    result = run_action({"aws-region": "us-east-1", "role-to-assume": ROLE})
    assert result.ok, result.explain()
    [call] = result.sts_calls
    assert call.action == "AssumeRoleWithWebIdentity"
    assert result.env["AWS_ACCESS_KEY_ID"] == call.response["AccessKeyId"]
    assert result.env["AWS_REGION"] == "us-east-1"
    assert len(result.token_requests) == 1
    assert result.token_requests[0].query["audience"] == "sts.amazonaws.com"
