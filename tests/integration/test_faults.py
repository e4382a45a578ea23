"""Issue 6 at the HTTP level: classified retries, time to fail, diagnostics, deadlines, leaks.

Faults are injected in front of moto (``sts.fail_next``, ``respond_next``, ``disconnect_next``,
``stall_next``, ``trust``) and in the token endpoint (``oidc_issuer.queue_faults``). Counts come
from the servers' records, times from the harness (process start to exit). The leak check runs on
every run (no secret outside its ``::add-mask::`` line, no traceback, one ``::error::`` and empty
GITHUB_ENV/GITHUB_OUTPUT on failure).
"""

from __future__ import annotations

import pytest

from localdev.sts_faults import MSG_AUDIENCE, MSG_JWKS, MSG_THROTTLING

REGION = "us-east-1"
ROLE = "arn:aws:iam::111122223333:role/gha-entry"
TARGET = "arn:aws:iam::444455556666:role/target"
ARWWI = "AssumeRoleWithWebIdentity"
BASE = {"aws-region": REGION, "role-to-assume": ROLE}
CLAIMS_SHOWN = ("iss", "sub", "aud", "repository", "ref", "environment", "job_workflow_ref",
                "event_name")


def arwwi_calls(result):
    return [c for c in result.sts_calls if c.action == ARWWI]


def assert_clean_failure(result) -> str:
    """Exit 1, one ::error::, nothing exported; returns the error text."""
    assert result.returncode == 1, result.explain()
    assert len(result.errors) == 1, result.errors
    assert result.env == {} and result.outputs == {}
    assert result.raw_env_text == "" and result.raw_output_text == ""
    return result.errors[0]


def assert_success(result) -> None:
    assert result.ok, result.explain()
    final = [c for c in result.sts_calls if c.ok][-1]
    assert result.env["AWS_ACCESS_KEY_ID"] == final.response["AccessKeyId"]


# =================================================================================================
# transient failures are retried, then succeed
# =================================================================================================


@pytest.mark.parametrize(
    ("code", "message", "status"),
    [
        ("Throttling", MSG_THROTTLING, 400),
        ("IDPCommunicationError", "The request could not be fulfilled because the identity "
         "provider could not be reached.", 400),
        ("ServiceUnavailable", "Service is unavailable.", 503),
        ("InternalFailure", "An internal error occurred.", 500),
        ("InvalidIdentityToken", MSG_JWKS, 400),
    ],
    ids=["throttling", "idp-communication", "503", "500", "jwks-fetch"],
)
def test_transient_sts_errors_are_retried(run_action, sts, code: str, message: str,
                                          status: int) -> None:
    sts.fail_next(ARWWI, code, message, status=status, times=2)
    result = run_action(BASE)
    calls = arwwi_calls(result)
    assert [c.error_code for c in calls] == [code, code, None], calls
    assert_success(result)
    # Two retries with the small full-jitter backoff (ceilings 0.2 s + 0.4 s).
    assert result.duration_s < 8, result.duration_s
    assert result.stdout.count(f"Retry {ARWWI}: attempt") == 2
    assert len(result.token_requests) == 1  # the same token is reused


def test_token_endpoint_503_and_429_are_retried(run_action, oidc_issuer) -> None:
    oidc_issuer.queue_faults([503, 429])
    result = run_action(BASE)
    assert len(result.token_requests) == 3
    assert len(arwwi_calls(result)) == 1
    assert_success(result)
    assert "getIDToken" in result.stdout


def test_a_dropped_connection_is_retried(run_action, sts) -> None:
    sts.disconnect_next(ARWWI)
    result = run_action(BASE)
    calls = arwwi_calls(result)
    assert [c.error_code for c in calls] == ["ConnectionClosed", None]
    assert_success(result)


def test_expired_token_fetches_a_new_one_before_retrying(run_action, sts) -> None:
    sts.fail_next(ARWWI, "ExpiredTokenException",
                  "Token expired: current date/time 1 must be before the expiration date/time 0")
    result = run_action(BASE)
    calls = arwwi_calls(result)
    assert [c.error_code for c in calls] == ["ExpiredTokenException", None]
    assert len(result.token_requests) == 2
    assert calls[0].web_identity_token != calls[1].web_identity_token
    assert_success(result)


