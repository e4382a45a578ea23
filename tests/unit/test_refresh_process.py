"""The pieces of ``refresh-credentials``: the credential process's cache rules, the settings file,
where the directory goes, what is copied, and that the process's code stays within Python 3.10."""

from __future__ import annotations

import calendar
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from py_aws_oidc import tags
from py_aws_oidc.assume import ASSUME_ROLE, WEB_IDENTITY, HopRecord, Outcome
from py_aws_oidc.config import Duration, Settings, Source
from py_aws_oidc.errors import AccessDeniedError, InputError, OidcPermissionError
from py_aws_oidc.partitions import partition_for_region
from py_aws_oidc.proxy import ProxySettings
from py_aws_oidc.refresh import bundle, layout, process, settingsfile
from py_aws_oidc.refresh.process import ProcessFailure
from py_aws_oidc.sts import Credentials

REPO = Path(__file__).resolve().parents[2]
DOC = {"Version": 1, "AccessKeyId": "ASIAEXAMPLEEXAMPLE01", "SecretAccessKey": "s" * 40,
       "SessionToken": "t" * 64, "Expiration": "2031-05-06T07:08:09Z"}


# -- the document and the margin ------------------------------------------------------------------


@pytest.mark.parametrize("text", ["1970-01-01T00:00:00Z", "2000-02-29T23:59:59Z",
                                  "2031-05-06T07:08:09Z", "2100-03-01T00:00:00Z"])
def test_parse_expiration_agrees_with_calendar(text: str) -> None:
    expected = calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
    assert process.parse_expiration(text) == expected


@pytest.mark.parametrize("text", ["", "2031-05-06T07:08:09", "2031-05-06 07:08:09Z",
                                  "2031-13-06T07:08:09Z", "2031-05-06T07:08:09.123Z",
                                  "20x1-05-06T07:08:09Z", "2031-05-06T07:08:09+00:00"])
def test_parse_expiration_refuses_other_forms(text: str) -> None:
    with pytest.raises(ValueError):
        process.parse_expiration(text)


def test_parse_document_keeps_exactly_the_five_keys() -> None:
    parsed = process.parse_document(json.dumps({**DOC, "Extra": "x"}).encode())
    assert parsed is not None
    doc, expires = parsed
    assert list(doc) == list(layout.DOCUMENT_KEYS)
    assert expires == process.parse_expiration(DOC["Expiration"])  # type: ignore[arg-type]
    assert json.loads(process.render_document(doc)) == DOC


@pytest.mark.parametrize("broken", [
    {**DOC, "Version": 2}, {**DOC, "AccessKeyId": ""}, {**DOC, "SessionToken": None},
    {**DOC, "Expiration": "tomorrow"}, {k: v for k, v in DOC.items() if k != "SecretAccessKey"},
])
def test_parse_document_refuses_unusable_caches(broken: dict[str, object]) -> None:
    assert process.parse_document(json.dumps(broken).encode()) is None
    assert process.parse_document(b"\xff not json") is None
    assert process.parse_document(b"[1, 2]") is None
    # Nested deeper than the parser's recursion limit: unusable, not an unexpected error.
    assert process.parse_document(b"[" * 60000) is None


def test_margin_from_the_callers_environment() -> None:
    assert process.margin_from({}) == 1200
    assert process.margin_from({layout.MARGIN_VAR: " 300 "}) == 300
    assert process.margin_from({layout.MARGIN_VAR: "0"}) == 0
    # "9" * 5000: int() itself refuses more than 4300 digits (a ValueError of its own).
    for bad in ("-1", "5m", "1e3", "٣", "+5", "1 0"):
        with pytest.raises(ProcessFailure, match=layout.MARGIN_VAR):
            process.margin_from({layout.MARGIN_VAR: bad})


@pytest.mark.parametrize(("raw", "margin"), [
    ("43200", 43200), ("43201", 43200), ("86400", 43200), ("9" * 5000, 43200),
    ("0" * 5000, 0), ("0" * 5000 + "7", 7), ("00043201", 43200),
])
def test_a_margin_longer_than_any_session_is_clamped_to_always_refresh(raw: str, margin: int) -> None:
    """Above the longest session (43200 s) the margin means "always refresh": never an error in a
    later step (SPEC 1.2)."""
    assert process.margin_from({layout.MARGIN_VAR: raw}) == margin


