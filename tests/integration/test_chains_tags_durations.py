"""Issue 4 at the HTTP level: role chains, session tags and durations, against moto behind the
fault-injecting STS layer (``sts``) and the local OIDC issuer (``oidc_issuer``).

Every assertion is about what went over the wire (``result.sts_calls``: the parameters of each
STS request, who signed it, what STS answered) and what the step left for later steps. Bad values
of these inputs (tag limits and characters, duplicate keys, durations out of range ...) are in the
bad-input catalogue, ``tests/integration/test_bad_inputs.py``; the leak check runs on every run.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest

from localdev.oidc_issuer import DEFAULT_SHA
from localdev.sts_faults import MSG_MAX_SESSION, StsCall
from tests.support.host_runtime import BOTH_RUNTIMES

pytestmark = BOTH_RUNTIMES  # every test also runs on the host runtime (node + the zip)

REGION = "us-east-1"
ROLE_A = "arn:aws:iam::111122223333:role/gha-entry"
ROLE_B = "arn:aws:iam::444455556666:role/deploy-tagged"
ROLE_C = "arn:aws:iam::777788889999:role/final"
ARWWI = "AssumeRoleWithWebIdentity"
ASSUME_ROLE = "AssumeRole"
SESSION = "GitHubActions-1234567890-1"  # the harness's GITHUB_RUN_ID / GITHUB_RUN_ATTEMPT

# CAC's default tags with the harness's context: the token's claims and these variables agree.
DEFAULT_TAGS = {
    "GitHub": "Actions",
    "Repository": "octo-org/octo-repo",
    "Workflow": "Deploy",
    "Action": "__octo-org_py-aws-oidc",
    "Actor": "octocat",
    "Commit": DEFAULT_SHA,
    "Branch": "refs/heads/main",
    "EventName": "push",
    "RunId": "1234567890",
    "Job": "deploy",
    "TriggeringActor": "octocat",
}
OPTIONAL_KEYS = {"EventName", "BaseRef", "HeadRef", "RunId", "Job", "TriggeringActor"}


def chain(*roles: str) -> str:
    return "\n".join(roles)


def sts_calls(result, *actions: str) -> list[StsCall]:
    """This run's STS requests (optionally only some actions), in arrival order."""
    wanted = set(actions)
    return [c for c in result.sts_calls if not wanted or c.action in wanted]


def assert_signed_by_previous(calls: list[StsCall]) -> None:
    """Each hop after the first is signed with the access key the previous hop returned."""
    for previous, current in itertools.pairwise(calls):
        assert current.signed and current.session_token_header, current
        assert current.access_key_id == previous.response["AccessKeyId"], (previous, current)


def assert_exports_final_session(result, final: StsCall) -> None:
    assert result.ok, result.explain()
    assert result.env["AWS_ACCESS_KEY_ID"] == final.response["AccessKeyId"]
    assert result.env["AWS_SECRET_ACCESS_KEY"] == final.response["SecretAccessKey"]
    assert result.env["AWS_SESSION_TOKEN"] == final.response["SessionToken"]
    assert result.env["AWS_REGION"] == result.env["AWS_DEFAULT_REGION"] == REGION
    assert result.outputs["authenticated-arn"] == final.response["Arn"]
    assert result.outputs["aws-account-id"] == final.response["Arn"].split(":")[4]


def assert_no_request(result, *, token: bool = True) -> None:
    assert result.sts_calls == [], result.sts_calls
    if token:
        assert result.token_requests == [], result.token_requests


# =================================================================================================
# role chains
# =================================================================================================


def test_two_role_chain_from_oidc(run_action) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": chain(ROLE_A, ROLE_B)})
    calls = sts_calls(result)
    assert [c.action for c in calls] == [ARWWI, ASSUME_ROLE], calls
    first, second = calls
    # Hop 1: unsigned web identity, no tags (STS refuses them), short-lived (it only signs hop 2).
    assert first.role_arn == ROLE_A and not first.signed
    assert first.tags == {} and first.transitive_tag_keys == []
    assert first.duration_seconds == 900
    # Hop 2: AssumeRole signed with hop 1's session, the default 3600 s, CAC's default tags.
    assert second.role_arn == ROLE_B
    assert second.duration_seconds == 3600
    assert second.tags == DEFAULT_TAGS
    assert [c.role_session_name for c in calls] == [SESSION, SESSION]
    assert_signed_by_previous(calls)
    assert_exports_final_session(result, second)
    assert result.outputs["aws-account-id"] == "444455556666"
    assert result.notices == []  # the default duration needs no cap
    assert len(result.token_requests) == 1
    assert "| 2 | AssumeRole |" in result.summary


