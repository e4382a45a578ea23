"""The main step and the post step, as the runner runs them.

Order matters for the contract:
1. inputs are validated before any network call (config.py);
2. every secret is masked when it is received, before anything could print it;
3. file commands are buffered and written only after the whole step succeeded, so a failed run
   leaves GITHUB_ENV / GITHUB_OUTPUT untouched (no half-configured credentials);
4. ``action-timeout-s`` is enforced by a watchdog as well as by per-request timeouts.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from . import config, export, profiles
from .assume import Chain, Outcome, existing_credentials_are_valid
from .config import Settings, Source
from .errors import AccessDeniedError, ActionError, StsError
from .named_profiles import ProfileSpec
from .proxy import secret_parts
from .retry import Deadline
from .runner import Runner

if TYPE_CHECKING:
    from .refresh.bundle import RefreshSetup


class Watchdog:
    """Ends the process with one ``::error::`` when ``action-timeout-s`` runs out."""

    def __init__(self, seconds: int, runner: Runner) -> None:
        self.seconds = seconds
        self.runner = runner
        self._lock = threading.Lock()
        self._finished = False
        self._timer: threading.Timer | None = None
        if seconds > 0:
            runner.info(f"Setting a global timeout of {seconds} seconds for the action")
            self._timer = threading.Timer(seconds, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self._finished = True
            self.runner.error(
                f"Action timed out after {self.seconds} seconds. Nothing was exported. "
                "Raise 'action-timeout-s', or check that STS and the token endpoint are reachable."
            )
            os._exit(1)

    @contextmanager
    def finishing(self) -> Iterator[None]:
        """Stop the watchdog for good before the results are written: once writing has begun it
        cannot fire (its "Nothing was exported" would no longer be true), and a timer already
        waiting for the lock finds the run finished."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._finished = True
        yield


def _describe(settings: Settings, exc: StsError) -> str:
    total = len(settings.roles)
    if exc.hop > 1:
        entry = settings.roles[exc.hop - 1] if exc.hop <= total else "?"
        return f"Could not assume role {exc.hop} of {total} ({entry}) from the previous session"
    where = f" (hop 1 of {total})" if total > 1 else ""
    return f"Could not assume role with {settings.source.value}{where}"


def _sts_failure(settings: Settings, exc: StsError) -> str:
    """The message of a failed hop; with ``mask-aws-account-id`` no account ID appears in it
    (SPEC rules 9 and 10), whichever account an ARN quoted by STS belongs to."""
    return settings.hide_accounts(f"{_describe(settings, exc)}: {exc.message}")


def run_main(environ: Mapping[str, str], stream: TextIO | None = None) -> int:
    runner = Runner(environ, stream)
    watchdog: Watchdog | None = None
    settings: Settings | None = None
    try:
        # Inside the try: a bad 'translate-env-variables' is an input error like any other.
        runner = Runner(config.translate_env(environ), stream)
        settings = config.load_settings(runner)
        for _name, roles in settings.chains:
            for role in roles:
                settings.mask_account(runner, role)
        proxy_secrets = secret_parts(settings.proxy)
        for secret in proxy_secrets:
            # Not the URL when it holds a password: its mask line would print the password,
            # and the password's own mask hides it inside the URL anyway.
            if not any(other != secret and other in secret for other in proxy_secrets):
                runner.mask(secret)
        deadline = Deadline(settings.action_timeout_s or None)
        watchdog = Watchdog(settings.action_timeout_s, runner)

        if settings.use_existing_credentials and existing_credentials_are_valid(
            settings, runner, deadline
        ):
            if settings.output_env_credentials:
                for name in export.REGION_VARS:
                    runner.export_variable(name, settings.region)
            with watchdog.finishing():
                runner.commit()
            return 0

        main, named = _assume(settings, runner, deadline)
        _check_and_hand_over(settings, main, named, runner, environ, watchdog)
        return 0
    except ActionError as exc:
        return _fail(runner, watchdog, str(exc))
    except Exception as exc:  # noqa: BLE001 - a bug: still one clean ::error::, no traceback
        # Only the type: an exception's text can quote a response body or a request that holds
        # a secret we never saw (and so could not mask).
        written = runner.written
        done = f"Already written: {'; '.join(written)}." if written else "Nothing was exported."
        return _fail(
            runner,
            watchdog,
            f"Unexpected error ({type(exc).__module__}.{type(exc).__name__}). This is a bug in "
            f"py-aws-oidc; please report it with the log. {done}",
        )