# -- the files ----------------------------------------------------------------------------------------


@pytest.fixture
def private_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "refresh"
    directory.mkdir(mode=0o700)
    return directory


def _fd(directory: Path) -> int:
    return process.open_directory(str(directory), os.geteuid())


def test_read_private_accepts_only_a_private_regular_file_of_the_caller(
    private_dir: Path, tmp_path: Path
) -> None:
    cache = private_dir / "session.json"
    cache.write_bytes(b"data")
    cache.chmod(0o600)
    fd = _fd(private_dir)
    try:
        uid = os.geteuid()
        assert process.read_private(fd, "session.json", uid) == b"data"
        assert process.read_private(fd, "session.json", uid + 1) is None  # not the caller's
        cache.chmod(0o640)
        assert process.read_private(fd, "session.json", uid) is None  # group-readable
        cache.chmod(0o600)
        assert process.read_private(fd, "session.json", uid, limit=3) is None  # too large
        target = tmp_path / "elsewhere.json"
        target.write_bytes(b"planted")
        target.chmod(0o600)
        cache.unlink()
        cache.symlink_to(target)
        assert process.read_private(fd, "session.json", uid) is None  # a link: never followed
        assert process.read_private(fd, "absent.json", uid) is None
    finally:
        os.close(fd)


def test_replace_private_replaces_a_link_without_writing_through_it(
    private_dir: Path, tmp_path: Path
) -> None:
    target = tmp_path / "victim"
    target.write_text("untouched")
    (private_dir / "session.json").symlink_to(target)
    fd = _fd(private_dir)
    try:
        process.replace_private(fd, "session.json", b"{}")
    finally:
        os.close(fd)
    cache = private_dir / "session.json"
    assert not cache.is_symlink() and cache.read_bytes() == b"{}"
    assert cache.stat().st_mode & 0o777 == 0o600
    assert target.read_text() == "untouched"
    assert [p.name for p in private_dir.iterdir()] == ["session.json"]  # no temporary left


def test_open_directory_refuses_a_directory_open_to_others(private_dir: Path) -> None:
    private_dir.chmod(0o750)
    with pytest.raises(ProcessFailure, match="refusing"):
        _fd(private_dir)
    with pytest.raises(ProcessFailure, match="does not exist"):
        process.open_directory(str(private_dir / "gone"), os.geteuid())


def test_the_lock_is_exclusive(private_dir: Path) -> None:
    fd = _fd(private_dir)
    other = _fd(private_dir)
    try:
        held = process.lock(fd, os.geteuid())
        with pytest.raises(ProcessFailure, match="held the lock"):
            process.lock(other, os.geteuid(), wait_s=0.2)
        os.close(held)
        os.close(process.lock(other, os.geteuid(), wait_s=0.2))
    finally:
        os.close(fd)
        os.close(other)


def test_a_fresh_cache_is_printed_and_a_stale_one_is_not(private_dir: Path) -> None:
    cache = private_dir / "session.json"
    cache.write_text(json.dumps(DOC))
    cache.chmod(0o600)
    expires = process.parse_expiration(str(DOC["Expiration"]))
    text = process.credentials(str(private_dir), {}, now=expires - 1201)
    assert json.loads(text) == DOC
    # Stale: it goes on to mint, which needs the settings file (absent here): one-line failure.
    with pytest.raises(ProcessFailure, match=r"settings\.json"):
        process.credentials(str(private_dir), {}, now=expires - 1200)


def test_a_deeply_nested_settings_file_is_invalid_json(private_dir: Path) -> None:
    from py_aws_oidc.refresh import mint

    settings_file = private_dir / "settings.json"
    settings_file.write_bytes(b"[" * 200000)
    settings_file.chmod(0o600)
    fd = _fd(private_dir)
    try:
        with pytest.raises(ProcessFailure, match="not valid JSON"):
            mint.load_settings_document(fd, os.geteuid())
    finally:
        os.close(fd)