def test_three_role_chain_transitive_keys_and_source_identity(run_action) -> None:
    result = run_action({
        "aws-region": REGION,
        "role-to-assume": chain(ROLE_A, ROLE_B, ROLE_C),
        "session-tags": "Team=platform\nCostCenter=4711",
        "transitive-tag-keys": "Team",
        "source-identity": "octocat",
    })
    calls = sts_calls(result)
    assert [c.action for c in calls] == [ARWWI, ASSUME_ROLE, ASSUME_ROLE], calls
    web, hop2, hop3 = calls
    assert web.tags == {} and "SourceIdentity" not in web.params
    assert [c.duration_seconds for c in calls] == [900, 900, 3600]
    assert_signed_by_previous(calls)
    # Hop 2 sets the tags and makes Team transitive; SourceIdentity is set once, here.
    assert hop2.tags == {**DEFAULT_TAGS, "Team": "platform", "CostCenter": "4711"}
    assert hop2.transitive_tag_keys == ["Team"]
    assert hop2.params["SourceIdentity"] == "octocat"
    # Hop 3 inherits Team: STS refuses a request that sets an inherited transitive tag again.
    assert "Team" not in hop3.tags and hop3.transitive_tag_keys == []
    assert hop3.tags == {**DEFAULT_TAGS, "CostCenter": "4711"}
    assert "SourceIdentity" not in hop3.params  # it survives chaining by itself
    assert_exports_final_session(result, hop3)
    assert result.outputs["aws-account-id"] == "777788889999"


@pytest.mark.parametrize("duration", ["2h", "max"])
def test_final_chained_hop_is_capped_at_one_hour_with_a_notice(run_action, duration: str) -> None:
    result = run_action({
        "aws-region": REGION,
        "role-to-assume": chain(ROLE_A, ROLE_B),
        "role-duration-seconds": duration,
    })
    calls = sts_calls(result)
    # No step-down and no refused request: the cap is applied before asking.
    assert [(c.action, c.duration_seconds) for c in calls] == [(ARWWI, 900), (ASSUME_ROLE, 3600)]
    assert len(result.notices) == 1, result.notices
    assert "3600" in result.notices[0] and "chaining" in result.notices[0]
    assert_exports_final_session(result, calls[-1])


def test_a_failing_hop_is_named_and_nothing_is_exported(run_action, sts) -> None:
    denied = (f"User: arn:aws:sts::111122223333:assumed-role/gha-entry/{SESSION} is not "
              f"authorized to perform: sts:AssumeRole on resource: {ROLE_B}")
    sts.fail_next(ASSUME_ROLE, "AccessDenied", denied, status=403, times=5)
    result = run_action({"aws-region": REGION, "role-to-assume": chain(ROLE_A, ROLE_B)})
    assert result.returncode == 1
    # AccessDenied is not retried: exactly one AssumeRole.
    assert [c.action for c in sts_calls(result)] == [ARWWI, ASSUME_ROLE]
    (error,) = result.errors
    assert "role 2 of 2" in error and ROLE_B in error
    assert "not authorized to perform: sts:AssumeRole" in error
    assert result.env == {} and result.outputs == {}


def test_chain_from_static_keys_uses_environment_tags(run_action, secrets) -> None:
    key_id, secret = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    result = run_action(
        {
            "aws-region": REGION,
            "aws-access-key-id": key_id,
            "aws-secret-access-key": secret,
            "role-to-assume": chain(ROLE_A, ROLE_B),
            "session-tags": "Team=platform",
        },
        env={"GITHUB_REPOSITORY": "octo-org/other-repo"},
        oidc=False,
    )
    calls = sts_calls(result)
    assert [c.action for c in calls] == [ASSUME_ROLE, ASSUME_ROLE], calls
    first, second = calls
    assert first.access_key_id == key_id and not first.session_token_header
    assert_signed_by_previous(calls)
    assert [c.duration_seconds for c in calls] == [900, 3600]
    # Without a web identity token there are no claims: the tags come from the environment
    # (as in CAC), on every AssumeRole hop.
    for call in calls:
        assert call.tags == {**DEFAULT_TAGS, "Repository": "octo-org/other-repo", "Team": "platform"}
    assert_exports_final_session(result, second)
    assert result.token_requests == []


