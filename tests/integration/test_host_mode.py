"""Host mode (issue 20): the program run on the runner's host, as the host runtime runs it.

The console script runs as a step on this machine (the harness's runner layout: ``RUNNER_TEMP`` is
``<job>/_temp``), with HOME set to a user home of its own, apart from ``RUNNER_TEMP``, as on a
GitHub-hosted runner (``/home/runner`` and ``/home/runner/work/_temp``). Later steps are real
processes: the host's python3 with botocore resolves the profiles.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import socket
import ssl
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from localdev.oidc_issuer import OidcIssuer
from localdev.sts_faults import StsFaultProxy
from tests.integration.cac_support import REGION, ROLE
from tests.support.as_windows import prelude
from tests.support.harness import ActionHarness, ActionResult
from tests.support.later_steps import fingerprint, later_step_env, resolve_profiles

FILE_VARS = ("AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE")
NO_FILE_VARS: dict[str, str | None] = {name: None for name in FILE_VARS}


@pytest.fixture
def user_home(tmp_path: Path) -> Path:
    home = tmp_path / "home-runner"
    home.mkdir()
    return home


def host_step(harness: ActionHarness, user_home: Path, inputs: dict[str, str | None],
              env: dict[str, str | None] | None = None, **kwargs: object) -> ActionResult:
    """One step on the host: HOME is the user's home, not under RUNNER_TEMP; the job sets
    neither file variable unless ``env`` does."""
    step_env = {**NO_FILE_VARS, "HOME": str(user_home), **(env or {})}
    return harness.run_action({"aws-region": REGION, "role-to-assume": ROLE, **inputs},
                              env=step_env, **kwargs)  # type: ignore[arg-type]


def assert_private(path: Path) -> None:
    st = path.lstat()
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600, (path, oct(st.st_mode))


def test_profile_files_go_under_runner_temp_and_a_later_step_resolves_the_profile(
    harness: ActionHarness, user_home: Path, sts: StsFaultProxy
) -> None:
    result = host_step(harness, user_home, {"aws-profile": "deploy"})
    assert result.ok, result.explain()
    aws = result.paths.temp / "_github_home" / ".aws"
    assert result.env["AWS_SHARED_CREDENTIALS_FILE"] == str(aws / "credentials")
    assert result.env["AWS_CONFIG_FILE"] == str(aws / "config")
    assert_private(aws / "credentials")
    assert_private(aws / "config")
    assert not (user_home / ".aws").exists(), "nothing in the user's home on a host"
    # A later step: the host's python3 and botocore, with AWS_PROFILE only.
    env = later_step_env(result.env, home=user_home, runner_temp=result.paths.temp,
                         workspace=result.paths.workspace, step_env={"AWS_PROFILE": "deploy"})
    seen = resolve_profiles([""], env=env, cwd=result.paths.workspace, sts_endpoint=sts.url,
                            as_runner_user=False)
    [call] = [c for c in result.sts_calls if c.ok]
    assert seen[""].get("fingerprint") == fingerprint(call.response), seen
    assert seen[""]["region"] == REGION
    # The post step (the job's variables now point there) removes what the step wrote.
    post = host_step(harness, user_home, {"aws-profile": "deploy"}, argv=("post",), oidc=False,
                     env={**result.post_env(), **result.env})
    assert post.ok, post.explain()
    assert not (aws / "credentials").exists() and not (aws / "config").exists()


def test_a_job_set_aws_config_file_is_honoured(
    harness: ActionHarness, user_home: Path, tmp_path: Path
) -> None:
    chosen = tmp_path / "ci-aws" / "config"
    result = host_step(harness, user_home, {"aws-profile": "deploy"},
                       env={"AWS_CONFIG_FILE": str(chosen)})
    assert result.ok, result.explain()
    assert_private(chosen)
    assert "[profile deploy]" in chosen.read_text()
    # Only the other file goes to the default place, and only its variable is exported.
    assert set(result.env) & set(FILE_VARS) == {"AWS_SHARED_CREDENTIALS_FILE"}
    assert_private(result.paths.temp / "_github_home" / ".aws" / "credentials")
    assert not (result.paths.temp / "_github_home" / ".aws" / "config").exists()


def test_the_refresh_directory_is_under_runner_temp(
    harness: ActionHarness, user_home: Path
) -> None:
    result = host_step(harness, user_home, {"refresh-credentials": "true"})
    assert result.ok, result.explain()
    config = Path(result.env["AWS_CONFIG_FILE"])
    assert config.parent.parent == result.paths.temp
    assert config.parent.name.startswith("py-aws-oidc-refresh-")
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    assert not (user_home / ".aws").exists()


def test_a_token_file_outside_the_workspace_is_accepted_on_the_host(
    harness: ActionHarness, user_home: Path, oidc_issuer: OidcIssuer, tmp_path: Path,
    secrets: object,
) -> None:
    """In the container such a path is an input error (the container cannot see it); on the
    host any readable path is fine (e.g. an IRSA token under /var/run/secrets)."""
    token = oidc_issuer.mint()
    secrets.add(token, "token-file")  # type: ignore[attr-defined]
    outside = tmp_path / "elsewhere" / "token.jwt"
    outside.parent.mkdir()
    outside.write_text(token, encoding="utf-8")
    assert not outside.is_relative_to(harness.workspace or tmp_path / "workspace")
    result = host_step(harness, user_home, {"web-identity-token-file": str(outside)}, oidc=False)
    assert result.ok, result.explain()
    assert result.outputs["aws-account-id"] == "111122223333"


# -- TLS: a local HTTPS STS signed by a test CA -------------------------------------------------


class TlsFront:
    """TLS in front of a plain-HTTP server (a test CA's certificate for 127.0.0.1 and
    localhost): every connection is decrypted and piped to the upstream port."""

    def __init__(self, upstream_port: int, directory: Path) -> None:
        self.ca_file = directory / "test-ca.pem"
        cert_file, key_file = directory / "server.pem", directory / "server.key"
        _make_certificates(self.ca_file, cert_file, key_file)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert_file, key_file)
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"https://localhost:{self.port}"
        self.handshakes = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        try:
            client = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()  # the client refused our certificate
            return
        self.handshakes += 1
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
        _pipe(client, upstream)

    def close(self) -> None:
        self.listener.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.close()


def _make_certificates(ca_file: Path, cert_file: Path, key_file: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "py-aws-oidc test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))


@pytest.fixture
def https_sts(sts: StsFaultProxy, tmp_path: Path) -> Iterator[TlsFront]:
    port = int(sts.url.rsplit(":", 1)[1].split("/")[0])
    front = TlsFront(port, tmp_path)
    yield front
    front.close()


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "AWS_CA_BUNDLE"])
def test_tls_to_sts_trusts_the_ca_bundle_the_job_names(
    harness: ActionHarness, user_home: Path, https_sts: TlsFront, variable: str
) -> None:
    result = host_step(harness, user_home, {"sts-endpoint": https_sts.url},
                       env={variable: str(https_sts.ca_file)})
    assert result.ok, result.explain()
    assert https_sts.handshakes >= 1
    assert result.outputs["aws-account-id"] == "111122223333"


def test_tls_without_the_test_ca_fails_with_one_line(
    harness: ActionHarness, user_home: Path, https_sts: TlsFront
) -> None:
    """The system store (truststore) does not hold the test CA: the request is refused, as
    one error line without a traceback, and nothing is exported."""
    result = host_step(harness, user_home, {"sts-endpoint": https_sts.url},
                       env={"SSL_CERT_FILE": None, "REQUESTS_CA_BUNDLE": None,
                            "AWS_CA_BUNDLE": None, "CURL_CA_BUNDLE": None,
                            "retry-max-attempts": None})
    assert result.returncode == 1, result.explain()
    assert len(result.errors) == 1, result.explain()
    assert "TLS certificate is not trusted" in result.errors[0], result.errors[0]
    assert "AWS_CA_BUNDLE" in result.errors[0]
    # Not retried as if transient: one handshake attempt, refused.
    assert "attempts" not in result.errors[0] and https_sts.handshakes == 0
    assert "Traceback" not in result.stdout + result.stderr
    assert result.env == {}


# -- Windows: the environment-and-outputs path, with every Windows side bound --------------------

# The console script in a Python that believes it runs on Windows (tests/support/as_windows.py):
# hostos binds its windows_* sides, fcntl/pwd/grp cannot be imported, POSIX-only os names are gone.
AS_WINDOWS = prelude(repr([
    "shutil", "pathlib", "tempfile", "subprocess", "zipfile", "ssl", "uuid", "mimetypes",
    "urllib.request", "http.client", "email.parser", "concurrent.futures",
    "xml.etree.ElementTree", "hmac", "secrets", "requests", "requests.adapters", "urllib3",
    "truststore", "botocore.auth", "botocore.session", "platform"])) + r"""
