"""profiles: aws-profile / overwrite-aws-profile (CAC's profileManager.test.ts, on a real disk).

The written files are also read back with botocore's own loader, so "AWS CLI compatible" is
checked against the parser the AWS CLI uses, not only against ours.
"""

from __future__ import annotations

import stat
from pathlib import Path

import botocore.configloader
import botocore.session
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from py_aws_oidc import profiles
from py_aws_oidc.errors import InputError, ProfileError

AKID = "ASIAEXAMPLEKEYID0001"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN+/=="


def write(name: str, home: Path, *, overwrite: bool = False, **kwargs: object) -> tuple[Path, Path]:
    values: dict[str, object] = {
        "access_key_id": AKID,
        "secret_access_key": SECRET,
        "session_token": TOKEN,
        "region": "us-east-1",
        "overwrite": overwrite,
        "environ": {"HOME": str(home)},
    }
    values.update(kwargs)
    return profiles.write_profile(name, **values)  # type: ignore[arg-type]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


# --- validate_profile_name ------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["dev", "production", "my-profile-123", "default", "ci_deploy.eu@acme+1"]
)
def test_valid_profile_names(name: str) -> None:
    profiles.validate_profile_name(name)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("my profile", "whitespace"),
        ("my\nprofile", "whitespace"),
        ("my\tprofile", "whitespace"),
        ("dev\u00a0x", "whitespace"),
        ("[dev]", "brackets"),
        ("dev]", "brackets"),
        ("prof[ile", "brackets"),
        ("a/b", "path separators"),
        ("a\\b", "path separators"),
        ("../etc/passwd", "path separators"),
        ("dev!", "characters other than"),
        ("dév", "characters other than"),
        ("dev=1", "characters other than"),
        ("dev;x", "characters other than"),
    ],
)
def test_invalid_profile_names(name: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        profiles.validate_profile_name(name)
    assert info.value.input_name == "aws-profile"
    assert fragment in str(info.value)
    assert "\n" not in info.value.message


# --- profile_paths --------------------------------------------------------------------------


def test_default_paths_are_under_home_dot_aws() -> None:
    creds, config = profiles.profile_paths({"HOME": "/github/home"})
    assert creds == Path("/github/home/.aws/credentials")
    assert config == Path("/github/home/.aws/config")


def test_credentials_file_variable_is_honoured_alone() -> None:
    env = {"HOME": "/h", "AWS_SHARED_CREDENTIALS_FILE": "/custom/creds"}
    assert profiles.profile_paths(env) == (Path("/custom/creds"), Path("/h/.aws/config"))


def test_config_file_variable_is_honoured_alone() -> None:
    env = {"HOME": "/h", "AWS_CONFIG_FILE": "/custom/config"}
    assert profiles.profile_paths(env) == (Path("/h/.aws/credentials"), Path("/custom/config"))


def test_both_variables_and_tilde_and_empty() -> None:
    env = {"HOME": "/h", "AWS_SHARED_CREDENTIALS_FILE": "~/c", "AWS_CONFIG_FILE": ""}
    assert profiles.profile_paths(env) == (Path("/h/c"), Path("/h/.aws/config"))


def test_relative_variable_is_relative_to_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"HOME": "/h", "AWS_SHARED_CREDENTIALS_FILE": ".aws-ci/credentials"}
    assert profiles.profile_paths(env)[0] == tmp_path / ".aws-ci" / "credentials"


# --- parse_ini ------------------------------------------------------------------------------


def test_parse_one_section() -> None:
    assert profiles.parse_ini("[dev]\nregion = us-east-1\n") == {"dev": {"region": "us-east-1"}}


def test_parse_several_sections_comments_blank_lines_and_trimming() -> None:
    text = (
        "# leading comment\n"
        "; another\n"
        "\n"
        "[default]\n"
        "  aws_access_key_id   =   AKID  \n"
        "\n"
        "# in between\n"
        "[profile dev]\n"
        "region=eu-west-1\n"
        "    ; indented comment\n"
        "output = json\n"
    )
    assert profiles.parse_ini(text) == {
        "default": {"aws_access_key_id": "AKID"},
        "profile dev": {"region": "eu-west-1", "output": "json"},
    }