def test_chain_from_existing_session_credentials(run_action, secrets) -> None:
    env = {
        "AWS_ACCESS_KEY_ID": "ASIAEXISTINGSESSION1",
        "AWS_SECRET_ACCESS_KEY": "existingSecretAccessKeyForTheChainTest0",
        "AWS_SESSION_TOKEN": "existing-session-token-" + "x" * 40,
    }
    result = run_action(
        {"aws-region": REGION, "role-chaining": "true", "role-to-assume": chain(ROLE_A, ROLE_B),
         "role-duration-seconds": "90m"},
        env=env,
        oidc=False,
    )
    calls = sts_calls(result)
    assert [c.action for c in calls] == [ASSUME_ROLE, ASSUME_ROLE], calls
    assert calls[0].access_key_id == env["AWS_ACCESS_KEY_ID"] and calls[0].session_token_header
    assert_signed_by_previous(calls)
    assert [c.duration_seconds for c in calls] == [900, 3600]  # 90 m capped: role chaining
    assert len(result.notices) == 1 and "5400 s" in result.notices[0]
    assert_exports_final_session(result, calls[1])


@pytest.mark.parametrize(("region", "partition"),
                         [("us-east-1", "aws"), ("us-gov-west-1", "aws-us-gov")])
def test_a_role_name_on_hop_two_takes_hop_ones_account(run_action, region: str,
                                                       partition: str) -> None:
    entry = f"arn:{partition}:iam::111122223333:role/gha-entry"
    result = run_action({"aws-region": region, "role-to-assume": chain(entry, "deploy-by-name")})
    calls = sts_calls(result)
    # No GetCallerIdentity: hop 1's assumed-role ARN names the account.
    assert [c.action for c in calls] == [ARWWI, ASSUME_ROLE], calls
    assert calls[1].role_arn == f"arn:{partition}:iam::111122223333:role/deploy-by-name"
    assert result.ok, result.explain()
    assert result.outputs["authenticated-arn"] == calls[1].response["Arn"]


# =================================================================================================
# session tags
# =================================================================================================


@pytest.mark.parametrize(
    "session_tags",
    [
        "Team=platform\n\nCost Center = 47:11\nPath=a/b+c@d",
        json.dumps({"Team": "platform", "Cost Center": "47:11", "Path": "a/b+c@d"}),
    ],
    ids=["key-value-lines", "json-object"],
)
def test_session_tags_forms_and_custom_tags_are_merged(run_action, session_tags: str) -> None:
    result = run_action({
        "aws-region": REGION,
        "role-to-assume": chain(ROLE_A, ROLE_B),
        "session-tags": session_tags,
        "custom-tags": json.dumps({"Env": "prod", "Tier": 3, "Blue": True}),
    })
    web, hop2 = sts_calls(result)
    assert web.tags == {}
    assert hop2.tags == {
        **DEFAULT_TAGS,
        "Env": "prod", "Tier": "3", "Blue": "true",
        "Team": "platform", "Cost Center": "47:11", "Path": "a/b+c@d",
    }
    assert "Cost Center=47:11" in result.summary
    assert_exports_final_session(result, hop2)