def test_an_expired_token_from_the_issuer_is_replaced(run_action, sts, oidc_issuer) -> None:
    # The issuer hands out an already-expired token; STS itself (verify_tokens) refuses it.
    assert sts.verify_tokens is oidc_issuer
    oidc_issuer.queue_faults([("expired",)])
    result = run_action(BASE)
    calls = arwwi_calls(result)
    assert [c.error_code for c in calls] == ["ExpiredTokenException", None], calls
    assert len(result.token_requests) == 2
    assert calls[0].web_identity_token == oidc_issuer.minted[0]
    assert calls[1].web_identity_token == oidc_issuer.minted[1]
    assert_success(result)


def test_an_unreadable_sts_answer_is_transient(run_action, sts) -> None:
    sts.respond_next(ARWWI, 200, "<<<not xml", "text/xml")
    result = run_action(BASE)
    assert len(arwwi_calls(result)) == 2
    assert_success(result)


# =================================================================================================
# permanent failures fail at once
# =================================================================================================


def report(capsys: pytest.CaptureFixture[str], what: str, seconds: float) -> None:
    """One figure for docs/reliability.md ("Measured") (shown with ``-s``)."""
    with capsys.disabled():
        print(f"\ntime to fail, {what}: {seconds:.2f} s (process start to exit)")


def test_time_to_fail_missing_token_permission(run_action, capsys) -> None:
    result = run_action(BASE, oidc=False)
    error = assert_clean_failure(result)
    assert "id-token: write" in error and "fork" in error
    assert result.sts_calls == [] and result.token_requests == []
    assert result.duration_s < 2, result.duration_s
    report(capsys, "missing id-token permission", result.duration_s)


def test_time_to_fail_access_denied_prints_claims_and_hint(run_action, sts, oidc_issuer,
                                                          capsys) -> None:
    oidc_issuer.claims = {"environment": "production"}
    sts.trust = lambda claims: claims.get("sub") == "repo:octo-org/octo-repo:ref:refs/heads/main"
    result = run_action(BASE)
    error = assert_clean_failure(result)
    assert len(arwwi_calls(result)) == 1  # never retried
    assert result.duration_s < 3, result.duration_s
    assert "Not authorized to perform sts:AssumeRoleWithWebIdentity" in error
    claims = arwwi_calls(result)[0].token_claims or {}
    # Each claim on an ordinary log line (not ::debug::) and in the job summary.
    plain = [line for line in result.stdout.splitlines() if not line.startswith("::")]
    for name in CLAIMS_SHOWN:
        assert f"  {name}: {claims[name]}" in plain, name
        assert f'"{name}": "{claims[name]}"' in result.summary, name
    assert result.commands_named("debug") == []
    # The hint: an environment's sub never matches a branch pin.
    sub = "repo:octo-org/octo-repo:environment:production"
    assert claims["sub"] == sub
    assert any(line.startswith("Hint:") and "environment" in line and "branch pin" in line
               for line in plain)
    assert sub in error and "py-aws-oidc trust check" in error
    assert "environment 'production'" in result.summary
    report(capsys, "AccessDenied (trust policy mismatch)", result.duration_s)


def test_pull_request_denial_hint(run_action, sts, oidc_issuer) -> None:
    oidc_issuer.claims = {"event_name": "pull_request", "ref": "refs/pull/9/merge"}
    sts.trust = lambda claims: False
    result = run_action(BASE)
    error = assert_clean_failure(result)
    assert len(arwwi_calls(result)) == 1
    assert "repo:octo-org/octo-repo:pull_request" in error
    assert "pull_request" in result.summary


def test_wrong_audience_is_not_retried(run_action) -> None:
    result = run_action({**BASE, "audience": "https://github.com/octo-org"})
    error = assert_clean_failure(result)
    calls = arwwi_calls(result)
    assert [c.error_message for c in calls] == [MSG_AUDIENCE]
    assert MSG_AUDIENCE in error
    assert "aud" in result.stdout and "https://github.com/octo-org" in result.stdout
    assert result.duration_s < 3


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ValidationError", "1 validation error detected: Value 'x' at 'roleArn' failed to "
         "satisfy constraint: Member must have length greater than or equal to 20"),
        ("InvalidIdentityToken", "No OpenIDConnect provider found in your account for "
         "https://token.actions.githubusercontent.com"),
        ("MalformedPolicyDocument", "The policy is not in the valid JSON format."),
    ],
    ids=["validation", "no-provider", "malformed-policy"],
)
def test_permanent_errors_are_not_retried(run_action, sts, code: str, message: str) -> None:
    sts.fail_next(ARWWI, code, message, times=5)
    result = run_action(BASE)
    error = assert_clean_failure(result)
    assert len(arwwi_calls(result)) == 1
    assert message in error
    assert "Retry" not in result.stdout