def test_failures_are_described_without_their_text_when_unexpected() -> None:
    assert "id-token: write" in process.describe_failure(OidcPermissionError("x"))
    denied = process.describe_failure(AccessDeniedError("Not authorized", code="AccessDenied"))
    assert "AccessDenied" in denied and "trust" in denied
    assert "secret-in-text" not in process.describe_failure(ValueError("secret-in-text"))
    assert process.one_line("a\nb\r\n  c") == "a b c"


# -- the settings file --------------------------------------------------------------------------------


def _settings(**changes: object) -> Settings:
    base: dict[str, object] = dict(
        region="eu-west-1", partition=partition_for_region("eu-west-1"), source=Source.OIDC,
        roles=("arn:aws:iam::111122223333:role/a", "b"), keys=None, token_file=None,
        audience="sts.amazonaws.com", proxy=ProxySettings("http://u:p@proxy:3128", ("x.io",)),
        mask_account_id=True, duration=Duration(43200, is_max=True, explicit=True),
        external_id="ext-id", session_name="GitHubActions-1-1", source_identity="octocat",
        skip_session_tagging=False, user_tags=(("session-tags", tags.Tag("Team", "a")),),
        transitive_tag_keys=("Team",), inline_policy='{"Version":"2012-10-17"}',
        managed_policies=("arn:aws:iam::aws:policy/ReadOnlyAccess",), output_credentials=False,
        output_env_credentials=True, unset_current_credentials=False, max_attempts=3,
        special_characters_workaround=True, use_existing_credentials=False,
        allowed_account_ids=("444455556666",), action_timeout_s=30, sts_endpoint=None,
        aws_profile=None, overwrite_aws_profile=False, refresh_credentials=True,
    )
    base.update(changes)
    return Settings(**base)  # type: ignore[arg-type]


def _outcome() -> Outcome:
    sent = [tags.Tag("GitHub", "Actions"), tags.Tag("Team", "a")]
    hops = [HopRecord(1, "arn:aws:iam::111122223333:role/a", WEB_IDENTITY, 900),
            HopRecord(2, "arn:aws:iam::111122223333:role/b", ASSUME_ROLE, 3600, sent, ["Team"])]
    creds = Credentials("ASIAX", "secret", "token", dt.datetime(2031, 1, 1, tzinfo=dt.UTC))
    return Outcome(creds, "111122223333", "arn:aws:sts::111122223333:assumed-role/b/s", hops, {})


def test_settings_file_replays_what_the_step_did() -> None:
    doc = settingsfile.document(_settings(), _outcome(), {})
    assert "secret" not in json.dumps(doc) and "token" not in json.dumps(doc["tags"])
    replay = settingsfile.settings(json.loads(json.dumps(doc)), {})
    # The expanded role ARNs, the granted duration, the tags actually sent, no recomputation.
    assert replay.roles == ("arn:aws:iam::111122223333:role/a", "arn:aws:iam::111122223333:role/b")
    assert replay.duration == Duration(3600)
    assert replay.skip_session_tagging
    assert [t for _, t in replay.user_tags] == _outcome().hops[1].tags
    assert replay.transitive_tag_keys == ("Team",)
    for name in ("region", "source", "audience", "proxy", "external_id", "session_name",
                 "source_identity", "inline_policy", "managed_policies", "max_attempts",
                 "special_characters_workaround", "allowed_account_ids", "action_timeout_s",
                 "sts_endpoint", "mask_account_id"):
        assert getattr(replay, name) == getattr(_settings(), name), name
    # The defaults (None, False) would pass the loop whatever the file holds: the other values.
    other = _settings(sts_endpoint="https://sts.eu-west-1.amazonaws.com", mask_account_id=False,
                      external_id=None, source_identity=None, inline_policy=None)
    again = settingsfile.settings(settingsfile.document(other, _outcome(), {}), {})
    for name in ("sts_endpoint", "mask_account_id", "external_id", "source_identity",
                 "inline_policy"):
        assert getattr(again, name) == getattr(other, name), name


