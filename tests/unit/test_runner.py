"""The runner I/O module: inputs, booleans, commands, masks and heredoc file commands."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from localdev.runner_files import (
    DOTNET_WHITESPACE,
    parse_commands,
    parse_file_commands,
    try_parse,
)
from py_aws_oidc.errors import FileCommandInjectionError, InputError
from py_aws_oidc.runner import (
    Runner,
    escape_data,
    escape_property,
    format_file_command,
    input_env_name,
    load_json_input,
    neutralise_line,
    parse_bool,
    restore_line,
    show,
)


def make(env: dict[str, str] | None = None) -> tuple[Runner, io.StringIO]:
    out = io.StringIO()
    return Runner(env or {}, out), out


def test_input_names_keep_hyphens_like_the_runner() -> None:
    assert input_env_name("role-to-assume") == "INPUT_ROLE-TO-ASSUME"
    assert input_env_name("my input") == "INPUT_MY_INPUT"


def test_get_input_trims_and_defaults_to_empty() -> None:
    runner, _ = make({"INPUT_AWS-REGION": "  us-east-1 \n"})
    assert runner.get_input("aws-region") == "us-east-1"
    assert runner.get_input("role-to-assume") == ""


def test_get_lines_splits_lines_and_optionally_commas() -> None:
    runner, _ = make({"INPUT_X": "a\n\n b \r\nc,d", "INPUT_Y": "1, 2 ,3"})
    assert runner.get_lines("x") == ["a", "b", "c,d"]
    assert runner.get_lines("y", commas=True) == ["1", "2", "3"]


@pytest.mark.parametrize("raw", ["true", "True", "TRUE"])
def test_yaml12_true(raw: str) -> None:
    assert parse_bool("x", raw, False) is True


@pytest.mark.parametrize("raw", ["false", "False", "FALSE"])
def test_yaml12_false(raw: str) -> None:
    assert parse_bool("x", raw, True) is False


def test_empty_boolean_is_the_default() -> None:
    assert parse_bool("x", "", True) is True
    assert parse_bool("x", "  ", False) is False


@pytest.mark.parametrize("raw", ["yes", "no", "1", "0", "on", "tRue", "false!"])
def test_other_booleans_are_errors_naming_the_input(raw: str) -> None:
    with pytest.raises(InputError) as info:
        parse_bool("mask-aws-account-id", raw, False)
    assert info.value.input_name == "mask-aws-account-id"
    assert "mask-aws-account-id" in str(info.value)


def test_escaping_matches_the_runner() -> None:
    assert escape_data("a%b\r\nc") == "a%25b%0D%0Ac"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_error_and_notice_commands_round_trip_through_the_runner_parser() -> None:
    runner, out = make()
    runner.error("line one\nline two 100%", title="Bad: input, really")
    runner.notice("hello")
    commands = parse_commands(out.getvalue())
    assert [c.name for c in commands] == ["error", "notice"]
    assert commands[0].data == "line one\nline two 100%"
    assert commands[0].props == {"title": "Bad: input, really"}


def test_mask_comes_first_and_later_lines_are_scrubbed() -> None:
    runner, out = make()
    runner.mask("s3cr3t-value")
    runner.info("the value is s3cr3t-value")
    runner.error("failed with s3cr3t-value")
    lines = out.getvalue().splitlines()
    assert lines[0] == "::add-mask::s3cr3t-value"
    assert all("s3cr3t-value" not in line for line in lines[1:])
    assert "***" in lines[1]


def test_multiline_secret_masks_each_line_too() -> None:
    runner, out = make()
    runner.mask("first-part\nsecond-part")
    runner.info("leaked second-part here")
    assert out.getvalue().splitlines()[0] == "::add-mask::first-part%0Asecond-part"
    assert "second-part" not in out.getvalue().splitlines()[1]


def test_blank_values_are_not_masked() -> None:
    runner, out = make()
    runner.mask("")
    runner.mask("   ")
    runner.mask(None)
    assert out.getvalue() == ""


def test_info_cannot_start_a_workflow_command() -> None:
    runner, out = make()
    runner.info("::set-env name=X::1\n  ::add-mask::x\r::error::forged")
    assert parse_commands(out.getvalue()) == []


def test_the_escape_is_one_readable_backslash() -> None:
    assert neutralise_line("role/##[stop-commands]tok/x") == "role/##\\[stop-commands]tok/x"
    assert neutralise_line("  ::add-mask::x") == "  \\::add-mask::x"
    assert neutralise_line("##\\[ was already escaped") == "##\\\\[ was already escaped"
    assert neutralise_line("arn:aws:iam::123456789012:role/x #1 [ok]") == \
        "arn:aws:iam::123456789012:role/x #1 [ok]"


# Text made of what builds a workflow command in either form, plus the characters where .NET and
# Python disagree (U+001C..U+001F are whitespace to Python only) and ignorable ones (soft hyphen).
_COMMAND_TEXT = st.lists(
    st.sampled_from([*"#[]:\\ \t\x0b\x0c\x1c\xa0\u2003\u00ad%;,=aS\r\n", "##[", "::",
                     "stop-commands", "add-mask", "ADD-MASK", "set-env", "error", "%5D", "%3B"]),
    max_size=25,
).map("".join) | st.text(max_size=40)
_ONE_LINE = _COMMAND_TEXT.map(lambda t: t.replace("\r", "").replace("\n", ""))


@given(_ONE_LINE)
@example("a ##\\[b ##[stop-commands]t")
@example("\x1c \\\\::add-mask::x")
def test_a_neutralised_line_is_never_a_command_and_reads_back(line: str) -> None:
    safe = neutralise_line(line)
    assert try_parse(safe) is None  # neither form, any registered name, any case
    assert "##[" not in safe
    assert restore_line(safe) == line  # nothing lost: one backslash per escaped place
    if "##" not in line and "::" not in line:
        assert safe == line  # ordinary text is printed as it is


@given(_COMMAND_TEXT, _COMMAND_TEXT)
@example("x ##[stop-commands]tok1234\n::add-mask::a", "##[error]t")
@example("a\r  ::set-env name=A::1", "##\\[ x")
def test_printed_text_runs_no_command_through_the_runners_parser(text: str, title: str) -> None:
    """Every printing path of :class:`Runner`, read back with the harness's port of the runner
    (both forms, stop/resume): only the commands we meant, and their text reads back."""
    runner, out = make()
    runner.info(text)
    runner.debug(text)
    runner.warning(text, title=title)
    with runner.group(text):
        runner.error(text, title=title)
    commands = parse_commands(out.getvalue())
    assert [c.name for c in commands] == ["debug", "warning", "group", "error", "endgroup"]
    assert not any(c.legacy for c in commands)
    assert restore_line(commands[3].data) == text
    # The runner trims the properties' end (String.Trim), so a title's trailing blanks go
    # (CR and LF are escaped as %0D and %0A by then).
    blanks = DOTNET_WHITESPACE.replace("\r", "").replace("\n", "")
    assert restore_line(commands[3].props.get("title", "")) == title.rstrip(blanks)
    shown = [restore_line(line) for line in out.getvalue().split("\n")[:-1]][:text.count("\n") + 1]
    assert "\n".join(shown) == text.replace("\r", "\\r")


def test_show_quotes_and_escapes_control_characters() -> None:
    assert show("a\nb") == "'a\\x0ab'"
    assert show("a\r\nb") == "'a\\x0d\\x0ab'"


@pytest.mark.parametrize("value", [
    "x" * 81,  # 1.0 cut this to 80 characters
    "arn:aws:iam::111122223333:role/" + "p/" * 900 + "deploy",  # a long but valid role path
    "it's a \\secret\\",  # ' and \ were escaped, so the runner's mask missed the value
    "line one\nline two",
])
def test_show_prints_a_value_whole_and_as_given(value: str) -> None:
    """The runner masks a secret only where it appears whole: no fragment, no escape inside a
    line (issue 12, "masks that miss"). Line breaks become \\x0a, so every line stays whole."""
    shown = show(value)
    assert shown.startswith("'") and shown.endswith("'")
    for line in value.split("\n"):
        assert line in shown


@pytest.mark.parametrize("value", ["s" * 2049, "a\x1b[31mb", "tab\x00nul", "x##[stop-commands]y"])
def test_show_describes_what_it_cannot_print_whole(value: str) -> None:
    shown = show(value)
    assert shown.startswith(f"(a value of {len(value)} characters")
    assert value[:8] not in shown


def test_file_command_format_is_a_heredoc_with_a_random_delimiter() -> None:
    one = format_file_command("A", "v")
    two = format_file_command("A", "v")
    assert re.fullmatch(r"A<<(ghadelimiter_[0-9a-f-]{36})\nv\n\1\n", one)
    assert one != two


@pytest.mark.parametrize("name", ["AWS_REGION\n", "A\nB", "A=B", ""])
def test_exported_names_with_a_newline_are_refused(name: str) -> None:
    runner = Runner({}, io.StringIO())
    for write in (runner.export_variable, runner.set_output, runner.save_state):
        with pytest.raises(FileCommandInjectionError):
            write(name, "v")


@pytest.mark.parametrize("name", ["", "A=B", "A<<B", "A\nB", "A\rB"])
def test_file_command_refuses_injecting_names(name: str) -> None:
    with pytest.raises(FileCommandInjectionError):
        format_file_command(name, "v")


def test_file_command_refuses_a_value_containing_the_delimiter() -> None:
    with pytest.raises(FileCommandInjectionError):
        format_file_command("A", "x\nDELIM\nB=evil", delimiter="DELIM")


@pytest.mark.parametrize("name", ["PATH\nX", "A=B", "NODE_OPTIONS", "1A", "A-B", "A B"])
def test_export_variable_refuses_bad_env_names(name: str) -> None:
    runner, _ = make()
    with pytest.raises(FileCommandInjectionError):
        runner.export_variable(name, "v")


def test_nothing_is_written_before_commit(tmp_path: Path) -> None:
    env_file = tmp_path / "env"
    out_file = tmp_path / "out"
    env_file.write_text("")
    out_file.write_text("")
    runner, _ = make({"GITHUB_ENV": str(env_file), "GITHUB_OUTPUT": str(out_file)})
    runner.export_variable("AWS_REGION", "us-east-1")
    runner.set_output("aws-account-id", "111111111111")
    assert env_file.read_text() == "" and out_file.read_text() == ""
    runner.commit()
    assert parse_file_commands(env_file.read_text()) == [("AWS_REGION", "us-east-1")]
    assert parse_file_commands(out_file.read_text()) == [("aws-account-id", "111111111111")]


def test_commit_summary_writes_only_the_summary(tmp_path: Path) -> None:
    env_file, summary = tmp_path / "env", tmp_path / "summary"
    env_file.write_text("")
    runner, _ = make({"GITHUB_ENV": str(env_file), "GITHUB_STEP_SUMMARY": str(summary)})
    runner.export_variable("AWS_REGION", "us-east-1")
    runner.add_summary("### diagnostics")
    runner.commit_summary()
    assert env_file.read_text() == ""
    assert summary.read_text() == "### diagnostics\n"


@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True),
            st.text(st.characters(blacklist_characters="\x00\r", blacklist_categories=("Cs",))),
        ),
        max_size=6,
    )
)
def test_env_writer_round_trips_through_the_runner_parser(entries: list[tuple[str, str]]) -> None:
    """Whatever the values (newlines, '=' signs, '<<', fake delimiters), the runner parses back
    exactly the entries written: no value can add an entry."""
    text = "".join(format_file_command(name, value) for name, value in entries)
    parsed = parse_file_commands(text)
    assert parsed == entries


@pytest.mark.parametrize("value", ["a\x00b", "a\rb"])
def test_values_with_nul_or_cr_are_refused(value: str) -> None:
    """The runner reads CR as a line end, so a CR would change the value; NUL truncates."""
    runner, _ = make()
    with pytest.raises(FileCommandInjectionError):
        runner.set_output("x", value)


def test_a_prefixed_view_shares_masks_and_file_commands_and_prefixes_lines() -> None:
    runner, out = make()
    view = runner.prefixed("[dev] ")
    view.mask("s3cr3t-value")
    view.info("got s3cr3t-value")
    view.warning("careful")
    view.export_variable("X", "1")
    runner.info("main s3cr3t-value")
    assert runner.is_secret("s3cr3t-value")
    assert runner.pending_env() == [("X", "1")]
    commands = parse_commands(out.getvalue())
    assert [(c.name, c.data) for c in commands] == [("add-mask", "s3cr3t-value"),
                                                   ("warning", "[dev] careful")]
    lines = [line for line in out.getvalue().splitlines() if not line.startswith("::")]
    assert lines == ["[dev] got ***", "main ***"]


def test_lines_from_threads_are_never_interleaved() -> None:
    import threading

    runner, out = make()
    views = [runner.prefixed(f"[p{i}] ") for i in range(8)]

    def talk(view: Runner) -> None:
        for n in range(200):
            view.info(f"line {n} " + "x" * 50)

    threads = [threading.Thread(target=talk, args=(v,)) for v in views]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = out.getvalue().splitlines()
    assert len(lines) == 8 * 200
    assert all(re.fullmatch(r"\[p\d\] line \d+ x{50}", line) for line in lines)


def test_json_inputs_nest_32_levels_and_brackets_in_strings_do_not_count() -> None:
    deep = '{"a":' * 32 + '"[[[[{{{{\\"]]]"' + "}" * 32
    assert load_json_input("inline-session-policy", deep) is not None
    with pytest.raises(InputError, match="'inline-session-policy': is JSON nested more than 32"):
        load_json_input("inline-session-policy", "[" * 33 + "]" * 33)


@pytest.mark.parametrize("raw", ["[" * 100_000, '{"a":' * 20_000, '{"n": ' + "1" * 5000 + "}",
                                 '{"a": 1', "\udcff", ""])
def test_any_bad_json_input_is_an_input_error_naming_it(raw: str) -> None:
    with pytest.raises(InputError, match=r"^Input 'session-tags': is "):
        load_json_input("session-tags", raw)
