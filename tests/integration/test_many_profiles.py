"""``profiles`` (many accounts from one step) and profiles that work in later steps as with CAC.

SPEC.md "1.1 / Many accounts from one step", "Profiles work in later steps as they do with CAC"
and "Files left for later steps: owned by the runner's user". The action runs as root (as in
its container on GitHub); the later step is a real botocore session in a child process running
as uid 1001, which owns RUNNER_TEMP, the workspace and HOME, and which gets only what earlier
steps exported through GITHUB_ENV plus ``AWS_PROFILE``.
"""

from __future__ import annotations

import configparser
import dataclasses
import json
import os
import shlex
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from localdev.oidc_issuer import OidcIssuer
from localdev.sts_faults import StsFaultProxy
from tests.integration.cac_support import (
    ARWWI,
    ASSUME_ROLE,
    REGION,
    assert_failed_cleanly,
    the_error,
)
from tests.support.harness import ActionHarness, ActionResult
from tests.support.host_runtime import BOTH_RUNTIMES
from tests.support.later_steps import (
    RUNNER_UID,
    LaterStep,
    RunnerUserJob,
    fingerprint,
    job_dir_for_runner_user,
    read_profile,
    runner_layout,
    step_overrides,
)

pytestmark = BOTH_RUNTIMES  # every test also runs on the host runtime (node + the zip)

DEV = "arn:aws:iam::111111111111:role/deploy-dev"
ENTRY = "arn:aws:iam::222222222222:role/gha-entry"
PROD = "arn:aws:iam::333333333333:role/deploy-prod"
DNS = "arn:aws:iam::444444444444:role/dns"
MAIN = "arn:aws:iam::555555555555:role/app"


@pytest.fixture
def job(make_harness: Callable[..., ActionHarness], sts: StsFaultProxy) -> Iterator[RunnerUserJob]:
    root = job_dir_for_runner_user()
    try:
        harness = make_harness(base_dir=root / "runner", workspace_dir=root / "workspace")
        yield RunnerUserJob(harness, root, sts)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def final_credentials(result: ActionResult, role: str) -> dict[str, str]:
    [call] = [c for c in result.sts_calls if c.role_arn == role and c.ok]
    return call.response


def assert_runner_user_owns(path: Path, mode: int) -> None:
    st = path.lstat()
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (RUNNER_UID, mode), (path, st)


# -- minting ---------------------------------------------------------------------------------------


def test_line_form_with_a_chain_one_token_and_a_later_step_as_the_runner_user(
    job: RunnerUserJob, oidc_issuer: OidcIssuer
) -> None:
    result = job.run({"profiles": f"# accounts\ndev = {DEV}\n\nprod = {ENTRY} > {PROD}\n"})
    assert result.ok, result.explain()
    assert len(result.token_requests) == 1
    assert sorted((c.action, c.role_arn) for c in result.sts_calls) == sorted(
        [(ARWWI, DEV), (ARWWI, ENTRY), (ASSUME_ROLE, PROD)])
    # The two file variables (host paths: here the runner's HOME), the region; no keys.
    aws = job.home / ".aws"
    assert result.env == {"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
                          "PY_AWS_OIDC_POST": "true",
                          "AWS_SHARED_CREDENTIALS_FILE": str(aws / "credentials"),
                          "AWS_CONFIG_FILE": str(aws / "config")}
    arns = json.loads(result.outputs["profiles"])
    assert arns == {"dev": final_credentials(result, DEV)["Arn"],
                    "prod": final_credentials(result, PROD)["Arn"]}
    assert "aws-account-id" not in result.outputs  # no role-to-assume: no main session
    for name, arn in arns.items():
        assert f"`{name}`" in result.summary and arn in result.summary
    assert_runner_user_owns(aws, 0o700)
    assert_runner_user_owns(aws / "credentials", 0o600)
    assert_runner_user_owns(aws / "config", 0o600)

    seen = job.later_step(["dev", "prod"])
    for name, role in (("dev", DEV), ("prod", PROD)):
        creds = final_credentials(result, role)
        assert seen[name] == {"fingerprint": fingerprint(creds), "region": REGION,
                              "arn": creds["Arn"]}


