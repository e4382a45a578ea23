"""The SDK credential chain's own clients (``use-existing-credentials``, ``role-chaining``) on
both runtimes. On the host runtime botocore runs from a zip and reads its data files (endpoints,
the STS / SSO / sign-in models) from ``host/dist/py-aws-oidc.data``: each source here makes its
client and sends its request, to the region's real endpoint (only ``sts-endpoint`` may redirect
us, SPEC 1.1), where a refusing proxy catches it. Reaching the proxy proves the client was built;
failing there means "no valid credentials", never a bug."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from localdev.forward_proxy import ForwardProxy
from localdev.sts_faults import StsFaultProxy
from tests.integration.cac_support import ARWWI, REGION, ROLE
from tests.support.host_runtime import BOTH_RUNTIMES

pytestmark = BOTH_RUNTIMES

RunAction = Any
EXISTING = {"aws-region": REGION, "role-to-assume": ROLE, "use-existing-credentials": "true"}


def _through_proxy(forward_proxy: ForwardProxy, tmp_path: Path, **extra: str) -> dict[str, str]:
    forward_proxy.refuse = True
    return {"HTTPS_PROXY": forward_proxy.url, "NO_PROXY": "127.0.0.1",
            "AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "1", **extra}


def _ran_as_normal(result: Any, sts: StsFaultProxy) -> None:
    assert result.ok, result.explain()
    assert result.notices == ["No valid credentials exist. Running as normal."]
    assert not [e for e in result.errors if "Unexpected" in e]
    [call] = sts.calls  # only our own OIDC path reached the local STS
    assert call.action == ARWWI


def test_a_role_arn_profile_builds_its_sts_client(
    run_action: RunAction, sts: StsFaultProxy, forward_proxy: ForwardProxy, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.write_text("[profile deploy]\nrole_arn = arn:aws:iam::111111111111:role/x\n"
                      "source_profile = base\nregion = eu-west-1\n"
                      "[profile base]\naws_access_key_id = AKIDEXAMPLE\n"
                      "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
    result = run_action(EXISTING, env=_through_proxy(
        forward_proxy, tmp_path, AWS_CONFIG_FILE=str(config), AWS_PROFILE="deploy"))
    _ran_as_normal(result, sts)
    assert [r.url for r in forward_proxy.requests] == ["sts.eu-west-1.amazonaws.com:443"]


def test_an_sso_profile_builds_its_sso_client(
    run_action: RunAction, sts: StsFaultProxy, forward_proxy: ForwardProxy, tmp_path: Path
) -> None:
    start_url = "https://example.awsapps.com/start"
    config = tmp_path / "config"
    config.write_text(f"[profile sso]\nsso_start_url = {start_url}\nsso_region = eu-west-1\n"
                      "sso_account_id = 111111111111\nsso_role_name = Dev\nregion = eu-west-1\n")
    home = tmp_path / "home"
    cache = home / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True)
    name = hashlib.sha1(start_url.encode()).hexdigest()  # noqa: S324 (botocore's cache key)
    (cache / f"{name}.json").write_text(json.dumps({
        "startUrl": start_url, "region": "eu-west-1", "accessToken": "sso-access-token",
        "expiresAt": "2099-01-01T00:00:00Z"}))
    result = run_action(EXISTING, env=_through_proxy(
        forward_proxy, tmp_path, AWS_CONFIG_FILE=str(config), AWS_PROFILE="sso",
        HOME=str(home)))
    _ran_as_normal(result, sts)
    assert [r.url for r in forward_proxy.requests] == ["portal.sso.eu-west-1.amazonaws.com:443"]