def test_settings_file_token_path_follows_the_callers_workspace(tmp_path: Path) -> None:
    inside = _settings(source=Source.TOKEN_FILE, token_file=Path("/github/workspace/ci/t.jwt"))
    doc = settingsfile.document(inside, _outcome(), {"GITHUB_WORKSPACE": "/github/workspace"})
    assert doc["token_file"] == {"workspace_relative": "ci/t.jwt"}
    replay = settingsfile.settings(doc, {"GITHUB_WORKSPACE": "/home/runner/work/r/r"})
    assert replay.token_file == Path("/home/runner/work/r/r/ci/t.jwt")
    outside = _settings(source=Source.TOKEN_FILE, token_file=Path("/var/run/secrets/t"))
    doc = settingsfile.document(outside, _outcome(), {"GITHUB_WORKSPACE": "/github/workspace"})
    assert settingsfile.settings(doc, {}).token_file == Path("/var/run/secrets/t")
    # In the container, /github/home is the host's $RUNNER_TEMP/_github_home: the host path.
    home = _settings(source=Source.TOKEN_FILE, token_file=Path("/github/home/ci/t.jwt"))
    doc = settingsfile.document(home, _outcome(), {"GITHUB_WORKSPACE": "/github/workspace"},
                                {"/github/home": "/home/runner/work/_temp/_github_home"})
    assert settingsfile.settings(doc, {}).token_file == Path(
        "/home/runner/work/_temp/_github_home/ci/t.jwt")
    on_host = {"/home/runner/work/_temp": "/home/runner/work/_temp"}
    doc = settingsfile.document(outside, _outcome(), {}, on_host)
    assert settingsfile.settings(doc, {}).token_file == Path("/var/run/secrets/t")


def test_settings_file_refuses_what_this_version_did_not_write() -> None:
    doc = settingsfile.document(_settings(), _outcome(), {})
    for broken in ({**doc, "format": 99}, {**doc, "source": "keys"}, {**doc, "roles": []},
                   {**doc, "tags": [["only-key"]]}, {**doc, "max_attempts": "3"}, []):
        with pytest.raises(settingsfile.SettingsFileError):
            settingsfile.settings(broken, {})
    with pytest.raises(ValueError):
        settingsfile.document(_settings(source=Source.KEYS), _outcome(), {})


# -- where the directory goes ---------------------------------------------------------------------


def test_host_parent_on_the_host_is_runner_temp() -> None:
    assert bundle.host_parent({"RUNNER_TEMP": "/home/runner/work/_temp"}) == (
        Path("/home/runner/work/_temp"), Path("/home/runner/work/_temp"))
    with pytest.raises(Exception, match="RUNNER_TEMP"):
        bundle.host_parent({})


def test_host_parent_in_the_container_follows_the_runners_layout(tmp_path: Path) -> None:
    home = tmp_path / "github-home"
    home.mkdir()
    env = {"HOME": str(home), "RUNNER_WORKSPACE": "/home/runner/work/octo-repo"}
    assert bundle.host_parent(env, container_home=str(home)) == (
        home, Path("/home/runner/work/_temp/_github_home"))
    # Without RUNNER_WORKSPACE: the mount table's source of the home mount.
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "1 0 0:1 / / rw - overlay overlay rw\n"
        f"2 1 8:1 /srv/actions\\040runner/_work/_temp/_github_home {home} rw - ext4 /dev/sda1 rw\n"
    )
    env = {"HOME": str(home)}
    assert bundle.host_parent(env, container_home=str(home), mountinfo=str(mountinfo)) == (
        home, Path("/srv/actions runner/_work/_temp/_github_home"))
    with pytest.raises(Exception, match="/github/home"):
        bundle.host_parent(env, container_home=str(home), mountinfo=str(tmp_path / "none"))