def test_default_tags_take_claims_over_conflicting_environment(run_action, oidc_issuer) -> None:
    # The token says: a pull request; the environment (rewritable by an earlier step through
    # GITHUB_ENV) says something else for every claim-backed tag.
    oidc_issuer.claims = {"event_name": "pull_request", "ref": "refs/pull/7/merge",
                          "base_ref": "main", "head_ref": "feature/x"}
    forged = {
        "GITHUB_REPOSITORY": "evil-org/evil-repo",
        "GITHUB_SHA": "0" * 40,
        "GITHUB_REF": "refs/heads/evil",
        "GITHUB_ACTOR": "mallory",
        "GITHUB_WORKFLOW": "Evil",
        "GITHUB_RUN_ID": "999",
        "GITHUB_EVENT_NAME": "workflow_dispatch",
        "GITHUB_BASE_REF": "evil-base",
        "GITHUB_HEAD_REF": "evil-head",
        # No claim carries these: they come from the environment, as in CAC.
        "GITHUB_ACTION": "assume-step",
        "GITHUB_JOB": "build",
        "GITHUB_TRIGGERING_ACTOR": "trigger-person",
    }
    result = run_action({"aws-region": REGION, "role-to-assume": chain(ROLE_A, ROLE_B)},
                        env=forged)
    web, hop2 = sts_calls(result)
    claims = web.token_claims or {}
    assert claims["repository"] == "octo-org/octo-repo"  # the verified claims we compare with
    assert hop2.tags == {
        "GitHub": "Actions",
        "Repository": "octo-org/octo-repo",
        "Workflow": "Deploy",
        "Action": "assume-step",
        "Actor": "octocat",
        "Commit": DEFAULT_SHA,
        "Branch": "refs/pull/7/merge",
        "EventName": "pull_request",
        "BaseRef": "main",
        "HeadRef": "feature/x",
        "RunId": "1234567890",
        "Job": "build",
        "TriggeringActor": "trigger-person",
    }
    assert not any(v in forged.values() for k, v in hop2.tags.items()
                   if k not in ("Action", "Job", "TriggeringActor"))
    assert result.ok, result.explain()


def test_default_tag_values_are_sanitised(run_action, oidc_issuer) -> None:
    oidc_issuer.claims = {"actor": "octocat[bot]", "workflow": "Deploy (prod) #1"}
    result = run_action({"aws-region": REGION, "role-to-assume": chain(ROLE_A, ROLE_B)},
                        env={"GITHUB_TRIGGERING_ACTOR": "dependabot[bot]"})
    hop2 = sts_calls(result)[1]
    assert hop2.tags["Actor"] == "octocat_bot_"
    assert hop2.tags["Workflow"] == "Deploy _prod_ _1"
    assert hop2.tags["TriggeringActor"] == "dependabot_bot_"
    assert result.ok, result.explain()


def test_skip_session_tagging_drops_only_the_default_tags(run_action) -> None:
    result = run_action({
        "aws-region": REGION,
        "role-to-assume": chain(ROLE_A, ROLE_B),
        "role-skip-session-tagging": "true",
        "session-tags": "Team=platform",
    })
    web, hop2 = sts_calls(result)
    assert web.tags == {}
    assert hop2.tags == {"Team": "platform"}
    assert result.ok, result.explain()


def test_packed_policy_too_large_drops_optional_tags_and_retries_once(run_action, sts) -> None:
    # 11 default tags + 1 of ours = 12 > 10; without the 4 optional ones, 8 fit.
    sts.packed_policy_max_tags = 10
    result = run_action({
        "aws-region": REGION,
        "role-to-assume": chain(ROLE_A, ROLE_B),
        "session-tags": "Team=platform",
    })
    calls = sts_calls(result, ASSUME_ROLE)
    assert len(calls) == 2, calls
    assert calls[0].error_code == "PackedPolicyTooLarge"
    assert calls[0].tags == {**DEFAULT_TAGS, "Team": "platform"}
    kept = {k: v for k, v in calls[0].tags.items() if k not in OPTIONAL_KEYS}
    assert calls[1].tags == kept and kept["Team"] == "platform"
    assert calls[1].ok
    assert_exports_final_session(result, calls[1])


def test_packed_policy_too_large_twice_fails_after_exactly_one_retry(run_action, sts) -> None:
    sts.packed_policy_max_tags = 3
    result = run_action({
        "aws-region": REGION,
        "role-to-assume": chain(ROLE_A, ROLE_B),
        "session-tags": "Team=platform",
    })
    assert result.returncode == 1
    calls = sts_calls(result, ASSUME_ROLE)
    assert [c.error_code for c in calls] == ["PackedPolicyTooLarge", "PackedPolicyTooLarge"]
    (error,) = result.errors
    assert "PackedPolicyTooLarge" in error and "role 2 of 2" in error
    assert "Team=" in error  # the tag sizes help decide what to drop


