"""retry.py (backoff, attempt counting, the deadline) with a fake sleep; the classification of
STS errors (sts.classify); and the timeouts every request is configured with, checked without
waiting for a stalled server."""

from __future__ import annotations

import io
import json
import random
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from py_aws_oidc import oidc, retry, sts
from py_aws_oidc.config import load_settings
from py_aws_oidc.errors import (
    AccessDeniedError,
    ActionTimeoutError,
    DurationRefusedError,
    OidcTokenError,
    RetriesExhaustedError,
    StsError,
)
from py_aws_oidc.retry import Deadline, TransientFailure, backoff_delay, call_with_retries
from py_aws_oidc.runner import Runner, input_env_name

# =================================================================================================
# backoff
# =================================================================================================


@given(st.integers(min_value=0, max_value=200), st.integers(min_value=0, max_value=2**32))
def test_backoff_is_within_full_jitter_bounds(attempt: int, seed: int) -> None:
    delay = backoff_delay(attempt, random.Random(seed))
    ceiling = min(retry.BACKOFF_CAP_S, retry.BACKOFF_BASE_S * 2**attempt)
    assert 0 <= delay <= ceiling <= retry.BACKOFF_CAP_S


def test_backoff_is_full_jitter_not_equal_jitter() -> None:
    rng = random.Random(1)
    samples = [backoff_delay(3, rng) for _ in range(2000)]
    ceiling = retry.BACKOFF_BASE_S * 8
    assert min(samples) < 0.05 * ceiling  # reaches down to zero (equal jitter would not)
    assert max(samples) > 0.95 * ceiling
    assert 0.45 * ceiling < sum(samples) / len(samples) < 0.55 * ceiling


def test_two_retries_sleep_well_under_a_second_at_most() -> None:
    worst = sum(min(retry.BACKOFF_CAP_S, retry.BACKOFF_BASE_S * 2**n) for n in range(2))
    assert worst <= 0.6 + 1e-9


# =================================================================================================
# attempt counting
# =================================================================================================


