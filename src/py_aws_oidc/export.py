"""Hand the result to later steps: GITHUB_ENV, step outputs, the profile files, the summary.

Everything here is buffered in the :class:`Runner` and written by ``commit()`` after the whole
step succeeded (the profile files from inside ``commit()``, see :func:`write_profile`). Every
secret was masked when it was received (sts.py, oidc.py, config.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from . import profiles
from .assume import Outcome
from .config import REFRESH_STATE, Settings
from .errors import AccountNotAllowedError
from .runner import Runner, show
from .sts import iso8601

if TYPE_CHECKING:
    from .refresh.bundle import RefreshSetup

CREDENTIAL_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
REGION_VARS = ("AWS_DEFAULT_REGION", "AWS_REGION")
REFRESH_VARS = ("AWS_PROFILE", "AWS_CONFIG_FILE")


def check_allowed_account(settings: Settings, account: str) -> None:
    """``allowed-account-ids``, shown as given. With ``mask-aws-account-id`` the account is a
    secret (SPEC rule 10): the message never holds it, masked or not; the caller masked it
    before this check anyway (a later log line cannot print it either)."""
    if settings.allowed_account_ids and account not in settings.allowed_account_ids:
        shown = "(masked: mask-aws-account-id)" if settings.mask_account_id else account
        # configure-aws-credentials' wording, unquoted (users grep for it), with the list as
        # given: the same text as CAC's whenever it is written "A, B".
        given = show(settings.allowed_account_ids_as_given)
        if given.startswith("'"):
            given = given[1:-1]
        raise AccountNotAllowedError(
            f"The account ID of the provided credentials ({shown}) does not match any of "
            f"the expected account IDs: {given}",
            remedy="Check 'role-to-assume' (or the keys), or add the account to "
            "'allowed-account-ids'.",
        )


def stage(
    settings: Settings,
    outcome: Outcome,
    runner: Runner,
    environ: Mapping[str, str],
    refresh: RefreshSetup | None = None,
) -> None:
    """Buffer the exports, outputs and summary for one successful run."""
    creds = outcome.credentials
    settings.mask_account(runner, outcome.account)

    if refresh is not None:
        stage_refresh(settings, refresh, runner)
    elif settings.output_env_credentials:
        if settings.unset_current_credentials:
            for name in CREDENTIAL_VARS + REGION_VARS:
                runner.export_variable(name, "")
        for name in REGION_VARS:
            runner.export_variable(name, settings.region)
        if outcome.export_credentials:
            runner.export_variable("AWS_ACCESS_KEY_ID", creds.access_key_id)
            runner.export_variable("AWS_SECRET_ACCESS_KEY", creds.secret_access_key)
            if creds.session_token:
                runner.export_variable("AWS_SESSION_TOKEN", creds.session_token)
            elif environ.get("AWS_SESSION_TOKEN"):
                # A stale token from an earlier step would not match the new keys.
                runner.export_variable("AWS_SESSION_TOKEN", "")
        if settings.aws_profile:
            runner.export_variable("AWS_PROFILE", settings.aws_profile)

    runner.set_output("aws-account-id", outcome.account)
    runner.set_output("authenticated-arn", outcome.arn)
    if settings.output_credentials and outcome.export_credentials:
        runner.set_output("aws-access-key-id", creds.access_key_id)
        runner.set_output("aws-secret-access-key", creds.secret_access_key)
        if creds.session_token:
            runner.set_output("aws-session-token", creds.session_token)
        if creds.expiration is not None:
            runner.set_output("aws-expiration", iso8601(creds.expiration))

    runner.add_summary(summary_markdown(settings, outcome, refresh))


def stage_refresh(settings: Settings, refresh: RefreshSetup, runner: Runner) -> None:
    """``refresh-credentials``: the profile instead of the credential variables, which are
    exported empty so that an earlier step's keys cannot shadow the profile."""
    for name in CREDENTIAL_VARS:
        runner.export_variable(name, "")
    for name in REGION_VARS:
        runner.export_variable(name, settings.region)
    runner.export_variable("AWS_CONFIG_FILE", str(refresh.config_file))
    runner.export_variable("AWS_PROFILE", refresh.profile)
    runner.save_state(REFRESH_STATE, str(refresh.local))
    runner.info(
        f"Later steps get profile '{refresh.profile}' from {refresh.config_file}: its "
        "credential_process renews the session before it expires."
    )
    from .refresh.layout import DEFAULT_MARGIN_S, MARGIN_VAR

    if refresh.duration_s <= DEFAULT_MARGIN_S:
        runner.warning(
            f"The session lasts {refresh.duration_s} s, no more than the refresh margin "
            f"({DEFAULT_MARGIN_S} s, {MARGIN_VAR}): every AWS call in later steps will mint a new "
            "session. Ask for a longer role-duration-seconds (3600 or more).",
            title="Short sessions with refresh-credentials",
        )


def write_profile(settings: Settings, outcome: Outcome, runner: Runner) -> None:
    """The profile files are the one export that is not buffered: ``Runner.commit`` runs this
    after it has opened the runner's files and before it writes them."""
    if not settings.aws_profile or not outcome.export_credentials:
        return
    if settings.refresh_credentials:
        return  # the profile lives in the refresh directory's config file
    creds = outcome.credentials
    cred_path, config_path = profiles.write_profile(
        settings.aws_profile,
        access_key_id=creds.access_key_id,
        secret_access_key=creds.secret_access_key,
        session_token=creds.session_token,
        region=settings.region,
        overwrite=settings.overwrite_aws_profile,
        environ=runner.environ,
    )
    runner.record_written(f"profile '{settings.aws_profile}' ({cred_path}, {config_path})")
    runner.info(f"Wrote profile '{settings.aws_profile}' to {cred_path} and {config_path}")


def summary_markdown(
    settings: Settings, outcome: Outcome, refresh: RefreshSetup | None = None
) -> str:
    """The job summary: who, which account, until when, which tags. No secrets."""
    hidden = "(masked: mask-aws-account-id)"
    account = hidden if settings.mask_account_id else outcome.account
    arn = hidden if settings.mask_account_id else outcome.arn
    expires = iso8601(outcome.credentials.expiration) if outcome.credentials.expiration else "n/a"
    lines = [
        "### AWS credentials (py-aws-oidc)",
        "",
        "| | |",
        "|---|---|",
        f"| Identity | `{_md(arn)}` |",
        f"| Account | `{_md(account)}` |",
        f"| Source | {settings.source.value} |",
        f"| Region | `{settings.region}` |",
        f"| Expires | {expires} |",
    ]
    if refresh is not None:
        lines.append(
            f"| Refresh | later steps renew the session through profile `{_md(refresh.profile)}` "
            f"(credential_process); the first session lasts until {refresh.expiration} |"
        )
    if outcome.hops:
        lines += ["", "| Hop | Call | Role | Duration | Tags |", "|---|---|---|---|---|"]
        for hop in outcome.hops:
            role = hidden if settings.mask_account_id else hop.role_arn
            tag_text = (
                ", ".join(
                    f"{t.key}={t.value}"
                    + (" (transitive)" if t.key in hop.transitive_tag_keys else "")
                    for t in hop.tags
                )
                or "none"
            )
            lines.append(
                f"| {hop.number} | {hop.method} | `{_md(role)}` | {hop.duration_s} s | {_md(tag_text)} |"
            )
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'").replace("\n", " ")