@pytest.mark.parametrize("foreign", ["other-owner", "not-empty"])
def test_a_directory_swapped_in_while_it_is_made_is_not_written_or_given_away(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, foreign: str
) -> None:
    """RUNNER_TEMP (/github/home) belongs to the runner's user, who can rename the step's new
    directory between mkdir and open and put another in its place: the step must not write
    into it, change its mode, or give what is in it away."""
    real_mkdir = os.mkdir
    swapped = tmp_path / "refresh"

    def racing_mkdir(name: str, mode: int = 0o777, *, dir_fd: int | None = None) -> None:
        real_mkdir(name, mode, dir_fd=dir_fd)
        if name == "refresh":
            os.rename(swapped, tmp_path / "aside")
            real_mkdir(swapped, 0o755)
            if foreign == "other-owner":
                os.chown(swapped, os.geteuid() + 1, os.getegid() + 1)
            else:
                (swapped / "theirs").write_text("x")

    if foreign == "other-owner" and os.geteuid() != 0:
        pytest.skip("chown to another uid needs root")
    monkeypatch.setattr(os, "mkdir", racing_mkdir)
    with pytest.raises(OSError, match="replaced"):
        bundle._Tree(tmp_path, "refresh")
    st = swapped.stat()
    assert st.st_mode & 0o777 == 0o755
    assert sorted(p.name for p in swapped.iterdir()) == ([] if foreign == "other-owner"
                                                           else ["theirs"])