def test_parse_values_with_equals_and_empty_values() -> None:
    text = "[dev]\naws_session_token = abc+/def==\nempty =\nalso_empty=   \n"
    assert profiles.parse_ini(text) == {
        "dev": {"aws_session_token": "abc+/def==", "empty": "", "also_empty": ""}
    }


@pytest.mark.parametrize("text", ["", "   ", "\n\n", " \t \r\n "])
def test_parse_empty_and_whitespace_only(text: str) -> None:
    assert profiles.parse_ini(text) == {}


def test_parse_crlf_and_cr_line_endings() -> None:
    assert profiles.parse_ini("[a]\r\nk = v\r\n[b]\rx = y\r") == {"a": {"k": "v"}, "b": {"x": "y"}}


def test_parse_proto_like_names_are_ordinary() -> None:
    text = "[__proto__]\npolluted = yes\n[dev]\n__proto__ = x\nconstructor = y\n__class__ = z\n"
    parsed = profiles.parse_ini(text)
    assert parsed == {
        "__proto__": {"polluted": "yes"},
        "dev": {"__proto__": "x", "constructor": "y", "__class__": "z"},
    }
    assert type(parsed) is dict and type(parsed["dev"]) is dict
    assert not hasattr({}, "polluted")


def test_parse_skips_lines_that_are_not_key_value() -> None:
    text = "orphan = before any section\n[dev]\njust words\n= no key\nregion = us-east-1\n"
    assert profiles.parse_ini(text) == {"dev": {"region": "us-east-1"}}


def test_parse_colon_delimiter_as_configparser() -> None:
    assert profiles.parse_ini("[dev]\nregion: us-east-1\nrole_arn = arn:aws:iam::1:role/r\n") == {
        "dev": {"region": "us-east-1", "role_arn": "arn:aws:iam::1:role/r"}
    }


def test_parse_nested_continuation_lines() -> None:
    text = "[profile dev]\ns3 =\n    max_concurrent_requests = 20\n    addressing_style = path\n"
    parsed = profiles.parse_ini(text)
    assert parsed == {
        "profile dev": {"s3": "\nmax_concurrent_requests = 20\naddressing_style = path"}
    }


def test_parse_repeated_section_merges_and_last_key_wins() -> None:
    assert profiles.parse_ini("[a]\nk = 1\nj = 2\n[b]\n[a]\nk = 3\n") == {
        "a": {"k": "3", "j": "2"},
        "b": {},
    }


def test_parse_empty_header_drops_what_follows() -> None:
    assert profiles.parse_ini("[a]\nk = 1\n[]\nj = 2\n") == {"a": {"k": "1"}}


# --- render_ini -----------------------------------------------------------------------------


def test_render_section_format() -> None:
    assert profiles.render_ini({"s": {"k": "v"}}) == "[s]\nk = v\n"


def test_render_blank_line_between_sections() -> None:
    assert profiles.render_ini({"a": {"k": "v"}, "b": {"x": "y", "z": ""}}) == (
        "[a]\nk = v\n\n[b]\nx = y\nz =\n"
    )


def test_render_empty_and_empty_section() -> None:
    assert profiles.render_ini({}) == "\n"
    assert profiles.render_ini({"dev": {}}) == "[dev]\n"


def test_render_nested_values_as_indented_lines() -> None:
    rendered = profiles.render_ini({"profile dev": {"s3": "\nmax_concurrent_requests = 20"}})
    assert rendered == "[profile dev]\ns3 =\n    max_concurrent_requests = 20\n"


