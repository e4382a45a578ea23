"""``profiles`` and ``aws-profile`` in the image, with the mounts the runner makes.

The action runs as root in its container with HOME=/github/home, which the runner mounts from
``$RUNNER_TEMP/_github_home``; later steps run on the host as the runner user (uid 1001) with
their own HOME. The step exports the files' host paths, so a later step needs only
``AWS_PROFILE`` / ``--profile``; the post step (a new container) removes what the step wrote.
"""

from __future__ import annotations

import configparser
import json
import os
import shlex
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from localdev.oidc_issuer import OidcIssuer
from localdev.sts_faults import StsFaultProxy
from tests.support.harness import ActionHarness, ActionResult
from tests.support.later_steps import (
    RUNNER_UID,
    LaterStep,
    RunnerUserJob,
    fingerprint,
    give_to_runner_user,
    job_dir_for_runner_user,
    read_profile,
    runner_layout,
    step_overrides,
)

REGION = "us-east-1"
DEV = "arn:aws:iam::111111111111:role/deploy-dev"
ENTRY = "arn:aws:iam::222222222222:role/gha-entry"
PROD = "arn:aws:iam::333333333333:role/deploy-prod"
MAIN = "arn:aws:iam::555555555555:role/app"


@pytest.fixture
def container_job(make_container_harness: Callable[..., ActionHarness],
                  sts: StsFaultProxy) -> Iterator[RunnerUserJob]:
    root = job_dir_for_runner_user()
    try:
        harness = make_container_harness(base_dir=root / "runner",
                                         workspace_dir=root / "workspace")
        yield RunnerUserJob(harness, root, sts)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def final_credentials(result: ActionResult, role: str) -> dict[str, str]:
    [call] = [c for c in result.sts_calls if c.role_arn == role and c.ok]
    return call.response


@pytest.mark.container
def test_profiles_and_aws_profile_work_in_later_steps_and_post_cleans_up(
    container_job: RunnerUserJob,
) -> None:
    job = container_job
    # The runner user's own profile, already in the files the step will write to.
    aws = job.home / ".aws"
    give_to_runner_user(aws)
    aws.chmod(0o700)
    mine = "[mine]\naws_access_key_id = AKIAUSERSOWNKEY00001\naws_secret_access_key = s3cret\n"
    (aws / "credentials").write_text(mine)
    (aws / "credentials").chmod(0o600)
    os.chown(aws / "credentials", RUNNER_UID, RUNNER_UID)

    main = job.run({"role-to-assume": MAIN, "aws-profile": "app",
                    "profiles": json.dumps({"dev": DEV, "prod": [ENTRY, PROD]})})
    assert main.ok, main.explain()
    assert len(main.token_requests) == 1
    # Host paths, not /github/home: RUNNER_TEMP/_github_home on the host.
    assert main.env["AWS_SHARED_CREDENTIALS_FILE"] == str(aws / "credentials")
    assert main.env["AWS_CONFIG_FILE"] == str(aws / "config")
    for path, mode in ((aws / "credentials", 0o600), (aws / "config", 0o600)):
        st = path.stat()
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (RUNNER_UID, mode), path

    # A later step on the host, as the runner user, with its own HOME: AWS_PROFILE alone.
    runner_home = job.root / "runner-home"
    give_to_runner_user(runner_home)
    seen = job.later_step([""], step_env={"AWS_PROFILE": "app"}, home=runner_home)
    assert seen[""]["fingerprint"] == fingerprint(final_credentials(main, MAIN))
    seen = job.later_step(["dev", "prod", "mine"], home=runner_home)
    assert seen["dev"]["arn"] == final_credentials(main, DEV)["Arn"]
    assert seen["prod"]["fingerprint"] == fingerprint(final_credentials(main, PROD))
    assert json.loads(main.outputs["profiles"]) == {
        "dev": final_credentials(main, DEV)["Arn"], "prod": final_credentials(main, PROD)["Arn"]}

    post = job.post(main)
    assert post.ok, post.explain()
    assert post.warnings == []  # the record's paths are the post step's own shared files
    creds = configparser.RawConfigParser()
    creds.read(aws / "credentials")
    assert creds.sections() == ["mine"]
    assert not (aws / "config").exists()  # created by the step, nothing else in it
    assert aws.is_dir()
    assert ("AWS_CONFIG_FILE", "") in post.env_entries