def test_no_refresh_directory_is_written_into_once_it_is_given_away(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With profiles, the first directory's config lists every profile. Once a directory is the
    runner user's, they can swap it for one of theirs (or of root's): the step (root) must not
    write into it any more, so the directory whose config lists the others is made last."""
    from py_aws_oidc import action
    from py_aws_oidc.named_profiles import ProfileSpec
    from py_aws_oidc.runner import Runner

    real_write = bundle.write
    swapped: list[Path] = []

    def write_then_swap(*args: object, **kwargs: object) -> bundle.RefreshSetup:
        setup = real_write(*args, **kwargs)  # type: ignore[arg-type]
        setup.local.rename(setup.local.with_name(setup.local.name + "-moved"))
        setup.local.mkdir()
        swapped.append(setup.local)
        return setup

    monkeypatch.setattr(bundle, "write", write_then_swap)
    runner = Runner({"RUNNER_TEMP": str(tmp_path), "HOME": str(tmp_path)}, _Sink())
    named = [(ProfileSpec("dev", ("arn:aws:iam::111122223333:role/dev",)), _outcome()),
             (ProfileSpec("prod", ("arn:aws:iam::111122223333:role/prod",)), _outcome())]
    setups = action._write_refresh(_settings(aws_profile="main"), _outcome(), named, runner)
    assert [s.profile for s in setups] == ["main", "dev", "prod"]
    assert len(swapped) == 3
    assert [list(d.iterdir()) for d in swapped] == [[], [], []]
    config = (setups[0].local.with_name(setups[0].local.name + "-moved") / "config").read_text()
    for setup in setups:
        assert f"credential_process = {setup.credential_process}" in config


def test_the_runners_mounts_map_to_host_paths_for_a_token_file() -> None:
    host_home = Path("/home/runner/work/_temp/_github_home")
    env = {"HOME": "/github/home", "RUNNER_WORKSPACE": "/home/runner/work/octo-repo"}
    assert bundle._mounts(env, Path("/github/home"), host_home) == {
        "/github/home": str(host_home),
        # A token file under ${{ runner.temp }} (accepted by config.py) is read again there too.
        "/github/runner_temp": "/home/runner/work/_temp",
        "/github/workflow": "/home/runner/work/_temp/_github_workflow",
        "/github/file_commands": "/home/runner/work/_temp/_runner_file_commands",
    }
    assert bundle._mounts({}, Path("/srv/temp"), Path("/srv/temp")) == {}


def test_config_file_names_the_profile_and_quotes_the_path() -> None:
    text = bundle.config_text("default", "us-east-1", "python3 -I -S '/tmp/a b/lib'")
    assert text == ("[default]\nregion = us-east-1\n"
                    "credential_process = python3 -I -S '/tmp/a b/lib'\n")
    assert bundle.config_text("ci", "us-east-1", "x").startswith("[profile ci]\n")


# -- what the process carries -----------------------------------------------------------------------


def test_lib_holds_the_process_and_its_pure_python_dependencies_only() -> None:
    files = dict((rel, src) for src, rel in bundle.lib_files())
    for needed in ("py_aws_oidc/refresh/process.py", "py_aws_oidc/refresh/mint.py",
                   "py_aws_oidc/assume.py", "py_aws_oidc/sts.py", "requests/__init__.py",
                   "urllib3/__init__.py", "botocore/session.py", "six.py", "certifi/cacert.pem",
                   "botocore/data/endpoints.json"):
        assert needed in files, needed
    assert not [r for r in files if r.startswith("py_aws_oidc/trust/")]
    assert not [r for r in files if r.endswith((".so", ".pyc", ".pyi"))]
    assert not [r for r in files if r.startswith("jwt/")]
    data = {r.split("/")[2] for r in files if r.startswith("botocore/data/") and r.count("/") > 2}
    assert data == {"sts"}


def test_the_process_modules_stay_within_python_3_10(tmp_path: Path) -> None:
    """The process runs on the host's python3 (3.10 on ubuntu-22.04): every module of ours it
    carries must parse and run there. vermin checks the standard-library API and syntax."""
    ours = [str(src) for src, rel in bundle.lib_files() if rel.startswith("py_aws_oidc/")]
    vermin = Path(sys.executable).parent / "vermin"
    assert vermin.exists(), "vermin is pinned in requirements/dev.txt"
    done = subprocess.run([str(vermin), "--no-tips", "--violations", "-t=3.10-",
                           "--eval-annotations", *ours], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    ruff = Path(sys.executable).parent / "ruff"
    done = subprocess.run([str(ruff), "check", "--no-cache", "--target-version", "py310",
                           "--select", "E9,F63,F7,F82,UP", "--ignore", "UP017", *ours],
                          capture_output=True, text=True, check=False, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr


# The distributions of bundle.LIB_MODULES (py_aws_oidc aside), as pip names them.
_LIB_DISTRIBUTIONS = ("requests", "urllib3", "idna", "certifi", "charset-normalizer", "botocore",
                      "python-dateutil", "jmespath", "six", "truststore")


def test_the_image_packs_the_versions_tested_on_python_3_10() -> None:
    """The image packs its own dependencies for the host's python3; the mint runs on 3.10 in the
    integration tests with this environment's (test_mint_runs_on_python_3_10): the versions must
    be the same, and each must declare that it supports 3.10."""
    import re
    from importlib import metadata

    pinned = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (REPO / "requirements" / "image.txt")
                             .read_text(), flags=re.MULTILINE))
    assert len(_LIB_DISTRIBUTIONS) == len(bundle.LIB_MODULES) - 1
    for name in _LIB_DISTRIBUTIONS:
        assert pinned.get(name) == metadata.version(name), name
        requires = metadata.metadata(name).get("Requires-Python") or ""
        floor = re.search(r">=\s*3\.(\d+)", requires)
        assert floor is None or int(floor.group(1)) <= 10, (name, requires)


_IMPORT_EVERYTHING = """
import importlib, pkgutil, sys
sys.path.insert(0, sys.argv[1])
import py_aws_oidc
failed = []
names = [m.name for m in pkgutil.walk_packages(py_aws_oidc.__path__, "py_aws_oidc.")
         if not m.name.endswith("__main__")]  # py_aws_oidc.__main__ runs the action
names += ["requests", "urllib3", "botocore.auth", "botocore.credentials", "dateutil.parser",
          "charset_normalizer", "idna", "certifi", "jmespath", "six"]