def test_json_form_next_to_role_to_assume(job: RunnerUserJob) -> None:
    profiles = json.dumps({"dns": DNS, "prod": [ENTRY, PROD]})
    result = job.run({"role-to-assume": MAIN, "profiles": profiles})
    assert result.ok, result.explain()
    assert len(result.token_requests) == 1
    main = final_credentials(result, MAIN)
    # role-to-assume's session goes to the environment as usual, and its outputs.
    assert result.env["AWS_ACCESS_KEY_ID"] == main["AccessKeyId"]
    assert result.outputs["authenticated-arn"] == main["Arn"]
    assert json.loads(result.outputs["profiles"]) == {
        "dns": final_credentials(result, DNS)["Arn"],
        "prod": final_credentials(result, PROD)["Arn"]}
    seen = job.later_step(["dns", "prod"])
    assert seen["dns"]["fingerprint"] == fingerprint(final_credentials(result, DNS))
    assert seen["prod"]["arn"] == final_credentials(result, PROD)["Arn"]


def test_every_other_input_applies_to_each_profile(job: RunnerUserJob, sts: StsFaultProxy) -> None:
    result = job.run({
        "profiles": f"dev = {ENTRY} > {DEV}\nprod = {ENTRY} > {PROD}",
        "role-session-name": "deploy-42", "role-duration-seconds": "15m",
        "session-tags": "Team=infra", "role-external-id": "ext-123",
        "allowed-account-ids": "111111111111,333333333333",
    })
    assert result.ok, result.explain()
    hops = [c for c in result.sts_calls if c.action == ASSUME_ROLE]
    assert sorted(c.role_arn or "" for c in hops) == [DEV, PROD]
    for call in result.sts_calls:
        assert call.role_session_name == "deploy-42"
    for call in hops:
        assert call.tags["Team"] == "infra"
        assert call.params["ExternalId"] == "ext-123"
        assert call.duration_seconds == 900


def test_profiles_are_assumed_concurrently(job: RunnerUserJob, sts: StsFaultProxy) -> None:
    sts.stall_next(3, 1.5)
    result = job.run({"profiles": f"a = {DEV}\nb = {PROD}\nc = {DNS}"})
    assert result.ok, result.explain()
    arrivals = sorted(c.time for c in result.sts_calls)
    # Each answer is held 1.5 s: all three requests were in flight at once.
    assert arrivals[-1] - arrivals[0] < 1.5, arrivals


# -- all or nothing --------------------------------------------------------------------------------


def test_one_failing_profile_writes_nothing_and_the_error_names_it(
    job: RunnerUserJob, sts: StsFaultProxy
) -> None:
    sts.deny_roles.add(PROD)
    result = job.run({"role-to-assume": MAIN, "profiles": f"dev = {DEV}\nprod = {PROD}"})
    error = assert_failed_cleanly(result)
    assert error.startswith("Profile 'prod' (input 'profiles'): Could not assume role"), error
    assert "Not authorized" in error and "trust policy" in error
    assert "py-aws-oidc trust check" in error
    # The diagnostics of the single-role path: the token's claims, on plain log lines.
    assert "[prod] " in result.stdout and "repo:octo-org/octo-repo" in result.stdout
    assert not (job.home / ".aws").exists()
    assert result.state == {}


def test_allowed_account_ids_and_masking_apply_to_each_profile(job: RunnerUserJob) -> None:
    result = job.run({"profiles": f"dev = {DEV}\nprod = {PROD}",
                      "allowed-account-ids": "111111111111", "mask-aws-account-id": "true"})
    error = assert_failed_cleanly(result)
    assert error.startswith("Profile 'prod' (input 'profiles'):"), error
    assert "333333333333" not in result.stdout.replace("::add-mask::333333333333", "")
    assert "111111111111" in result.masks and "333333333333" in result.masks
    assert not (job.home / ".aws").exists()


def test_a_clash_with_an_existing_profile_writes_nothing(job: RunnerUserJob) -> None:
    aws = job.home / ".aws"
    aws.mkdir(mode=0o700)
    (aws / "credentials").write_text("[prod]\naws_access_key_id = AKIAUSERSOWN\n")
    result = job.run({"profiles": f"dev = {DEV}\nprod = {PROD}"})
    error = assert_failed_cleanly(result)
    assert '"prod" already exists' in error and "overwrite-aws-profile" in error
    assert (aws / "credentials").read_text() == "[prod]\naws_access_key_id = AKIAUSERSOWN\n"
    assert not (aws / "config").exists()