@pytest.mark.parametrize(
    "sections",
    [
        {"": {}},
        {"a\nb": {}},
        {"s": {"": "v"}},
        {"s": {"k=x": "v"}},
        {"s": {"k:x": "v"}},
        {"s": {"#k": "v"}},
        {"s": {" k": "v"}},
        {"s": {"[k": "v]"}},  # would read back as a section header
        {"s": {"k": " v"}},
        {"s": {"k": "v\r"}},
        {"s": {"k": "v\n\nw"}},
        {"s": {"k": "v\n# w"}},
    ],
)
def test_render_refuses_what_would_not_read_back(sections: dict[str, dict[str, str]]) -> None:
    with pytest.raises(ValueError):
        profiles.render_ini(sections)


def test_round_trip_example() -> None:
    data = {
        "default": {"aws_access_key_id": AKID, "aws_session_token": TOKEN},
        "profile dev": {"region": "eu-west-1", "s3": "\naddressing_style = path", "empty": ""},
        "sso-session corp": {"sso_start_url": "https://x.awsapps.com/start#/"},
    }
    assert profiles.parse_ini(profiles.render_ini(data)) == data


def test_rendered_text_reads_the_same_with_botocore(tmp_path: Path) -> None:
    data = {
        "default": {"aws_access_key_id": AKID, "aws_session_token": TOKEN},
        "profile dev": {"region": "eu-west-1", "s3": "\naddressing_style = path"},
    }
    path = tmp_path / "config"
    path.write_text(profiles.render_ini(data))
    assert botocore.configloader.raw_config_parse(str(path)) == {
        "default": {"aws_access_key_id": AKID, "aws_session_token": TOKEN},
        "profile dev": {"region": "eu-west-1", "s3": {"addressing_style": "path"}},
    }


_NAME_CHARS = st.characters(
    codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"), exclude_characters="\x85"
)
_names = st.text(_NAME_CHARS, min_size=1, max_size=12)
_keys = st.text(_NAME_CHARS, min_size=1, max_size=12).filter(
    lambda k: k == k.strip() and not any(c in k for c in "=:") and not k.startswith(("#", ";", "["))
)
_values = st.text(_NAME_CHARS, max_size=20).filter(lambda v: v == v.strip())
_sections = st.dictionaries(_names, st.dictionaries(_keys, _values, max_size=4), max_size=4)


@settings(max_examples=300, deadline=None)
@given(_sections)
def test_round_trip_property(sections: dict[str, dict[str, str]]) -> None:
    assert profiles.parse_ini(profiles.render_ini(sections)) == sections


_ini_lines = st.lists(
    st.one_of(
        st.builds(lambda s: f"[{s}]", _names),
        st.builds(lambda k, v: f"{k} = {v}", _keys, _values),
        st.builds(lambda i, k, v: f"{' ' * i}{k}={v}", st.integers(0, 6), _keys, _values),
        st.sampled_from(["", "# c", "; c", "[]", "  continued", "junk", "=x", "k:v"]),
        st.text(max_size=15),
    ),
    max_size=15,
)


@settings(max_examples=300, deadline=None)
@given(_ini_lines, st.sampled_from(["\n", "\r\n", "\r"]))
def test_parse_output_always_renders_and_is_stable(lines: list[str], newline: str) -> None:
    """Whatever a file holds, what we parse we can write back, and it reads back the same."""
    parsed = profiles.parse_ini(newline.join(lines))
    rendered = profiles.render_ini(parsed)
    assert profiles.parse_ini(rendered) == parsed
    assert profiles.render_ini(profiles.parse_ini(rendered)) == rendered


@settings(max_examples=100, deadline=None)
@given(_sections)
def test_rendered_sections_read_the_same_with_configparser(
    sections: dict[str, dict[str, str]],
) -> None:
    import configparser

    # configparser lower-cases keys and has a special DEFAULT section; keep to what it keeps.
    assume(all(name != "DEFAULT" for name in sections))
    assume(all(k == k.lower() and k.strip() == k for d in sections.values() for k in d))
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(profiles.render_ini(sections))
    except configparser.DuplicateOptionError:
        assume(False)
    got = {name: dict(parser.items(name)) for name in parser.sections()}
    assert got == sections


