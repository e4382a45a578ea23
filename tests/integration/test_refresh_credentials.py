"""``refresh-credentials`` end to end on the host (issue 13, SPEC 1.1).

The step runs as root (as the action's container does on GitHub); the later steps run on the
host as uid 1001, the runner's user, who owns RUNNER_TEMP, the workspace and HOME. Later steps
are real processes: the profile's ``credential_process`` split as the SDKs split it and run with
the host's ``python3 -I -S``, and a real botocore session resolving the exported profile. Every
request is counted where it arrives: the local OIDC issuer and the STS fault layer (moto behind).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from localdev.oidc_issuer import OidcIssuer
from localdev.sts_faults import StsFaultProxy
from py_aws_oidc.refresh import bundle
from py_aws_oidc.refresh import layout as refresh_layout
from tests.integration.cac_support import (
    ACCOUNT,
    ARWWI,
    ASSUME_ROLE,
    CREDENTIAL_VARS,
    OTHER_ACCOUNT,
    OTHER_ROLE,
    REGION,
    ROLE,
    assert_failed_cleanly,
)
from tests.support.harness import ActionHarness, ActionResult
from tests.support.later_steps import (
    RUNNER_UID,
    LaterStep,
    RunnerLayout,
    find_python,
    host_python_version,
    read_profile,
    runner_layout,
    step_overrides,
    tree_modes,
)

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or (host_python_version() or (0, 0)) < (3, 10),
    reason="needs root (to run later steps as uid 1001) and the host's python3 >= 3.10",
)

REFRESH = {"aws-region": REGION, "role-to-assume": ROLE, "refresh-credentials": "true"}
CHAIN = {
    "aws-region": REGION,
    "role-to-assume": f"{ROLE}\n{OTHER_ROLE}",
    "refresh-credentials": "true",
    "session-tags": "Team=platform\nCostCenter=42",
    "transitive-tag-keys": "Team",
    "role-session-name": "deploy-session",
}
STALE_IN_S = 300  # less than the default margin (1200 s): the cache is stale


@pytest.fixture
def job(harness: ActionHarness) -> Iterator[tuple[RunnerLayout, ActionHarness]]:
    with runner_layout() as laid_out:
        step_harness = ActionHarness(
            base_dir=laid_out.harness_dir, issuer=harness.issuer, sts=harness.sts,
            workspace=laid_out.workspace, on_result=harness.on_result,
        )
        yield laid_out, step_harness


def run_step(job: tuple[RunnerLayout, ActionHarness], inputs: dict[str, str | None],
             **kwargs: Any) -> ActionResult:
    laid_out, step_harness = job
    env = {**step_overrides(laid_out, nested=False), **kwargs.pop("env", {})}
    return step_harness.run_action(inputs, env=env, **kwargs)


def later(job: tuple[RunnerLayout, ActionHarness], step: ActionResult,
          oidc_issuer: OidcIssuer, *, oidc: bool = True) -> LaterStep:
    laid_out, _ = job
    return LaterStep(laid_out, step.env, issuer_url=oidc_issuer.token_url if oidc else None,
                     request_token=oidc_issuer.request_token if oidc else None)


def refresh_dir(step: ActionResult) -> Path:
    return Path(step.env["AWS_CONFIG_FILE"]).parent


def make_stale(directory: Path, seconds: int = STALE_IN_S) -> dict[str, Any]:
    """Rewrite the cache's Expiration to ``seconds`` from now (owner and mode kept)."""
    cache = directory / refresh_layout.CACHE_FILE
    doc: dict[str, Any] = json.loads(cache.read_text())
    doc["Expiration"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds))
    cache.write_text(json.dumps(doc))
    return doc


def counts(oidc_issuer: OidcIssuer, sts: StsFaultProxy) -> tuple[int, int]:
    return len(oidc_issuer.token_requests), len(sts.calls)