# -- aws-profile works in later steps with AWS_PROFILE alone ---------------------------------------


def test_aws_profile_needs_only_aws_profile_in_a_later_step(job: RunnerUserJob) -> None:
    result = job.run({"role-to-assume": DEV, "aws-profile": "deploy"})
    assert result.ok, result.explain()
    assert set(result.env) == {"AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
                               "PY_AWS_OIDC_POST"}
    seen = job.later_step([""], step_env={"AWS_PROFILE": "deploy"})
    assert seen[""]["fingerprint"] == fingerprint(final_credentials(result, DEV))
    assert seen[""]["region"] == REGION


def test_variables_the_job_already_sets_are_not_exported(job: RunnerUserJob, tmp_path: Path) -> None:
    chosen = job.workspace / ".aws-ci" / "credentials"
    result = job.run({"profiles": f"dev = {DEV}"},
                     env={"AWS_SHARED_CREDENTIALS_FILE": str(chosen)})
    assert result.ok, result.explain()
    assert "AWS_SHARED_CREDENTIALS_FILE" not in result.env
    assert result.env["AWS_CONFIG_FILE"] == str(job.home / ".aws" / "config")
    assert chosen.is_file()
    assert_runner_user_owns(chosen, 0o600)


# -- the post step removes what the step wrote -----------------------------------------------------


def test_post_removes_the_step_s_profiles_and_keeps_foreign_sections(job: RunnerUserJob) -> None:
    aws = job.home / ".aws"
    aws.mkdir(mode=0o700)
    os.chown(aws, RUNNER_UID, RUNNER_UID)
    mine = "[mine]\naws_access_key_id = AKIAUSERSOWNKEY00001\naws_secret_access_key = s3cret\n"
    (aws / "credentials").write_text(mine)
    os.chown(aws / "credentials", RUNNER_UID, RUNNER_UID)
    main = job.run({"role-to-assume": MAIN, "aws-profile": "app",
                    "profiles": f"dev = {DEV}\nprod = {ENTRY} > {PROD}"})
    assert main.ok, main.explain()
    assert set(json.loads(main.state["aws_profile_files"])) >= {"files"}
    # A later step adds its own profile to the config file the step created.
    with (aws / "config").open("a") as fh:
        fh.write("\n[profile later]\nregion = eu-west-1\n")

    post = job.post(main)
    assert post.ok, post.explain()
    creds = configparser.RawConfigParser()
    creds.read(aws / "credentials")
    assert creds.sections() == ["mine"]
    config = configparser.RawConfigParser()
    config.read(aws / "config")
    assert config.sections() == ["profile later"]
    assert_runner_user_owns(aws / "credentials", 0o600)
    assert ("AWS_SHARED_CREDENTIALS_FILE", "") in post.env_entries
    assert ("AWS_CONFIG_FILE", "") in post.env_entries


def test_post_removes_files_and_directory_it_created(job: RunnerUserJob) -> None:
    main = job.run({"role-to-assume": DEV, "aws-profile": "deploy"})
    assert main.ok, main.explain()
    assert (job.home / ".aws" / "credentials").is_file()
    post = job.post(main)
    assert post.ok, post.explain()
    assert not (job.home / ".aws").exists()
    assert "Removed" in post.stdout


def test_post_with_files_at_a_chosen_place_keeps_the_variables(job: RunnerUserJob) -> None:
    chosen = {"AWS_SHARED_CREDENTIALS_FILE": str(job.workspace / "c"),
              "AWS_CONFIG_FILE": str(job.workspace / "k")}
    main = job.run({"profiles": f"dev = {DEV}"}, env=chosen)
    assert main.ok, main.explain()
    post = job.run({"profiles": f"dev = {DEV}"}, argv=("post",), oidc=False,
                   env={**chosen, **main.post_env()})
    assert post.ok, post.explain()
    assert not (job.workspace / "c").exists() and not (job.workspace / "k").exists()
    assert "AWS_CONFIG_FILE" not in post.env