class Flaky:
    """Fails with ``error`` for the first ``failures`` calls, then returns the attempt number."""

    def __init__(self, failures: int, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or TransientFailure("AssumeRoleWithWebIdentity: Throttling", "Throttling")
        self.attempts: list[int] = []

    def __call__(self, attempt: int) -> int:
        self.attempts.append(attempt)
        if len(self.attempts) <= self.failures:
            raise self.error
        return attempt


def run(fn: Flaky, max_attempts: int, deadline: Deadline | None = None) -> tuple[Any, list[float],
                                                                                 str]:
    sleeps: list[float] = []
    out = io.StringIO()
    result = call_with_retries(fn, label="Op", max_attempts=max_attempts,
                               deadline=deadline or Deadline(None), runner=Runner({}, out),
                               sleep=sleeps.append)
    return result, sleeps, out.getvalue()


@given(st.integers(min_value=0, max_value=15), st.integers(min_value=1, max_value=15))
def test_attempts_are_counted_exactly(failures: int, max_attempts: int) -> None:
    fn = Flaky(failures)
    if failures < max_attempts:
        result, sleeps, log = run(fn, max_attempts)
        assert result == failures
        assert fn.attempts == list(range(failures + 1))
        assert len(sleeps) == failures and log.count("Retry Op") == failures
    else:
        with pytest.raises(RetriesExhaustedError) as info:
            run(fn, max_attempts)
        assert len(fn.attempts) == max_attempts
        plural = "s" if max_attempts > 1 else ""
        assert f"failed after {max_attempts} attempt{plural}" in str(info.value)
        assert info.value.code == "Throttling"


def test_no_sleep_after_the_last_attempt() -> None:
    sleeps: list[float] = []
    with pytest.raises(RetriesExhaustedError):
        call_with_retries(Flaky(10), label="Op", max_attempts=3, deadline=Deadline(None),
                          runner=Runner({}, io.StringIO()), sleep=sleeps.append)
    assert len(sleeps) == 2


def test_without_a_deadline_one_call_retries_for_a_bounded_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No action-timeout-s: retries stop once RETRY_BUDGET_S would be exceeded."""
    clock = [0.0]
    monkeypatch.setattr(retry.time, "monotonic", lambda: clock[0])

    def slow_failure(attempt: int) -> int:
        clock[0] += 25.0  # each attempt waits out a long read timeout
        raise TransientFailure("AssumeRole: ReadTimeoutError")

    sleeps: list[float] = []
    with pytest.raises(RetriesExhaustedError) as info:
        call_with_retries(slow_failure, label="Op", max_attempts=12, deadline=Deadline(None),
                          runner=Runner({}, io.StringIO()), sleep=sleeps.append)
    assert "failed after 3 attempts (60 s of retries)" in str(info.value)
    assert len(sleeps) == 2


def test_with_a_deadline_the_retry_budget_does_not_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [0.0]
    monkeypatch.setattr(retry.time, "monotonic", lambda: clock[0])

    def slow_failure(attempt: int) -> int:
        clock[0] += 25.0
        raise TransientFailure("AssumeRole: ReadTimeoutError")

    with pytest.raises(RetriesExhaustedError) as info:
        call_with_retries(slow_failure, label="Op", max_attempts=5,
                          deadline=Deadline(1000.0, started=0.0001),
                          runner=Runner({}, io.StringIO()), sleep=lambda _s: None)
    assert "failed after 5 attempts:" in str(info.value)


@pytest.mark.parametrize("max_attempts", [0, -1, 1])
def test_zero_or_one_attempt_means_exactly_one(max_attempts: int) -> None:
    fn = Flaky(5)
    with pytest.raises(RetriesExhaustedError):
        run(fn, max_attempts)
    assert fn.attempts == [0]


@pytest.mark.parametrize(
    "error",
    [AccessDeniedError("Not authorized"), StsError("ValidationError: x"),
     OidcTokenError("HTTP 401"), ValueError("a bug")],
)
def test_other_errors_propagate_at_once(error: Exception) -> None:
    fn = Flaky(5, error)
    with pytest.raises(type(error)):
        run(fn, 12)
    assert fn.attempts == [0]


# =================================================================================================
# the deadline
# =================================================================================================


def test_no_deadline_means_the_fixed_request_timeouts() -> None:
    assert Deadline(None).timeouts() == (retry.CONNECT_TIMEOUT_S, retry.READ_TIMEOUT_S)
    assert Deadline(None).remaining() is None
    assert retry.CONNECT_TIMEOUT_S <= 30 and retry.READ_TIMEOUT_S <= 30  # SPEC rule 3


def test_request_timeouts_never_outlast_the_deadline() -> None:
    now = time.monotonic()
    connect, read = Deadline(3, started=now).timeouts()
    assert connect <= 3 and read <= 3
    assert Deadline(100, started=now - 99.9).timeouts() == (retry.MIN_REQUEST_TIMEOUT_S,) * 2
    with pytest.raises(ActionTimeoutError, match="timed out after 10 seconds"):
        Deadline(10, started=now - 11).timeouts()


def test_an_expired_deadline_stops_before_the_next_attempt() -> None:
    fn = Flaky(0)
    with pytest.raises(ActionTimeoutError):
        run(fn, 5, Deadline(1, started=time.monotonic() - 2))
    assert fn.attempts == []


def test_backoff_sleep_is_clamped_to_the_deadline() -> None:
    deadline = Deadline(0.05)
    fn = Flaky(50)
    with pytest.raises((ActionTimeoutError, RetriesExhaustedError)):
        sleeps: list[float] = []

        def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            time.sleep(seconds)

        call_with_retries(fn, label="Op", max_attempts=50, deadline=deadline,
                          runner=Runner({}, io.StringIO()), sleep=sleep)
    assert sum(sleeps) <= 0.05 + 0.01


# =================================================================================================
# classification of STS errors (SPEC "Precise rules" 2)
# =================================================================================================


def error_answer(code: str, message: str = "", status: int = 400) -> sts.StsErrorResponse:
    return sts.StsErrorResponse(code, message, "req-1", status)


JWKS = ("Couldn't retrieve verification key from your identity provider,  please reference "
        "AssumeRoleWithWebIdentity documentation for requirements")


@pytest.mark.parametrize(
    ("code", "message", "status", "kind"),
    [
        ("Throttling", "Rate exceeded", 400, TransientFailure),
        ("ThrottlingException", "", 400, TransientFailure),
        ("RequestLimitExceeded", "", 400, TransientFailure),
        ("IDPCommunicationError", "", 400, TransientFailure),
        ("ServiceUnavailable", "", 503, TransientFailure),
        ("InternalFailure", "", 500, TransientFailure),
        ("502", "Bad Gateway", 502, TransientFailure),
        ("InvalidIdentityToken", JWKS, 400, TransientFailure),
        ("InvalidIdentityToken", "Incorrect token audience", 400, AccessDeniedError),
        ("InvalidIdentityToken", "No OpenIDConnect provider found in your account for x", 400,
         AccessDeniedError),
        ("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403,
         AccessDeniedError),
        ("IDPRejectedClaim", "", 403, AccessDeniedError),
        ("ExpiredTokenException", "Token expired", 400, sts.ExpiredWebIdentityToken),
        ("PackedPolicyTooLarge", "112%", 400, sts.PackedPolicyTooLarge),
        ("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set "
         "for this role.", 400, DurationRefusedError),
        ("ValidationError", "1 validation error detected", 400, StsError),
        ("MalformedPolicyDocument", "", 400, StsError),
        ("RegionDisabledException", "", 403, StsError),
        ("403", "Forbidden", 403, StsError),
    ],
)
def test_classification(code: str, message: str, status: int, kind: type) -> None:
    classified = sts.classify(error_answer(code, message, status),
                              operation="AssumeRoleWithWebIdentity", hop=1)
    assert type(classified) is kind


@pytest.mark.parametrize(
    ("status", "body", "code", "message", "request_id"),
    [
        (400, b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
              b"<Type>Sender</Type><Code>AccessDenied</Code><Message>Not &lt;you&gt;</Message>"
              b"</Error><RequestId>abc-123</RequestId></ErrorResponse>",
         "AccessDenied", "Not <you>", "abc-123"),
        (502, b"<html><body>Bad Gateway</body></html>", "502", "Bad Gateway", ""),
        (503, b"", "503", "Service Unavailable", ""),
        (403, b"<!DOCTYPE x [<!ENTITY a 'b'>]><ErrorResponse><Error><Code>&a;</Code></Error>"
              b"</ErrorResponse>", "403", "Forbidden", ""),
    ],
    ids=["sts-document", "html-page", "empty", "dtd-refused"],
)
def test_error_answers_are_read_like_botocore(status: int, body: bytes, code: str, message: str,
                                              request_id: str) -> None:
    from py_aws_oidc.transport import Answer

    parsed = sts._error_response(Answer(status, {}, body))
    assert (parsed.code, parsed.message, parsed.request_id, parsed.status) == (
        code, message, request_id, status)


def test_unreadable_answers_are_transient_and_never_quote_the_body() -> None:
    body = b"<AssumeRoleWithWebIdentityResponse><Credentials><SecretAccessKey>s3cr3t</Secr"
    with pytest.raises(TransientFailure) as info:
        sts._parse_xml(body, "AssumeRoleWithWebIdentity")
    assert "s3cr3t" not in str(info.value) and "unreadable response" in str(info.value)


def test_expired_token_on_assume_role_is_not_a_web_identity_refresh() -> None:
    classified = sts.classify(error_answer("ExpiredToken", "The security token included in the "
                                           "request is expired"), operation="AssumeRole", hop=2)
    assert type(classified) is StsError and classified.hop == 2


# =================================================================================================
# every request has timeouts and a total deadline (checked without a stalled server)
# =================================================================================================


def settings_for(**inputs: str) -> Any:
    environ = {input_env_name(k): v for k, v in {"aws-region": "us-east-1",
                                                 "role-to-assume": "arn:aws:iam::111122223333:"
                                                 "role/r", **inputs}.items()}
    return load_settings(Runner(environ, io.StringIO()))


def test_sts_connections_ignore_sdk_endpoint_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    # An earlier step could export these through GITHUB_ENV to harvest the token: ignored.
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://evil.example")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://evil.example")
    evil = {"AWS_ENDPOINT_URL_STS": "http://evil.example", "AWS_ENDPOINT_URL": "http://evil.example"}
    clients = sts.StsClients(settings_for(), Runner(evil, io.StringIO()), Deadline(None))
    for conn in (clients.unsigned(),
                 clients.signed(sts.Credentials("AKIAIOSFODNN7EXAMPLE", "secret", None))):
        assert conn.endpoint == "https://sts.us-east-1.amazonaws.com"
    custom = settings_for(**{"sts-endpoint": "https://sts.example.test"})
    clients = sts.StsClients(custom, Runner(evil, io.StringIO()), Deadline(None))
    assert clients.unsigned().endpoint == "https://sts.example.test"


class RecordingSession:
    """A requests.Session stand-in for STS: records each request, answers ``status``."""

    def __init__(self, status: int, body: bytes) -> None:
        self.status, self.body = status, body
        self.calls: list[dict[str, Any]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        self.calls.append({"method": method, "url": url, **kwargs})
        response = FakeResponse(self.status, None)
        response.raw = FakeRaw(self.body)
        return response


GCI_ANSWER = (b"<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::111122223333"
              b":user/u</Arn><Account>111122223333</Account></GetCallerIdentityResult>"
              b"</GetCallerIdentityResponse>")


@pytest.mark.parametrize(("timeout_s", "limit"), [(None, 15.0), (2, 2.0)])
def test_sts_requests_have_timeouts_and_make_one_attempt(timeout_s: int | None,
                                                         limit: float) -> None:
    for status, body in ((200, GCI_ANSWER), (503, b"")):
        session = RecordingSession(status, body)
        conn = sts.StsConnection.for_region("us-east-1", http=session,  # type: ignore[arg-type]
                                            deadline=Deadline(timeout_s),
                                            sts_endpoint="https://sts.example.test")
        conn = conn.signed_with(sts.Credentials("AKIAIOSFODNN7EXAMPLE", "secret", None))
        if status == 200:
            assert sts.get_caller_identity(conn) == ("111122223333",
                                                     "arn:aws:iam::111122223333:user/u")
        else:
            with pytest.raises(TransientFailure):
                sts.get_caller_identity(conn)
        [call] = session.calls  # one request per call: retries are retry.py's alone
        connect, read = call["timeout"]
        assert 0 < connect <= min(limit, 5) and 0 < read <= limit
        assert call["allow_redirects"] is False and call["proxies"] == {}
        assert call["url"] == "https://sts.example.test/"


class FakeRaw:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read1(self, amt: int, decode_content: bool = True) -> bytes:
        piece, self.data = self.data[:amt], self.data[amt:]
        return piece

    def release_conn(self) -> None:
        pass


class FakeResponse:
    def __init__(self, status: int, body: Any) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {"Content-Type": "application/json"}
        self.raw = FakeRaw(json.dumps(body).encode())

    def close(self) -> None:
        pass


class FakeSession:
    def __init__(self, response: FakeResponse) -> None:
        self.response = response
        self.kwargs: dict[str, Any] = {}

    def request(self, method: str, url: str, **kwargs: Any) -> FakeResponse:
        assert method == "GET"
        self.kwargs = kwargs
        return self.response


def fetch(response: FakeResponse, deadline: Deadline | None = None) -> tuple[str, FakeSession]:
    session = FakeSession(response)
    token = oidc.fetch_token(session, "https://issuer/token", "request-token", "sts.amazonaws.com",
                             runner=Runner({}, io.StringIO()), deadline=deadline or Deadline(None),
                             proxies={})
    return token, session


def test_the_token_request_has_timeouts_and_follows_no_redirect() -> None:
    token, session = fetch(FakeResponse(200, {"value": "eyJ.token.value"}))
    assert token == "eyJ.token.value"
    connect, read = session.kwargs["timeout"]
    assert 0 < connect <= 30 and 0 < read <= 30
    assert session.kwargs["allow_redirects"] is False
    _, session = fetch(FakeResponse(200, {"value": "eyJ.token.value"}), Deadline(2))
    assert max(session.kwargs["timeout"]) <= 2


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_token_endpoint_overload_is_transient(status: int) -> None:
    with pytest.raises(TransientFailure, match=f"HTTP {status}"):
        fetch(FakeResponse(status, {}))


@pytest.mark.parametrize(("status", "body"), [(401, {}), (403, {}), (404, {}), (200, {"count": 1}),
                                              (200, ["value"])])
def test_token_endpoint_refusals_are_not_retried(status: int, body: Any) -> None:
    with pytest.raises(OidcTokenError):
        fetch(FakeResponse(status, body))
