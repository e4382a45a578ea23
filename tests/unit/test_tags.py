"""tags.py: parsing (Key=Value lines and JSON), validation, sanitising, default tags from claims."""

from __future__ import annotations

import json
import string
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from py_aws_oidc import tags
from py_aws_oidc.errors import InputError
from py_aws_oidc.tags import Tag, check_user_tags, default_tags, parse_tags, sanitize

KEY_CHARS = string.ascii_letters + string.digits + "_.:/+-@ " + "äßÉ日本"
VALUE_CHARS = KEY_CHARS + "="


def allowed(ch: str) -> bool:
    return ch in "_.:/=+-@" or unicodedata.category(ch)[0] in "LZN"


keys = (
    st.text(alphabet=KEY_CHARS.replace("=", ""), min_size=1, max_size=128)
    .map(str.strip)
    .filter(bool)
)
values = st.text(alphabet=VALUE_CHARS, max_size=256).map(str.strip)


def unique_ci(pairs: list[tuple[str, str]]) -> dict[str, str]:
    seen: dict[str, tuple[str, str]] = {}
    for key, value in pairs:
        seen.setdefault(key.lower(), (key, value))
    return dict(seen.values())


# =================================================================================================
# parsing
# =================================================================================================


def test_key_value_lines_split_at_the_first_equals_and_skip_blank_lines() -> None:
    parsed = parse_tags("session-tags", " Team = platform\n\nQuery=a=b\nEmpty=\n", allow_lines=True)
    assert parsed == [Tag("Team", "platform"), Tag("Query", "a=b"), Tag("Empty", "")]


def test_json_object_values_become_strings() -> None:
    raw = json.dumps({"Team": "x", "Tier": 3, "Ratio": 0.5, "On": True, "Off": False})
    assert parse_tags("custom-tags", raw, allow_lines=False) == [
        Tag("Team", "x"),
        Tag("Tier", "3"),
        Tag("Ratio", "0.5"),
        Tag("On", "true"),
        Tag("Off", "false"),
    ]


@pytest.mark.parametrize(
    ("raw", "allow_lines", "match"),
    [
        ("Team", True, "line 1 is not Key=Value"),
        ("Team=a", False, "not valid JSON"),
        ("[1, 2]", False, "must be a JSON object"),
        ('{"Team": null}', True, "must be a string, number or boolean"),
        ('{"Team": {"a": 1}}', True, "must be a string, number or boolean"),
        ("=value", True, "must be 1-128"),
        (f"{'k' * 129}=v", True, "must be 1-128"),
        (f"Team={'v' * 257}", True, "longer than 256"),
        ("Team!=v", True, "characters STS refuses"),
        ("Team=v;rm", True, "characters STS refuses"),
        ("Team=tab\there", True, "characters STS refuses"),
    ],
)
def test_bad_tags_are_errors_naming_the_input(raw: str, allow_lines: bool, match: str) -> None:
    with pytest.raises(InputError, match=match) as info:
        parse_tags("session-tags", raw, allow_lines=allow_lines)
    assert info.value.input_name == "session-tags"


@given(st.lists(st.tuples(keys, values), max_size=20))
def test_lines_and_json_forms_parse_to_the_same_tags(pairs: list[tuple[str, str]]) -> None:
    wanted = unique_ci(pairs)
    lines = "\n".join(f"{k}={v}" for k, v in wanted.items())
    as_json = json.dumps(wanted)
    expected = [Tag(k, v) for k, v in wanted.items()]
    assert parse_tags("session-tags", lines, allow_lines=True) == expected
    assert parse_tags("session-tags", as_json, allow_lines=True) == expected
    assert parse_tags("custom-tags", as_json, allow_lines=False) == expected


@given(st.text(max_size=80))
def test_any_text_parses_or_raises_an_input_error(raw: str) -> None:
    try:
        parsed = parse_tags("session-tags", raw, allow_lines=True)
    except InputError as exc:
        assert exc.input_name == "session-tags"
    else:
        for tag in parsed:
            assert 1 <= len(tag.key) <= 128 and len(tag.value) <= 256
            assert all(allowed(ch) for ch in tag.key + tag.value)