# --- write_profile --------------------------------------------------------------------------

GOLDEN_CREDENTIALS_DEV = (
    "[dev]\n"
    "aws_access_key_id = ASIAEXAMPLEKEYID0001\n"
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    "aws_session_token = IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN+/==\n"
)
GOLDEN_CONFIG_DEV = "[profile dev]\nregion = us-east-1\n"


def test_golden_one_profile(home: Path) -> None:
    creds, config = write("dev", home)
    assert (creds, config) == (home / ".aws" / "credentials", home / ".aws" / "config")
    assert creds.read_text() == GOLDEN_CREDENTIALS_DEV
    assert config.read_text() == GOLDEN_CONFIG_DEV


def test_golden_several_profiles(home: Path) -> None:
    write("dev", home)
    write(
        "prod",
        home,
        access_key_id="AKIAPROD",
        secret_access_key="prodsecret",
        session_token=None,
        region="eu-west-1",
    )
    write(
        "default",
        home,
        access_key_id="AKIADEF",
        secret_access_key="defsecret",
        session_token="deftoken",
        region="us-west-2",
    )
    assert (home / ".aws" / "credentials").read_text() == (
        GOLDEN_CREDENTIALS_DEV + "\n"
        "[prod]\n"
        "aws_access_key_id = AKIAPROD\n"
        "aws_secret_access_key = prodsecret\n"
        "\n"
        "[default]\n"
        "aws_access_key_id = AKIADEF\n"
        "aws_secret_access_key = defsecret\n"
        "aws_session_token = deftoken\n"
    )
    assert (home / ".aws" / "config").read_text() == (
        "[profile dev]\nregion = us-east-1\n\n"
        "[profile prod]\nregion = eu-west-1\n\n"
        "[default]\nregion = us-west-2\n"
    )


def test_default_profile_uses_default_in_both_files(home: Path) -> None:
    creds, config = write("default", home)
    assert creds.read_text().startswith("[default]\n")
    assert config.read_text() == "[default]\nregion = us-east-1\n"


def test_no_session_token_leaves_the_key_out(home: Path) -> None:
    creds, _ = write("dev", home, session_token=None)
    assert "aws_session_token" not in creds.read_text()
    assert profiles.parse_ini(creds.read_text()) == {
        "dev": {"aws_access_key_id": AKID, "aws_secret_access_key": SECRET}
    }


def test_empty_credentials_still_write_the_section(home: Path) -> None:
    creds, _ = write("dev", home, access_key_id="", secret_access_key="", session_token=None)
    assert creds.read_text() == "[dev]\n"


def test_modes_0600_and_directory_0700_no_symlinks(home: Path) -> None:
    creds, config = write("dev", home)
    assert mode(home / ".aws") == 0o700
    for path in (creds, config):
        assert mode(path) == 0o600
        assert not path.is_symlink()


def test_files_work_with_botocore(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    creds, config = write("dev", home)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    for variable in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
    ):
        monkeypatch.delenv(variable, raising=False)
    session = botocore.session.Session(profile="dev")
    credentials = session.get_credentials()
    assert credentials is not None
    assert (credentials.access_key, credentials.secret_key, credentials.token) == (
        AKID,
        SECRET,
        TOKEN,
    )
    assert session.get_config_variable("region") == "us-east-1"


def test_merge_keeps_other_sections_and_keys_and_drops_comments(home: Path) -> None:
    aws = home / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text(
        "# my keys\n[default]\naws_access_key_id = AKIAOLD\naws_secret_access_key = old\n"
    )
    (aws / "config").write_text(
        "[default]\nregion = eu-central-1\noutput = json\n; note\n"
        "[profile other]\nregion = ap-south-1\ns3 =\n  addressing_style = path\n"
    )
    write("dev", home)
    assert (aws / "credentials").read_text() == (
        "[default]\naws_access_key_id = AKIAOLD\naws_secret_access_key = old\n\n"
        + GOLDEN_CREDENTIALS_DEV
    )
    assert (aws / "config").read_text() == (
        "[default]\nregion = eu-central-1\noutput = json\n\n"
        "[profile other]\nregion = ap-south-1\ns3 =\n    addressing_style = path\n\n"
        + GOLDEN_CONFIG_DEV
    )


