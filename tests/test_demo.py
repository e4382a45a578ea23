"""README "Set-up: two commands": ``bash scripts/demo.sh`` works end to end, and reads right to a
newcomer: it says what is local, shows the log as the runner shows it, and names what it runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def demo(*args: str) -> subprocess.CompletedProcess[str]:
    # scripts/demo.sh is `. scripts/venv.sh` (this venv) then `python -m localdev.demo`.
    return subprocess.run([sys.executable, "-m", "localdev.demo", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=180, check=False)


def test_the_demo_hands_working_credentials_to_the_next_step() -> None:
    proc = demo()
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "STS saw: AssumeRoleWithWebIdentity (200)" in out
    # The next step's variables, secrets shown only as their length ...
    for name, length in (("AWS_ACCESS_KEY_ID", 20), ("AWS_SECRET_ACCESS_KEY", 40)):
        assert f"{name}=*** ({length} characters; a secret, masked in the log)" in out, out
    assert re.search(r"^AWS_SESSION_TOKEN=\*\*\* \(\d+ characters", out, re.M), out
    # ... and a later step's signed call made with exactly those credentials.
    arn = "arn:aws:sts::123456789012:assumed-role/github-deploy/GitHubActions-1234567890-1"
    assert f"authenticated-arn={arn}" in out
    assert f"Arn:     {arn}" in out
    assert ("STS saw GetCallerIdentity (200), SigV4-signed with the exported key and session "
            "token: yes") in out


def test_the_demo_says_what_is_local_and_shows_the_log_as_the_runner_does() -> None:
    proc = demo()
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    intro = out[: out.index("== the step's log")]
    # Up front: the issuer and STS are local stand-ins, and what a later step receives.
    assert re.search(r"GitHub's OIDC issuer: a local stand-in at http://127\.0\.0\.1:\d+", intro)
    assert re.search(r"AWS STS: +a local stand-in at http://127\.0\.0\.1:\d+", intro)
    assert "later step of the job receives AWS_ACCESS_KEY_ID" in intro
    # The runner hides ::add-mask:: lines (and acts on every workflow command): none is printed.
    assert not re.search(r"^\s*::", out, re.M), out
    count = re.search(r"^\((\d+) ::add-mask:: lines registered the secrets before any use", out,
                      re.M)
    assert count and int(count.group(1)) >= 3, out
    # The last section names what it runs: botocore, not the AWS CLI.
    assert "aws sts get-caller-identity`" not in out
    assert "== a later step's botocore: GetCallerIdentity with the exported credentials" in out


def test_an_input_error_says_sts_saw_no_request_and_nothing_was_exported() -> None:
    proc = demo("aws-region=nowhere-1")
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert "Error: Input 'aws-region'" in out and "::error::" not in out
    assert "== exit status 1; STS saw: no request" in out
    assert not re.search(r"STS saw: *$", out, re.M), out
    assert "it exported nothing" in out
    assert "== what a later step receives" not in out


def test_the_demo_help_is_plain_text() -> None:
    proc = demo("--help")
    assert proc.returncode == 0
    assert "local stand-ins" in proc.stdout and "GetCallerIdentity" in proc.stdout
    for markup in ("``", ":func:", ":class:", ".. "):
        assert markup not in proc.stdout, markup