for name in names:
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed.append(f"{name}: {exc!r}")
print(sys.version_info[:2], len(names), failed)
"""


def test_every_module_in_lib_imports_on_python_3_10(tmp_path: Path) -> None:
    """vermin reads our modules; this imports all of lib/ (ours and the dependencies, also the
    modules only an error path imports) with a real 3.10, isolated as the process runs."""
    from tests.support.later_steps import find_python

    python310 = find_python(10)
    if python310 is None:
        pytest.skip("no python3.10 on this machine")
    tree = bundle._Tree(tmp_path, "refresh")
    bundle._copy_lib(tree)
    tree.close()
    done = subprocess.run([python310, "-I", "-S", "-c", _IMPORT_EVERYTHING,
                           str(tmp_path / "refresh" / "lib")], capture_output=True, text=True,
                          check=False, env={"PATH": "/usr/bin:/bin"}, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("(3, 10) ") and done.stdout.rstrip().endswith(" []"), \
        done.stdout[-2000:]
    assert done.stderr == ""


def test_the_launcher_parses_on_old_pythons_and_the_hit_path_imports_no_client(
    tmp_path: Path,
) -> None:
    python3 = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")
    if python3 is None:
        pytest.skip("no host python3")
    tree = bundle._Tree(tmp_path, "refresh")
    bundle._copy_lib(tree)
    tree.close()
    directory = tmp_path / "refresh"
    source = (directory / "lib" / "__main__.py").read_text()
    compile(source, "__main__.py", "exec", flags=0, dont_inherit=True)
    assert "f\"" not in source and "f'" not in source  # no f-strings before the check
    cache = directory / "session.json"
    cache.write_text(json.dumps({**DOC, "Expiration": "2099-01-01T00:00:00Z"}))
    cache.chmod(0o600)
    launcher = str(directory / "lib" / "__main__.py")
    done = subprocess.run([python3, "-I", "-S", "-X", "importtime", launcher],
                          capture_output=True, text=True, check=False, env={"PATH": "/usr/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["AccessKeyId"] == DOC["AccessKeyId"]
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")}
    assert "py_aws_oidc.refresh.process" in imported
    heavy = {m for m in imported if m.split(".")[0] in
             ("botocore", "requests", "urllib3", "ssl", "http", "typing", "runpy")}
    assert heavy == set(), heavy
    assert not {m for m in imported if m.startswith(("py_aws_oidc.refresh.mint", "py_aws_oidc.sts",
                                                     "py_aws_oidc.assume"))}


def _launcher_tree(tmp_path: Path, expiration: str) -> tuple[str, Path]:
    python3 = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")
    if python3 is None:
        pytest.skip("no host python3")
    tree = bundle._Tree(tmp_path, "refresh")
    bundle._copy_lib(tree)
    tree.write("session.json", json.dumps({**DOC, "Expiration": expiration}).encode())
    tree.write("lock", b"")
    tree.close()
    return python3, tmp_path / "refresh"


def test_a_closed_stdout_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """The caller (an SDK timing out, a pipe that closed) may stop reading: the process says so
    in one line, without Python's traceback or its "Exception ignored" at exit."""
    python3, directory = _launcher_tree(tmp_path, "2099-01-01T00:00:00Z")
    launcher = str(directory / "lib" / "__main__.py")
    # A pipe whose reader is gone (EPIPE).
    child = subprocess.Popen([python3, "-I", "-S", launcher], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env={"PATH": "/usr/bin"})
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()
    err = child.stderr.read().decode()
    assert child.wait(timeout=60) == 1
    # No standard output at all (sys.stdout is None).
    done = subprocess.run([python3, "-I", "-S", launcher], stdout=None, stderr=subprocess.PIPE,
                          text=True, check=False, env={"PATH": "/usr/bin"},
                          preexec_fn=lambda: os.close(1))
    for stderr in (err, done.stderr):
        assert stderr.startswith(process.PREFIX) and stderr.count("\n") == 1, stderr
        assert "standard output" in stderr and DOC["SessionToken"] not in stderr
    assert done.returncode == 1


