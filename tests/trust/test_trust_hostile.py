"""The trust CLI on hostile files and patterns (issue 12, item 8): exit 2 with a clear error, or a
result, but never minutes of backtracking or gigabytes of memory."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from py_aws_oidc.trust.evaluate import wildcard_match
from py_aws_oidc.trust.files import MAX_FILE_BYTES
from tests.trust.helpers import AUD, MAIN, SUB, claims, policy, run_cli, statement, write_json

GOOD = policy(statement({"StringEquals": {AUD: "sts.amazonaws.com", SUB: MAIN}}))


def _reference(pattern: str, value: str) -> bool:
    """The regex the matcher replaced: right, but exponential on hostile input."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


@given(
    st.text(alphabet="ab*?:", max_size=10),
    st.text(alphabet="ab:", max_size=12),
)
def test_wildcard_match_agrees_with_the_regex_semantics(pattern: str, value: str) -> None:
    assert wildcard_match(pattern, value) is _reference(pattern, value)


def test_wildcard_match_cases() -> None:
    assert wildcard_match("repo:o/r:*", "repo:o/r:ref:refs/heads/x")
    assert not wildcard_match("v?", "v10")  # ? is exactly one character
    assert wildcard_match("v??", "v10")
    assert wildcard_match("*a*b*", "xxaxxbxx")
    assert not wildcard_match("*a*b*", "xxbxxaxx")
    assert wildcard_match("STS:assume*", "sts:AssumeRole", ignore_case=True)
    assert not wildcard_match("STS:assume*", "sts:AssumeRole")


@pytest.mark.timeout(60)
def test_a_dozen_stars_against_a_long_sub_is_answered(tmp_path: Path) -> None:
    # With the old regex (.*a.*a.*...b) this ran for minutes: each .* backtracks over the rest.
    pattern = "repo:" + "*a" * 12 + "*b"
    long_sub = "repo:" + "a" * 5000
    assert not wildcard_match(pattern, long_sub)
    doc = policy(
        statement({"StringEquals": {AUD: "sts.amazonaws.com"}, "StringLike": {SUB: pattern}})
    )
    code, out, _ = run_cli(
        "check",
        str(write_json(tmp_path / "p.json", doc)),
        "--claims",
        str(write_json(tmp_path / "c.json", claims(sub=long_sub))),
    )
    assert code == 1 and "DENY" in out


@pytest.mark.parametrize("command", ["lint", "check"])
def test_device_directory_and_fifo_are_refused(tmp_path: Path, command: str) -> None:
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    extra = (
        ["--claims", str(write_json(tmp_path / "c.json", claims()))] if command == "check" else []
    )
    for target in ("/dev/zero", str(tmp_path), str(fifo)):
        code, out, err = run_cli(command, target, *extra)
        assert code == 2, (target, out, err)
        assert err.startswith("error: ") and "not a regular file" in err, err
        assert "Traceback" not in err


def test_huge_policy_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as file:  # sparse: 20 MB that cost no disk
        file.truncate(20 * 1024 * 1024)
    code, _, err = run_cli("lint", str(big))
    assert code == 2
    assert f"more than the {MAX_FILE_BYTES} bytes" in err


def test_undecodable_file_is_exit_2(tmp_path: Path) -> None:
    for name in ("latin1.json", "latin1.tf"):
        path = tmp_path / name
        path.write_bytes(b'{"Version": "2012-10-17", "Sid": "caf\xe9"}')
        code, _, err = run_cli("lint", str(path))
        assert code == 2, err
        assert "not UTF-8" in err and "Traceback" not in err


def test_missing_file_is_exit_2(tmp_path: Path) -> None:
    code, _, err = run_cli("lint", str(tmp_path / "nope.json"))
    assert code == 2 and "no such file" in err


def _role_with_file(tmp_path: Path, expression: str) -> Path:
    module = tmp_path / "module"
    module.mkdir(exist_ok=True)
    tf = module / "main.tf"
    tf.write_text(
        'resource "aws_iam_role" "r" {\n'
        '  name               = "r"\n'
        f"  assume_role_policy = file({expression})\n"
        "}\n",
        encoding="utf-8",
    )
    return tf


def test_terraform_file_inside_the_module_is_read(tmp_path: Path) -> None:
    tf = _role_with_file(tmp_path, '"${path.module}/trust.json"')
    write_json(tmp_path / "module" / "trust.json", GOOD)
    code, out, err = run_cli("lint", str(tf))
    assert code == 0, (out, err)


@pytest.mark.parametrize(
    ("expression", "needle"),
    [
        ('"/dev/zero"', "outside the module directory"),
        ('"/etc/passwd"', "outside the module directory"),
        ('"../../etc/passwd"', "outside the module directory"),
        ('"${path.module}/../secret.json"', "outside the module directory"),
        ('"${path.module}/link.json"', "outside the module directory"),
        ('"${path.module}/sub"', "not a regular file"),
        ('"${path.module}/big.json"', "bytes"),
        ('"${path.module}/latin1.json"', "not UTF-8 text"),
    ],
)
def test_terraform_file_outside_the_module_or_not_a_file_is_refused(
    tmp_path: Path, expression: str, needle: str
) -> None:
    tf = _role_with_file(tmp_path, expression)
    write_json(tmp_path / "secret.json", GOOD)
    (tmp_path / "module" / "link.json").symlink_to(tmp_path / "secret.json")
    (tmp_path / "module" / "sub").mkdir()
    with (tmp_path / "module" / "big.json").open("wb") as file:
        file.truncate(MAX_FILE_BYTES + 1)
    (tmp_path / "module" / "latin1.json").write_bytes(b'{"Version": "2012-10-17", "Sid": "caf\xe9"}')
    code, out, err = run_cli("lint", str(tf))
    assert code == 2, (out, err)
    assert err.startswith("error: ") and needle in err, err
    assert "root:" not in out + err


def test_deeply_nested_files_are_exit_2(tmp_path: Path) -> None:
    deep_json = tmp_path / "deep.json"
    deep_json.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    deep_tf = tmp_path / "deep.tf"
    deep_tf.write_text("x = " + "[" * 200_000 + "]" * 200_000 + "\n", encoding="utf-8")
    for path, needle in ((deep_json, "not valid JSON"), (deep_tf, "nested more than 100")):
        code, _, err = run_cli("lint", str(path))
        assert code == 2, err
        assert needle in err and "Traceback" not in err


def test_claims_and_token_files_are_read_the_same_way(tmp_path: Path) -> None:
    policy_file = str(write_json(tmp_path / "p.json", GOOD))
    big = tmp_path / "claims.json"
    with big.open("wb") as file:
        file.truncate(MAX_FILE_BYTES + 1)
    for option, target, needle in (
        ("--claims", "/dev/zero", "not a regular file"),
        ("--token-file", "/dev/zero", "not a regular file"),
        ("--claims", str(big), "bytes"),
        ("--token-file", str(tmp_path), "not a regular file"),
    ):
        code, out, err = run_cli("check", policy_file, option, target)
        assert code == 2, (option, target, out, err)
        assert needle in err and "Traceback" not in err
