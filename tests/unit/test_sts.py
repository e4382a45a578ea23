"""sts.py on the wire, against botocore as the reference: the endpoint for every region, the
query-protocol form, and SigV4 signatures that verify against the request as the server got it.

A local HTTP server records each request byte for byte and answers like STS; botocore's own
client (a dev dependency, not the action's) sends the same calls for comparison."""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import botocore.auth
import botocore.loaders
import botocore.session
import pytest
import requests
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotocoreCredentials

from py_aws_oidc import partitions, sts
from py_aws_oidc.retry import Deadline
from py_aws_oidc.runner import Runner
from py_aws_oidc.tags import Tag

KEY_ID, SECRET, SESSION_TOKEN = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "FwoGZXIvYXdzEXAMPLE"
FROZEN = dt.datetime(2026, 12, 4, 15, 0, 0)
ROLE = "arn:aws:iam::111122223333:role/deploy"

ASSUME_ROLE_ANSWER = b"""<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<AssumeRoleResult><Credentials><AccessKeyId>ASIAEXAMPLEKEY000001</AccessKeyId>
<SecretAccessKey>returned/secret+key</SecretAccessKey><SessionToken>returned-session-token</SessionToken>
<Expiration>2026-12-04T16:00:00Z</Expiration></Credentials>
<AssumedRoleUser><AssumedRoleId>AROA:s</AssumedRoleId>
<Arn>arn:aws:sts::111122223333:assumed-role/deploy/s</Arn></AssumedRoleUser>
<PackedPolicySize>7</PackedPolicySize></AssumeRoleResult>
<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></AssumeRoleResponse>"""


# -- endpoints ------------------------------------------------------------------------------


def _botocore_regions() -> list[str]:
    data = botocore.loaders.create_loader().load_data("partitions")
    return sorted(r for p in data["partitions"] for r in p["regions"]
                  if partitions.REGION_PATTERN.match(r))


def _botocore_endpoint(session: Any, region: str) -> str:
    seen: list[str] = []

    def stop(request: Any, **_: Any) -> None:
        seen.append(request.url)
        raise _Stop

    client = session.create_client("sts", region_name=region, aws_access_key_id="AKID",
                                   aws_secret_access_key="secret")
    client.meta.events.register("before-send", stop)
    with pytest.raises(_Stop):
        client.get_caller_identity()
    return seen[0].rstrip("/")


class _Stop(Exception):
    pass


def test_the_endpoint_is_botocores_for_every_region(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Any) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_STS_REGIONAL_ENDPOINTS",
                 "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    session = botocore.session.Session()
    regions = _botocore_regions()
    assert {"us-east-1", "cn-north-1", "us-gov-west-1", "eusc-de-east-1"} <= set(regions)
    mismatches = {r: (sts.endpoint_for(r), _botocore_endpoint(session, r)) for r in regions}
    assert {r: pair for r, pair in mismatches.items() if pair[0] != pair[1]} == {}


def test_sts_endpoint_input_wins() -> None:
    assert sts.endpoint_for("us-east-1", "https://sts.example.test") == "https://sts.example.test"