from py_aws_oidc.hostos import locks, ownership, paths
assert locks.try_lock is locks.windows_try_lock and paths.unsupported_inputs is \
    paths.windows_unsupported_inputs and ownership.euid is ownership.windows_euid
from py_aws_oidc.cli import console_main
sys.argv[0] = "py-aws-oidc"
console_main()
"""


def test_windows_sides_run_the_environment_and_outputs_path(
    make_harness: Callable[..., ActionHarness], user_home: Path, sts: StsFaultProxy,
) -> None:
    harness = make_harness(command=[sys.executable, "-c", AS_WINDOWS])
    result = host_step(harness, user_home, {
        "role-to-assume": f"{ROLE}\narn:aws:iam::111122223333:role/chained",
        "role-session-name": "win", "role-duration-seconds": "1800",
        "custom-tags": '{"Team": "platform"}', "mask-aws-account-id": "true",
    }, env={"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")})
    assert result.ok, result.explain()
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
            "AWS_REGION"} <= set(result.env)
    assert result.outputs["aws-account-id"] == "111122223333"
    assert "111122223333" in result.masks
    assert [c.action for c in result.sts_calls if c.ok] == [
        "AssumeRoleWithWebIdentity", "AssumeRole"]
    assert "AWS credentials" in result.summary
    # The inputs that leave files are input errors naming themselves, before any request.
    for name, value in (("aws-profile", "deploy"), ("refresh-credentials", "true"),
                        ("profiles", f"dev = {ROLE}")):
        refused = host_step(harness, user_home, {name: value},
                            env={"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")})
        assert refused.returncode == 1, refused.explain()
        assert len(refused.errors) == 1 and refused.errors[0].startswith(f"Input '{name}':")
        assert "Windows" in refused.errors[0] and refused.sts_calls == []