# =================================================================================================
# attempt counting
# =================================================================================================


def test_retry_max_attempts_counts_every_request(run_action, sts) -> None:
    sts.fail_next(ARWWI, "Throttling", MSG_THROTTLING, times=10)
    result = run_action({**BASE, "retry-max-attempts": "3"})
    error = assert_clean_failure(result)
    assert len(arwwi_calls(result)) == 3
    assert "after 3 attempts" in error and "Throttling" in error
    assert result.duration_s < 6


def test_disable_retry_makes_one_request(run_action, sts) -> None:
    sts.fail_next(ARWWI, "ServiceUnavailable", "Service is unavailable.", status=503, times=10)
    result = run_action({**BASE, "disable-retry": "true"})
    error = assert_clean_failure(result)
    assert len(arwwi_calls(result)) == 1
    assert "503" in error or "ServiceUnavailable" in error


def test_token_endpoint_attempts_are_counted_too(run_action, oidc_issuer) -> None:
    oidc_issuer.queue_faults([503] * 5)
    result = run_action({**BASE, "retry-max-attempts": "2"})
    error = assert_clean_failure(result)
    assert len(result.token_requests) == 2
    assert result.sts_calls == []
    assert "HTTP 503" in error


# =================================================================================================
# deadlines
# =================================================================================================


def test_a_stalled_sts_ends_within_action_timeout(run_action, sts) -> None:
    sts.stall_next(5, 30)
    result = run_action({**BASE, "action-timeout-s": "3"}, timeout=20)
    error = assert_clean_failure(result)
    assert "timed out after 3 seconds" in error
    assert result.duration_s < 3 + 1, result.duration_s


def test_a_stalled_token_endpoint_ends_within_action_timeout(run_action, oidc_issuer) -> None:
    oidc_issuer.queue_faults([("stall", 30.0)] * 3)
    result = run_action({**BASE, "action-timeout-s": "3"}, timeout=20)
    error = assert_clean_failure(result)
    assert "timed out after 3 seconds" in error
    assert result.sts_calls == []
    assert result.duration_s < 3 + 1, result.duration_s


@pytest.mark.slow
def test_a_stall_without_action_timeout_is_cut_by_the_read_timeout(run_action, sts) -> None:
    """The per-request read timeout (15 s, ``retry.READ_TIMEOUT_S``) ends a stalled request even
    without ``action-timeout-s``; the request is then retried. (Unit tests check the configured
    timeouts directly, without waiting.)"""
    sts.stall_next(1, 60)
    result = run_action(BASE, timeout=45)
    calls = arwwi_calls(result)
    assert len(calls) == 2, calls
    assert_success(result)
    assert 15 <= result.duration_s < 25, result.duration_s
    assert "AssumeRoleWithWebIdentity timed out (ReadTimeout)" in result.stdout


# =================================================================================================
# slow and huge answers (SPEC "Hardening": a total deadline per request, a size cap, a token limit)
# =================================================================================================


@pytest.mark.slow
def test_a_trickling_sts_answer_is_cut_by_the_total_request_deadline(run_action, sts) -> None:
    """A byte a second never trips a read timeout (15 s); the 30 s total deadline per request
    ends it even without action-timeout-s, and the call is retried."""
    sts.trickle_next(ARWWI, 1.0)
    result = run_action(BASE, timeout=60)
    calls = arwwi_calls(result)
    assert len(calls) == 2, calls
    assert_success(result)
    assert 30 <= result.duration_s < 40, result.duration_s
    assert "AssumeRoleWithWebIdentity got no complete answer within 30 s" in result.stdout


@pytest.mark.slow
def test_a_trickling_token_endpoint_is_cut_by_the_total_request_deadline(
    run_action, oidc_issuer
) -> None:
    oidc_issuer.queue_faults([("trickle", 1.0)])
    result = run_action(BASE, timeout=60)
    assert_success(result)
    assert len(result.token_requests) == 2
    assert 30 <= result.duration_s < 40, result.duration_s
    assert "the OIDC token request got no complete answer within 30 s" in result.stdout


# Announced: refused from its Content-Length, unread. Unannounced (no Content-Length, the body
# ends when the connection closes): cut off once the cap is passed while reading.
ANNOUNCED = pytest.mark.parametrize("announced", [True, False], ids=["announced", "unannounced"])


