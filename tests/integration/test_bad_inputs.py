"""The bad-input catalogue (SPEC.md "Precise rules" 7) and hostile input (issue 6).

Catalogue: every validated input, each bad value run as a real step (a subprocess, as the runner
runs it). Each must exit 1 with exactly one ``::error::`` that names the input, no traceback,
empty GITHUB_ENV / GITHUB_OUTPUT, and no request at all: no STS call, no token request. These
runs fail before botocore is imported, so each takes a fraction of a second.

Hostile input: newlines, heredoc delimiters, workflow-command sequences and over-long values can
never add a GITHUB_ENV / GITHUB_OUTPUT entry or forge a workflow command. stdout is read with the
runner's own command parser (``localdev/runner_files.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localdev.runner_files import parse_commands

REGION = "us-east-1"
ROLE = "arn:aws:iam::111122223333:role/gha-entry"
TARGET = "arn:aws:iam::444455556666:role/target"
CHAIN = f"{ROLE}\n{TARGET}"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
OIDC = {"aws-region": REGION, "role-to-assume": ROLE}
TAGGED = {"aws-region": REGION, "role-to-assume": CHAIN}
KEYS = {"aws-region": REGION, "aws-access-key-id": KEY_ID, "aws-secret-access-key": SECRET_KEY}
POLICY_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def case(name: str, inputs: dict[str, str], named: str, *, env: dict[str, str | None] | None = None,
         oidc: bool = True):
    """One catalogue entry: ``inputs`` fail, and the error names input ``named``."""
    return pytest.param(inputs, named, env or {}, oidc, id=name)


CATALOGUE = [
    # -- aws-region -------------------------------------------------------------------------------
    case("region-missing", {"role-to-assume": ROLE}, "aws-region"),
    case("region-upper-case", {**OIDC, "aws-region": "US-EAST-1"}, "aws-region"),
    case("region-shell", {**OIDC, "aws-region": "us-east-1;id"}, "aws-region"),
    case("region-newline", {**OIDC, "aws-region": "us-east-1\nAWS_REGION=evil"}, "aws-region"),
    # -- role-to-assume ---------------------------------------------------------------------------
    case("role-short-account", {**OIDC, "role-to-assume": "arn:aws:iam::12345:role/x"},
         "role-to-assume"),
    case("role-user-arn", {**OIDC, "role-to-assume": "arn:aws:iam::111122223333:user/x"},
         "role-to-assume"),
    case("role-wrong-partition",
         {**OIDC, "role-to-assume": "arn:aws-cn:iam::111122223333:role/x"}, "role-to-assume"),
    case("role-name-spaces", {**OIDC, "role-to-assume": "my role"}, "role-to-assume"),
    case("role-name-first-oidc-hop", {**OIDC, "role-to-assume": "deploy"}, "role-to-assume"),
    case("role-bad-second-line", {**OIDC, "role-to-assume": f"{ROLE}\narn:aws:iam::x"},
         "role-to-assume"),
    case("role-missing-with-token-file",
         {"aws-region": REGION, "web-identity-token-file": "token.jwt"}, "role-to-assume"),
    case("role-missing-with-role-chaining",
         {"aws-region": REGION, "role-chaining": "true"}, "role-to-assume"),
    # -- role-session-name ------------------------------------------------------------------------
    case("session-name-short", {**OIDC, "role-session-name": "a"}, "role-session-name"),
    case("session-name-65", {**OIDC, "role-session-name": "s" * 65}, "role-session-name"),
    case("session-name-brackets", {**OIDC, "role-session-name": "dependabot[bot]"},
         "role-session-name"),
    case("session-name-slash", {**OIDC, "role-session-name": "a/b"}, "role-session-name"),
    case("session-name-non-ascii", {**OIDC, "role-session-name": "déploiement"},
         "role-session-name"),
    # -- role-duration-seconds --------------------------------------------------------------------
    case("duration-899", {**OIDC, "role-duration-seconds": "899"}, "role-duration-seconds"),
    case("duration-43201", {**OIDC, "role-duration-seconds": "43201"}, "role-duration-seconds"),
    case("duration-13h", {**OIDC, "role-duration-seconds": "13h"}, "role-duration-seconds"),
    case("duration-zero", {**OIDC, "role-duration-seconds": "0"}, "role-duration-seconds"),
    case("duration-negative", {**OIDC, "role-duration-seconds": "-3600"},
         "role-duration-seconds"),
    case("duration-days", {**OIDC, "role-duration-seconds": "1d"}, "role-duration-seconds"),
    case("duration-junk", {**OIDC, "role-duration-seconds": "an hour"}, "role-duration-seconds"),
    case("duration-superscript", {**OIDC, "role-duration-seconds": "³⁶⁰⁰"},
         "role-duration-seconds"),
    # -- session-tags / custom-tags / transitive-tag-keys -----------------------------------------
    case("tags-not-key-value", {**TAGGED, "session-tags": "Team"}, "session-tags"),
    case("tags-51", {**TAGGED, "session-tags": "\n".join(f"K{i}=v" for i in range(51)),
                     "role-skip-session-tagging": "true"}, "session-tags"),
    case("tags-key-129", {**TAGGED, "session-tags": f"{'k' * 129}=v"}, "session-tags"),
    case("tags-value-257", {**TAGGED, "session-tags": f"Team={'v' * 257}"}, "session-tags"),
    case("tags-key-charset", {**TAGGED, "session-tags": "Team!=v"}, "session-tags"),
    case("tags-value-charset", {**TAGGED, "session-tags": "Team=$(id)"}, "session-tags"),
    case("tags-duplicate-case", {**TAGGED, "session-tags": "Team=a\nteam=b"}, "session-tags"),
    case("tags-duplicate-across-inputs",
         {**TAGGED, "custom-tags": '{"Team": "a"}', "session-tags": "TEAM=b"}, "session-tags"),
    case("tags-default-key-clash", {**TAGGED, "session-tags": "Repository=other/repo"},
         "session-tags"),
    case("tags-json-nested", {**TAGGED, "session-tags": '{"Team": ["a"]}'}, "session-tags"),
    case("tags-on-single-oidc-role", {**OIDC, "session-tags": "Team=a"}, "session-tags"),
    case("tags-without-any-role", {"aws-region": REGION, "session-tags": "Team=a"},
         "session-tags", oidc=False),
    case("custom-tags-not-json", {**TAGGED, "custom-tags": "Team=a"}, "custom-tags"),
    case("custom-tags-array", {**TAGGED, "custom-tags": '["Team"]'}, "custom-tags"),
    case("transitive-key-names-no-tag",
         {**TAGGED, "session-tags": "Team=a", "transitive-tag-keys": "Project"},
         "transitive-tag-keys"),
    case("transitive-key-single-oidc-role", {**OIDC, "transitive-tag-keys": "Repository"},
         "transitive-tag-keys"),
    # -- role-external-id / source-identity -------------------------------------------------------
    case("external-id-short", {**TAGGED, "role-external-id": "a"}, "role-external-id"),
    case("external-id-charset", {**TAGGED, "role-external-id": "id with spaces"},
         "role-external-id"),
    case("external-id-1225", {**TAGGED, "role-external-id": "e" * 1225}, "role-external-id"),
    case("external-id-non-ascii", {**TAGGED, "role-external-id": "extérieur"},
         "role-external-id"),
    case("external-id-single-oidc-role", {**OIDC, "role-external-id": "ext-id-1"},
         "role-external-id"),
    case("source-identity-aws-prefix", {**TAGGED, "source-identity": "aws:octocat"},
         "source-identity"),
    case("source-identity-charset", {**TAGGED, "source-identity": "octo cat"},
         "source-identity"),
    # -- session policies -------------------------------------------------------------------------
    case("policy-invalid-json", {**OIDC, "inline-session-policy": '{"Version": '},
         "inline-session-policy"),
    case("policy-array", {**OIDC, "inline-session-policy": "[]"}, "inline-session-policy"),
    case("policy-2049", {**OIDC, "inline-session-policy": json.dumps({"Sid": "x" * 2040})},
         "inline-session-policy"),
    case("policy-charset", {**OIDC, "inline-session-policy": '{"Sid": "\u0100"}'},
         "inline-session-policy"),
    case("policy-without-role", {"aws-region": REGION, "inline-session-policy": "{}",
                                 "managed-session-policies": POLICY_ARN},
         "inline-session-policy", oidc=False),
    case("managed-policy-role-arn", {**OIDC, "managed-session-policies": ROLE},
         "managed-session-policies"),
    case("managed-policy-11", {**OIDC, "managed-session-policies": "\n".join(
        f"arn:aws:iam::111122223333:policy/p{i}" for i in range(11))},
         "managed-session-policies"),
    # -- aws-profile / allowed-account-ids --------------------------------------------------------
    case("profile-whitespace", {**OIDC, "aws-profile": "my profile"}, "aws-profile"),
    case("profile-brackets", {**OIDC, "aws-profile": "[default]"}, "aws-profile"),
    # -- profiles ---------------------------------------------------------------------------------
    case("profiles-no-equals", {"aws-region": REGION, "profiles": f"dev {ROLE}"}, "profiles"),
    case("profiles-duplicate-name", {"aws-region": REGION, "profiles": f"dev = {ROLE}\ndev = {TARGET}"},
         "profiles"),
    case("profiles-json-duplicate", {"aws-region": REGION,
                                     "profiles": f'{{"dev": "{ROLE}", "dev": "{TARGET}"}}'},
         "profiles"),
    case("profiles-name-brackets", {"aws-region": REGION, "profiles": f"[dev] = {ROLE}"},
         "profiles"),
    case("profiles-name-path", {"aws-region": REGION, "profiles": f"../etc = {ROLE}"}, "profiles"),
    case("profiles-bad-arn", {"aws-region": REGION, "profiles": "dev = arn:aws:iam::12:role/x"},
         "profiles"),
    case("profiles-user-arn", {"aws-region": REGION,
                               "profiles": "dev = arn:aws:iam::111122223333:user/x"}, "profiles"),
    case("profiles-wrong-partition", {"aws-region": "cn-north-1", "profiles": f"dev = {ROLE}"},
         "profiles"),
    case("profiles-empty-chain", {"aws-region": REGION, "profiles": "dev ="}, "profiles"),
    case("profiles-chain-hole", {"aws-region": REGION, "profiles": f"dev = {ROLE} > > {TARGET}"},
         "profiles"),
    case("profiles-name-first-oidc-hop", {"aws-region": REGION, "profiles": "dev = deploy"},
         "profiles"),
    case("profiles-json-array", {"aws-region": REGION, "profiles": f'["{ROLE}"]'}, "profiles"),
    case("profiles-json-empty-list", {"aws-region": REGION, "profiles": '{"dev": []}'},
         "profiles"),
    case("profiles-json-deep", {"aws-region": REGION,
                                "profiles": '{"dev": ' + "[" * 50_000 + "]" * 50_000 + "}"},
         "profiles"),
    case("profiles-clash-with-aws-profile", {**OIDC, "aws-profile": "dev",
                                             "profiles": f"dev = {TARGET}"}, "profiles"),
    # The name the step's own session is written under with refresh-credentials (SPEC 1.2).
    case("profiles-takes-the-refresh-session-name",
         {**OIDC, "refresh-credentials": "true", "profiles": f"py-aws-oidc = {TARGET}"},
         "profiles"),
    case("profiles-takes-the-refresh-session-name-of-aws-profile",
         {**OIDC, "refresh-credentials": "true", "aws-profile": "app",
          "profiles": f"app = {TARGET}"}, "profiles"),
    case("profiles-tags-without-assume-role", {"aws-region": REGION, "session-tags": "Team=a",
                                               "profiles": f"dev = {ROLE}"}, "profiles"),
    case("profiles-aws-profile-without-role", {"aws-region": REGION, "aws-profile": "app",
                                               "profiles": f"dev = {ROLE}"}, "profiles"),
    case("profiles-with-use-existing", {"aws-region": REGION, "use-existing-credentials": "true",
                                        "profiles": f"dev = {ROLE}"}, "profiles"),
    case("allowed-accounts-short", {**OIDC, "allowed-account-ids": "1234"},
         "allowed-account-ids"),
    case("allowed-accounts-junk", {**OIDC, "allowed-account-ids": "111122223333, abc"},
         "allowed-account-ids"),
    # -- action-timeout-s / retry-max-attempts ----------------------------------------------------
    case("timeout-negative", {**OIDC, "action-timeout-s": "-1"}, "action-timeout-s"),
    case("timeout-junk", {**OIDC, "action-timeout-s": "ten"}, "action-timeout-s"),
    case("timeout-superscript", {**OIDC, "action-timeout-s": "¹"}, "action-timeout-s"),
    case("attempts-negative", {**OIDC, "retry-max-attempts": "-1"}, "retry-max-attempts"),
    case("attempts-junk", {**OIDC, "retry-max-attempts": "3x"}, "retry-max-attempts"),
    case("attempts-superscript", {**OIDC, "retry-max-attempts": "²"}, "retry-max-attempts"),
    case("attempts-huge", {**OIDC, "retry-max-attempts": "100000"}, "retry-max-attempts"),
    # -- sts-endpoint / http-proxy ----------------------------------------------------------------
    case("sts-endpoint-ftp", {**OIDC, "sts-endpoint": "ftp://sts.example.com"}, "sts-endpoint"),
    case("sts-endpoint-no-scheme", {**OIDC, "sts-endpoint": "localhost:4566"}, "sts-endpoint"),
    case("http-proxy-socks", {**OIDC, "http-proxy": "socks5://proxy:1080"}, "http-proxy"),
    case("http-proxy-newline", {**OIDC, "http-proxy": "http://proxy:3128\n::set-env name=X::1"},
         "http-proxy"),
    case("http-proxy-from-env", OIDC, "http-proxy", env={"HTTPS_PROXY": "ftp://proxy:21"}),
    # -- booleans (YAML 1.2 core only) ------------------------------------------------------------
    case("bool-yes", {**OIDC, "output-credentials": "yes"}, "output-credentials"),
    case("bool-one", {**OIDC, "mask-aws-account-id": "1"}, "mask-aws-account-id"),
    case("bool-on", {**OIDC, "disable-retry": "on"}, "disable-retry"),
    case("bool-mixed-case", {**OIDC, "role-skip-session-tagging": "tRUE"},
         "role-skip-session-tagging"),
    case("bool-use-existing", {**OIDC, "use-existing-credentials": "no"},
         "use-existing-credentials"),
    case("bool-translate-env", {**OIDC, "translate-env-variables": "off"},
         "translate-env-variables"),
    # -- static keys ------------------------------------------------------------------------------
    case("keys-no-secret", {**KEYS, "aws-secret-access-key": ""}, "aws-secret-access-key"),
    case("keys-no-key-id", {**KEYS, "aws-access-key-id": ""}, "aws-access-key-id"),
    case("keys-token-without-key", {"aws-region": REGION,
                                    "aws-session-token": "FwoGZXIvYXdzEXAMPLETOKEN"},
         "aws-access-key-id"),
    case("keys-bad-key-id", {**KEYS, "aws-access-key-id": "AKIA-short"}, "aws-access-key-id"),
    # -- web-identity-token-file ------------------------------------------------------------------
    case("token-file-missing", {**OIDC, "web-identity-token-file": "missing.jwt"},
         "web-identity-token-file"),
    case("token-file-symlink", {**OIDC, "web-identity-token-file": "link.jwt"},
         "web-identity-token-file"),
    case("token-file-directory", {**OIDC, "web-identity-token-file": "tokens"},
         "web-identity-token-file"),
    case("token-file-empty", {**OIDC, "web-identity-token-file": "empty.jwt"},
         "web-identity-token-file"),
    case("token-file-host-path-in-container",
         {**OIDC, "web-identity-token-file": "/home/runner/work/_temp/token.jwt"},
         "web-identity-token-file", env={"GITHUB_WORKSPACE": "/github/workspace"}),
    case("token-file-escapes-workspace-in-container",
         {**OIDC, "web-identity-token-file": "../../etc/token.jwt"},
         "web-identity-token-file", env={"GITHUB_WORKSPACE": "/github/workspace"}),
    # -- deep or odd input (issue 12): input errors, never a bug report or a retried request ------
    case("policy-nested-100k", {**OIDC, "inline-session-policy": "[" * 100_000},
         "inline-session-policy"),
    case("policy-nested-33", {**OIDC, "inline-session-policy": '{"a":' * 33 + "1" + "}" * 33},
         "inline-session-policy"),
    case("policy-5000-digit-number", {**OIDC, "inline-session-policy": '{"Sid": ' + "1" * 5000 + "}"},
         "inline-session-policy"),
    case("session-tags-json-nested-20k", {**TAGGED, "session-tags": '{"a":' * 20_000},
         "session-tags"),
    case("custom-tags-json-nested-20k", {**TAGGED, "custom-tags": '{"a":[' * 20_000},
         "custom-tags"),
    case("custom-tags-5000-digit-number", {**TAGGED, "custom-tags": '{"Team": ' + "9" * 5000 + "}"},
         "custom-tags"),
    case("keys-session-token-two-lines",
         {**KEYS, "aws-session-token": "FwoGZXIvYXdzEXAMPLETOKEN\nsecondLineOfTheToken"},
         "aws-session-token"),
    case("keys-session-token-space",
         {**KEYS, "aws-session-token": "FwoGZXIvYXdzEXAMPLE TOKENsecondhalf"}, "aws-session-token"),
    case("keys-secret-two-lines",
         {**KEYS, "aws-secret-access-key": "wJalrXUtnFEMI/K7MDENG\nbPxRfiCYEXAMPLEKEY"},
         "aws-secret-access-key"),
    case("keys-secret-non-ascii",
         {**KEYS, "aws-secret-access-key": "wJalrXUtnFEMI/K7MDENG\u00a0bPxRfiCYEXAMPLEKEY"},
         "aws-secret-access-key"),
    case("keys-key-id-non-ascii", {**KEYS, "aws-access-key-id": "AKIAIOSFODNN7EXAMPL\u00c9"},
         "aws-access-key-id"),
    case("audience-256", {**OIDC, "audience": "a" * 256}, "audience"),
    case("audience-100k", {**OIDC, "audience": "sts.amazonaws.com" + "a" * 100_000}, "audience"),
    case("sts-endpoint-inner-newline", {**OIDC, "sts-endpoint": "http://127.0.0.1:1\n/x"},
         "sts-endpoint"),
    case("sts-endpoint-inner-tab", {**OIDC, "sts-endpoint": "http://127.0.0.1:1/\tx"},
         "sts-endpoint"),
    # -- conflicting inputs -----------------------------------------------------------------------
    case("keys-and-token-file", {**KEYS, "role-to-assume": ROLE,
                                 "web-identity-token-file": "token.jwt"}, "web-identity-token-file"),
    case("force-skip-oidc-without-source", {**OIDC, "force-skip-oidc": "true"},
         "force-skip-oidc"),
]


@pytest.fixture
def token_files(workspace: Path, token_file) -> None:
    """The files the token-file entries point at (relative to GITHUB_WORKSPACE)."""
    real = token_file("token.jwt")
    (workspace / "link.jwt").symlink_to(real)
    (workspace / "tokens").mkdir()
    (workspace / "empty.jwt").write_text("")


def test_the_catalogue_is_large_enough() -> None:
    assert len(CATALOGUE) >= 40
    assert len({p.id for p in CATALOGUE}) == len(CATALOGUE)


@pytest.mark.usefixtures("token_files")
@pytest.mark.parametrize(("inputs", "named", "env", "oidc"), CATALOGUE)
def test_bad_input_fails_before_any_request(run_action, inputs: dict[str, str], named: str,
                                            env: dict[str, str | None], oidc: bool) -> None:
    given = {"sts-endpoint": None, **inputs} if "sts-endpoint" in inputs else inputs
    result = run_action(given, env=env, oidc=oidc, timeout=30)
    assert result.returncode == 1, result.explain()
    assert len(result.errors) == 1, result.errors
    assert f"'{named}'" in result.errors[0], result.errors[0]
    assert "Traceback" not in result.stdout and result.stderr == ""
    assert result.raw_env_text == "" and result.raw_output_text == ""
    assert result.sts_calls == [], result.sts_calls
    assert result.token_requests == [], result.token_requests
    # Nothing else was said in a way the runner would act on.
    assert {c.name for c in result.commands} <= {"add-mask", "error", "warning"}


# =================================================================================================
# hostile input
# =================================================================================================

# Workflow commands an injected value could try to forge; none may ever be parsed from stdout.
FORGED = {"set-env", "set-output", "add-path", "save-state", "stop-commands", "echo",
          "add-matcher", "internal-set-repo-path"}


def assert_no_forged_commands(result, *, allowed_errors: int) -> None:
    commands = parse_commands(result.stdout)
    names = {c.name for c in commands}
    assert not names & FORGED, names
    assert names <= {"add-mask", "error", "notice", "warning"}, names
    assert len([c for c in commands if c.name == "error"]) == allowed_errors
    # Every mask is a real secret (a forged ::add-mask:: could hide later log lines).
    for command in commands:
        if command.name == "add-mask":
            assert "evil" not in command.data.lower() and "::" not in command.data
    # The error's data is one line once the runner unescapes it only if we escaped it.
    for line in result.stdout.splitlines():
        assert not line.lstrip().startswith(("::set-", "::add-path", "::save-state",
                                             "::stop-commands", "::echo"))


HOSTILE_REJECTED = [
    pytest.param({**OIDC, "role-session-name": "ok\n::set-env name=EVIL::1"}, "role-session-name",
                 id="session-name-set-env"),
    pytest.param({**OIDC, "aws-region": "us-east-1\n::add-mask::us-east-1"}, "aws-region",
                 id="region-add-mask"),
    pytest.param({**OIDC, "role-to-assume": f"{ROLE}\n::error::forged error"}, "role-to-assume",
                 id="role-second-line-error-command"),
    pytest.param({**OIDC, "aws-profile": "p\nAWS_PROFILE<<ghadelimiter_0\nevil\nghadelimiter_0"},
                 "aws-profile", id="profile-heredoc"),
    pytest.param({"aws-region": REGION,
                  "profiles": f"dev = {ROLE}\n::set-env name=EVIL::1 = {ROLE}"},
                 "profiles", id="profiles-set-env-name"),
    pytest.param({"aws-region": REGION,
                  "profiles": f"dev = {ROLE} > ::error::forged\nAWS_PROFILE<<ghadelimiter_0"},
                 "profiles", id="profiles-forged-role"),
    pytest.param({**TAGGED, "role-external-id": "ghadelimiter_1\nEVIL=1"}, "role-external-id",
                 id="external-id-delimiter"),
    pytest.param({**TAGGED, "session-tags": "Team=a\n::set-output name=evil::1%0A"},
                 "session-tags", id="tags-set-output-line"),
    pytest.param({**TAGGED, "session-tags": "Team=a\r\n%0A::set-env name=EVIL::1=x"},
                 "session-tags", id="tags-escaped-newline"),
    pytest.param({**OIDC, "role-session-name": "s" * 100_000}, "role-session-name",
                 id="session-name-100k"),
    pytest.param({**OIDC, "aws-region": "r" * 100_000}, "aws-region", id="region-100k"),
    pytest.param({**TAGGED, "session-tags": "Team=" + "v" * 100_000}, "session-tags",
                 id="tag-value-100k"),
    pytest.param({**TAGGED, "role-external-id": "%0A::set-env name=EVIL::1"}, "role-external-id",
                 id="external-id-percent-escape"),
]


@pytest.mark.parametrize(("inputs", "named"), HOSTILE_REJECTED)
def test_hostile_input_is_refused_without_forging_anything(run_action, inputs: dict[str, str],
                                                           named: str) -> None:
    result = run_action(inputs, timeout=30)
    assert result.returncode == 1
    assert result.raw_env_text == "" and result.raw_output_text == ""
    assert result.sts_calls == [] and result.token_requests == []
    assert_no_forged_commands(result, allowed_errors=1)
    (error,) = result.errors
    assert f"'{named}'" in error
    assert "\n::" not in error and "\r" not in error  # the value is shown escaped
    assert len(result.stdout) < 4000  # over-long values are described, not shown (or cut)


def test_hostile_values_that_are_valid_change_nothing_but_themselves(run_action) -> None:
    """Tag values may legally hold ``::``, ``=`` and spaces, and a session name may look like a
    heredoc delimiter: they reach STS, the log and the files, and still add no entry and forge
    no command."""
    session_name = "ghadelimiter_0000-AWS_SECRET_ACCESS_KEY=x"
    result = run_action({
        "aws-region": REGION,
        "role-to-assume": CHAIN,
        "role-session-name": session_name,
        "session-tags": "\n".join([
            "Evil=::set-env name=AWS_ACCESS_KEY_ID::forged",
            "Mask=::add-mask::octo-org",
            "::set-output name=evil::1",  # a valid key ("::set-output name") and value
            f"Delim=ghadelimiter_{'0' * 8} EOF",
        ]),
        "output-credentials": "true",
    })
    assert result.ok, result.explain()
    hop2 = next(c for c in result.sts_calls if c.action == "AssumeRole")
    assert hop2.tags["Evil"] == "::set-env name=AWS_ACCESS_KEY_ID::forged"
    assert hop2.tags["::set-output name"] == "evil::1"
    assert hop2.role_session_name == session_name
    assert_no_forged_commands(result, allowed_errors=0)
    assert [name for name, _ in result.env_entries] == [
        "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN"]
    assert result.env["AWS_ACCESS_KEY_ID"] == hop2.response["AccessKeyId"]
    assert sorted(result.outputs) == sorted([
        "aws-account-id", "authenticated-arn", "aws-access-key-id", "aws-secret-access-key",
        "aws-session-token", "aws-expiration"])
    assert result.outputs["authenticated-arn"] == hop2.response["Arn"]
    assert result.outputs["authenticated-arn"].endswith("/" + session_name)
    # "octo-org" was not registered as a secret by the tag value.
    assert "::add-mask::octo-org" not in result.stdout.splitlines()


def test_a_hostile_audience_is_echoed_only_defused(run_action) -> None:
    """``audience`` is free text sent to the token endpoint; it comes back in the token's claims,
    which are printed when STS refuses the token. Every such line is defused."""
    audience = "sts.amazonaws.com\n::set-env name=EVIL::1\n::add-mask::octo-org"
    result = run_action({**OIDC, "audience": audience})
    assert result.returncode == 1
    calls = result.sts_calls
    assert len(calls) == 1 and calls[0].error_code == "InvalidIdentityToken"
    assert_no_forged_commands(result, allowed_errors=1)
    assert "\\::set-env name=EVIL::1" in result.stdout.splitlines()  # shown, defused


def test_a_proxy_password_in_a_bad_proxy_url_is_not_printed(run_action, secrets) -> None:
    password = secrets.add("pr0xy-Passw0rd-secret", "proxy-password")
    result = run_action({**OIDC, "http-proxy": f"socks5://user:{password}@proxy:1080"})
    assert result.returncode == 1
    (error,) = result.errors
    assert "'http-proxy'" in error and "***" in error
    assert result.sts_calls == [] and result.token_requests == []
