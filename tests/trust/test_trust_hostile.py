"""The trust CLI on hostile files and patterns (issue 12, item 8): exit 2 with a clear error, or a
result, but never minutes of backtracking or gigabytes of memory."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from py_aws_oidc.trust.evaluate import wildcard_match
from py_aws_oidc.trust.files import MAX_FILE_BYTES
from py_aws_oidc.trust.lint import lint_policy, render_text
from py_aws_oidc.trust.policy import parse_policy_document
from py_aws_oidc.trust.textsafe import has_controls
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
    # `lint DIR` reads the directory (issue 21): there, the FIFO inside it is skipped, unread
    targets = ("/dev/zero", str(fifo)) + ((str(tmp_path),) if command == "check" else ())
    for target in targets:
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
    (tmp_path / "module" / "latin1.json").write_bytes(
        b'{"Version": "2012-10-17", "Sid": "caf\xe9"}'
    )
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


# --- bounded output, escapes, SARIF URIs, refused files in JSON (issue 21) --------------------

GH_ARN = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"


def _org_wide(count: int) -> dict[str, object]:
    return policy(
        statement({"StringEquals": {AUD: "sts.amazonaws.com"}, "StringLike": {SUB: [
            f"repo:org{i}/*" for i in range(count)
        ]}})
    )  # fmt: skip


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_eight_thousand_values_make_one_bounded_finding(tmp_path: Path, fmt: str) -> None:
    path = write_json(tmp_path / "big.json", _org_wide(8000))
    started = time.monotonic()
    code, out, _ = run_cli("lint", "--format", fmt, str(path))
    elapsed = time.monotonic() - started
    assert code == 1
    assert len(out.encode()) < 1_000_000 and elapsed < 5, (len(out), elapsed)
    if fmt == "text":
        assert out.count("subject-org-wide") == 1
        assert "and 7980 more" in out  # the condition: 20 values shown
        assert '"repo:org7999/*"' not in out
    if fmt == "json":
        (finding,) = [f for f in json.loads(out)["findings"] if f["rule"] == "subject-org-wide"]
        assert len(finding["values"]) == 20 and finding["values_omitted"] == 7980
        assert finding["condition"]["values_omitted"] == 7980


def _peak_rss_kib(*argv: str) -> tuple[int, int]:
    """(exit status, peak RSS in KiB) of ``py-aws-oidc trust ARGV`` run as the only child of a
    fresh interpreter."""
    probe = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run([sys.executable, '-m', 'py_aws_oidc', 'trust', *sys.argv[1:]],"
        " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *argv], capture_output=True, text=True, check=True
    )
    code, peak = done.stdout.split()
    return int(code), int(peak)


def _one_mib_terraform(path: Path) -> Path:
    head = (
        'data "aws_iam_policy_document" "x" {\n  statement {\n'
        '    actions = ["sts:AssumeRoleWithWebIdentity"]\n'
        f'    principals {{\n      type = "Federated"\n      identifiers = ["{GH_ARN}"]\n    }}\n'
        '    condition {\n      test = "StringLike"\n'
        f'      variable = "{SUB}"\n      values = [\n'
    )
    tail = "      ]\n    }\n  }\n}\n"
    row = '        "repo:org{}/' + "r" * 100 + '-*",\n'
    rows: list[str] = []
    size = len(head) + len(tail)
    while size + len(row) + 8 < MAX_FILE_BYTES:
        rows.append(row.format(len(rows)))
        size += len(rows[-1])
    path.write_text(head + "".join(rows) + tail, encoding="utf-8")
    return path


@pytest.mark.timeout(120)
def test_a_one_mib_file_lints_under_200_mb(tmp_path: Path) -> None:
    values = [f"repo:o{i}/*" for i in range(60_000)]  # ~1 MiB of JSON
    big_json = write_json(tmp_path / "big.json", _org_wide(0))
    doc = json.loads(big_json.read_text())
    doc["Statement"][0]["Condition"]["StringLike"][SUB] = values
    big_json.write_text(json.dumps(doc), encoding="utf-8")
    big_tf = _one_mib_terraform(tmp_path / "big.tf")
    for path in (big_json, big_tf):
        assert 900_000 < path.stat().st_size <= MAX_FILE_BYTES
        for fmt in ("text", "sarif"):
            started = time.monotonic()
            code, peak = _peak_rss_kib("lint", "--format", fmt, str(path))
            assert code == 1 and peak < 200 * 1024, (path.name, fmt, code, peak)
            assert time.monotonic() - started < 30


ESC = "\x1b]0;owned\x07"


def test_text_output_and_errors_escape_control_characters(tmp_path: Path) -> None:
    doc = policy(
        statement({"StringLike": {SUB: f"repo:o/r{ESC}:*"}}, sid=f"Deploy\r[LOW] fine{ESC}")
    )
    path = write_json(tmp_path / f"evil{ESC}.json", doc)
    code, out, err = run_cli("lint", str(path))
    assert code == 0 and "subject-repo-wide" in out
    assert "\x1b" not in out and "\r" not in out and "\x07" not in out
    assert "\\x1b]0;owned\\x07" in out and "Deploy\\r[LOW] fine" in out
    assert all(not line.startswith("[LOW]") for line in out.splitlines())
    broken = tmp_path / f"broken\r{ESC}.json"
    broken.write_text("{", encoding="utf-8")
    code, _, err = run_cli("lint", str(broken))
    assert code == 2 and err.count("\n") == 1
    assert "\x1b" not in err and "\r" not in err and "broken\\r\\x1b]0;owned" in err


def test_check_text_output_escapes_control_characters(tmp_path: Path) -> None:
    doc = policy(statement({"StringEquals": {SUB: MAIN}}, sid=f"S{ESC}"))
    code, out, _ = run_cli(
        "check",
        str(write_json(tmp_path / "p.json", doc)),
        "--claims",
        str(write_json(tmp_path / "c.json", claims(sub=f"repo:o/r{ESC}"))),
    )
    assert code == 1 and "\x1b" not in out and "\\x1b" in out


def test_sarif_uris_are_percent_encoded_references(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in dir").mkdir()
    names = ["in dir/a b#1%.json", "c:d.json", "é?.json"]
    for name in names:
        write_json(tmp_path / name, _org_wide(1))
    code, out, _ = run_cli("lint", "--format", "sarif", *names, str(tmp_path / names[0]))
    assert code == 1
    uris = {
        location["physicalLocation"]["artifactLocation"]["uri"]
        for result in json.loads(out)["runs"][0]["results"]
        for location in result["locations"]
    }
    absolute = (tmp_path / "in dir").resolve().as_uri() + "/a%20b%231%25.json"
    assert uris == {"in%20dir/a%20b%231%25.json", "c%3Ad.json", "%C3%A9%3F.json", absolute}
    for uri in uris:
        assert " " not in uri and "#" not in uri and "?" not in uri


def test_json_format_lists_refused_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    code, out, err = run_cli("lint", "--format", "json", str(broken))
    assert code == 2 and "broken.json" in err
    report = json.loads(out)
    assert report["refused"][0]["file"] == str(broken)
    assert "not valid JSON" in report["refused"][0]["error"] or report["refused"][0]["error"]
    assert report["findings"] == [] and report["exit_code"] == 2
    good = write_json(tmp_path / "good.json", GOOD)
    code, out, _ = run_cli("lint", "--format", "json", str(good), str(broken))
    report = json.loads(out)
    assert code == 2 and [r["file"] for r in report["refused"]] == [str(broken)]
    assert report["policies"] == [str(good)]


@pytest.mark.parametrize("option", ["--branch", "--tag", "--environment", "--repo"])
@pytest.mark.parametrize("fmt", ["json", "terraform"])
def test_generate_refuses_control_characters(option: str, fmt: str) -> None:
    argv = ["generate", "--format", fmt, "--repo", "o/r"]
    if option == "--repo":
        argv = ["generate", "--format", fmt, "--repo", "o/r\r"]
    else:
        argv += [option, "main\rx"]
    code, out, err = run_cli(*argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "\r" not in err and option in err and "control" in err


@given(st.text(min_size=1, max_size=8), st.text(min_size=1, max_size=8))
@settings(max_examples=100, deadline=None)
def test_no_control_character_reaches_the_text_output(sid: str, value: str) -> None:
    doc = policy(statement({"StringLike": {SUB: [f"repo:o/{value}:*", value]}}, sid=sid))
    found = lint_policy(parse_policy_document(doc, f"p{sid}.json"))
    text = render_text(found, [f"p{sid}.json"])
    for line in text.split("\n"):
        assert not has_controls(line), repr(line)
