"""The auth paths and the role chain: from the source credentials to the final session.

Sources (cac-features.md section 2): GitHub OIDC or a token file (AssumeRoleWithWebIdentity),
static keys, or existing credentials (AssumeRole). ``role-to-assume`` may list several roles:
the first is assumed from the source, each next one with sts:AssumeRole from the previous
session, and only the last session is exported.

Durations: intermediate sessions live 900 s (they only sign the next hop); the final one gets
``role-duration-seconds``, capped at 3600 s when STS treats the hop as role chaining.

What each hop does is decided first, from the settings alone, by :func:`plan` (method, chained,
final, durations, session policies, SourceIdentity); :meth:`Chain.run` executes the plan, adding
what only the run knows: role names expanded with the caller's account, the tags (default values
from the verified token's claims, minus inherited transitive tags), and the credentials.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from . import oidc, partitions, proxy, safefiles, sts, tags
from .config import (
    CHAINED_MAX_DURATION,
    MIN_DURATION,
    TOKEN_FILE_WHAT,
    Duration,
    Settings,
    Source,
    check_credential_text,
)
from .errors import (
    AccessDeniedError,
    CredentialsNotFoundError,
    DurationRefusedError,
    InputError,
    MalformedCredentialsError,
    StsError,
    TokenFileError,
)
from .retry import Deadline, TransientFailure, call_with_retries
from .runner import Runner

T = TypeVar("T")

# `max`: ask for 12 h, then step down on "exceeds the MaxSessionDuration" (same token).
MAX_DURATION_STEPS = (43200, 21600, 14400, 10800, 7200, 3600)
WEB_IDENTITY = "AssumeRoleWithWebIdentity"
ASSUME_ROLE = "AssumeRole"
# GitHub's tokens live 5 minutes; past this age a retry fetches a new one.
TOKEN_REFRESH_AGE_S = 240.0


@dataclass(frozen=True)
class Hop:
    """One planned STS call of the chain (what :func:`plan` decides before any request)."""

    number: int
    total: int
    entry: str  # the role-to-assume line: an ARN, or a name expanded with the caller's account
    method: str  # WEB_IDENTITY or ASSUME_ROLE
    final: bool
    # STS's "role chaining" (AssumeRole from a role session) caps the session at one hour.
    chained: bool
    durations: tuple[int, ...]  # tried in order: `max` steps down on MaxSessionDuration
    duration_capped: bool  # an asked duration was cut to the chaining cap (worth a notice)
    # Session policies restrict the exported session only: the final hop carries them.
    policy: str | None
    policy_arns: tuple[str, ...]
    source_identity: str | None  # set once, on the first AssumeRole; later hops inherit it


def plan(settings: Settings, *, source_has_session_token: bool = False) -> list[Hop]:
    """The chain's calls, in order. ``source_has_session_token``: the existing credentials are
    a role session (then the first AssumeRole is already role chaining)."""
    s = settings
    hops = []
    source_identity = s.source_identity
    for index, entry in enumerate(s.roles):
        number = index + 1
        final = number == len(s.roles)
        method = WEB_IDENTITY if index == 0 and s.source.is_web_identity else ASSUME_ROLE
        chained = method == ASSUME_ROLE and (
            index > 0 or (s.source is Source.EXISTING and source_has_session_token)
        )
        durations, capped = _durations(s.duration, final=final, chained=chained)
        hops.append(
            Hop(
                number=number,
                total=len(s.roles),
                entry=entry,
                method=method,
                final=final,
                chained=chained,
                durations=durations,
                duration_capped=capped,
                policy=s.inline_policy if final else None,
                policy_arns=s.managed_policies if final else (),
                source_identity=source_identity if method == ASSUME_ROLE else None,
            )
        )
        if method == ASSUME_ROLE:
            source_identity = None
    return hops


def _durations(d: Duration, *, final: bool, chained: bool) -> tuple[tuple[int, ...], bool]:
    """The durations to ask for, and whether an asked duration was capped by role chaining."""
    if not final:
        return (MIN_DURATION,), False  # intermediate sessions only sign the next hop
    if chained and (d.is_max or d.seconds > CHAINED_MAX_DURATION):
        return (CHAINED_MAX_DURATION,), d.is_max or d.explicit
    if d.is_max:
        return MAX_DURATION_STEPS, False
    return (d.seconds,), False


@dataclass
class HopRecord:
    """What a hop did: for the job summary."""

    number: int
    role_arn: str
    method: str
    duration_s: int = 0
    tags: list[tags.Tag] = field(default_factory=list)
    transitive_tag_keys: list[str] = field(default_factory=list)
    session_arn: str = ""


@dataclass
class Outcome:
    credentials: sts.Credentials
    account: str
    arn: str
    hops: list[HopRecord]
    claims: dict[str, Any] | None
    export_credentials: bool = True


@dataclass
class _ChainState:
    """What the next hop starts from."""

    credentials: sts.Credentials | None
    account: str | None = None
    inherited_transitive: set[str] = field(default_factory=set)


class TokenSource:
    """The web identity token: fetched once (in a background thread, from the start), and
    again when STS says it expired or it is older than :data:`TOKEN_REFRESH_AGE_S`."""

    def __init__(
        self,
        settings: Settings,
        runner: Runner,
        deadline: Deadline,
        http: sts.SharedHttpSession | None = None,
    ) -> None:
        self.settings = settings
        self.runner = runner
        self.deadline = deadline
        self.http = http or sts.SharedHttpSession(runner.environ)
        self._token: str | None = None
        self._fetched_at = 0.0
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        # One source for several chains (the profiles, in threads): one token for all.
        self._lock = threading.Lock()
        if settings.source is Source.OIDC:
            self._url, self._request_token = oidc.request_credentials(runner.environ)
            runner.mask(self._request_token)
            self._thread = threading.Thread(target=self._prefetch, daemon=True)
            self._thread.start()

    def _prefetch(self) -> None:
        try:
            self._token = self._fetch()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread in get()
            self._error = exc

    def _fetch(self) -> str:
        self._fetched_at = time.monotonic()
        if self.settings.source is Source.TOKEN_FILE:
            assert self.settings.token_file is not None
            token = safefiles.read_regular_file(
                self.settings.token_file, what=TOKEN_FILE_WHAT
            ).strip()
            oidc.check_token_length(token, f"{TOKEN_FILE_WHAT} holds a token", TokenFileError)
            self.runner.mask(token)
            return token
        return oidc.fetch_token_with_retries(
            self._url,
            self._request_token,
            self.settings.audience,
            runner=self.runner,
            deadline=self.deadline,
            proxies=proxy.requests_proxies(self.settings.proxy, self._url),
            max_attempts=self.settings.max_attempts,
            session=self.http.get(),
        )

    def get(self, *, fresh: bool = False, stale: str | None = None) -> str:
        """The token; ``fresh``: a new one, unless the current one is no longer ``stale`` (the
        token the caller saw expire): another chain of the step fetched it meanwhile."""
        with self._lock:
            if fresh and stale is not None and self._token is not None and self._token != stale:
                fresh = False
            return self._get(fresh=fresh)

    def _get(self, *, fresh: bool) -> str:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
            if self._error is not None:
                raise self._error
        too_old = time.monotonic() - self._fetched_at > TOKEN_REFRESH_AGE_S
        if self._token is None or fresh or too_old:
            self._token = self._fetch()
        return self._token


def existing_credentials_are_valid(settings: Settings, runner: Runner, deadline: Deadline) -> bool:
    """``use-existing-credentials: true``: True when the credentials found (environment, shared
    files, container or instance role) pass sts:GetCallerIdentity; then no role is assumed.
    A chain that cannot produce credentials (an STS error answer to one of its own providers, a
    bad profile) means "not valid", as a failing GetCallerIdentity does."""
    try:
        creds = sts.existing_credentials(runner)
    except CredentialsNotFoundError as exc:
        runner.debug(f"Existing credentials could not be loaded: {exc.message}")
        creds = None
    if creds is not None:
        try:
            sts.get_caller_identity(sts.StsClients(settings, runner, deadline).signed(creds))
        except Exception as exc:  # noqa: BLE001 - any failure means "not valid"
            runner.debug(f"Existing credentials did not validate: {type(exc).__name__}")
        else:
            runner.notice("Pre-existing credentials are valid. No need to generate new ones.")
            return True
    runner.notice("No valid credentials exist. Running as normal.")
    return False


def _check_existing_credentials(found: sts.Credentials) -> None:
    """Existing credentials that could not reach STS intact (a line break in
    AWS_SESSION_TOKEN would be a broken header, retried as a transient failure) fail at once."""
    parts = (
        ("access key ID", found.access_key_id),
        ("secret access key", found.secret_access_key),
        ("session token", found.session_token or ""),
    )
    for what, value in parts:
        try:
            check_credential_text(what, value)
        except InputError:
            raise MalformedCredentialsError(
                f"The existing credentials' {what} (from AWS_* variables or the shared files) "
                "contains a line break, whitespace or a non-ASCII character (not shown)."
            ) from None


class Chain:
    """Runs the chosen path for one :class:`Settings`."""

    def __init__(
        self,
        settings: Settings,
        runner: Runner,
        deadline: Deadline,
        tokens: TokenSource | None = None,
    ) -> None:
        self.s = settings
        self.runner = runner
        self.deadline = deadline
        self.environ: Mapping[str, str] = runner.environ
        # One HTTP session (and connection pool) for the token request and every STS call,
        # shared with the other chains of the step when they share the token source.
        http = tokens.http if tokens is not None else sts.SharedHttpSession(runner.environ)
        if tokens is None and settings.source.is_web_identity:
            tokens = TokenSource(settings, runner, deadline, http)
        self.tokens = tokens
        self.clients = sts.StsClients(settings, runner, deadline, http)
        self.claims: dict[str, Any] | None = None

    # -- helpers ------------------------------------------------------------------------------

    def _retry(self, fn: Callable[[int], T], label: str, hop: int) -> T:
        return call_with_retries(
            fn,
            label=label,
            max_attempts=self.s.max_attempts,
            deadline=self.deadline,
            runner=self.runner,
            hop=hop,
        )

    def _caller_identity(self, client: sts.StsClient, hop: int) -> tuple[str, str]:
        return self._retry(
            lambda _a: sts.get_caller_identity(client, hop=hop), "GetCallerIdentity", hop
        )

    def _source_credentials(self) -> sts.Credentials:
        if self.s.keys is not None:
            k = self.s.keys
            return sts.Credentials(k.access_key_id, k.secret_access_key, k.session_token)
        found = sts.existing_credentials(self.runner)
        if found is None:
            raise CredentialsNotFoundError(
                "No existing AWS credentials were found (environment variables, shared files, "
                "container or instance role).",
                remedy=(
                    "Set 'role-to-assume' to use GitHub OIDC, or pass 'aws-access-key-id' and "
                    "'aws-secret-access-key', or run an earlier step that provides credentials."
                ),
            )
        _check_existing_credentials(found)
        return found

    def _role_arn(self, entry: str, account: Callable[[], str]) -> str:
        if entry.startswith("arn:"):
            return entry
        return partitions.role_arn(self.s.partition.name, account(), entry)

    def _notice_capped(self, hop: Hop) -> None:
        d = self.s.duration
        self.runner.notice(
            f"Hop {hop.number} is role chaining (sts:AssumeRole from a role session): STS "
            f"caps it at {CHAINED_MAX_DURATION} s, so the session lasts "
            f"{CHAINED_MAX_DURATION} s instead of "
            f"{'the maximum' if d.is_max else f'{d.seconds} s'}.",
            title="Session duration capped",
        )

    def _with_durations(
        self,
        hop: int,
        role_arn: str,
        durations: tuple[int, ...],
        call: Callable[[int], sts.AssumedSession],
    ) -> tuple[sts.AssumedSession, int]:
        for index, seconds in enumerate(durations):
            try:
                return call(seconds), seconds
            except DurationRefusedError as exc:
                if index + 1 < len(durations):
                    self.runner.info(
                        f"The role refused {seconds} s; trying {durations[index + 1]} s "
                        "(role-duration-seconds: max)."
                    )
                    continue
                if sts.CHAINING_LIMIT_MESSAGE in exc.message:
                    remedy = (
                        f"STS limits sessions assumed by role chaining to {CHAINED_MAX_DURATION} s: "
                        "set 'role-duration-seconds' to 3600 or less (or max)."
                    )
                else:
                    remedy = (
                        f"The role's maximum session duration (MaxSessionDuration) is below "
                        f"{seconds} s. Ask for less in 'role-duration-seconds', use 'max' to take "
                        "the longest the role allows, or raise the role's maximum session "
                        "duration (aws iam update-role --role-name NAME --max-session-duration "
                        "SECONDS; 3600-43200)."
                    )
                raise DurationRefusedError(
                    f"Hop {hop} ({role_arn}): {exc.message}", code=exc.code, hop=hop, remedy=remedy
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    # -- hops ---------------------------------------------------------------------------------

    def _web_identity_hop(self, hop: Hop, role_arn: str, seconds: int) -> sts.AssumedSession:
        assert self.tokens is not None
        client = self.clients.unsigned()
        expired: str | None = None

        def attempt(_a: int) -> sts.AssumedSession:
            nonlocal expired
            assert self.tokens is not None
            token = self.tokens.get(fresh=expired is not None, stale=expired)
            expired = None
            try:
                return sts.assume_role_with_web_identity(
                    client,
                    runner=self.runner,
                    role_arn=role_arn,
                    session_name=self.s.session_name,
                    token=token,
                    duration_s=seconds,
                    policy=hop.policy,
                    policy_arns=hop.policy_arns,
                    hop=hop.number,
                )
            except sts.ExpiredWebIdentityToken as exc:
                expired = token
                raise TransientFailure(
                    f"AssumeRoleWithWebIdentity: ExpiredTokenException: {exc}; "
                    "fetching a new token",
                    "ExpiredTokenException",
                ) from None
            except AccessDeniedError:
                self.claims = oidc.decode_claims(token)
                raise

        session = self._retry(attempt, WEB_IDENTITY, hop.number)
        # STS accepted the token: its claims are now verified facts.
        self.claims = oidc.decode_claims(self.tokens.get())
        if self.claims:
            self.runner.info(
                f"Token accepted: sub={self.claims.get('sub', '(absent)')} "
                f"aud={self.claims.get('aud', '(absent)')}"
            )
        return session

    def _hop_tags(self, inherited: set[str]) -> tuple[list[tags.Tag], list[str]]:
        defaults = (
            []
            if self.s.skip_session_tagging
            else tags.default_tags(
                self.environ, self.claims if self.s.source.is_web_identity else None
            )
        )
        user_tags = [t for _, t in self.s.user_tags]
        return tags.tags_for_hop(defaults, user_tags, self.s.transitive_tag_keys, inherited)

    def _assume_role_hop(
        self,
        hop: Hop,
        role_arn: str,
        source: sts.Credentials,
        seconds: int,
        hop_tags: list[tags.Tag],
        transitive: list[str],
    ) -> tuple[sts.AssumedSession, list[tags.Tag]]:
        client = self.clients.signed(source)
        sent = list(hop_tags)

        def call(tag_list: list[tags.Tag]) -> sts.AssumedSession:
            return self._retry(
                lambda _a: sts.assume_role(
                    client,
                    runner=self.runner,
                    role_arn=role_arn,
                    session_name=self.s.session_name,
                    duration_s=seconds,
                    tags=tag_list,
                    transitive_tag_keys=transitive,
                    external_id=self.s.external_id,
                    source_identity=hop.source_identity,
                    policy=hop.policy,
                    policy_arns=hop.policy_arns,
                    hop=hop.number,
                ),
                ASSUME_ROLE,
                hop.number,
            )

        try:
            return call(sent), sent
        except sts.PackedPolicyTooLarge as exc:
            droppable = tags.droppable_tags(sent, transitive, [t for _, t in self.s.user_tags])
            if not droppable:
                raise self._packed_error(hop.number, role_arn, exc.message, sent) from None
            self.runner.info(
                "Session tag size is too large; dropping the optional tags "
                f"({', '.join(t.key for t in droppable)}) and retrying once."
            )
            kept = [t for t in sent if t not in droppable]
            try:
                return call(kept), kept
            except sts.PackedPolicyTooLarge as again:
                raise self._packed_error(hop.number, role_arn, again.message, kept) from None

    @staticmethod
    def _packed_error(hop: int, role_arn: str, message: str, sent: list[tags.Tag]) -> StsError:
        sizes = ", ".join(f"{t.key}={len(t.key) + len(t.value)}" for t in sent)
        return StsError(
            f"Hop {hop} ({role_arn}): PackedPolicyTooLarge: {message}",
            code="PackedPolicyTooLarge",
            hop=hop,
            remedy=(
                "Session tags and session policies share one packed size limit. Send fewer or "
                f"shorter tags, or set role-skip-session-tagging: true. Tag sizes: {sizes}."
            ),
        )

    # -- the whole run ------------------------------------------------------------------------

    def run(self) -> Outcome:
        s = self.s
        source_creds = None if s.source.is_web_identity else self._source_credentials()

        if not s.roles:
            assert source_creds is not None
            self.runner.info(s.source.without_role_log)
            account, arn = self._caller_identity(self.clients.signed(source_creds), 1)
            return Outcome(
                source_creds, account, arn, [], None, export_credentials=s.source is Source.KEYS
            )

        records: list[HopRecord] = []
        state = _ChainState(credentials=source_creds)
        session: sts.AssumedSession | None = None
        steps = plan(
            s,
            source_has_session_token=source_creds is not None
            and source_creds.session_token is not None,
        )
        for hop in steps:
            role_arn = self._role_arn(
                hop.entry, functools.partial(self._account_of, state, hop.number)
            )
            where = f" (hop {hop.number} of {hop.total})" if hop.total > 1 else ""
            via = s.source.log_name if hop.number == 1 else "the previous session"
            self.runner.info(f"Assuming role with {via}: {role_arn}{where}")
            record = HopRecord(hop.number, role_arn, hop.method)
            if hop.method == ASSUME_ROLE:
                record.tags, record.transitive_tag_keys = self._hop_tags(state.inherited_transitive)
            if hop.duration_capped:
                self._notice_capped(hop)
            run_hop = functools.partial(self._one_hop, hop, record, state)
            session, record.duration_s = self._with_durations(
                hop.number, role_arn, hop.durations, run_hop
            )
            if hop.final and s.special_characters_workaround:
                session = self._without_special_characters(
                    session, hop.number, role_arn, functools.partial(run_hop, record.duration_s)
                )
            state.inherited_transitive |= {k.lower() for k in record.transitive_tag_keys}
            record.session_arn = session.arn
            self.runner.info(f"Authenticated as {session.arn}")
            records.append(record)
            state.credentials = session.credentials
            state.account = session.account

        assert session is not None
        return Outcome(session.credentials, session.account, session.arn, records, self.claims)

    def _account_of(self, state: _ChainState, hop: int) -> str:
        """The account for expanding a role name: the previous session's, else the source's."""
        if state.account:
            return state.account
        assert state.credentials is not None
        state.account, _ = self._caller_identity(self.clients.signed(state.credentials), hop)
        # Before the expanded role ARN (which holds it) is logged.
        self.s.mask_account(self.runner, state.account)
        return state.account

    def _one_hop(
        self, hop: Hop, record: HopRecord, state: _ChainState, seconds: int
    ) -> sts.AssumedSession:
        if hop.method == WEB_IDENTITY:
            return self._web_identity_hop(hop, record.role_arn, seconds)
        assert state.credentials is not None
        session, record.tags = self._assume_role_hop(
            hop,
            record.role_arn,
            state.credentials,
            seconds,
            record.tags,
            record.transitive_tag_keys,
        )
        return session

    def _without_special_characters(
        self,
        session: sts.AssumedSession,
        number: int,
        role_arn: str,
        redo: Callable[[], sts.AssumedSession],
    ) -> sts.AssumedSession:
        """CAC's special-characters-workaround, bounded by retry-max-attempts assumptions."""
        attempts = 1
        while session.credentials.has_special_characters():
            if attempts >= self.s.max_attempts:
                raise StsError(
                    f"special-characters-workaround: {attempts} assumption(s) of {role_arn} all "
                    "returned keys with special characters.",
                    hop=number,
                    remedy="Raise 'retry-max-attempts', or turn the workaround off.",
                )
            attempts += 1
            self.runner.info(
                "The credentials contain special characters; assuming the role again "
                f"(special-characters-workaround, attempt {attempts} of {self.s.max_attempts})."
            )
            session = redo()
        return session
