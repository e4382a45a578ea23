"""named_profiles: the ``profiles`` input (both forms, chains) and its validation."""

from __future__ import annotations

import json

import pytest

from py_aws_oidc import partitions
from py_aws_oidc.errors import InputError
from py_aws_oidc.named_profiles import ProfileSpec, parse_profiles

AWS = partitions.partition_for_region("us-east-1")
DEV = "arn:aws:iam::111111111111:role/deploy"
ENTRY = "arn:aws:iam::222222222222:role/entry"
PROD = "arn:aws:iam::333333333333:role/path/deploy"


def parse(raw: str, *, needs_arn: bool = True) -> tuple[ProfileSpec, ...]:
    return parse_profiles(raw, AWS, first_hop_needs_arn=needs_arn)


def test_empty_means_no_profiles() -> None:
    assert parse("") == ()
    assert parse("  \n ") == ()


def test_line_form_with_a_chain_comments_and_blank_lines() -> None:
    raw = f"""
    # the accounts of this job
    dev = {DEV}

    prod={ENTRY} >{PROD}
    """
    assert parse(raw) == (ProfileSpec("dev", (DEV,)), ProfileSpec("prod", (ENTRY, PROD)))


def test_json_form_string_and_list() -> None:
    raw = json.dumps({"dev": DEV, "prod": [ENTRY, PROD]})
    assert parse(raw) == (ProfileSpec("dev", (DEV,)), ProfileSpec("prod", (ENTRY, PROD)))


def test_role_names_are_allowed_where_an_account_is_known() -> None:
    assert parse(f"dev = {ENTRY} > deploy") == (ProfileSpec("dev", (ENTRY, "deploy")),)
    assert parse("dev = deploy", needs_arn=False) == (ProfileSpec("dev", ("deploy",)),)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        pytest.param(f"dev {DEV}", "is not 'NAME = ROLE_ARN'", id="no-equals"),
        pytest.param(f"= {DEV}", "no profile name", id="no-name"),
        pytest.param("dev =", "empty role", id="empty-chain"),
        pytest.param(f"dev = {DEV} >", "empty role", id="trailing-arrow"),
        pytest.param(f"dev = {DEV} >> {PROD}", "empty role", id="double-arrow"),
        pytest.param(f"dev = {DEV}\ndev = {PROD}", "twice", id="duplicate-lines"),
        pytest.param(f'{{"dev": "{DEV}", "dev": "{PROD}"}}', "twice", id="duplicate-json"),
        pytest.param(f"my dev = {DEV}", "whitespace", id="name-space"),
        pytest.param(f"[dev] = {DEV}", "brackets", id="name-brackets"),
        pytest.param(f"../x = {DEV}", "path separators", id="name-path"),
        pytest.param(f"dév = {DEV}", "characters other than", id="name-non-ascii"),
        pytest.param("dev = arn:aws:iam::1111:role/x", "is not a role ARN", id="short-account"),
        pytest.param("dev = arn:aws:iam::111111111111:user/x", "is not a role ARN", id="user-arn"),
        pytest.param("dev = arn:aws-cn:iam::111111111111:role/x", "partition", id="partition"),
        pytest.param("dev = my role", "neither a role ARN", id="role-spaces"),
        pytest.param("dev = deploy", "role name", id="name-first-web-identity"),
        pytest.param('{"dev": 1}', "must be a role ARN or a list", id="json-number"),
        pytest.param('{"dev": []}', "has no role", id="json-empty-list"),
        pytest.param('{"dev": ["", "x"]}', "empty role", id="json-empty-entry"),
        pytest.param('{"dev": [["x"]]}', "must be a role ARN or a list", id="json-nested"),
        pytest.param("{}", "lists no profile", id="json-empty"),
        pytest.param('{"dev": ', "not valid JSON", id="json-broken"),
        pytest.param("{" * 100_000, "not valid JSON|nested too deeply", id="json-deep"),
        pytest.param("# only a comment", "lists no profile", id="only-comment"),
        pytest.param('{"dev": null}', "must be a role ARN or a list", id="json-null"),
        pytest.param('{"dev": true}', "must be a role ARN or a list", id="json-bool"),
        pytest.param('{"dev": {"a": "x"}}', "must be a role ARN or a list", id="json-object"),
        pytest.param(f'["{DEV}"]', "is not 'NAME = ROLE_ARN'", id="json-list"),
        pytest.param(f'{{"a=b": "{DEV}"}}', "characters other", id="json-name-eq"),
        pytest.param(f"a=b = {DEV}", "neither a role ARN", id="line-name-eq"),
        pytest.param("\n".join(f"p{i} = {DEV}" for i in range(101)), "at most 100",
                     id="too-many"),
    ],
)
def test_bad_values_name_the_input(raw: str, fragment: str) -> None:
    with pytest.raises(InputError) as caught:
        parse(raw)
    assert caught.value.input_name == "profiles"
    assert str(caught.value).startswith("Input 'profiles':")
    assert any(part in str(caught.value) for part in fragment.split("|")), str(caught.value)


def test_the_cap_is_inclusive() -> None:
    assert len(parse("\n".join(f"p{i} = {DEV}" for i in range(100)))) == 100


def test_a_deep_json_value_is_an_input_error() -> None:
    deep = '{"dev": ' + "[" * 50_000 + "]" * 50_000 + "}"
    with pytest.raises(InputError, match="profiles"):
        parse(deep)


def test_a_hostile_name_is_shown_escaped_on_one_line() -> None:
    with pytest.raises(InputError) as caught:
        parse(f"a\rb = {DEV}\n::set-env name=X::1 = {DEV}")
    assert "\n" not in str(caught.value) and "\r" not in str(caught.value)