# -- the wire -------------------------------------------------------------------------------


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    url: str
    requests: list[Recorded] = field(default_factory=list)
    answer: bytes = ASSUME_ROLE_ANSWER


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    box: dict[str, Recorder] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            box["r"].requests.append(Recorded(self.command, self.path, dict(self.headers), body))
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(box["r"].answer)))
            self.end_headers()
            self.wfile.write(box["r"].answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    box["r"] = Recorder(f"http://127.0.0.1:{server.server_address[1]}")
    try:
        yield box["r"]
    finally:
        server.shutdown()
        server.server_close()


def _connection(url: str, credentials: sts.Credentials | None) -> sts.StsConnection:
    session = requests.Session()
    session.trust_env = False
    return sts.StsConnection(endpoint=url, region="us-east-1", http=session,
                             deadline=Deadline(None), credentials=credentials)


def _assume_role(conn: sts.StsConnection) -> sts.AssumedSession:
    runner = Runner({}, io.StringIO())
    return sts.assume_role(
        conn, runner=runner, role_arn=ROLE, session_name="GitHubActions-1-1", duration_s=3600,
        tags=[Tag("Repository", "octo-org/octo repo"), Tag("Branch", "refs/heads/main")],
        transitive_tag_keys=["Repository"], external_id="ext:id/1", source_identity="octocat",
        policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*",'
               '"Resource":"*"}]}',
        policy_arns=["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::1:policy/x"],
        hop=2)


def test_assume_role_sends_botocores_form_and_a_signature_that_verifies(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: FROZEN)
    creds = sts.Credentials(KEY_ID, SECRET, SESSION_TOKEN)
    out = io.StringIO()
    session = sts.assume_role(
        _connection(recorder.url, creds), runner=Runner({}, out), role_arn=ROLE,
        session_name="s", duration_s=900, tags=[], transitive_tag_keys=[], external_id=None,
        source_identity=None, policy=None, policy_arns=[], hop=1)
    # The answer: parsed, and every secret in it masked.
    assert session.arn == "arn:aws:sts::111122223333:assumed-role/deploy/s"
    assert session.account == "111122223333" and session.packed_policy_size == 7
    assert session.credentials.expiration == dt.datetime(2026, 12, 4, 16, tzinfo=dt.UTC)
    for secret in ("ASIAEXAMPLEKEY000001", "returned/secret+key", "returned-session-token"):
        assert f"::add-mask::{secret}" in out.getvalue()

    _assume_role(_connection(recorder.url, creds))
    ours = recorder.requests[-1]

    client: Any = botocore.session.Session().create_client(
        "sts", region_name="us-east-1", endpoint_url=recorder.url, aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET, aws_session_token=SESSION_TOKEN,
        config=Config(retries={"total_max_attempts": 1}))
    client.assume_role(
        RoleArn=ROLE, RoleSessionName="GitHubActions-1-1", DurationSeconds=3600,
        Tags=[{"Key": "Repository", "Value": "octo-org/octo repo"},
              {"Key": "Branch", "Value": "refs/heads/main"}],
        TransitiveTagKeys=["Repository"], ExternalId="ext:id/1", SourceIdentity="octocat",
        Policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*",'
               '"Resource":"*"}]}',
        PolicyArns=[{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
                    {"arn": "arn:aws:iam::1:policy/x"}])
    theirs = recorder.requests[-1]

    assert sorted(parse_qsl(ours.body.decode())) == sorted(parse_qsl(theirs.body.decode()))
    assert ours.headers["Content-Type"] == theirs.headers["Content-Type"]
    assert ours.headers["X-Amz-Security-Token"] == SESSION_TOKEN
    assert ours.headers["X-Amz-Date"] == theirs.headers["X-Amz-Date"]

    # Re-sign what the server received (without our Authorization): the same signature, so
    # nothing (host, body, content type) changed between signing and sending.
    received = AWSRequest(method="POST", url=recorder.url + ours.path, data=ours.body,
                          headers={k: v for k, v in ours.headers.items()
                                   if k.lower() in ("content-type", "host", "x-amz-date",
                                                    "x-amz-security-token")})
    botocore.auth.SigV4Auth(BotocoreCredentials(KEY_ID, SECRET, SESSION_TOKEN), "sts",
                            "us-east-1").add_auth(received)
    assert ours.headers["Authorization"] == received.headers["Authorization"]
    assert "Credential=AKIAIOSFODNN7EXAMPLE/20261204/us-east-1/sts/aws4_request" in (
        ours.headers["Authorization"])


def test_web_identity_calls_are_unsigned_even_from_a_signed_connection(
    recorder: Recorder,
) -> None:
    recorder.answer = ASSUME_ROLE_ANSWER.replace(b"AssumeRole", b"AssumeRoleWithWebIdentity")
    conn = _connection(recorder.url, sts.Credentials(KEY_ID, SECRET, SESSION_TOKEN))
    sts.assume_role_with_web_identity(
        conn, runner=Runner({}, io.StringIO()), role_arn=ROLE, session_name="s",
        token="eyJ.token.sig", duration_s=3600, policy=None, policy_arns=[], hop=1)
    sent = recorder.requests[-1]
    assert "Authorization" not in sent.headers and "X-Amz-Security-Token" not in sent.headers
    assert dict(parse_qsl(sent.body.decode()))["WebIdentityToken"] == "eyJ.token.sig"
    assert KEY_ID not in sent.body.decode() + str(sent.headers)


def test_a_success_answer_without_credentials_is_malformed(recorder: Recorder) -> None:
    recorder.answer = (b'<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                       b"<AssumeRoleResult><Unexpected/></AssumeRoleResult></AssumeRoleResponse>")
    with pytest.raises(sts.MalformedAnswer):
        _assume_role(_connection(recorder.url, sts.Credentials(KEY_ID, SECRET, None)))


# -- the SDK chain (existing credentials) -----------------------------------------------------


def test_an_sts_error_in_the_sdk_chain_means_not_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    """A chain provider that calls STS (a profile's role_arn, AWS_WEB_IDENTITY_TOKEN_FILE) and
    gets an error answer raises botocore's ClientError: "no valid credentials", not a bug."""
    from botocore.exceptions import ClientError

    from py_aws_oidc.assume import existing_credentials_are_valid
    from py_aws_oidc.config import load_settings
    from py_aws_oidc.errors import CredentialsNotFoundError
    from py_aws_oidc.runner import input_env_name

    def refused(self: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Not authorized"}},
                          "AssumeRoleWithWebIdentity")

    monkeypatch.setattr(botocore.session.Session, "get_credentials", refused)
    out = io.StringIO()
    runner = Runner({input_env_name("aws-region"): "us-east-1",
                     input_env_name("role-to-assume"): ROLE}, out)
    with pytest.raises(CredentialsNotFoundError, match="ClientError: AccessDenied"):
        sts.existing_credentials(runner)
    assert existing_credentials_are_valid(load_settings(runner), runner, Deadline(None)) is False
    assert "::notice::No valid credentials exist. Running as normal." in out.getvalue()