def test_empty_existing_files_are_fine(home: Path) -> None:
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text("")
    (home / ".aws" / "config").write_text("\n\n")
    creds, config = write("dev", home)
    assert creds.read_text() == GOLDEN_CREDENTIALS_DEV
    assert config.read_text() == GOLDEN_CONFIG_DEV


@pytest.mark.parametrize("which", ["credentials", "config"])
def test_existing_profile_without_overwrite_fails_and_touches_nothing(
    home: Path, which: str
) -> None:
    aws = home / ".aws"
    aws.mkdir()
    existing = (
        "[dev]\naws_access_key_id = AKIAOLD\n"
        if which == "credentials"
        else ("[profile dev]\nregion = eu-west-1\n")
    )
    (aws / which).write_text(existing)
    with pytest.raises(ProfileError) as info:
        write("dev", home)
    text = str(info.value)
    assert text.startswith('Profile with name "dev" already exists')
    assert str(aws / which) in text
    assert "overwrite-aws-profile: true" in text
    assert (aws / which).read_text() == existing
    other = "config" if which == "credentials" else "credentials"
    assert not (aws / other).exists()
    for secret in (AKID, SECRET, TOKEN):
        assert secret not in text


@pytest.mark.parametrize(
    ("name", "section"),
    [("dev", '[profile "dev"]'), ("dev", "[profile  dev]"), ("default", "[profile default]"),
     ("default", '[profile "default"]')],
)
def test_a_config_section_botocore_reads_as_the_same_profile_is_a_clash(
    home: Path, name: str, section: str
) -> None:
    # botocore splits "profile NAME" as a shell would (configloader.build_profile_map), so
    # these sections define the profile too; adding ours would silently shadow the user's.
    aws = home / ".aws"
    aws.mkdir()
    existing = f"{section}\nregion = eu-west-1\n"
    (aws / "config").write_text(existing)
    profile_map = botocore.configloader.build_profile_map(
        botocore.configloader.raw_config_parse(str(aws / "config")))["profiles"]
    assert name in profile_map
    with pytest.raises(ProfileError, match=f'"{name}" already exists'):
        write(name, home)
    assert (aws / "config").read_text() == existing
    assert not (aws / "credentials").exists()


def test_overwrite_replaces_the_section_whole(home: Path) -> None:
    aws = home / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text(
        "[dev]\naws_access_key_id = AKIAOLD\naws_session_token = stale\nextra = stale\n"
        "[keep]\naws_access_key_id = AKIAKEEP\n"
    )
    (aws / "config").write_text("[profile dev]\nregion = eu-west-1\noutput = text\n")
    write("dev", home, overwrite=True, session_token=None)
    assert profiles.parse_ini((aws / "credentials").read_text()) == {
        "dev": {"aws_access_key_id": AKID, "aws_secret_access_key": SECRET},
        "keep": {"aws_access_key_id": "AKIAKEEP"},
    }
    assert (aws / "config").read_text() == GOLDEN_CONFIG_DEV


def test_custom_paths_from_environment(tmp_path: Path) -> None:
    env = {
        "HOME": str(tmp_path / "unused-home"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "c" / "creds"),
        "AWS_CONFIG_FILE": str(tmp_path / "d" / "conf"),
    }
    creds, config = profiles.write_profile(
        "dev",
        access_key_id=AKID,
        secret_access_key=SECRET,
        session_token=TOKEN,
        region="us-east-1",
        overwrite=False,
        environ=env,
    )
    assert (creds, config) == (tmp_path / "c" / "creds", tmp_path / "d" / "conf")
    assert creds.read_text() == GOLDEN_CREDENTIALS_DEV
    assert config.read_text() == GOLDEN_CONFIG_DEV
    assert not (tmp_path / "unused-home").exists()


