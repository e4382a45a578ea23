"""assume.plan: the chain's calls decided from the settings alone, before any request."""

from __future__ import annotations

import io

import pytest

from py_aws_oidc.assume import ASSUME_ROLE, MAX_DURATION_STEPS, WEB_IDENTITY, plan
from py_aws_oidc.config import Settings, load_settings
from py_aws_oidc.runner import Runner, input_env_name

ROLE = "arn:aws:iam::111122223333:role/gha-entry"
TARGET = "arn:aws:iam::444455556666:role/target"
LAST = "arn:aws:iam::444455556666:role/last"
POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
MANAGED = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def _keys() -> dict[str, str]:
    return {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE",
            "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}


def settings(**inputs: str) -> Settings:
    environ = {input_env_name(k.replace("_", "-")): v for k, v in inputs.items()}
    environ[input_env_name("aws-region")] = "us-east-1"
    return load_settings(Runner(environ, io.StringIO()))


def test_oidc_chain_web_identity_first_then_chained_assume_roles() -> None:
    hops = plan(settings(role_to_assume=f"{ROLE}\n{TARGET}\n{LAST}", source_identity="alice"))
    assert [h.method for h in hops] == [WEB_IDENTITY, ASSUME_ROLE, ASSUME_ROLE]
    assert [h.chained for h in hops] == [False, True, True]
    assert [h.final for h in hops] == [False, False, True]
    assert [h.durations for h in hops] == [(900,), (900,), (3600,)]
    # SourceIdentity is set once, on the first AssumeRole; later sessions inherit it.
    assert [h.source_identity for h in hops] == [None, "alice", None]


def test_only_the_final_hop_carries_the_session_policies() -> None:
    hops = plan(settings(role_to_assume=f"{ROLE}\n{TARGET}", inline_session_policy=POLICY,
                         managed_session_policies=MANAGED))
    assert [(h.policy is not None, h.policy_arns) for h in hops] == [(False, ()), (True, (MANAGED,))]


def test_max_steps_down_unless_chained_which_caps_it_with_a_notice() -> None:
    (single,) = plan(settings(role_to_assume=ROLE, role_duration_seconds="max"))
    assert single.durations == MAX_DURATION_STEPS and not single.duration_capped
    chained = plan(settings(role_to_assume=f"{ROLE}\n{TARGET}", role_duration_seconds="max"))[-1]
    assert chained.durations == (3600,) and chained.duration_capped


def test_the_default_duration_is_capped_silently_only_if_it_is_above_the_cap() -> None:
    final = plan(settings(role_to_assume=f"{ROLE}\n{TARGET}"))[-1]
    assert final.durations == (3600,) and not final.duration_capped


@pytest.mark.parametrize(("has_token", "chained"), [(False, False), (True, True)])
def test_existing_credentials_chain_only_from_a_role_session(has_token: bool, chained: bool) -> None:
    (hop,) = plan(settings(role_to_assume=TARGET, role_chaining="true",
                           role_duration_seconds="7200"), source_has_session_token=has_token)
    assert hop.method == ASSUME_ROLE and hop.chained is chained
    assert hop.durations == ((3600,) if chained else (7200,))
    assert hop.duration_capped is chained


def test_keys_assume_role_is_never_chaining_and_no_roles_means_no_hops() -> None:
    (hop,) = plan(settings(role_to_assume=TARGET, role_duration_seconds="7200", **_keys()),
                  source_has_session_token=True)
    assert not hop.chained and hop.durations == (7200,)
    assert plan(settings(**_keys())) == []