def test_a_crafted_record_cannot_make_the_post_step_touch_other_files(job: RunnerUserJob) -> None:
    # The record comes back as STATE_aws_profile_files, an environment variable an earlier step
    # or the job can set too; the post step (root in the container) must stay on the shared files.
    victim = job.workspace / "victim.ini"
    victim.write_text("[keep]\nk = v\n")
    (job.workspace / "victim.txt").write_text("not an INI file\n")
    empty = job.workspace / "empty-dir"
    empty.mkdir()
    main = job.run({"profiles": f"dev = {DEV}"})
    assert main.ok, main.explain()
    record = json.loads(main.state["aws_profile_files"])
    record["files"] += [
        {"path": str(victim), "label": "x", "created": True, "sections": ["keep"]},
        {"path": str(job.workspace / "victim.txt"), "label": "x", "created": True,
         "sections": []},
        {"path": str(job.home / ".aws" / ".." / ".." / "workspace" / "victim.ini"),
         "label": "x", "created": True, "sections": ["keep"]},
    ]
    record["created_dirs"] += [str(empty), "/"]
    post = job.post(dataclasses.replace(
        main, state={**main.state, "aws_profile_files": json.dumps(record)}))
    assert post.ok, post.explain()
    assert victim.read_text() == "[keep]\nk = v\n"
    assert (job.workspace / "victim.txt").is_file() and empty.is_dir()
    assert not (job.home / ".aws").exists()  # what the step wrote is still removed
    assert sum("Left " in w for w in post.warnings) == 5, post.warnings


def test_error_of_a_failing_profile_is_the_only_error(job: RunnerUserJob, sts: StsFaultProxy) -> None:
    sts.deny_roles.update({DEV, PROD})
    result = job.run({"profiles": f"dev = {DEV}\nprod = {PROD}"})
    error = the_error(result)
    assert error.startswith("Profile 'dev'") and "also failed: 'prod'" in error


def test_the_post_step_cleans_up_even_when_the_main_step_failed_after_writing(
    job: RunnerUserJob,
) -> None:
    # GITHUB_ENV opens but cannot be written (a full disk: /dev/full): the step fails after the
    # profile files were written, but its record was saved first, so the post step still
    # removes them.
    main = job.run({"profiles": f"dev = {DEV}"}, env={"GITHUB_ENV": "/dev/full"})
    assert main.returncode == 1, main.explain()
    assert "profile 'dev'" in main.errors[0], main.errors
    assert (job.home / ".aws" / "credentials").is_file()
    assert "aws_profile_files" in main.state
    post = job.post(main)
    assert post.ok, post.explain()
    assert not (job.home / ".aws").exists()


def test_an_expired_token_is_replaced_once_for_all_profiles(
    job: RunnerUserJob, oidc_issuer: OidcIssuer
) -> None:
    # The first token is already expired: every profile's first call is refused, and the
    # chain that asks first fetches the new token the others then use.
    oidc_issuer.queue_faults([("expired",)])
    result = job.run({"profiles": f"a = {DEV}\nb = {PROD}\nc = {DNS}"})
    assert result.ok, result.explain()
    assert len(result.token_requests) == 2
    expired = [c for c in result.sts_calls if c.error_code == "ExpiredTokenException"]
    assert expired and {c.web_identity_token for c in expired} == {oidc_issuer.minted[0]}
    ok = [c for c in result.sts_calls if c.ok]
    assert sorted(c.role_arn or "" for c in ok) == sorted([DEV, PROD, DNS])
    assert {c.web_identity_token for c in ok} == {oidc_issuer.minted[1]}


# -- refresh-credentials applies to each profile ---------------------------------------------------