def test_one_file_for_both_variables(tmp_path: Path) -> None:
    both = str(tmp_path / "aws")
    env = {"HOME": str(tmp_path), "AWS_SHARED_CREDENTIALS_FILE": both, "AWS_CONFIG_FILE": both}
    profiles.write_profile(
        "default",
        access_key_id=AKID,
        secret_access_key=SECRET,
        session_token=None,
        region="us-east-1",
        overwrite=False,
        environ=env,
    )
    assert profiles.parse_ini(Path(both).read_text()) == {
        "default": {
            "aws_access_key_id": AKID,
            "aws_secret_access_key": SECRET,
            "region": "us-east-1",
        },
    }


def test_invalid_name_writes_nothing(home: Path) -> None:
    with pytest.raises(InputError, match="whitespace"):
        write("my profile", home)
    assert list(home.iterdir()) == []


@pytest.mark.parametrize("which", ["credentials", "config"])
def test_symlinked_profile_file_is_refused_and_nothing_is_written(
    home: Path, tmp_path: Path, which: str
) -> None:
    aws = home / ".aws"
    aws.mkdir()
    target = tmp_path / "target"
    target.write_text("[other]\nx = 1\n")
    (aws / which).symlink_to(target)
    with pytest.raises(ProfileError) as info:
        write("dev", home)
    assert "symbolic link" in str(info.value)
    for secret in (AKID, SECRET, TOKEN):
        assert secret not in str(info.value)
    assert target.read_text() == "[other]\nx = 1\n"
    assert (aws / which).is_symlink()
    other = "config" if which == "credentials" else "credentials"
    assert not (aws / other).exists()