def _assume(
    settings: Settings, runner: Runner, deadline: Deadline
) -> tuple[Outcome | None, list[tuple[ProfileSpec, Outcome]]]:
    """``role-to-assume``'s session (None when only profiles are asked for) and the profiles'."""
    if not settings.profiles:
        chain = Chain(settings, runner, deadline)
        try:
            return chain.run(), []
        except ActionError as exc:
            raise _explain(settings, chain, exc) from None
    from .profile_chains import run_chains

    results = run_chains(
        settings, settings.profiles, runner, deadline, _explain, with_main=bool(settings.roles)
    )
    main = next((r.outcome for r in results if r.profile is None), None)
    return main, [(r.profile, r.outcome) for r in results if r.profile is not None]


def _explain(settings: Settings, chain: Chain, exc: ActionError) -> ActionError:
    """The error the user sees for a failed chain: on AccessDenied, the token's claims and the
    trust condition that most likely failed; the hop and role for any STS error."""
    if isinstance(exc, AccessDeniedError):
        if exc.hop == 1 and settings.source.is_web_identity:
            from .diagnose import report_denial

            role = settings.roles[0]
            remedy = report_denial(chain.runner, chain.claims, settings.audience, role)
        else:
            remedy = (
                "The role's trust policy does not allow the caller (or the caller may not "
                "call sts:AssumeRole / sts:TagSession on it)."
            )
        return StsError(
            _sts_failure(settings, exc),
            code=exc.code,
            hop=exc.hop,
            remedy=remedy,
        )
    if isinstance(exc, StsError):
        return StsError(
            _sts_failure(settings, exc),
            code=exc.code,
            hop=exc.hop,
            remedy=exc.remedy or None,
        )
    return exc


def _check_and_hand_over(
    settings: Settings,
    main: Outcome | None,
    named: list[tuple[ProfileSpec, Outcome]],
    runner: Runner,
    environ: Mapping[str, str],
    watchdog: Watchdog,
) -> None:
    """Every check before anything is written (all or nothing); then, with the watchdog stopped
    (it cannot fire between two writes), what later steps get: the refresh directories
    (refresh-credentials), the post step's record of the profile files (written at once, so
    that it can clean up whatever happens next), then ``Runner.commit``, which opens the
    runner's files, writes the profile files and then the buffered exports, outputs and summary
    (a failure half-way says what was written)."""
    if main is not None:
        # Masked before the check, whose message (and every later line) could hold it.
        settings.mask_account(runner, main.account)
        export.check_allowed_account(settings, main.account)
    for spec, outcome in named:
        settings.mask_account(runner, outcome.account)
        export.check_allowed_account(settings, outcome.account, profile=spec.name)
    prepared = export.prepare_files(settings, main, named, runner)
    names = [spec.name for spec, _ in named]
    if settings.aws_profile and main is not None and not settings.refresh_credentials:
        names.insert(0, settings.aws_profile)

    with watchdog.finishing():
        setups = (
            _write_refresh(settings, main, named, runner) if settings.refresh_credentials else []
        )
        try:
            if main is not None:
                refresh = setups[0] if setups else None
                export.stage(settings, main, runner, environ, refresh, setups[1:])
            elif setups:
                export.stage_refresh(settings, setups[0], runner, setups[1:], export_profile=False)
            else:
                export.stage_region_only(settings, runner)
            export.stage_profiles(settings, named, runner)
            files = prepared
            if files is not None:
                export.stage_files(files, runner)
                runner.commit_state()
            runner.commit(
                before_write=None if files is None else lambda: export.write_files(files, names, runner)
            )
        except BaseException:
            _remove_refresh(setups)  # nothing points at them: do not leave them behind
            raise


