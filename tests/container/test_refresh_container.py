"""``refresh-credentials`` with the step in the image, as on GitHub (issue 13).

The job is laid out as the runner lays it out: ``RUNNER_TEMP=<work>/_temp``, HOME of the action
``<work>/_temp/_github_home`` (mounted at ``/github/home``), ``RUNNER_WORKSPACE=<work>/<repo>``
(passed untranslated), the workspace ``<work>/<repo>/<repo>`` at ``/github/workspace``, all owned
by uid 1001. The image (running as root) writes the refresh directory through ``/github/home``;
later steps run on the host as uid 1001 with the host's ``python3``, from the host paths the
step exported. The post step runs in a new container from the same image.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from localdev.oidc_issuer import OidcIssuer
from localdev.sts_faults import StsFaultProxy
from py_aws_oidc.refresh import bundle
from tests.support.harness import ActionHarness, ActionResult
from tests.support.later_steps import (
    RUNNER_UID,
    LaterStep,
    RunnerLayout,
    host_python_version,
    read_profile,
    runner_layout,
    step_overrides,
    tree_modes,
)

pytestmark = [
    pytest.mark.container,
    pytest.mark.skipif(
        os.geteuid() != 0 or (host_python_version() or (0, 0)) < (3, 10),
        reason="needs root (to run later steps as uid 1001) and the host's python3 >= 3.10",
    ),
]

REGION = "us-east-1"
ROLE = "arn:aws:iam::111122223333:role/gha-entry"
TARGET = "arn:aws:iam::444455556666:role/target"
ARWWI = "AssumeRoleWithWebIdentity"
CHAIN = {
    "aws-region": REGION,
    "role-to-assume": f"{ROLE}\n{TARGET}",
    "refresh-credentials": "true",
    "session-tags": "Team=platform",
    "role-session-name": "deploy-session",
}


@pytest.fixture
def job(make_container_harness: Callable[..., ActionHarness]
        ) -> Iterator[tuple[RunnerLayout, ActionHarness]]:
    template = make_container_harness()
    with runner_layout(nested=True) as laid_out:
        yield laid_out, ActionHarness(
            base_dir=laid_out.harness_dir, issuer=template.issuer, sts=template.sts,
            workspace=laid_out.workspace, command=template.command,
            on_result=template.on_result,
        )


def run_step(job: tuple[RunnerLayout, ActionHarness], inputs: dict[str, str | None],
             **kwargs: Any) -> ActionResult:
    laid_out, harness = job
    env = {**step_overrides(laid_out, nested=True), **kwargs.pop("env", {})}
    return harness.run_action(inputs, env=env, **kwargs)


def make_stale(directory: Path) -> None:
    import time

    cache = directory / "session.json"
    doc = json.loads(cache.read_text())
    doc["Expiration"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 300))
    cache.write_text(json.dumps(doc))


def test_image_writes_through_github_home_and_host_steps_refresh(
    job: tuple[RunnerLayout, ActionHarness], sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    laid_out, _ = job
    step = run_step(job, CHAIN)
    assert step.ok, step.explain()
    first_chain = list(sts.calls)
    # Host paths: the directory is under $RUNNER_TEMP/_github_home, as the host sees it.
    config = Path(step.env["AWS_CONFIG_FILE"])
    directory = config.parent
    assert directory.parent == laid_out.runner_temp / "_github_home"
    assert step.env["AWS_PROFILE"] == "py-aws-oidc"
    assert step.state["refresh_dir"] == f"/github/home/{directory.name}"
    assert read_profile(config, "py-aws-oidc")["credential_process"] == \
        shlex.join([*bundle.CLEAN_START, "python3", "-I", "-S", str(directory / "lib" / "__main__.py")])
    # Written by root in the container, owned by the runner's user, private.
    for relative, mode, uid, is_dir in tree_modes(directory):
        assert uid == RUNNER_UID, relative
        assert mode == (0o700 if is_dir else 0o600), (relative, oct(mode))

    later = LaterStep(laid_out, step.env, issuer_url=oidc_issuer.token_url,
                      request_token=oidc_issuer.request_token)
    # A real botocore session on the host: a cache hit, no token request.
    tokens_before = len(oidc_issuer.token_requests)
    seen = later.botocore(sts.url)
    assert seen["method"] == "custom-process"
    assert seen["access_key_id"] == first_chain[-1].response["AccessKeyId"]
    assert len(oidc_issuer.token_requests) == tokens_before

    # Stale: one token request, the same chain, session name and tags.
    make_stale(directory)
    calls_before = len(sts.calls)
    doc = later.credential_process().document()
    assert len(oidc_issuer.token_requests) == tokens_before + 1
    new_calls = [c for c in sts.calls[calls_before:] if c.action != "GetCallerIdentity"]
    assert [c.action for c in new_calls] == [c.action for c in first_chain]
    for old, new in zip(first_chain, new_calls, strict=True):
        assert (new.role_arn, new.role_session_name, new.tags, new.duration_seconds) == \
            (old.role_arn, old.role_session_name, old.tags, old.duration_seconds)
    assert doc["AccessKeyId"] == new_calls[-1].response["AccessKeyId"]
    st = (directory / "session.json").lstat()
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (RUNNER_UID, 0o600)

    # The post step (a new container) removes the directory and blanks the profile.
    post = run_step(job, CHAIN, argv=("post",), env={**step.env, **step.post_env()},
                    oidc=False)
    assert post.ok, post.explain()
    assert not directory.exists()
    assert ("AWS_PROFILE", "") in post.env_entries
    assert ("AWS_CONFIG_FILE", "") in post.env_entries


@pytest.mark.parametrize("where", ["workspace", "github-home"])
def test_token_file_seen_in_the_container_is_read_again_on_the_host(
    job: tuple[RunnerLayout, ActionHarness], sts: StsFaultProxy, oidc_issuer: OidcIssuer,
    secrets: Any, where: str,
) -> None:
    """Relative to the workspace, or under /github/home (the host's
    $RUNNER_TEMP/_github_home): the host process reads the file at its host path."""
    laid_out, _ = job
    first = secrets.add(oidc_issuer.mint())
    if where == "workspace":
        token_path, given = laid_out.workspace / "token.jwt", "token.jwt"
    else:
        token_path = laid_out.runner_temp / "_github_home" / "token.jwt"
        given = "/github/home/token.jwt"
    token_path.write_text(first)
    os.chown(token_path, RUNNER_UID, RUNNER_UID)
    step = run_step(job, {"aws-region": REGION, "role-to-assume": ROLE,
                          "web-identity-token-file": given,
                          "refresh-credentials": "true"}, oidc=False)
    assert step.ok, step.explain()
    directory = Path(step.env["AWS_CONFIG_FILE"]).parent
    make_stale(directory)
    second = secrets.add(oidc_issuer.mint())
    token_path.write_text(second)  # a later step refreshed the file (e.g. a cloud's agent)
    later = LaterStep(laid_out, step.env, issuer_url=None, request_token=None)
    doc = later.credential_process().document()
    call = sts.calls[-1]
    assert call.action == ARWWI and call.web_identity_token == second
    assert doc["AccessKeyId"] == call.response["AccessKeyId"]
