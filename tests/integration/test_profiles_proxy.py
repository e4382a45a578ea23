"""``aws-profile`` / ``overwrite-aws-profile`` (the shared files) and ``http-proxy`` (both the
token request and STS through a recording forward proxy)."""

from __future__ import annotations

import base64
import configparser
import stat
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from localdev.forward_proxy import ForwardProxy
from localdev.oidc_issuer import OidcIssuer
from localdev.sts_faults import StsFaultProxy
from tests.integration.cac_support import (
    ACCOUNT,
    ARWWI,
    KEY_ID,
    KEYS,
    MOTO_ACCOUNT,
    REGION,
    ROLE,
    SECRET_KEY,
    actions,
    assert_exports_credentials,
    assert_failed_cleanly,
)
from tests.support.host_runtime import BOTH_RUNTIMES

pytestmark = BOTH_RUNTIMES  # every test also runs on the host runtime (node + the zip)

RunAction = Any
Secrets = Any


def _ini(path: Path) -> dict[str, dict[str, str]]:
    """The file as botocore reads it."""
    parser = configparser.RawConfigParser()
    assert parser.read(path, encoding="utf-8") == [str(path)]
    return {name: dict(parser[name]) for name in parser.sections()}


def _session(creds: dict[str, str]) -> dict[str, str]:
    return {"aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"]}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- aws-profile ---------------------------------------------------------------------------------


def test_profile_files_honour_the_variables_and_export_nothing(
    run_action: RunAction, sts: StsFaultProxy, tmp_path: Path
) -> None:
    cred_file = tmp_path / "custom" / "creds.ini"
    config_file = tmp_path / "other" / "config.ini"
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE, "aws-profile": "dev"},
                        env={"AWS_SHARED_CREDENTIALS_FILE": str(cred_file),
                             "AWS_CONFIG_FILE": str(config_file)})
    assert result.ok, result.explain()
    [call] = sts.calls
    assert _ini(cred_file) == {"dev": _session(call.response)}
    assert _ini(config_file) == {"profile dev": {"region": REGION}}
    assert _mode(cred_file) == 0o600 and _mode(config_file) == 0o600
    # Profile mode: nothing in GITHUB_ENV (not even the region) but the post step's switch;
    # the outputs are set.
    assert result.env_entries == [("PY_AWS_OIDC_POST", "true")]
    assert result.outputs == {"aws-account-id": ACCOUNT, "authenticated-arn": call.response["Arn"]}
    assert not (Path(result.environ["HOME"]) / ".aws").exists()


def test_default_profile_goes_to_home_dot_aws(run_action: RunAction, sts: StsFaultProxy) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE, "aws-profile": "default"},
                        env={"AWS_SHARED_CREDENTIALS_FILE": None, "AWS_CONFIG_FILE": None})
    assert result.ok, result.explain()
    aws_dir = Path(result.environ["HOME"]) / ".aws"
    assert _ini(aws_dir / "credentials") == {"default": _session(sts.calls[0].response)}
    assert _ini(aws_dir / "config") == {"default": {"region": REGION}}
    assert stat.S_IMODE(aws_dir.stat().st_mode) == 0o700
    assert _mode(aws_dir / "credentials") == 0o600


def test_profile_with_output_env_credentials_exports_aws_profile(
    run_action: RunAction, sts: StsFaultProxy
) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE, "aws-profile": "dev",
                         "output-env-credentials": "true"})
    assert result.ok, result.explain()
    creds = sts.calls[0].response
    assert result.env_entries[-2:] == [("AWS_PROFILE", "dev"), ("PY_AWS_OIDC_POST", "true")]
    assert sorted(result.env) == sorted(["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
                                         "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                                         "AWS_PROFILE", "PY_AWS_OIDC_POST"])
    assert result.env["AWS_ACCESS_KEY_ID"] == creds["AccessKeyId"]
    assert _ini(Path(result.environ["AWS_SHARED_CREDENTIALS_FILE"]))["dev"] == _session(creds)


def test_profile_with_keys_without_role(run_action: RunAction, sts: StsFaultProxy) -> None:
    result = run_action({"aws-region": REGION, **KEYS, "aws-profile": "ci"})
    assert result.ok, result.explain()
    assert result.env_entries == [("PY_AWS_OIDC_POST", "true")]
    assert _ini(Path(result.environ["AWS_SHARED_CREDENTIALS_FILE"])) == {
        "ci": {"aws_access_key_id": KEY_ID, "aws_secret_access_key": SECRET_KEY}}
    assert _ini(Path(result.environ["AWS_CONFIG_FILE"])) == {"profile ci": {"region": REGION}}
    assert result.outputs["aws-account-id"] == MOTO_ACCOUNT


@pytest.mark.parametrize("name", ["my profile", "../etc/passwd", "[dev]"])
def test_unsafe_profile_names_fail_before_any_request(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer, name: str
) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE, "aws-profile": name})
    error = assert_failed_cleanly(result)
    assert error.startswith("Input 'aws-profile':")
    assert sts.calls == [] and oidc_issuer.requests == []


EXISTING = (
    "[dev]\naws_access_key_id = AKIAOLDDEVKEY0000000\naws_secret_access_key = OldDevSecret\n\n"
    "[keep]\naws_access_key_id = AKIAKEEPKEY000000000\naws_secret_access_key = KeepSecret\n"
)


