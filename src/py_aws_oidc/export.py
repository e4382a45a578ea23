"""Hand the result to later steps: GITHUB_ENV, step outputs, the profile files, the summary.

Everything here is buffered in the :class:`Runner` and written by ``commit()`` after the whole
step succeeded (the profile files from inside ``commit()``, see :func:`write_profile`). Every
secret was masked when it was received (sts.py, oidc.py, config.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from . import hostpaths, profiles
from .assume import Outcome
from .config import (
    PROFILE_FILE_VARS,
    REFRESH_STATE,
    STATE_PROFILE_FILE_VARS,
    STATE_PROFILE_FILES,
    Settings,
)
from .errors import AccountNotAllowedError
from .named_profiles import ProfileSpec
from .runner import Runner, show
from .sts import iso8601

if TYPE_CHECKING:
    from .refresh.bundle import RefreshSetup

CREDENTIAL_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
REGION_VARS = ("AWS_DEFAULT_REGION", "AWS_REGION")
REFRESH_VARS = ("AWS_PROFILE", "AWS_CONFIG_FILE")


def check_allowed_account(settings: Settings, account: str, profile: str | None = None) -> None:
    """``allowed-account-ids``, shown as given. With ``mask-aws-account-id`` the account is a
    secret (SPEC rule 10): the message never holds it, masked or not; the caller masked it
    before this check anyway (a later log line cannot print it either). ``profile``: the
    profile of ``profiles`` whose session this is."""
    if settings.allowed_account_ids and account not in settings.allowed_account_ids:
        shown = "(masked: mask-aws-account-id)" if settings.mask_account_id else account
        # configure-aws-credentials' wording, unquoted (users grep for it), with the list as
        # given: the same text as CAC's whenever it is written "A, B".
        given = show(settings.allowed_account_ids_as_given)
        if given.startswith("'"):
            given = given[1:-1]
        which = f"Profile '{profile}' (input 'profiles'): the" if profile else "The"
        raise AccountNotAllowedError(
            f"{which} account ID of the provided credentials ({shown}) does not match any of "
            f"the expected account IDs: {given}",
            remedy=(
                f"Check the roles of profile '{profile}'"
                if profile
                else "Check 'role-to-assume' (or the keys)"
            )
            + ", or add the account to 'allowed-account-ids'.",
        )


def stage(
    settings: Settings,
    outcome: Outcome,
    runner: Runner,
    environ: Mapping[str, str],
    refresh: RefreshSetup | None = None,
    profile_setups: Sequence[RefreshSetup] = (),
) -> None:
    """Buffer the exports, outputs and summary for one successful run."""
    creds = outcome.credentials
    settings.mask_account(runner, outcome.account)

    if refresh is not None:
        stage_refresh(settings, refresh, runner, profile_setups)
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


def stage_refresh(
    settings: Settings,
    refresh: RefreshSetup,
    runner: Runner,
    profile_setups: Sequence[RefreshSetup] = (),
    *,
    export_profile: bool = True,
) -> None:
    """``refresh-credentials``: the profile instead of the credential variables, which are
    exported empty so that an earlier step's keys cannot shadow the profile. With ``profiles``,
    ``refresh``'s config file holds every profile and each has its own directory
    (``profile_setups``); ``export_profile`` is False when there is no role-to-assume session."""
    for name in CREDENTIAL_VARS:
        runner.export_variable(name, "")
    for name in REGION_VARS:
        runner.export_variable(name, settings.region)
    runner.export_variable("AWS_CONFIG_FILE", str(refresh.config_file))
    if export_profile:
        runner.export_variable("AWS_PROFILE", refresh.profile)
    directories = dict.fromkeys(str(s.local) for s in (refresh, *profile_setups))
    runner.save_state(REFRESH_STATE, "\n".join(directories))
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


def stage_region_only(settings: Settings, runner: Runner) -> None:
    """``profiles`` without ``role-to-assume``: no session for the environment, the region."""
    if not settings.output_env_credentials:
        return
    if settings.unset_current_credentials:
        for name in CREDENTIAL_VARS:
            runner.export_variable(name, "")
    for name in REGION_VARS:
        runner.export_variable(name, settings.region)


def stage_profiles(
    settings: Settings, results: Sequence[tuple[ProfileSpec, Outcome]], runner: Runner
) -> None:
    """Output ``profiles`` (name -> authenticated ARN) and the profiles' part of the summary."""
    if not results:
        return
    for _spec, outcome in results:
        settings.mask_account(runner, outcome.account)
    runner.set_output(
        "profiles", json.dumps({spec.name: outcome.arn for spec, outcome in results})
    )
    runner.add_summary(profiles_summary_markdown(settings, results))