@ANNOUNCED
def test_a_huge_sts_answer_is_refused_unread_and_retried(run_action, sts, announced) -> None:
    body = "<AssumeRoleWithWebIdentityResponse>" + "A" * 2_000_000 + "</AssumeRoleWithWebIdentityResponse>"
    sts.respond_next(ARWWI, 200, body, "text/xml", declare_length=announced)
    result = run_action(BASE)
    assert_success(result)
    assert len(arwwi_calls(result)) == 2
    assert "the answer is larger than 262144 bytes" in result.stdout


@ANNOUNCED
def test_a_huge_token_answer_is_refused_and_retried(run_action, oidc_issuer, announced) -> None:
    oidc_issuer.queue_faults([("huge", 3_000_000) if announced
                              else ("huge", 3_000_000, "unannounced")])
    result = run_action(BASE)
    assert_success(result)
    assert len(result.token_requests) == 2
    assert "the answer is larger than 262144 bytes" in result.stdout


def test_an_overlong_token_is_refused_before_it_is_masked_or_sent(run_action,
                                                                  oidc_issuer) -> None:
    oidc_issuer.queue_faults([("huge", 30_000)] * 3)
    result = run_action(BASE)
    error = assert_clean_failure(result)
    assert "token of 30000 characters; STS accepts at most 20000" in error
    assert len(result.token_requests) == 1 and result.sts_calls == []
    assert not any(len(mask) > 20000 for mask in result.masks)


def test_an_overlong_token_file_is_an_error_naming_the_input(run_action, sts, token_file,
                                                             workspace) -> None:
    token_file("big.jwt", content="e" * 25_000)
    result = run_action({**BASE, "web-identity-token-file": "big.jwt"}, cwd=workspace)
    error = assert_clean_failure(result)
    assert "'web-identity-token-file'" in error and "25000 characters" in error
    assert sts.calls == []


# =================================================================================================
# leaks and unexpected errors
# =================================================================================================


def test_debug_logging_cannot_leak(run_action) -> None:
    """With the runner's debug switches on, nothing (botocore's wire logging included) may print
    a token or a key; the leak check fails the test on any such line."""
    result = run_action(
        {"aws-region": REGION, "role-to-assume": f"{ROLE}\n{TARGET}", "output-credentials": "true"},
        env={"RUNNER_DEBUG": "1", "ACTIONS_STEP_DEBUG": "true"},
    )
    assert_success(result)
    assert result.stderr == ""
    assert "WebIdentityToken" not in result.stdout and "SecretAccessKey" not in result.stdout


def test_a_malformed_success_answer_is_a_clean_error(run_action, sts) -> None:
    body = (
        '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<AssumeRoleWithWebIdentityResult><Unexpected/></AssumeRoleWithWebIdentityResult>"
        "</AssumeRoleWithWebIdentityResponse>"
    )
    sts.respond_next(ARWWI, 200, body, "text/xml", times=3)
    result = run_action(BASE)
    error = assert_clean_failure(result)
    assert "Unexpected error" in error and "bug" in error
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr == ""


def test_an_unparsable_answer_with_secrets_in_it_never_prints_them(run_action, sts,
                                                                   secrets) -> None:
    """A truncated answer that holds credentials: botocore puts the body into its parser
    error, which must not reach the log (the credentials were never masked)."""
    secret = secrets.add("TruncatedSecretAccessKey/abcdefghijklmnop0123456789", "truncated")
    body = ("<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
            f"<SecretAccessKey>{secret}</SecretAccessKey><Sess")
    sts.respond_next(ARWWI, 200, body, "text/xml", times=5)
    result = run_action({**BASE, "retry-max-attempts": "2"})
    error = assert_clean_failure(result)
    assert len(arwwi_calls(result)) == 2
    assert "unreadable response" in error
    assert secret not in result.stdout


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/idtoken", "http://[::1/idtoken",
                                 "127.0.0.1/idtoken"])
def test_a_token_url_that_cannot_be_sent_fails_at_once_without_retries(run_action, url) -> None:
    """A malformed URL fails the same way every time: one clear error, no retry budget spent."""
    result = run_action(BASE, env={"ACTIONS_ID_TOKEN_REQUEST_URL": url})
    error = assert_clean_failure(result)
    assert "could not be sent" in error and "ACTIONS_ID_TOKEN_REQUEST_URL" in error
    assert "retr" not in error.lower() and result.stdout.count("Retrying") == 0
    assert result.sts_calls == [] and result.token_requests == []
    assert result.duration_s < 5, result.duration_s