@pytest.mark.parametrize(
    ("inputs", "named"),
    [
        ({"session-tags": "Team=platform"}, "session-tags"),
        ({"custom-tags": '{"Team": "platform"}'}, "custom-tags"),
        ({"role-external-id": "external-id-1"}, "role-external-id"),
    ],
    ids=["session-tags", "custom-tags", "external-id"],
)
def test_assume_role_options_with_a_single_oidc_role_fail_showing_the_chain(
    run_action, inputs: dict[str, str], named: str
) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE_A, **inputs})
    assert result.returncode == 1
    (error,) = result.errors
    assert f"'{named}'" in error
    assert "AssumeRoleWithWebIdentity" in error
    # The remedy shows the two-role chain that would carry them.
    assert f"  {ROLE_A}\n  arn:aws:iam::111111111111:role/tagged-target" in error
    assert "sts:TagSession" in error
    assert_no_request(result)


def test_tag_count_includes_the_default_tags(run_action) -> None:
    forty = "\n".join(f"K{i}=v{i}" for i in range(40))
    over = run_action({"aws-region": REGION, "role-to-assume": chain(ROLE_A, ROLE_B),
                       "session-tags": forty})
    assert over.returncode == 1
    (error,) = over.errors
    assert "'session-tags'" in error and "50" in error
    assert_no_request(over)
    # Without the default tags the same 40 fit, and exactly they are sent.
    ok = run_action({"aws-region": REGION, "role-to-assume": chain(ROLE_A, ROLE_B),
                     "session-tags": forty, "role-skip-session-tagging": "true"})
    hop2 = sts_calls(ok)[1]
    assert hop2.tags == {f"K{i}": f"v{i}" for i in range(40)}
    assert ok.ok, ok.explain()


# =================================================================================================
# durations
# =================================================================================================


@pytest.mark.parametrize(("raw", "seconds"),
                         [("3600", 3600), ("15m", 900), ("1h30m", 5400), ("12h", 43200)])
def test_duration_forms_are_sent_as_seconds(run_action, raw: str, seconds: int) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE_A,
                         "role-duration-seconds": raw})
    (call,) = sts_calls(result)
    assert call.action == ARWWI and call.duration_seconds == seconds
    assert result.ok, result.explain()
    assert result.notices == []


def test_max_steps_down_to_the_roles_maximum_with_the_same_token(run_action, sts) -> None:
    sts.max_session_duration[ROLE_A] = 7200
    started = dt.datetime.now(dt.UTC)
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE_A,
                         "role-duration-seconds": "max", "output-credentials": "true"})
    calls = sts_calls(result)
    assert [c.duration_seconds for c in calls] == [43200, 21600, 14400, 10800, 7200]
    assert [c.error_message for c in calls[:-1]] == [MSG_MAX_SESSION] * 4
    assert calls[-1].ok
    # One token, fetched once, sent every time (it stays valid for minutes).
    assert len({c.web_identity_token for c in calls}) == 1
    assert len(result.token_requests) == 1
    assert_exports_final_session(result, calls[-1])
    expires = dt.datetime.strptime(result.outputs["aws-expiration"], "%Y-%m-%dT%H:%M:%SZ")
    lifetime = (expires.replace(tzinfo=dt.UTC) - started).total_seconds()
    assert 7200 - 120 < lifetime < 7200 + 120, lifetime


def test_an_explicit_duration_the_role_refuses_fails_after_one_request(run_action, sts) -> None:
    sts.max_session_duration[ROLE_A] = 3600
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE_A,
                         "role-duration-seconds": "2h"})
    assert result.returncode == 1
    (call,) = sts_calls(result)
    assert call.duration_seconds == 7200 and call.error_message == MSG_MAX_SESSION
    (error,) = result.errors
    assert "MaxSessionDuration" in error and "maximum session duration" in error
    assert ROLE_A in error and "7200" in error


def test_default_session_name_without_run_attempt(run_action) -> None:
    result = run_action({"aws-region": REGION, "role-to-assume": ROLE_A},
                        env={"GITHUB_RUN_ATTEMPT": None})
    (call,) = sts_calls(result)
    assert call.role_session_name == "GitHubActions"
    assert result.outputs["authenticated-arn"].endswith("/gha-entry/GitHubActions")