def test_refresh_credentials_gives_each_profile_its_own_credential_process(
    harness: ActionHarness, sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    with runner_layout(nested=True) as laid_out:
        step_harness = harness.derive(base_dir=laid_out.harness_dir,
                                      workspace=laid_out.workspace)
        step = step_harness.run_action(
            {"aws-region": REGION, "refresh-credentials": "true",
             "profiles": f"dev = {DEV}\nprod = {ENTRY} > {PROD}"},
            env=step_overrides(laid_out, nested=True))
        assert step.ok, step.explain()
        assert len(step.token_requests) == 1
        config = Path(step.env["AWS_CONFIG_FILE"])
        # No role-to-assume: no AWS_PROFILE; the credential variables blanked; no shared files.
        assert "AWS_PROFILE" not in step.env
        assert step.env["AWS_ACCESS_KEY_ID"] == ""
        assert "AWS_SHARED_CREDENTIALS_FILE" not in step.env
        assert not (laid_out.job_home / ".aws").exists()
        processes = {name: read_profile(config, name)["credential_process"]
                     for name in ("dev", "prod")}
        assert processes["dev"] != processes["prod"]
        directories = step.state["refresh_dir"].splitlines()
        assert len(directories) == 2

        later = LaterStep(laid_out, step.env, issuer_url=oidc_issuer.token_url,
                          request_token=oidc_issuer.request_token)
        before = len(sts.calls)
        for name, role in (("dev", DEV), ("prod", PROD)):
            run = later.credential_process(env={"AWS_PROFILE": name},
                                           argv=shlex.split(processes[name]))
            doc = run.document()
            assert doc["AccessKeyId"] == final_credentials(step, role)["AccessKeyId"]
            seen = later.botocore(sts.url, env={"AWS_PROFILE": name})
            assert seen["access_key_id"] == doc["AccessKeyId"]
            assert seen["arn"] == final_credentials(step, role)["Arn"]
        assert [c.action for c in sts.calls[before:]] == ["GetCallerIdentity"] * 2

        post = step_harness.run_action(dict(step.inputs), argv=("post",), oidc=False,
                                       env={**step_overrides(laid_out, nested=True),
                                            **step.env, **step.post_env()})
        assert post.ok, post.explain()
        for directory in directories:
            assert not Path(directory).exists()


@pytest.mark.parametrize("inputs", [
    {"profiles": "dev = arn:aws-cn:iam::111111111111:role/deploy"},
    {"profiles": "dev = arn:aws:iam::111111111111:role/deploy > bad role!"},
    {"role-to-assume": "arn:aws-cn:iam::111111111111:role/deploy"},
])
def test_an_input_error_does_not_print_a_masked_account(
    job: RunnerUserJob, inputs: dict[str, str]
) -> None:
    # SPEC "1.1 / Hardening": with mask-aws-account-id the account is a secret on failure paths
    # too, input errors included: masked before anything could print it.
    result = job.run({**inputs, "mask-aws-account-id": "true"})
    assert result.returncode == 1 and len(result.errors) == 1, result.explain()
    assert "111111111111" in result.masks
    assert "111111111111" not in result.stdout.replace("::add-mask::111111111111", "")


def test_a_chained_profile_is_capped_at_an_hour_and_a_direct_one_is_not(
    job: RunnerUserJob,
) -> None:
    # STS caps a session assumed from a role session at 1 h; the cap applies to the chained
    # profile only, is announced for it, and the direct profile keeps the asked duration.
    result = job.run({"profiles": f"direct = {DEV}\nchained = {ENTRY} > {PROD}",
                      "role-duration-seconds": "2h"})
    assert result.ok, result.explain()
    durations = {c.role_arn: c.duration_seconds for c in result.sts_calls if c.ok}
    assert durations[DEV] == 7200 and durations[PROD] == 3600, durations
    assert len(result.notices) == 1 and "chained" in result.notices[0], result.notices


def test_masked_accounts_of_every_profile_stay_out_of_the_log_and_the_summary(
    job: RunnerUserJob,
) -> None:
    # SPEC rule 9: with mask-aws-account-id no account appears unmasked in the log or the
    # summary. The 'profiles' output holds the ARNs (a later step needs them), and every
    # account in it is masked, so the runner hides it wherever it is printed.
    result = job.run({"role-to-assume": MAIN, "profiles": f"dev = {DEV}\nprod = {ENTRY} > {PROD}",
                      "mask-aws-account-id": "true"})
    assert result.ok, result.explain()
    accounts = {"111111111111", "222222222222", "333333333333", "555555555555"}
    assert accounts <= set(result.masks)
    for account in accounts:
        assert account not in result.summary, account
        assert not [line for line in result.stdout.splitlines()
                    if account in line and line != f"::add-mask::{account}"], account
    outputs = json.loads(result.outputs["profiles"])
    assert {arn.split(":")[4] for arn in outputs.values()} == {"111111111111", "333333333333"}