def session_of(call: Any) -> dict[str, str]:
    return {k: call.response[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}


# -- the step ----------------------------------------------------------------------------------------


def test_step_exports_a_profile_and_leaves_a_private_directory_for_the_runner_user(
    job: tuple[RunnerLayout, ActionHarness], sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    step = run_step(job, REFRESH)
    assert step.ok, step.explain()
    [call] = sts.calls
    assert call.action == ARWWI
    directory = refresh_dir(step)
    # Exactly: the credential variables blanked, the region, the config file and the profile.
    assert step.env_entries == [
        *((name, "") for name in CREDENTIAL_VARS),
        ("AWS_DEFAULT_REGION", REGION),
        ("AWS_REGION", REGION),
        ("AWS_CONFIG_FILE", str(directory / "config")),
        ("AWS_PROFILE", "py-aws-oidc"),
    ]
    laid_out, _ = job
    assert directory.parent == laid_out.runner_temp
    assert directory.name.startswith("py-aws-oidc-refresh-")
    # Everything is the runner user's (the step ran as root), 0700 / 0600.
    for relative, mode, uid, is_dir in tree_modes(directory):
        assert uid == RUNNER_UID, relative
        assert mode == (0o700 if is_dir else 0o600), (relative, oct(mode))
    profile = read_profile(directory / "config", "py-aws-oidc")
    assert profile == {
        "region": REGION,
        "credential_process": shlex.join([*bundle.CLEAN_START, "python3", "-I", "-S", str(directory / "lib" / "__main__.py")]),
    }
    # The cache holds the step's session; the settings file holds no credential of it.
    cached = json.loads((directory / "session.json").read_text())
    assert {k: cached[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")} == \
        session_of(call)
    settings_text = (directory / "settings.json").read_text()
    for value in session_of(call).values():
        assert value not in settings_text
    assert oidc_issuer.minted[0] not in settings_text
    # Outputs and the summary as without refresh, plus the refresh line with the expiry.
    assert step.outputs["authenticated-arn"] == call.response["Arn"]
    assert "Refresh" in step.summary and cached["Expiration"] in step.summary
    assert step.state == {"refresh_dir": str(directory)}


def test_later_botocore_session_resolves_the_profile_without_a_request(
    job: tuple[RunnerLayout, ActionHarness], sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    step = run_step(job, REFRESH)
    assert step.ok, step.explain()
    [call] = sts.calls
    before = counts(oidc_issuer, sts)
    seen = later(job, step, oidc_issuer).botocore(sts.url)
    assert seen["method"] == "custom-process"
    assert seen["profile"] == "py-aws-oidc"
    assert seen["region"] == REGION
    assert seen["access_key_id"] == call.response["AccessKeyId"]
    assert seen["arn"] == call.response["Arn"]
    # A cache hit: no token request, no STS call but the GetCallerIdentity botocore made.
    assert len(oidc_issuer.token_requests) == before[0]
    assert [c.action for c in sts.calls[before[1]:]] == ["GetCallerIdentity"]


def test_cache_hit_prints_the_document_with_no_request(
    job: tuple[RunnerLayout, ActionHarness], sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    step = run_step(job, REFRESH)
    assert step.ok, step.explain()
    [call] = sts.calls
    before = counts(oidc_issuer, sts)
    run = later(job, step, oidc_issuer).credential_process()
    assert run.argv[:-1] == [*bundle.CLEAN_START, "python3", "-I", "-S"]
    doc = run.document()
    assert list(doc) == ["Version", "AccessKeyId", "SecretAccessKey", "SessionToken",
                         "Expiration"]
    assert doc["Version"] == 1
    assert {k: doc[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")} == \
        session_of(call)
    assert doc["Expiration"] == call.response["Expiration"][:19] + "Z"
    assert counts(oidc_issuer, sts) == before


def test_stale_cache_mints_once_with_the_same_chain_session_name_and_tags(
    job: tuple[RunnerLayout, ActionHarness], sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    step = run_step(job, CHAIN)
    assert step.ok, step.explain()
    first_chain = list(sts.calls)
    assert [c.action for c in first_chain] == [ARWWI, ASSUME_ROLE]
    directory = refresh_dir(step)
    stale = make_stale(directory)
    before = counts(oidc_issuer, sts)

    later_step = later(job, step, oidc_issuer)
    # This step's variables differ from the action's (GITHUB_ACTION, and a rewritten ref):
    # the tags are the ones the step sent, not recomputed here.
    doc = later_step.credential_process({"GITHUB_REF": "refs/heads/rewritten"}).document()

    assert len(oidc_issuer.token_requests) == before[0] + 1
    new_calls = sts.calls[before[1]:]
    assert [c.action for c in new_calls] == [ARWWI, ASSUME_ROLE]
    for old, new in zip(first_chain, new_calls, strict=True):
        assert new.role_arn == old.role_arn
        assert new.role_session_name == old.role_session_name == "deploy-session"
        assert new.tags == old.tags
        assert new.transitive_tag_keys == old.transitive_tag_keys
        assert new.duration_seconds == old.duration_seconds
    assert new_calls[1].tags["Team"] == "platform"
    assert new_calls[1].tags["Action"] == "__octo-org_py-aws-oidc"
    assert new_calls[1].transitive_tag_keys == ["Team"]
    # The new session is printed and cached (atomically replaced, still the user's, 0600).
    assert doc["AccessKeyId"] == new_calls[1].response["AccessKeyId"] != stale["AccessKeyId"]
    cache = directory / "session.json"
    assert json.loads(cache.read_text()) == doc
    st = cache.lstat()
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (RUNNER_UID, 0o600)
    assert sorted(p.name for p in directory.iterdir()) == [
        "config", "lib", "lock", "session.json", "settings.json"]
    # The next call is a hit again.
    after = counts(oidc_issuer, sts)
    assert later_step.credential_process().document() == doc
    assert counts(oidc_issuer, sts) == after


def test_margin_variable_decides_what_is_stale(
    job: tuple[RunnerLayout, ActionHarness], sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    step = run_step(job, REFRESH)
    assert step.ok, step.explain()
    later_step = later(job, step, oidc_issuer)
    before = counts(oidc_issuer, sts)
    # A 3600 s session is fresh under the default margin...
    later_step.credential_process().document()
    assert counts(oidc_issuer, sts) == before
    # ...and stale when the caller asks for more than its life left.
    doc = later_step.credential_process({"PY_AWS_OIDC_REFRESH_MARGIN_S": "4000"}).document()
    assert counts(oidc_issuer, sts) == (before[0] + 1, before[1] + 1)
    assert doc["AccessKeyId"] == sts.calls[-1].response["AccessKeyId"]
    # Longer than any session: "always refresh" (clamped to 43200), not an error (SPEC 1.2).
    doc = later_step.credential_process({"PY_AWS_OIDC_REFRESH_MARGIN_S": "86400"}).document()
    assert counts(oidc_issuer, sts) == (before[0] + 2, before[1] + 2)
    assert doc["AccessKeyId"] == sts.calls[-1].response["AccessKeyId"]
    bad = later_step.credential_process({"PY_AWS_OIDC_REFRESH_MARGIN_S": "soon"})
    assert bad.returncode == 1 and bad.stdout == ""
    assert "PY_AWS_OIDC_REFRESH_MARGIN_S" in bad.stderr and bad.stderr.count("\n") == 1


def test_a_callers_library_path_cannot_change_what_the_process_loads(
    job: tuple[RunnerLayout, ActionHarness], sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    """The AWS CLI v2 (a PyInstaller bundle) starts the credential process with LD_LIBRARY_PATH
    pointing at its own libssl/libcrypto/libz: the host's python3 must not load them (SPEC 1.2)."""
    laid_out, _ = job
    step = run_step(job, REFRESH)
    assert step.ok, step.explain()
    bundled = laid_out.base / "aws-cli-dist"
    bundled.mkdir()
    for name in ("libssl.so.3", "libcrypto.so.3", "libz.so.1"):
        (bundled / name).write_bytes(b"\x7fELF not a library\n")
    bundled.chmod(0o755)
    later_step = later(job, step, oidc_issuer)
    before = counts(oidc_issuer, sts)
    caller = {"LD_LIBRARY_PATH": str(bundled), "LD_LIBRARY_PATH_ORIG": "",
              "PYTHONHOME": str(bundled), "PYTHONPATH": str(bundled),
              # Always mint: the mint imports ssl (the cache hit path does not).
              "PY_AWS_OIDC_REFRESH_MARGIN_S": "43200"}
    # The loader does read the variable: the same python3 started without the guard fails.
    argv = later_step.argv()
    bare = argv[argv.index("python3"):]
    broken = later_step.credential_process(caller, argv=bare)
    assert broken.returncode != 0, broken
    doc = later_step.credential_process(caller).document()
    assert counts(oidc_issuer, sts) == (before[0] + 1, before[1] + 1)
    assert doc["AccessKeyId"] == sts.calls[-1].response["AccessKeyId"]


def test_eight_concurrent_stale_callers_mint_once(
    job: tuple[RunnerLayout, ActionHarness], sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    step = run_step(job, REFRESH)
    assert step.ok, step.explain()
    make_stale(refresh_dir(step))
    before = counts(oidc_issuer, sts)
    later_step = later(job, step, oidc_issuer)
    procs = [later_step.popen() for _ in range(8)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [err for _, err in outputs]
    assert all(err == "" for _, err in outputs)
    docs = [json.loads(out) for out, _ in outputs]
    assert counts(oidc_issuer, sts) == (before[0] + 1, before[1] + 1)
    assert all(doc == docs[0] for doc in docs)
    assert docs[0]["AccessKeyId"] == sts.calls[-1].response["AccessKeyId"]


def _symlink_to_planted(directory: Path, planted: dict[str, Any]) -> None:
    target = directory.parent / "planted.json"
    target.write_text(json.dumps(planted))
    os.chown(target, RUNNER_UID, RUNNER_UID)
    target.chmod(0o600)
    cache = directory / "session.json"
    cache.unlink()
    cache.symlink_to(target)
    os.chown(cache, RUNNER_UID, RUNNER_UID, follow_symlinks=False)


def _foreign_owner(directory: Path, planted: dict[str, Any]) -> None:
    cache = directory / "session.json"
    cache.write_text(json.dumps(planted))
    os.chown(cache, 1002, 1002)


def _readable_by_others(directory: Path, planted: dict[str, Any]) -> None:
    cache = directory / "session.json"
    cache.write_text(json.dumps(planted))
    cache.chmod(0o644)


@pytest.mark.parametrize("tamper", [_symlink_to_planted, _foreign_owner, _readable_by_others],
                         ids=["symlink", "other-owner", "mode-0644"])
def test_tampered_cache_is_never_used(
    job: tuple[RunnerLayout, ActionHarness], sts: StsFaultProxy, oidc_issuer: OidcIssuer,
    tamper: Callable[[Path, dict[str, Any]], None],
) -> None:
    step = run_step(job, REFRESH)
    assert step.ok, step.explain()
    directory = refresh_dir(step)
    planted = {"Version": 1, "AccessKeyId": "ASIAPLANTEDPLANTED01",
               "SecretAccessKey": "planted-secret-planted-secret-planted-00",
               "SessionToken": "planted-token", "Expiration": "2099-01-01T00:00:00Z"}
    tamper(directory, planted)
    before = counts(oidc_issuer, sts)
    doc = later(job, step, oidc_issuer).credential_process().document()
    assert doc["AccessKeyId"] != planted["AccessKeyId"]
    assert doc["AccessKeyId"] == sts.calls[-1].response["AccessKeyId"]
    assert counts(oidc_issuer, sts) == (before[0] + 1, before[1] + 1)
    # Replaced by a private regular file of the user's; a link's target is left alone.
    st = (directory / "session.json").lstat()
    assert stat.S_ISREG(st.st_mode)
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (RUNNER_UID, 0o600)
    planted_file = directory.parent / "planted.json"
    if planted_file.exists():
        assert json.loads(planted_file.read_text()) == planted


def test_directory_of_another_user_is_refused(
    job: tuple[RunnerLayout, ActionHarness], sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    step = run_step(job, REFRESH)
    assert step.ok, step.explain()
    directory = refresh_dir(step)
    directory.chmod(0o755)  # the user's, but open to others: nothing in it is trusted
    before = counts(oidc_issuer, sts)
    run = later(job, step, oidc_issuer).credential_process()
    assert run.returncode == 1 and run.stdout == ""
    assert "refusing" in run.stderr and run.stderr.count("\n") == 1
    assert counts(oidc_issuer, sts) == before


def test_token_file_is_read_again_relative_to_the_callers_workspace(
    job: tuple[RunnerLayout, ActionHarness], sts: StsFaultProxy, oidc_issuer: OidcIssuer,
    secrets: Any,
) -> None:
    laid_out, _ = job
    first = secrets.add(oidc_issuer.mint())
    (laid_out.workspace / "ci").mkdir()
    (laid_out.workspace / "ci" / "token.jwt").write_text(first)
    step = run_step(job, {"aws-region": REGION, "role-to-assume": ROLE,
                          "web-identity-token-file": "ci/token.jwt",
                          "refresh-credentials": "true"}, oidc=False)
    assert step.ok, step.explain()
    assert sts.calls[-1].web_identity_token == first
    make_stale(refresh_dir(step))
    # The later step sees the workspace at another path (as the host does after a container
    # step), holding a newer token: that is the one sent.
    other_workspace = laid_out.base / "host-workspace"
    (other_workspace / "ci").mkdir(parents=True)
    second = secrets.add(oidc_issuer.mint())
    (other_workspace / "ci" / "token.jwt").write_text(second)
    shutil.chown(other_workspace / "ci" / "token.jwt", RUNNER_UID, RUNNER_UID)
    before = counts(oidc_issuer, sts)
    doc = later(job, step, oidc_issuer, oidc=False).credential_process(
        {"GITHUB_WORKSPACE": str(other_workspace)}).document()
    assert counts(oidc_issuer, sts) == (before[0], before[1] + 1)  # no token request
    call = sts.calls[-1]
    assert call.action == ARWWI and call.web_identity_token == second
    assert doc["AccessKeyId"] == call.response["AccessKeyId"]


def test_missing_token_variables_fail_with_one_line_naming_the_permission(
    job: tuple[RunnerLayout, ActionHarness], sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    step = run_step(job, REFRESH)
    assert step.ok, step.explain()
    [call] = sts.calls
    make_stale(refresh_dir(step))
    before = counts(oidc_issuer, sts)
    run = later(job, step, oidc_issuer, oidc=False).credential_process()
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1 and run.stderr.endswith("\n")
    assert "id-token: write" in run.stderr and "container:" in run.stderr
    assert "Traceback" not in run.stderr
    for secret in [*session_of(call).values(), oidc_issuer.request_token, *oidc_issuer.minted]:
        assert secret not in run.stderr
    assert counts(oidc_issuer, sts) == before


def test_sts_refusal_is_one_line_without_secrets(
    job: tuple[RunnerLayout, ActionHarness], sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    step = run_step(job, REFRESH)
    assert step.ok, step.explain()
    make_stale(refresh_dir(step))
    sts.fail_next(ARWWI, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity",
                  status=403)
    run = later(job, step, oidc_issuer).credential_process()
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and "AccessDenied" in run.stderr
    for secret in [oidc_issuer.request_token, *oidc_issuer.minted]:
        assert secret not in run.stderr


def test_with_mask_aws_account_id_the_error_line_names_no_account(
    job: tuple[RunnerLayout, ActionHarness], sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    """The account is a secret (SPEC rule 10) on the process's failure path too: the line goes
    to the later step's stderr (and to whatever file a script sends it to), unmasked by us."""
    step = run_step(job, {**CHAIN, "mask-aws-account-id": "true"})
    assert step.ok, step.explain()
    make_stale(refresh_dir(step))
    sts.fail_next(ASSUME_ROLE, "AccessDenied",
                  f"User: arn:aws:sts::{ACCOUNT}:assumed-role/gha-entry/deploy-session is not "
                  f"authorized to perform: sts:AssumeRole on resource: {OTHER_ROLE}", status=403)
    run = later(job, step, oidc_issuer).credential_process()
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and "AccessDenied" in run.stderr
    assert "arn:aws:sts::(masked):assumed-role/gha-entry" in run.stderr
    assert ACCOUNT not in run.stderr and OTHER_ACCOUNT not in run.stderr


def test_post_step_removes_the_directory_and_blanks_the_profile(
    job: tuple[RunnerLayout, ActionHarness], sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    step = run_step(job, REFRESH)
    assert step.ok, step.explain()
    directory = refresh_dir(step)
    assert directory.is_dir()
    later_step = later(job, step, oidc_issuer)
    argv = later_step.argv()
    post = run_step(job, REFRESH, argv=("post",), env={**step.env, **step.post_env()},
                    oidc=False)
    assert post.ok, post.explain()
    assert not directory.exists()
    assert ("AWS_PROFILE", "") in post.env_entries
    assert ("AWS_CONFIG_FILE", "") in post.env_entries
    assert dict(post.env_entries)["AWS_ACCESS_KEY_ID"] == ""
    # A later step now fails (python3 finds no program there); it prints no credentials.
    run = later_step.credential_process(argv=argv)
    assert run.returncode != 0 and run.stdout == "" and str(directory) in run.stderr


def test_aws_profile_names_the_profile_and_writes_no_shared_credentials(
    job: tuple[RunnerLayout, ActionHarness], sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    step = run_step(job, {**REFRESH, "aws-profile": "deploy"})
    assert step.ok, step.explain()
    assert step.env["AWS_PROFILE"] == "deploy"
    assert read_profile(Path(step.env["AWS_CONFIG_FILE"]), "deploy")["region"] == REGION
    laid_out, _ = job
    assert not (laid_out.job_home / ".aws").exists()
    seen = later(job, step, oidc_issuer).botocore(sts.url)
    assert seen["profile"] == "deploy" and seen["method"] == "custom-process"


@pytest.mark.parametrize(
    ("inputs", "named"),
    [
        pytest.param({"aws-access-key-id": "AKIAIOSFODNN7EXAMPLE",
                      "aws-secret-access-key": "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"},
                     "refresh-credentials", id="static-keys"),
        pytest.param({"role-chaining": "true"}, "refresh-credentials", id="existing"),
        pytest.param({"use-existing-credentials": "true"}, "use-existing-credentials",
                     id="use-existing"),
        pytest.param({"output-env-credentials": "false"}, "output-env-credentials",
                     id="no-env"),
        pytest.param({"refresh-credentials": "yes"}, "refresh-credentials", id="not-a-boolean"),
    ],
)
def test_refresh_input_errors_before_any_request(
    run_action: Any, sts: StsFaultProxy, oidc_issuer: OidcIssuer, inputs: dict[str, str],
    named: str,
) -> None:
    result = run_action({**REFRESH, **inputs})
    error = assert_failed_cleanly(result)
    assert named in error
    assert sts.calls == [] and oidc_issuer.token_requests == []


def test_python_too_old_is_one_line(
    job: tuple[RunnerLayout, ActionHarness], sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    old = next((p for p in map(find_python, (9, 8, 7, 6)) if p), None)
    if old is None:
        pytest.skip("no python3 older than 3.10 on this machine")
    step = run_step(job, REFRESH)
    assert step.ok, step.explain()
    later_step = later(job, step, oidc_issuer)
    argv = [old if arg == "python3" else arg for arg in later_step.argv()]
    run = later_step.credential_process(argv=argv, uid=0)
    assert run.returncode == 1 and run.stdout == ""
    assert "3.10 or newer" in run.stderr and run.stderr.count("\n") == 1


@pytest.mark.parametrize("inputs", [REFRESH, CHAIN], ids=["one-hop", "chain-signed-by-botocore"])
def test_mint_runs_on_python_3_10(
    run_action: Any, sts: StsFaultProxy, oidc_issuer: OidcIssuer, inputs: dict[str, str]
) -> None:
    """The chain's second hop is signed with botocore's SigV4 signer: that runs on 3.10 too."""
    python310 = find_python(10)
    if python310 is None:
        pytest.skip("no python3.10 on this machine")
    # As root throughout (the harness's root-owned job), so pyenv's interpreter is usable.
    step = run_action(inputs)
    assert step.ok, step.explain()
    hops = len(sts.calls)
    directory = refresh_dir(step)
    make_stale(directory)
    env = {"PATH": "/usr/bin:/bin", "ACTIONS_ID_TOKEN_REQUEST_URL": oidc_issuer.token_url,
           "ACTIONS_ID_TOKEN_REQUEST_TOKEN": oidc_issuer.request_token}
    before = counts(oidc_issuer, sts)
    done = subprocess.run([python310, "-I", "-S", str(directory / "lib")], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert json.loads(done.stdout)["AccessKeyId"] == sts.calls[-1].response["AccessKeyId"]
    assert counts(oidc_issuer, sts) == (before[0] + 1, before[1] + hops)
    assert [c.action for c in sts.calls[-hops:]] == [c.action for c in sts.calls[:hops]]


def test_post_step_removes_nothing_outside_runner_temp(
    job: tuple[RunnerLayout, ActionHarness], tmp_path: Path
) -> None:
    elsewhere = tmp_path / "py-aws-oidc-refresh-0123456789abcdef"
    elsewhere.mkdir()
    (elsewhere / "keep").write_text("x")
    post = run_step(job, REFRESH, argv=("post",), oidc=False,
                    env={"STATE_refresh_dir": str(elsewhere)})
    assert post.ok, post.explain()
    assert (elsewhere / "keep").exists()
    assert any("Left the refresh directory" in w for w in post.warnings)


def test_the_callers_python_variables_and_directory_load_no_code(
    job: tuple[RunnerLayout, ActionHarness], sts: StsFaultProxy, oidc_issuer: OidcIssuer
) -> None:
    """An earlier step can set PYTHONPATH or leave a json.py in the working directory: the
    process (python3 -I -S) imports neither."""
    laid_out, _ = job
    step = run_step(job, REFRESH)
    assert step.ok, step.explain()
    trap = laid_out.user_home / "trap"
    trap.mkdir()
    marker = laid_out.user_home / "trapped"
    for module in ("json", "fcntl", "py_aws_oidc", "sitecustomize"):
        (trap / f"{module}.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    shutil.copy(trap / "json.py", laid_out.user_home / "json.py")  # the caller's cwd
    for path in (trap, *trap.iterdir(), laid_out.user_home / "json.py"):
        os.chown(path, RUNNER_UID, RUNNER_UID)
    run = later(job, step, oidc_issuer).credential_process(
        {"PYTHONPATH": str(trap), "PYTHONSTARTUP": str(trap / "json.py"),
         "PYTHONHOME": str(trap)})
    run.document()
    assert not marker.exists()


def test_a_session_no_longer_than_the_margin_is_warned_about(
    job: tuple[RunnerLayout, ActionHarness],
) -> None:
    step = run_step(job, {**REFRESH, "role-duration-seconds": "15m"})
    assert step.ok, step.explain()
    [warning] = step.warnings
    assert "900 s" in warning and "PY_AWS_OIDC_REFRESH_MARGIN_S" in warning
    long_step = run_step(job, REFRESH)
    assert long_step.ok and long_step.warnings == []