def prepare_files(
    settings: Settings,
    main: Outcome | None,
    results: Sequence[tuple[ProfileSpec, Outcome]],
    runner: Runner,
) -> profiles.PreparedWrite | None:
    """Read and check the shared files for ``aws-profile`` and every profile (nothing written)."""
    entries = []
    # With refresh-credentials, aws-profile lives in the refresh directory's config file.
    if (
        settings.aws_profile
        and main is not None
        and main.export_credentials
        and not settings.refresh_credentials
    ):
        entries.append(_keys(settings.aws_profile, main))
    if not settings.refresh_credentials:  # else each profile renews itself (refresh directory)
        entries += [_keys(spec.name, outcome) for spec, outcome in results]
    if not entries:
        return None
    return profiles.prepare_profiles(
        entries,
        region=settings.region,
        overwrite=settings.overwrite_aws_profile,
        environ=runner.environ,
        overwrite_input="profiles" if results else "aws-profile",
    )


def _keys(name: str, outcome: Outcome) -> profiles.ProfileKeys:
    creds = outcome.credentials
    return profiles.ProfileKeys(
        name, creds.access_key_id, creds.secret_access_key, creds.session_token
    )


def stage_files(prepared: profiles.PreparedWrite, runner: Runner) -> None:
    """Buffer the state for the post step, and export the files' host paths when they are at
    their default place (a later step on the host then needs only ``AWS_PROFILE``)."""
    runner.save_state(STATE_PROFILE_FILES, prepared.record.to_json())
    exported = []
    for variable, path in zip(
        PROFILE_FILE_VARS, (prepared.credentials_path, prepared.config_path), strict=True
    ):
        if runner.environ.get(variable, "").strip():
            continue  # the job chose the place; later steps see the same variable
        host = hostpaths.host_path(str(path), runner.environ)
        if host is None:
            runner.warning(
                f"Cannot tell where later steps see {path} (RUNNER_WORKSPACE is not set and the "
                f"mount table does not say), so "
                f"{variable} is not exported; set it for later steps yourself.",
            )
            continue
        runner.export_variable(variable, host)
        exported.append(variable)
    if exported:
        runner.save_state(STATE_PROFILE_FILE_VARS, ",".join(exported))


def write_files(prepared: profiles.PreparedWrite, names: Sequence[str], runner: Runner) -> None:
    """The profile files are the one export that is not buffered: write them last."""
    prepared.write()
    shown = ", ".join(f"'{name}'" for name in names)
    runner.record_written(
        f"profile{'s' if len(names) > 1 else ''} {shown} ({prepared.credentials_path}, "
        f"{prepared.config_path})"
    )
    runner.info(
        f"Wrote profile{'s' if len(names) > 1 else ''} {shown} to {prepared.credentials_path} "
        f"and {prepared.config_path}"
    )


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


def profiles_summary_markdown(
    settings: Settings, results: Sequence[tuple[ProfileSpec, Outcome]]
) -> str:
    """The summary's table of profiles: name, identity, account, expiry, roles. No secrets."""
    hidden = "(masked: mask-aws-account-id)"
    lines = [
        "### AWS profiles (py-aws-oidc)",
        "",
        "| Profile | Identity | Account | Expires | Roles |",
        "|---|---|---|---|---|",
    ]
    for spec, outcome in results:
        expiration = outcome.credentials.expiration
        expires = iso8601(expiration) if expiration else "n/a"
        if settings.mask_account_id:
            arn, account, roles = hidden, hidden, f"{len(spec.roles)} role(s)"
        else:
            arn, account = outcome.arn, outcome.account
            roles = " > ".join(hop.role_arn for hop in outcome.hops) or " > ".join(spec.roles)
        lines.append(
            f"| `{spec.name}` | `{_md(arn)}` | `{_md(account)}` | {expires} | `{_md(roles)}` |"
        )
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'").replace("\n", " ")
