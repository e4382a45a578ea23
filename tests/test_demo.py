"""README "Set-up: two commands on a fresh machine": ``bash scripts/demo.sh`` works end to end."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_demo_hands_working_credentials_to_the_next_step() -> None:
    # scripts/demo.sh is `. scripts/venv.sh` (this venv) then `python -m localdev.demo`.
    proc = subprocess.run([sys.executable, "-m", "localdev.demo"], cwd=ROOT, capture_output=True,
                          text=True, timeout=180, check=False)
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
