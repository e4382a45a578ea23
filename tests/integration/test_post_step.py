"""The post step (``py-aws-oidc post`` and the ``py-aws-oidc-post`` post-entrypoint): it blanks
the exported variables as CAC's cleanup does, and honours ``AWS_SKIP_CLEANUP_STEP``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from localdev.sts_faults import StsFaultProxy
from tests.integration.cac_support import REGION, ROLE
from tests.support.harness import ActionHarness

RunAction = Any
POST = ("post",)
CLEARED = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
           "AWS_DEFAULT_REGION", "AWS_REGION"]


def test_post_blanks_exactly_the_five_variables(run_action: RunAction,
                                                sts: StsFaultProxy) -> None:
    main = run_action({"aws-region": REGION, "role-to-assume": ROLE})
    assert main.ok, main.explain()
    # The runner gives the post step the same inputs (and the job's environment by then).
    post = run_action({"aws-region": REGION, "role-to-assume": ROLE}, argv=POST,
                      env=main.env, oidc=False)
    assert post.ok, post.explain()
    assert post.env_entries == [(name, "") for name in CLEARED]
    assert post.raw_output_text == ""
    assert len(sts.calls) == 1  # the post step makes no request


def test_post_with_profile_and_env_credentials_also_clears_aws_profile(
    run_action: RunAction,
) -> None:
    post = run_action({"aws-region": REGION, "aws-profile": "dev",
                       "output-env-credentials": "true"}, argv=POST)
    assert post.ok, post.explain()
    assert post.env_entries == [(name, "") for name in [*CLEARED, "AWS_PROFILE"]]


@pytest.mark.parametrize(
    ("inputs", "env"),
    [
        pytest.param({"aws-profile": "dev"}, {}, id="profile-only"),
        pytest.param({"output-env-credentials": "false"}, {}, id="env-credentials-off"),
        pytest.param({}, {"AWS_SKIP_CLEANUP_STEP": "true"}, id="skip-cleanup"),
    ],
)
def test_post_clears_nothing(run_action: RunAction, inputs: dict[str, str],
                             env: dict[str, str]) -> None:
    post = run_action({"aws-region": REGION, **inputs}, argv=POST, env=env)
    assert post.ok, post.explain()
    assert post.raw_env_text == ""
    assert post.raw_output_text == ""


def test_post_entrypoint_console_script(make_harness: Callable[..., ActionHarness]) -> None:
    script = Path(sys.executable).parent / "py-aws-oidc-post"
    assert script.is_file(), "pip install -e . installs the post-entrypoint script"
    harness = make_harness(command=[str(script)])
    post = harness.run_action({"aws-region": REGION})
    assert post.ok, post.explain()
    assert post.env_entries == [(name, "") for name in CLEARED]
    skipped = harness.run_action({"aws-region": REGION}, env={"AWS_SKIP_CLEANUP_STEP": "true"})
    assert skipped.ok, skipped.explain()
    assert skipped.raw_env_text == ""


@pytest.mark.parametrize(
    "sections",
    [pytest.param([], id="no-sections"), pytest.param(["profile dev"], id="sections-not-there")],
)
def test_a_forged_record_of_a_created_file_removes_nothing_and_says_so(
    run_action: RunAction, workspace: Path, sections: list[str]
) -> None:
    """A plain run (no profile files); an earlier step wrote AWS_CONFIG_FILE=<a workspace script>
    and a record naming it "created" to GITHUB_ENV. The post step (root in the container) must
    not delete it: the file does not hold the sections the record says the step wrote."""
    script = workspace / "deploy.sh"
    script.write_text("#!/bin/sh\n[ -f x ] && echo ok\n")
    record = json.dumps({"version": 1, "created_dirs": [], "files": [
        {"path": str(script), "label": "AWS config file", "created": True,
         "sections": sections}]})
    main = run_action({"aws-region": REGION, "role-to-assume": ROLE})
    assert main.ok, main.explain()
    post = run_action({"aws-region": REGION, "role-to-assume": ROLE}, argv=POST, oidc=False,
                      env={**main.env, "AWS_CONFIG_FILE": str(script),
                           "STATE_aws_profile_files": record})
    assert post.ok, post.explain()
    assert script.read_text() == "#!/bin/sh\n[ -f x ] && echo ok\n"
    assert any(f"Left {script} in place" in w for w in post.warnings), post.warnings
