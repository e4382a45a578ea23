"""Input parsers of config.py (and runner.parse_bool), with hypothesis where a rule has a shape:
durations, the session name, booleans; and a few in-process checks of ``load_settings``."""

from __future__ import annotations

import io
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from py_aws_oidc import config
from py_aws_oidc.config import (
    MAX_DURATION,
    MIN_DURATION,
    Source,
    check_session_name,
    default_session_name,
    load_settings,
    parse_duration,
    translate_env,
)
from py_aws_oidc.errors import ConflictingInputsError, InputError
from py_aws_oidc.runner import FALSE_VALUES, TRUE_VALUES, Runner, input_env_name, parse_bool

ROLE = "arn:aws:iam::111122223333:role/gha-entry"
TARGET = "arn:aws:iam::444455556666:role/target"
SESSION_CHARS = string.ascii_letters + string.digits + "_+=,.@-"


def runner_for(inputs: dict[str, str], **env: str) -> tuple[Runner, io.StringIO]:
    out = io.StringIO()
    environ = {input_env_name(k): v for k, v in inputs.items()}
    environ.update(env)
    return Runner(environ, out), out


# =================================================================================================
# role-duration-seconds
# =================================================================================================


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("3600", 3600), ("900", 900), ("43200", 43200), ("15m", 900), ("1h", 3600),
     ("1h30m", 5400), ("12h", 43200), ("90m", 5400), ("1h0m30s", 3630), (" 2H ", 7200),
     ("3600s", 3600)],
)
def test_durations(raw: str, seconds: int) -> None:
    parsed = parse_duration(raw)
    assert parsed.seconds == seconds and parsed.explicit and not parsed.is_max


def test_empty_duration_is_the_default_and_not_explicit() -> None:
    assert parse_duration("") == config.Duration(3600)
    assert parse_duration("  ").explicit is False


@pytest.mark.parametrize("raw", ["max", "MAX", " Max "])
def test_max(raw: str) -> None:
    parsed = parse_duration(raw)
    assert parsed.is_max and parsed.seconds == MAX_DURATION


@given(st.integers(min_value=MIN_DURATION, max_value=MAX_DURATION))
def test_any_seconds_in_range_parse_to_themselves(seconds: int) -> None:
    assert parse_duration(str(seconds)).seconds == seconds


@given(st.integers(min_value=0, max_value=10**7).filter(
    lambda s: not MIN_DURATION <= s <= MAX_DURATION))
def test_seconds_out_of_range_are_errors_naming_the_input(seconds: int) -> None:
    with pytest.raises(InputError) as info:
        parse_duration(str(seconds))
    assert info.value.input_name == "role-duration-seconds"
    assert "900-43200" in str(info.value)