def _existing_files(tmp_path: Path) -> tuple[Path, Path]:
    cred_file, config_file = tmp_path / "aws" / "credentials", tmp_path / "aws" / "config"
    cred_file.parent.mkdir()
    cred_file.write_text(EXISTING)
    config_file.write_text("[profile dev]\nregion = eu-west-1\n")
    cred_file.chmod(0o600)
    return cred_file, config_file


def test_existing_profile_without_overwrite_is_an_error_and_files_stay(
    run_action: RunAction, sts: StsFaultProxy, tmp_path: Path
) -> None:
    cred_file, config_file = _existing_files(tmp_path)
    before = (cred_file.read_bytes(), config_file.read_bytes())
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE, "aws-profile": "dev",
                         "overwrite-aws-profile": "false"},
                        env={"AWS_SHARED_CREDENTIALS_FILE": str(cred_file),
                             "AWS_CONFIG_FILE": str(config_file)})
    error = assert_failed_cleanly(result)
    assert 'Profile with name "dev" already exists' in error
    assert "overwrite-aws-profile" in error
    assert (cred_file.read_bytes(), config_file.read_bytes()) == before


def test_overwrite_aws_profile_replaces_only_that_profile(
    run_action: RunAction, sts: StsFaultProxy, tmp_path: Path
) -> None:
    cred_file, config_file = _existing_files(tmp_path)
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE, "aws-profile": "dev",
                         "overwrite-aws-profile": "true"},
                        env={"AWS_SHARED_CREDENTIALS_FILE": str(cred_file),
                             "AWS_CONFIG_FILE": str(config_file)})
    assert result.ok, result.explain()
    assert _ini(cred_file) == {
        "dev": _session(sts.calls[0].response),
        "keep": {"aws_access_key_id": "AKIAKEEPKEY000000000",
                 "aws_secret_access_key": "KeepSecret"},
    }
    assert _ini(config_file) == {"profile dev": {"region": REGION}}


def test_symlinked_credentials_file_is_refused(
    run_action: RunAction, sts: StsFaultProxy, tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("do not touch\n")
    link = tmp_path / "aws" / "credentials"
    link.parent.mkdir()
    link.symlink_to(target)
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE, "aws-profile": "dev"},
                        env={"AWS_SHARED_CREDENTIALS_FILE": str(link),
                             "AWS_CONFIG_FILE": str(tmp_path / "aws" / "config")})
    error = assert_failed_cleanly(result)
    assert "symbolic link" in error
    assert target.read_text() == "do not touch\n"
    assert link.is_symlink()
    assert not (tmp_path / "aws" / "config").exists()


# -- http-proxy ------------------------------------------------------------------------------------


def _assert_both_through(forward_proxy: ForwardProxy, oidc_issuer: OidcIssuer,
                         sts: StsFaultProxy) -> None:
    seen = [(r.method, urlsplit(r.url).port) for r in forward_proxy.requests]
    assert seen == [("GET", urlsplit(oidc_issuer.url).port), ("POST", urlsplit(sts.url).port)]
    assert forward_proxy.requests[0].url.startswith(f"{oidc_issuer.token_url}&audience=")


def test_http_proxy_input_routes_both_requests_and_its_password_is_masked(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer,
    forward_proxy: ForwardProxy, secrets: Secrets,
) -> None:
    password = "pr0xy-Passw0rd-4711"
    secrets.add(password, "proxy-password")
    split = urlsplit(forward_proxy.url)
    proxy_url = f"http://ci-user:{password}@{split.netloc}"
    secrets.add(proxy_url, "proxy-url")
    # The input wins over the environment (which names a dead proxy).
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE, "http-proxy": proxy_url},
                        env={"HTTPS_PROXY": "http://127.0.0.1:9"})
    assert result.ok, result.explain()
    _assert_both_through(forward_proxy, oidc_issuer, sts)
    assert password in result.masks
    assert proxy_url not in result.masks  # its mask line would print the password
    # The credentials reached the proxy (so the password was really used).
    expected = "Basic " + base64.b64encode(f"ci-user:{password}".encode()).decode()
    assert [r.proxy_authorization for r in forward_proxy.requests] == [expected, expected]
    assert_exports_credentials(result, sts.calls[0].response)


@pytest.mark.parametrize("case", ["https-proxy-wins", "http-proxy-without-scheme"])
def test_proxy_environment_variables_route_both_requests(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer,
    forward_proxy: ForwardProxy, case: str,
) -> None:
    """HTTPS_PROXY wins over HTTP_PROXY (as in CAC); a value without a scheme means http://
    (as for curl and requests). Neither is turned into the 'http-proxy' input."""
    if case == "https-proxy-wins":
        env = {"HTTPS_PROXY": forward_proxy.url, "HTTP_PROXY": "http://127.0.0.1:9"}
    else:
        env = {"HTTP_PROXY": urlsplit(forward_proxy.url).netloc}
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE, "disable-retry": "true"},
                        env=env)
    assert result.ok, result.explain()
    _assert_both_through(forward_proxy, oidc_issuer, sts)
    assert actions(result) == [ARWWI]


def test_no_proxy_without_port_bypasses_every_port(
    run_action: RunAction, sts: StsFaultProxy, oidc_issuer: OidcIssuer,
    forward_proxy: ForwardProxy,
) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE},
                        env={"HTTPS_PROXY": forward_proxy.url, "NO_PROXY": "localhost,127.0.0.1"})
    assert result.ok, result.explain()
    assert forward_proxy.requests == []
    assert actions(result) == [ARWWI]