def _write_refresh(
    settings: Settings,
    main: Outcome | None,
    named: list[tuple[ProfileSpec, Outcome]],
    runner: Runner,
) -> list[RefreshSetup]:
    """refresh-credentials: one refresh directory per session (role-to-assume's first, then each
    profile's, each with its own chain, cache and lock). With profiles, the first directory's
    config file lists every profile, each with its own credential_process: the others are made
    first, so that no directory is written into after it is given to the runner's user."""
    from .refresh import bundle

    sessions = [(settings, main, settings.aws_profile)] if main is not None else []
    sessions += [(dataclasses.replace(settings, roles=spec.roles), outcome, spec.name)
                 for spec, outcome in named]
    setups: list[RefreshSetup] = []
    try:
        for session_settings, outcome, profile in sessions[1:]:
            setups.append(bundle.write(session_settings, outcome, runner.environ, profile))
        if sessions:
            first_settings, first_outcome, first_profile = sessions[0]
            setups.insert(0, bundle.write(first_settings, first_outcome, runner.environ,
                                          first_profile, also=setups))
    except BaseException:
        _remove_refresh(setups)
        raise
    return setups


def _remove_refresh(setups: list[RefreshSetup]) -> None:
    from .refresh import bundle

    for setup in setups:
        bundle.remove(setup.local)


def _fail(runner: Runner, watchdog: Watchdog | None, message: str) -> int:
    if watchdog is not None:
        with watchdog.finishing():
            runner.error(message)
            runner.commit_summary()
    else:
        runner.error(message)
        runner.commit_summary()
    return 1


def run_post(environ: Mapping[str, str], stream: TextIO | None = None) -> int:
    """The post step: blank the exported variables, as configure-aws-credentials does, and
    remove what the main step wrote to the shared files (its sections, files it created)."""
    runner = Runner(environ, stream)
    try:
        post = config.load_post_settings(runner)
        if post.skip_cleanup:
            runner.info("AWS_SKIP_CLEANUP_STEP is true: leaving the exported credentials in place.")
            return 0
        removed = _remove_profile_files(runner, post.profile_files_record)
        _post_refresh(runner, post.refresh_dir)
        names: tuple[str, ...] = ()
        if post.clear_env:
            names = (
                export.CREDENTIAL_VARS
                + export.REGION_VARS
                + (("AWS_PROFILE",) if post.aws_profile else ())
            )
        names += post.exported_file_vars
        for name in names:
            runner.export_variable(name, "")
        if names:
            runner.info(f"Cleared {', '.join(names)} for the rest of the job.")
        runner.commit()
    except ActionError as exc:
        runner.error(str(exc))
        return 1
    except Exception as exc:  # noqa: BLE001
        runner.error(f"Unexpected error in the post step ({type(exc).__name__}).")
        return 1
    return 0 if removed else 1


def _remove_profile_files(runner: Runner, record_json: str) -> bool:
    """Remove what the main step recorded; False (after an ``::error::``) when something could
    not be removed."""
    if not record_json:
        return True
    try:
        record = profiles.WriteRecord.from_json(record_json)
    except ValueError:
        runner.warning("The main step's record of the profile files is unreadable; removed nothing.")
        return True
    # Only the shared files where this step writes them (as set now, or at the default place,
    # in case a later step pointed the variables elsewhere) and the directories above them.
    defaults = {k: v for k, v in runner.environ.items() if k not in config.PROFILE_FILE_VARS}
    record, left = record.confined_to(
        [*profiles.profile_paths(runner.environ), *profiles.profile_paths(defaults)]
    )
    for path in left:
        runner.warning(
            f"Left {path} in place: it is not one of the AWS profile files this step writes."
        )
    try:
        for line in profiles.remove_written(record, warn=runner.warning):
            runner.info(line)
    except ActionError as exc:
        runner.error(f"Could not remove the profiles this job wrote: {exc}")
        return False
    return True


def _post_refresh(runner: Runner, saved_lines: str) -> None:
    """``refresh-credentials``: delete the directories the main step made (one per session,
    one per line), blank its variables."""
    if not saved_lines:
        return
    from pathlib import Path

    from .refresh import bundle

    for saved in (line.strip() for line in saved_lines.splitlines() if line.strip()):
        local = Path(saved)
        if local.parent != bundle.local_parent(runner.environ):
            runner.warning(
                f"Left the refresh directory {saved} in place: it is not where this step makes it."
            )
        elif bundle.remove(local):
            runner.info(f"Removed the refresh directory {saved}.")
        else:
            runner.warning(
                f"The refresh directory {saved} was already gone, or could not be removed."
            )
    for name in export.REFRESH_VARS:
        runner.export_variable(name, "")


__all__ = ["Source", "run_main", "run_post"]