# =================================================================================================
# sanitising (CAC's rule for values from the environment / claims)
# =================================================================================================


@given(st.text(max_size=400))
def test_sanitize_keeps_only_allowed_characters_and_256_at_most(raw: str) -> None:
    clean = sanitize(raw)
    assert len(clean) == min(len(raw), 256)
    assert all(allowed(ch) for ch in clean)
    assert sanitize(clean) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("octocat[bot]", "octocat_bot_"),
        ("refs/heads/feature/x", "refs/heads/feature/x"),
        ("Deploy (prod) #1", "Deploy _prod_ _1"),
        ("a\nb", "a_b"),
    ],
)
def test_sanitize_examples(raw: str, clean: str) -> None:
    assert sanitize(raw) == clean


# =================================================================================================
# validation across inputs
# =================================================================================================


def check(
    user: list[tuple[str, Tag]],
    *,
    defaults: list[str] | None = None,
    transitive: list[str] | None = None,
    reserved: bool = True,
) -> None:
    check_user_tags(
        user,
        reserved_keys=list(tags.DEFAULT_TAG_KEYS) if reserved else [],
        default_keys=defaults or [],
        transitive_keys=transitive or [],
    )


def test_duplicate_keys_are_case_insensitive_and_name_both_inputs() -> None:
    with pytest.raises(InputError, match=r"given twice.*custom-tags") as info:
        check([("custom-tags", Tag("Team", "a")), ("session-tags", Tag("TEAM", "b"))])
    assert info.value.input_name == "session-tags"


@pytest.mark.parametrize("key", ["Repository", "repository", "GITHUB", "RunId"])
def test_default_keys_are_protected(key: str) -> None:
    with pytest.raises(InputError, match="protected"):
        check([("session-tags", Tag(key, "x"))])
    check([("session-tags", Tag(key, "x"))], reserved=False)  # role-skip-session-tagging


def test_the_limit_counts_default_tags() -> None:
    defaults = list(tags.DEFAULT_TAG_KEYS[:11])
    fits = [("session-tags", Tag(f"K{i}", "v")) for i in range(50 - 11)]
    check(fits, defaults=defaults)
    with pytest.raises(InputError, match=r"\(51\).*11 default tags \+ 40 of yours"):
        check([*fits, ("session-tags", Tag("One", "more"))], defaults=defaults)


def test_transitive_keys_must_name_a_tag() -> None:
    check(
        [("session-tags", Tag("Team", "a"))],
        defaults=["Repository"],
        transitive=["team", "REPOSITORY"],
    )
    with pytest.raises(InputError, match="'Project' names no session tag") as info:
        check([("session-tags", Tag("Team", "a"))], transitive=["Project"])
    assert info.value.input_name == "transitive-tag-keys"


# =================================================================================================
# default tags
# =================================================================================================

ENV = {
    "GITHUB_REPOSITORY": "evil/repo",
    "GITHUB_WORKFLOW": "Evil",
    "GITHUB_ACTION": "step-1",
    "GITHUB_ACTOR": "mallory",
    "GITHUB_SHA": "0" * 40,
    "GITHUB_REF": "refs/heads/evil",
    "GITHUB_EVENT_NAME": "push",
    "GITHUB_RUN_ID": "1",
    "GITHUB_JOB": "build",
    "GITHUB_TRIGGERING_ACTOR": "dependabot[bot]",
    "GITHUB_BASE_REF": "",
    "GITHUB_HEAD_REF": "",
}
CLAIMS = {
    "repository": "octo-org/octo-repo",
    "workflow": "Deploy",
    "actor": "octocat",
    "sha": "a" * 40,
    "ref": "refs/heads/main",
    "event_name": "pull_request",
    "base_ref": "main",
    "head_ref": "",
    "run_id": "42",
    "run_attempt": "1",
}


def as_dict(found: list[Tag]) -> dict[str, str]:
    return {t.key: t.value for t in found}


