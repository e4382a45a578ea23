"""``web-identity-token-file`` as the runner's container sees it (issue 12, item 9).

The runner mounts the workspace at /github/workspace and rewrites an input that starts with the
host's workspace path (``${{ github.workspace }}/token.jwt``) to the container path; the harness's
``podman_step.py`` does the same. Any other absolute host path names nothing the container sees:
an input error that says what to pass, never a bare "file not found"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from localdev.oidc_issuer import OidcIssuer
from localdev.sts_faults import StsFaultProxy
from tests.support.harness import ActionHarness

REGION = "us-east-1"
ROLE = "arn:aws:iam::111122223333:role/gha-entry"


@pytest.mark.container
def test_token_file_paths_as_the_container_sees_them(
    container_harness: ActionHarness, oidc_issuer: OidcIssuer, sts: StsFaultProxy,
    token_file: Any, secrets: Any, tmp_path: Path,
) -> None:
    in_workspace = token_file("tokens/ci.jwt")
    for given in ("tokens/ci.jwt", str(in_workspace)):  # relative, and the host's absolute path
        result = container_harness.run_action(
            {"aws-region": REGION, "role-to-assume": ROLE, "web-identity-token-file": given},
            oidc=False)
        assert result.ok, result.explain()
        assert result.outputs["aws-account-id"] == "111122223333"

    # ${{ runner.temp }}/ci.jwt (a common place for a token file with CAC): the runner mounts
    # RUNNER_TEMP at /github/runner_temp and rewrites the path, so the container sees it.
    runner_temp = tmp_path / "_temp"
    runner_temp.mkdir()
    in_temp = runner_temp / "ci.jwt"
    temp_token = oidc_issuer.mint()
    secrets.add(temp_token, "token-file")
    in_temp.write_text(temp_token)
    result = container_harness.run_action(
        {"aws-region": REGION, "role-to-assume": ROLE, "web-identity-token-file": str(in_temp)},
        env={"RUNNER_TEMP": str(runner_temp)}, oidc=False)
    assert result.ok, result.explain()

    outside = tmp_path / "outside-the-workspace" / "ci.jwt"
    outside.parent.mkdir()
    token = oidc_issuer.mint()
    secrets.add(token, "token-file")
    outside.write_text(token)
    calls = len(sts.calls)
    refused = container_harness.run_action(
        {"aws-region": REGION, "role-to-assume": ROLE, "web-identity-token-file": str(outside)},
        oidc=False)
    assert refused.returncode == 1, refused.explain()
    [error] = refused.errors
    assert error.startswith(f"Input 'web-identity-token-file': '{outside}' is an absolute path "
                            "on the runner's host, which this container action cannot see")
    assert "relative to the workspace" in error
    assert len(sts.calls) == calls
    assert refused.paths.env_file.read_bytes() == b""