def _sigint_default() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_an_interrupt_while_waiting_for_the_lock_is_one_line(tmp_path: Path) -> None:
    """A cancelled job sends SIGINT: one line on stderr, no traceback, nothing on stdout."""
    import fcntl
    import signal

    python3, directory = _launcher_tree(tmp_path, "2000-01-01T00:00:00Z")  # stale: wants the lock
    held = os.open(directory / "lock", os.O_RDWR)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        # A background job of a non-interactive shell (a CI script run with '&') starts with
        # SIGINT ignored, and Python keeps it so; a runner's step processes have the default.
        child = subprocess.Popen([python3, "-I", "-S", str(directory / "lib" / "__main__.py")],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env={"PATH": "/usr/bin"},
                                 preexec_fn=_sigint_default)  # noqa: PLW1509 - async-signal-safe
        # Wait until it polls for the lock (it has opened the lock file), then interrupt it.
        deadline = time.monotonic() + 60
        while not any(os.path.realpath(f"/proc/{child.pid}/fd/{fd}") == str(directory / "lock")
                      for fd in os.listdir(f"/proc/{child.pid}/fd")):
            assert time.monotonic() < deadline and child.poll() is None
            time.sleep(0.02)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        os.close(held)
    assert child.returncode == 1
    assert out == ""
    assert err.startswith(process.PREFIX) and err.count("\n") == 1 and "interrupted" in err, err


def test_input_error_names_refresh_credentials_for_static_keys() -> None:
    from py_aws_oidc import config
    from py_aws_oidc.runner import Runner

    env = {"INPUT_AWS-REGION": "us-east-1", "INPUT_REFRESH-CREDENTIALS": "true",
           "INPUT_AWS-ACCESS-KEY-ID": "AKIAIOSFODNN7EXAMPLE",
           "INPUT_AWS-SECRET-ACCESS-KEY": "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"}
    with pytest.raises(InputError, match="refresh-credentials"):
        config.load_settings(Runner(env, _Sink()))


class _Sink:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def test_the_error_line_cannot_carry_a_workflow_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert process._fail("STS said ##[stop-commands]token\n::add-mask::x") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "##[" not in err
    assert err.startswith(process.PREFIX)


def test_the_image_archive_holds_the_same_lib(tmp_path: Path) -> None:
    """The image keeps bytecode only; its build packs the process's sources (Dockerfile)."""
    archive = tmp_path / "share" / "refresh-lib.zip"
    assert bundle.pack(archive) == len(bundle.lib_files())
    from_sources = dict(bundle.lib_entries(tmp_path / "absent.zip"))
    assert dict(bundle.lib_entries(archive)) == from_sources
    import zipfile

    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("../escape.py", "x")
        zf.writestr("/abs.py", "x")
    assert dict(bundle.lib_entries(archive)) == from_sources
    tree = bundle._Tree(tmp_path, "refresh")
    bundle._copy_lib(tree, archive)
    tree.close()
    assert (tmp_path / "refresh" / "lib" / "py_aws_oidc" / "refresh" / "process.py").is_file()
    assert not (tmp_path / "refresh" / "escape.py").exists()


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-25T20:34:17Z", dt.datetime(2026, 11, 25, 20, 34, 17, tzinfo=dt.UTC)),
    ("2026-11-25T20:34:17.982379Z", dt.datetime(2026, 11, 25, 20, 34, 17, 982379, tzinfo=dt.UTC)),
    ("2026-11-25T20:34:17.9Z", dt.datetime(2026, 11, 25, 20, 34, 17, 900000, tzinfo=dt.UTC)),
    ("2026-11-25T20:34:17.123456789Z",
     dt.datetime(2026, 11, 25, 20, 34, 17, 123456, tzinfo=dt.UTC)),
    ("2026-11-25T20:34:17", dt.datetime(2026, 11, 25, 20, 34, 17, tzinfo=dt.UTC)),
    ("2026-11-25T21:34:17+0100", dt.datetime(2026, 11, 25, 20, 34, 17, tzinfo=dt.UTC)),
    ("tomorrow", None),
    ("2026-13-25T20:34:17Z", None),
])
def test_sts_timestamps_parse_without_3_11_fromisoformat(
    text: str, expected: dt.datetime | None
) -> None:
    """STS's Expiration, read the same on the host's Python 3.10 (credential process), whose
    fromisoformat takes neither "Z" nor fractions other than 3 or 6 digits."""
    from py_aws_oidc.sts import parse_timestamp

    assert parse_timestamp(text) == expected