def test_without_claims_defaults_come_from_the_environment() -> None:
    assert as_dict(default_tags(ENV, None)) == {
        "GitHub": "Actions",
        "Repository": "evil/repo",
        "Workflow": "Evil",
        "Action": "step-1",
        "Actor": "mallory",
        "Commit": "0" * 40,
        "Branch": "refs/heads/evil",
        "EventName": "push",
        "RunId": "1",
        "Job": "build",
        "TriggeringActor": "dependabot_bot_",
    }


def test_with_claims_the_claims_win_and_empty_claims_are_left_out() -> None:
    assert as_dict(default_tags(ENV, CLAIMS)) == {
        "GitHub": "Actions",
        "Repository": "octo-org/octo-repo",
        "Workflow": "Deploy",
        "Action": "step-1",
        "Actor": "octocat",
        "Commit": "a" * 40,
        "Branch": "refs/heads/main",
        "EventName": "pull_request",
        "BaseRef": "main",
        "RunId": "42",
        "Job": "build",
        "TriggeringActor": "dependabot_bot_",
    }


def test_a_missing_or_non_string_claim_never_falls_back_to_the_environment() -> None:
    found = as_dict(default_tags(ENV, {"repository": True, "run_id": 7, "actor": ["x"]}))
    assert "Repository" not in found and "Actor" not in found
    assert found["RunId"] == "7"
    assert "Workflow" not in found and "Branch" not in found


def test_default_key_count_for_validation_counts_the_set_variables_like_cac() -> None:
    assert tags.default_tag_keys_for_validation({}) == ["GitHub"]
    counted = tags.default_tag_keys_for_validation(ENV)
    assert len(counted) == 11
    assert counted == ["GitHub"] + [
        k for k in tags.DEFAULT_TAG_KEYS[1:] if k in as_dict(default_tags(ENV, None))
    ]


# =================================================================================================
# One hop's tags (tags_for_hop) and the PackedPolicyTooLarge choice (droppable_tags)
# =================================================================================================


def test_a_hop_leaves_out_inherited_transitive_tags_and_their_keys() -> None:
    defaults = [Tag("GitHub", "Actions"), Tag("RunId", "7")]
    chosen, transitive = tags.tags_for_hop(
        defaults, [Tag("Team", "a"), Tag("Env", "b")], ["team", "Env"], inherited={"team"}
    )
    assert chosen == [Tag("GitHub", "Actions"), Tag("RunId", "7"), Tag("Env", "b")]
    assert transitive == ["Env"]


def test_a_hop_refuses_a_transitive_key_whose_tag_is_not_sent() -> None:
    from py_aws_oidc.errors import ConflictingInputsError

    with pytest.raises(ConflictingInputsError, match="'Branch'"):
        tags.tags_for_hop([Tag("GitHub", "Actions")], [], ["Branch"], inherited=set())


@pytest.mark.parametrize(("count", "ok"), [(tags.MAX_TAGS, True), (tags.MAX_TAGS + 1, False)])
def test_a_hop_sends_at_most_the_sts_limit(count: int, ok: bool) -> None:
    from py_aws_oidc.errors import ConflictingInputsError

    user = [Tag(f"K{i}", "v") for i in range(count)]
    if ok:
        assert len(tags.tags_for_hop([], user, [], inherited=set())[0]) == count
    else:
        with pytest.raises(ConflictingInputsError, match=f"{count} session tags"):
            tags.tags_for_hop([], user, [], inherited=set())


def test_unsent_keys_compare_case_insensitively() -> None:
    assert tags.unsent_keys(["team", "Env", "x"], ["TEAM", "env"]) == ["x"]


def test_droppable_tags_are_optional_defaults_not_transitive_not_the_users() -> None:
    users_run_id = Tag("RunId", "mine")
    sent = [Tag("GitHub", "Actions"), Tag("Repository", "o/r"), Tag("EventName", "push"),
            Tag("Job", "build"), Tag("HeadRef", "x"), users_run_id]
    dropped = tags.droppable_tags(sent, ["job"], [users_run_id])
    assert dropped == [Tag("EventName", "push"), Tag("HeadRef", "x")]