def test_symlinked_aws_directory_is_refused(home: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (home / ".aws").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(ProfileError, match="symbolic link"):
        write("dev", home)
    assert list(elsewhere.iterdir()) == []


def test_dangling_symlink_at_credentials_path_is_not_followed(home: Path, tmp_path: Path) -> None:
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").symlink_to(tmp_path / "would-be-created")
    with pytest.raises(ProfileError, match="symbolic link"):
        write("dev", home)
    assert not (tmp_path / "would-be-created").exists()


# --- several profiles at once, and the post step's removal -----------------------------------


def keys(name: str, n: int) -> profiles.ProfileKeys:
    return profiles.ProfileKeys(name, f"ASIAEXAMPLEKEYID000{n}", f"secret{n}", f"token{n}")


def prepare(home: Path, *names: str, overwrite: bool = False) -> profiles.PreparedWrite:
    return profiles.prepare_profiles(
        [keys(name, i) for i, name in enumerate(names)],
        region="eu-west-1",
        overwrite=overwrite,
        environ={"HOME": str(home)},
    )


def test_prepare_writes_nothing_and_write_writes_all(home: Path) -> None:
    prepared = prepare(home, "dev", "prod")
    assert not (home / ".aws").exists()
    prepared.write()
    creds = botocore.configloader.raw_config_parse(str(home / ".aws" / "credentials"))
    config = botocore.configloader.raw_config_parse(str(home / ".aws" / "config"))
    assert creds["dev"]["aws_access_key_id"] == "ASIAEXAMPLEKEYID0000"
    assert creds["prod"]["aws_session_token"] == "token1"
    assert config == {"profile dev": {"region": "eu-west-1"},
                      "profile prod": {"region": "eu-west-1"}}
    record = prepared.record
    assert [(f.created, f.sections) for f in record.files] == [
        (True, ("dev", "prod")), (True, ("profile dev", "profile prod"))]
    assert record.created_dirs == (str(home / ".aws"),)
    assert "secret" not in record.to_json() and "token" not in record.to_json()
    assert profiles.WriteRecord.from_json(record.to_json()) == record


def test_a_clash_on_any_profile_writes_nothing(home: Path) -> None:
    write("prod", home)
    before = (home / ".aws" / "credentials").read_text()
    with pytest.raises(ProfileError, match=r'"prod" already exists.*nothing was written'):
        prepare(home, "dev", "prod")
    assert (home / ".aws" / "credentials").read_text() == before


def test_remove_written_keeps_foreign_sections_and_files(home: Path) -> None:
    aws = home / ".aws"
    aws.mkdir(mode=0o700)
    (aws / "credentials").write_text("[mine]\naws_access_key_id = AKIAMINE\n")
    prepared = prepare(home, "dev", "prod")
    prepared.write()
    done = profiles.remove_written(prepared.record)
    assert botocore.configloader.raw_config_parse(str(aws / "credentials")) == {
        "mine": {"aws_access_key_id": "AKIAMINE"}}
    assert not (aws / "config").exists()  # created by the step, nothing else in it
    assert aws.is_dir()  # existed before
    assert any("Removed [dev], [prod]" in line for line in done)


def test_remove_written_keeps_a_created_file_that_gained_foreign_sections(home: Path) -> None:
    prepared = prepare(home, "dev")
    prepared.write()
    config = home / ".aws" / "config"
    config.write_text(config.read_text() + "\n[profile later]\nregion = us-east-2\n")
    profiles.remove_written(prepared.record)
    assert botocore.configloader.raw_config_parse(str(config)) == {
        "profile later": {"region": "us-east-2"}}
    assert not (home / ".aws" / "credentials").exists()
    assert mode(config) == 0o600


def test_remove_written_removes_the_directory_it_created_and_tolerates_missing_files(
    home: Path,
) -> None:
    prepared = prepare(home, "dev")
    prepared.write()
    (home / ".aws" / "credentials").unlink()
    profiles.remove_written(prepared.record)
    assert not (home / ".aws").exists()
    assert profiles.remove_written(prepared.record) == []  # twice: nothing left to do


def test_remove_written_refuses_a_symlink_swapped_in(home: Path, tmp_path: Path) -> None:
    prepared = prepare(home, "dev")
    prepared.write()
    target = tmp_path / "elsewhere"
    target.write_text("[dev]\nx = 1\n")
    (home / ".aws" / "credentials").unlink()
    (home / ".aws" / "credentials").symlink_to(target)
    with pytest.raises(ProfileError, match="symbolic link"):
        profiles.remove_written(prepared.record)
    assert target.read_text() == "[dev]\nx = 1\n"
    assert not (home / ".aws" / "config").exists()  # the other file was still cleaned


@pytest.mark.parametrize("text", ["", "[]", '{"version": 2}', '{"version": 1, "files": [{}]}',
                                  '{"version": 1, "files": [1]}',
                                  '{"version": 1, "files": [], "created_dirs": ["rel"]}'])
def test_a_record_that_is_not_ours_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        profiles.WriteRecord.from_json(text)


@pytest.mark.parametrize(("content", "sections"), [
    ("#!/bin/sh\nrm -rf build\n", []),                       # a script, a record with no sections
    ("#!/bin/sh\nrm -rf build\n", ["profile dev"]),           # sections it does not hold
    ("[profile other]\nregion = us-east-1\n", ["profile dev"]),
    ("[profile dev]\nregion = us-east-1\n", ["profile dev", "profile prod"]),  # one is gone
])
def test_a_created_file_without_the_recorded_sections_is_left_and_said(
    tmp_path: Path, content: str, sections: list[str]
) -> None:
    """SPEC 1.2: a file is removed as "created" only while it holds every section recorded."""
    victim = tmp_path / "file"
    victim.write_text(content)
    record = profiles.WriteRecord(
        files=(profiles.WrittenFile(str(victim), "AWS config file", True, tuple(sections)),),
        created_dirs=())
    warned: list[str] = []
    profiles.remove_written(record, warn=warned.append)
    assert victim.exists()
    if "[profile dev]" in content and "profile dev" in sections:
        assert victim.read_text() == ""  # the recorded section it still held is removed
        assert warned == []
    else:
        assert victim.read_text() == content
        assert len(warned) == 1 and f"Left {victim} in place" in warned[0]