@pytest.mark.container
def test_a_failing_profile_in_the_image_writes_nothing(
    container_job: RunnerUserJob, sts: StsFaultProxy
) -> None:
    sts.deny_roles.add(PROD)
    result = container_job.run({"profiles": f"dev = {DEV}\nprod = {ENTRY} > {PROD}"})
    assert result.returncode == 1, result.explain()
    [error] = result.errors
    assert error.startswith("Profile 'prod' (input 'profiles'): Could not assume role 2 of 2")
    assert result.raw_env_text == "" and result.raw_output_text == ""
    assert not (container_job.home / ".aws").exists()


@pytest.mark.container
def test_line_form_with_a_chain_in_the_image(container_job: RunnerUserJob) -> None:
    job = container_job
    result = job.run({"profiles": f"# two accounts\ndev = {DEV}\nprod = {ENTRY} > {PROD}\n"})
    assert result.ok, result.explain()
    assert len(result.token_requests) == 1
    aws = job.home / ".aws"
    assert result.env == {"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
                          "PY_AWS_OIDC_POST": "true",
                          "AWS_SHARED_CREDENTIALS_FILE": str(aws / "credentials"),
                          "AWS_CONFIG_FILE": str(aws / "config")}
    assert (aws.stat().st_uid, stat.S_IMODE(aws.stat().st_mode)) == (RUNNER_UID, 0o700)
    runner_home = job.root / "runner-home"
    give_to_runner_user(runner_home)
    seen = job.later_step(["dev", "prod"], home=runner_home)
    for name, role in (("dev", DEV), ("prod", PROD)):
        assert seen[name]["fingerprint"] == fingerprint(final_credentials(result, role))


@pytest.mark.container
def test_a_bad_profiles_value_in_the_image_fails_before_any_request(
    container_job: RunnerUserJob, sts: StsFaultProxy
) -> None:
    result = container_job.run({"profiles": f"dev = {DEV}\ndev = {PROD}"})
    assert result.returncode == 1, result.explain()
    [error] = result.errors
    assert error.startswith("Input 'profiles':") and "twice" in error
    assert result.token_requests == [] and sts.calls == []
    assert result.raw_env_text == "" and result.raw_output_text == ""


@pytest.mark.container
def test_refresh_credentials_for_each_profile_in_the_image(
    make_container_harness: Callable[..., ActionHarness], sts: StsFaultProxy,
    oidc_issuer: OidcIssuer,
) -> None:
    template = make_container_harness()
    with runner_layout(nested=True) as laid_out:
        harness = ActionHarness(base_dir=laid_out.harness_dir, issuer=template.issuer,
                                sts=template.sts, workspace=laid_out.workspace,
                                command=template.command, on_result=template.on_result)
        inputs: dict[str, str | None] = {
            "aws-region": REGION, "role-to-assume": MAIN, "refresh-credentials": "true",
            "profiles": f"dev = {DEV}\nprod = {ENTRY} > {PROD}"}
        step = harness.run_action(inputs, env=step_overrides(laid_out, nested=True))
        assert step.ok, step.explain()
        config = Path(step.env["AWS_CONFIG_FILE"])
        assert config.parent.parent == laid_out.runner_temp / "_github_home"
        assert step.env["AWS_PROFILE"] == "py-aws-oidc"
        directories = [laid_out.runner_temp / "_github_home" / Path(d).name
                       for d in step.state["refresh_dir"].splitlines()]
        assert len(directories) == 3 and all(d.is_dir() for d in directories)

        later = LaterStep(laid_out, step.env, issuer_url=oidc_issuer.token_url,
                          request_token=oidc_issuer.request_token)
        for name, role in (("py-aws-oidc", MAIN), ("dev", DEV), ("prod", PROD)):
            seen = later.botocore(sts.url, env={"AWS_PROFILE": name})
            assert seen["method"] == "custom-process"
            assert seen["access_key_id"] == final_credentials(step, role)["AccessKeyId"]

        # prod's cache goes stale: its own chain is assumed again, from a new token.
        prod_dir = directories[2]
        cache = prod_dir / "session.json"
        doc = json.loads(cache.read_text())
        doc["Expiration"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 300))
        cache.write_text(json.dumps(doc))
        before = len(sts.calls)
        argv = shlex.split(read_profile(config, "prod")["credential_process"])
        fresh = later.credential_process(env={"AWS_PROFILE": "prod"}, argv=argv).document()
        minted = [c for c in sts.calls[before:] if c.action != "GetCallerIdentity"]
        assert [c.role_arn for c in minted] == [ENTRY, PROD]
        assert fresh["AccessKeyId"] == minted[-1].response["AccessKeyId"]

        post = harness.run_action(inputs, argv=("post",), oidc=False,
                                  env={**step_overrides(laid_out, nested=True), **step.env,
                                       **step.post_env()})
        assert post.ok, post.explain()
        assert not any(d.exists() for d in directories)