@given(st.integers(0, 14), st.integers(0, 900), st.integers(0, 5000))
def test_hms_durations_add_up(h: int, m: int, s: int) -> None:
    text = (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{s}s" if s else "")
    total = h * 3600 + m * 60 + s
    if not text:
        return
    if MIN_DURATION <= total <= MAX_DURATION:
        assert parse_duration(text).seconds == total
    else:
        with pytest.raises(InputError):
            parse_duration(text)


@given(st.text(max_size=30))
def test_any_text_is_a_duration_or_an_input_error(raw: str) -> None:
    try:
        parsed = parse_duration(raw)
    except InputError as exc:
        assert exc.input_name == "role-duration-seconds"
        assert "\n" not in str(exc) and "\r" not in str(exc)  # the value is shown escaped
    else:
        assert MIN_DURATION <= parsed.seconds <= MAX_DURATION


# =================================================================================================
# role-session-name
# =================================================================================================


@given(st.text(alphabet=SESSION_CHARS, min_size=2, max_size=64))
def test_valid_session_names_pass(name: str) -> None:
    assert check_session_name(name) == name


@given(st.text(alphabet=SESSION_CHARS, min_size=65, max_size=200))
def test_long_session_names_fail(name: str) -> None:
    with pytest.raises(InputError, match="between 2 and 64"):
        check_session_name(name)


@pytest.mark.parametrize("name", ["ab\n", "0\n", "a\nb"])
def test_a_newline_anywhere_fails_the_session_name(name: str) -> None:
    """A final newline too (a regex's `$` alone matches before it; hypothesis found it)."""
    with pytest.raises(InputError, match="not valid"):
        check_session_name(name)


@given(
    st.text(alphabet=SESSION_CHARS, max_size=30),
    st.characters(exclude_characters=SESSION_CHARS),  # incl. Unicode letters: STS is ASCII
    st.text(alphabet=SESSION_CHARS, max_size=30),
)
def test_session_names_with_other_characters_fail_escaped(before: str, bad: str,
                                                          after: str) -> None:
    name = before + bad + after
    with pytest.raises(InputError) as info:
        check_session_name(name if len(name) >= 2 else name + "ab")
    assert info.value.input_name == "role-session-name"
    message = str(info.value)
    assert "\n" not in message and "\r" not in message  # shown escaped, one line


@given(st.text(alphabet=string.digits, min_size=1, max_size=30),
       st.text(alphabet=string.digits, min_size=1, max_size=5))
def test_default_session_name_is_always_valid(run_id: str, attempt: str) -> None:
    name = default_session_name({"GITHUB_RUN_ID": run_id, "GITHUB_RUN_ATTEMPT": attempt})
    assert name == f"GitHubActions-{run_id}-{attempt}"
    assert check_session_name(name) == name


@pytest.mark.parametrize(
    "env",
    [{}, {"GITHUB_RUN_ID": "123"}, {"GITHUB_RUN_ATTEMPT": "1"},
     {"GITHUB_RUN_ID": "12a", "GITHUB_RUN_ATTEMPT": "1"},
     {"GITHUB_RUN_ID": "1" * 60, "GITHUB_RUN_ATTEMPT": "1"}],
)
def test_default_session_name_falls_back(env: dict[str, str]) -> None:
    assert default_session_name(env) == "GitHubActions"


# =================================================================================================
# booleans (runner.parse_bool): YAML 1.2 core only
# =================================================================================================


@given(st.text(max_size=12))
def test_booleans_are_the_six_yaml12_spellings_or_an_error(raw: str) -> None:
    value = raw.strip()
    if not value:
        assert parse_bool("flag", raw, True) is True
        assert parse_bool("flag", raw, False) is False
    elif value in TRUE_VALUES:
        assert parse_bool("flag", raw, False) is True
    elif value in FALSE_VALUES:
        assert parse_bool("flag", raw, True) is False
    else:
        with pytest.raises(InputError) as info:
            parse_bool("flag", raw, False)
        assert info.value.input_name == "flag"


# =================================================================================================
# load_settings, in process
# =================================================================================================


def test_a_chain_counts_its_assume_role_hops() -> None:
    runner, _ = runner_for({"aws-region": "us-east-1", "role-to-assume": f"{ROLE}\n{TARGET}\n"})
    settings = load_settings(runner)
    assert settings.source is Source.OIDC
    assert settings.roles == (ROLE, TARGET)
    assert settings.assume_role_hops == 1


def test_keys_are_masked_before_a_validation_error_can_print_anything() -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    runner, out = runner_for({"aws-region": "us-east-1", "aws-secret-access-key": secret})
    with pytest.raises(InputError, match="aws-access-key-id"):
        load_settings(runner)
    assert out.getvalue().splitlines()[0] == f"::add-mask::{secret}"


def test_settings_and_keys_never_show_secrets_in_repr() -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    runner, _ = runner_for({"aws-region": "us-east-1", "aws-access-key-id": "AKIAIOSFODNN7EXAMPLE",
                            "aws-secret-access-key": secret})
    settings = load_settings(runner)
    assert secret not in repr(settings) and secret not in repr(settings.keys)
    assert "AKIAIOSFODNN7EXAMPLE" not in repr(settings.keys)


@pytest.mark.parametrize(("raw", "attempts"), [("", 12), ("0", 1), ("1", 1), ("3", 3)])
def test_retry_max_attempts(raw: str, attempts: int) -> None:
    runner, _ = runner_for({"aws-region": "us-east-1", "role-to-assume": ROLE,
                            "retry-max-attempts": raw})
    assert load_settings(runner).max_attempts == attempts


@given(st.text(max_size=8))
def test_counts_are_ascii_integers_or_an_input_error(raw: str) -> None:
    for name in ("retry-max-attempts", "action-timeout-s"):
        runner, _ = runner_for({"aws-region": "us-east-1", "role-to-assume": ROLE, name: raw})
        try:
            settings = load_settings(runner)
        except InputError as exc:
            assert exc.input_name == name
        else:
            if name == "action-timeout-s":
                assert settings.action_timeout_s == int(raw.strip() or 0)
            else:  # empty: the default 12; 0 means one attempt
                assert settings.max_attempts == max(int(raw.strip() or 12), 1)


def test_disable_retry_means_one_attempt() -> None:
    runner, _ = runner_for({"aws-region": "us-east-1", "role-to-assume": ROLE,
                            "retry-max-attempts": "7", "disable-retry": "true"})
    assert load_settings(runner).max_attempts == 1


def test_tags_with_a_single_web_identity_role_are_refused() -> None:
    runner, _ = runner_for({"aws-region": "us-east-1", "role-to-assume": ROLE,
                            "session-tags": "Team=a"})
    with pytest.raises(ConflictingInputsError, match="tagged-target"):
        load_settings(runner)


def test_translate_env_fills_only_empty_inputs() -> None:
    env = translate_env({"AWS_REGION": "eu-west-1", "ROLE_TO_ASSUME": ROLE,
                         input_env_name("role-to-assume"): TARGET})
    assert env[input_env_name("aws-region")] == "eu-west-1"
    assert env[input_env_name("role-to-assume")] == TARGET
    off = translate_env({"AWS_REGION": "eu-west-1",
                         input_env_name("translate-env-variables"): "false"})
    assert input_env_name("aws-region") not in off


def test_translate_env_refuses_a_bad_boolean() -> None:
    with pytest.raises(InputError, match="translate-env-variables"):
        translate_env({input_env_name("translate-env-variables"): "off"})


def test_a_trailing_newline_is_not_part_of_a_valid_session_name() -> None:
    # ``$`` matches before a final newline; the whole name must match.
    with pytest.raises(InputError, match="role-session-name"):
        config.check_session_name("deploy\n")
