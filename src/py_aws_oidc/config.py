"""One typed :class:`Settings` object built from the action's inputs, validated before any
network call. Each problem raises :class:`InputError` naming the input, or
:class:`ConflictingInputsError` naming the inputs that do not go together.
"""

from __future__ import annotations

import enum
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from . import hostpaths, named_profiles, partitions, profiles, safefiles, tags
from .errors import ConflictingInputsError, InputError
from .hostos import paths as hostos_paths
from .proxy import ProxySettings, resolve_proxy_settings
from .refresh.layout import DEFAULT_PROFILE as REFRESH_PROFILE
from .runner import Runner, input_env_name, load_json_input, show

# GITHUB_STATE names the main step saves for its post step: what it wrote to the shared files,
# and which of the file variables it exported.
STATE_PROFILE_FILES = "aws_profile_files"
STATE_PROFILE_FILE_VARS = "aws_profile_file_vars"
PROFILE_FILE_VARS = ("AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE")

# An account inside an ARN that STS quotes in an error ("User: arn:aws:iam::123456789012:user/ci
# is not authorized ..."): the source's account, which no mask covers.
ARN_ACCOUNT = re.compile(r"(arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:)\d{12}(?=:)")
# The main step's saved state (GITHUB_STATE) naming its refresh directory, for the post step.
REFRESH_STATE = "refresh_dir"
DEFAULT_DURATION = 3600
MIN_DURATION = 900
MAX_DURATION = 43200
CHAINED_MAX_DURATION = 3600
DEFAULT_MAX_ATTEMPTS = 12
MAX_POLICY_CHARS = 2048
MAX_MANAGED_POLICIES = 10

TOKEN_FILE_WHAT = "Input 'web-identity-token-file': the web identity token file"  # noqa: S105
# re.ASCII: STS's [\w+=,.@-] is ASCII; a Unicode letter would pass here and fail at STS.
SESSION_NAME = re.compile(r"^[\w+=,.@-]*$", re.ASCII)
EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$", re.ASCII)
SOURCE_IDENTITY = re.compile(r"^[\w+=,.@-]{2,64}$", re.ASCII)
POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}|aws):policy/[\x21-\x7e]{1,1024}$")
_DURATION = re.compile(r"^(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$", re.ASCII)
_POLICY_CHARS = re.compile(r"^[\t\n\r\x20-\xff]*$")

# CAC's translateEnvVariables(): these variables fill the input of the same name when empty.
# HTTP_PROXY and NO_PROXY are left to proxy.resolve_proxy_settings, which reads them (and
# HTTPS_PROXY, which wins, as in CAC) itself and accepts scheme-less values (proxy:3128);
# copied into the inputs they would outrank HTTPS_PROXY and fail the input's URL check.
TRANSLATED_ENV = (
    "AWS_REGION",
    "ROLE_TO_ASSUME",
    "WEB_IDENTITY_TOKEN_FILE",
    "ROLE_CHAINING",
    "AUDIENCE",
    "MASK_AWS_ACCOUNT_ID",
    "ROLE_DURATION_SECONDS",
    "ROLE_EXTERNAL_ID",
    "ROLE_SESSION_NAME",
    "ROLE_SKIP_SESSION_TAGGING",
    "TRANSITIVE_TAG_KEYS",
    "INLINE_SESSION_POLICY",
    "MANAGED_SESSION_POLICIES",
    "OUTPUT_CREDENTIALS",
    "UNSET_CURRENT_CREDENTIALS",
    "DISABLE_RETRY",
    "RETRY_MAX_ATTEMPTS",
    "SPECIAL_CHARACTERS_WORKAROUND",
    "USE_EXISTING_CREDENTIALS",
    "OVERWRITE_AWS_PROFILE",
)


class Source(enum.Enum):
    """Where the first hop's credentials come from."""

    OIDC = "GitHub OIDC"
    TOKEN_FILE = "web identity token file"  # noqa: S105 - a label, not a secret
    KEYS = "user credentials"
    EXISTING = "existing credentials"

    @property
    def is_web_identity(self) -> bool:
        return self in (Source.OIDC, Source.TOKEN_FILE)

    @property
    def log_name(self) -> str:
        """CAC's wording ("Assuming role with OIDC"), kept for users who grep their logs."""
        return "OIDC" if self is Source.OIDC else self.value

    @property
    def without_role_log(self) -> str:
        """CAC's line when no role is assumed (keys or existing credentials are exported)."""
        return (
            "Proceeding with IAM user credentials"
            if self is Source.KEYS
            else "Proceeding with existing credentials"
        )


@dataclass(frozen=True)
class Duration:
    seconds: int
    is_max: bool = False
    explicit: bool = False


@dataclass(frozen=True, repr=False)
class StaticKeys:
    access_key_id: str
    secret_access_key: str
    session_token: str | None

    def __repr__(self) -> str:  # never print a secret, even in a debugger or a traceback
        return "StaticKeys(***)"


@dataclass(frozen=True, repr=False)
class Settings:
    region: str
    partition: partitions.Partition
    source: Source
    roles: tuple[str, ...]
    keys: StaticKeys | None
    token_file: Path | None
    audience: str
    proxy: ProxySettings
    mask_account_id: bool
    duration: Duration
    external_id: str | None
    session_name: str
    source_identity: str | None
    skip_session_tagging: bool
    user_tags: tuple[tuple[str, tags.Tag], ...]
    transitive_tag_keys: tuple[str, ...]
    inline_policy: str | None
    managed_policies: tuple[str, ...]
    output_credentials: bool
    output_env_credentials: bool
    unset_current_credentials: bool
    max_attempts: int
    special_characters_workaround: bool
    use_existing_credentials: bool
    allowed_account_ids: tuple[str, ...]
    action_timeout_s: int
    sts_endpoint: str | None
    aws_profile: str | None
    overwrite_aws_profile: bool
    refresh_credentials: bool = False
    # The inputs set to a non-empty value (after translate_env), for the applicability checks.
    given: frozenset[str] = frozenset()
    # The ``profiles`` input: named chains minted next to (or instead of) ``roles``.
    profiles: tuple[named_profiles.ProfileSpec, ...] = ()
    # 'allowed-account-ids' exactly as given, for messages: re-joined entries would be a text
    # the runner's mask of the input (when it is a secret) could not match.
    allowed_account_ids_as_given: str = ""

    def __repr__(self) -> str:
        return f"Settings(source={self.source.name}, roles={self.roles!r}, region={self.region!r})"

    @property
    def assume_role_hops(self) -> int:
        return count_assume_role_hops(self.source, self.roles)

    @property
    def chains(self) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
        """Every chain the step assumes: ``(None, roles)`` for ``role-to-assume``, then
        ``(name, roles)`` per profile."""
        main = ((None, self.roles),) if self.roles else ()
        return main + tuple((p.name, p.roles) for p in self.profiles)

    def mask_account(self, runner: Runner, arn_or_account: str) -> None:
        """With ``mask-aws-account-id``, mask an account ID (given, or inside an ARN). The
        account's mask also hides it inside every ARN; a mask line for a whole ARN would print
        the account itself (SPEC: a secret is never printed, masked or not)."""
        if not self.mask_account_id:
            return
        if arn_or_account.startswith("arn:"):
            runner.mask(partitions.account_of(arn_or_account))
        else:
            runner.mask(arn_or_account)

    def hide_accounts(self, text: str) -> str:
        """With ``mask-aws-account-id``, ``text`` with the account of every ARN in it shown as
        ``(masked)``: for messages quoting STS, whose ARNs may name an account no mask covers
        (and for the credential process, which registers no mask)."""
        return ARN_ACCOUNT.sub(r"\1(masked)", text) if self.mask_account_id else text


def count_assume_role_hops(source: Source, roles: tuple[str, ...]) -> int:
    """How many sts:AssumeRole calls the chain makes (web identity hops excluded)."""
    if not roles:
        return 0
    return len(roles) - (1 if source.is_web_identity else 0)


def translate_env(environ: Mapping[str, str]) -> dict[str, str]:
    """CAC's env-to-input translation, unless ``translate-env-variables`` is false."""
    env = dict(environ)
    if not Runner(env).get_bool("translate-env-variables", True):
        return env
    for var in TRANSLATED_ENV:
        name = input_env_name(var.lower().replace("_", "-"))
        if not env.get(name, "").strip() and env.get(var, "").strip():
            env[name] = env[var]
    return env


def parse_duration(raw: str, *, input_name: str = "role-duration-seconds") -> Duration:
    text = raw.strip().lower()
    if not text:
        return Duration(DEFAULT_DURATION)
    if text == "max":
        return Duration(MAX_DURATION, is_max=True, explicit=True)
    if text.isascii() and text.isdigit():  # "¹".isdigit() is True, int("¹") fails
        seconds = int(text)
    else:
        match = _DURATION.match(text)
        if not match or not any(match.groupdict().values()):
            raise InputError(
                input_name,
                f"{show(raw)} is not a duration.",
                remedy="Use seconds (3600), a duration like 15m, 1h30m or 12h, or max.",
            )
        seconds = int(match["h"] or 0) * 3600 + int(match["m"] or 0) * 60 + int(match["s"] or 0)
    if not MIN_DURATION <= seconds <= MAX_DURATION:
        raise InputError(
            input_name,
            f"{seconds} s is outside STS's range of {MIN_DURATION}-{MAX_DURATION} s "
            "(15 minutes to 12 hours).",
        )
    return Duration(seconds, explicit=True)


def default_session_name(environ: Mapping[str, str]) -> str:
    run_id = environ.get("GITHUB_RUN_ID", "")
    attempt = environ.get("GITHUB_RUN_ATTEMPT", "")
    if run_id.isdigit() and attempt.isdigit() and len(run_id) + len(attempt) <= 48:
        return f"GitHubActions-{run_id}-{attempt}"
    return "GitHubActions"


def check_session_name(name: str, input_name: str = "role-session-name") -> str:
    if not 2 <= len(name) <= 64:
        raise InputError(
            input_name,
            f"Role session name must be between 2 and 64 characters, got {len(name)}: {show(name)}",
        )
    if not SESSION_NAME.fullmatch(name):  # fullmatch: `$` alone also matches before a final \n
        raise InputError(
            input_name,
            f"Role session name is not valid: {show(name)}. "
            r"Must satisfy regular expression pattern: [\w+=,.@-]*",
        )
    return name


def _url(input_name: str, raw: str) -> str:
    # urlsplit drops tabs and line breaks silently; the HTTP client would then fail on them.
    if any(ch.isspace() or not ch.isprintable() for ch in raw):
        raise InputError(input_name, "contains whitespace or a control character.")
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(input_name, "must be an http:// or https:// URL with a host.")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InputError(input_name, "has an invalid port.") from None
    return raw


def _non_negative(inputs: _Inputs, input_name: str, default: int, maximum: int) -> int:
    raw = inputs.get(input_name)
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()):
        raise InputError(input_name, f"{show(raw)} is not a non-negative integer.")
    value = int(raw)
    if value > maximum:
        raise InputError(input_name, f"{value} is more than the maximum of {maximum}.")
    return value


def _policy(inputs: _Inputs) -> str | None:
    raw = inputs.get("inline-session-policy")
    if not raw:
        return None
    doc = load_json_input("inline-session-policy", raw)
    if not isinstance(doc, dict):
        raise InputError("inline-session-policy", "must be a JSON object (a policy document).")
    # STS counts the plaintext; whitespace from YAML block scalars should not eat the budget.
    compact = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    if len(compact) > MAX_POLICY_CHARS:
        raise InputError(
            "inline-session-policy",
            f"is {len(compact)} characters without whitespace; STS allows {MAX_POLICY_CHARS}.",
        )
    if not _POLICY_CHARS.match(compact):
        raise InputError(
            "inline-session-policy",
            "has characters outside STS's range (tab, CR, LF, U+0020-U+00FF).",
        )
    return compact


def _roles(inputs: _Inputs, partition: partitions.Partition) -> tuple[str, ...]:
    roles = inputs.lines("role-to-assume")
    for role in roles:
        if role.startswith("arn:"):
            match = partitions.ROLE_ARN.match(role)
            if not match:
                raise InputError(
                    "role-to-assume",
                    f"{show(role)} is not a role ARN.",
                    remedy="Use arn:<partition>:iam::<12-digit account>:role/<path/name>, or a role name.",
                )
            if match["partition"] != partition.name:
                raise InputError(
                    "role-to-assume",
                    f"{show(role)} is in partition '{match['partition']}', but the region is in "
                    f"'{partition.name}'.",
                    remedy="Use the role's partition's region (e.g. cn-north-1 for aws-cn).",
                )
        elif not partitions.ROLE_NAME.match(role):
            raise InputError(
                "role-to-assume",
                f"{show(role)} is neither a role ARN nor a role name.",
                remedy="Role names are 1-64 characters of letters, digits and +=,.@_-.",
            )
    return tuple(roles)


def _keys(inputs: _Inputs) -> StaticKeys | None:
    key_id = inputs.get("aws-access-key-id")
    secret = inputs.get("aws-secret-access-key")
    token = inputs.get("aws-session-token")
    # Mask before anything else can print them, even if validation fails below.
    for value in (key_id, secret, token):
        inputs.runner.mask(value)
    if key_id and not secret:
        raise InputError(
            "aws-secret-access-key",
            "'aws-secret-access-key' must be provided if 'aws-access-key-id' is provided",
        )
    if secret and not key_id:
        raise InputError(
            "aws-access-key-id",
            "'aws-access-key-id' must be provided if 'aws-secret-access-key' is provided",
        )
    if token and not key_id:
        raise InputError(
            "aws-access-key-id", "'aws-session-token' needs 'aws-access-key-id' and its secret."
        )
    if not key_id:
        return None
    if not re.fullmatch(r"[\w]{16,128}", key_id, re.ASCII):
        raise InputError("aws-access-key-id", "is not an access key ID (16-128 letters/digits).")
    for input_name, value in (("aws-secret-access-key", secret), ("aws-session-token", token)):
        check_credential_text(input_name, value)
    return StaticKeys(key_id, secret, token or None)


# A secret key or session token is base64-like printable ASCII. Anything else (a line break
# from a YAML block scalar, a space, a non-ASCII character) would reach the network as a broken
# header or signature and be retried as a transient failure, so it is an input error.
_CREDENTIAL_TEXT = re.compile(r"[\x21-\x7e]*")


def check_credential_text(input_name: str, value: str) -> None:
    """Refuse a secret key or session token that is not printable ASCII without spaces. The
    message never shows the value, nor where in it the bad character is."""
    if not _CREDENTIAL_TEXT.fullmatch(value):
        raise InputError(
            input_name,
            "contains a line break, whitespace or a non-ASCII character (the value is not shown).",
            remedy="Pass the value exactly as AWS issued it, on one line.",
        )


# A container action sees the host only through the runner's mounts (actions/runner
# ContainerActionHandler): the workspace at /github/workspace (also GITHUB_WORKSPACE and the
# working directory), RUNNER_TEMP itself (as /github/runner_temp, ecosystem.md "Mounts") and its
# _github_home, _github_workflow and _runner_file_commands.
# The runner rewrites an input that starts with one of those host paths to the container path
# (TranslateToContainerPath); any other absolute host path names nothing the container can see.
CONTAINER_WORKSPACE = "/github/workspace"
CONTAINER_MOUNTS = (CONTAINER_WORKSPACE, *hostpaths.TEMP_MOUNTS)


def _token_file(inputs: _Inputs) -> Path | None:
    raw = inputs.get("web-identity-token-file")
    if not raw:
        return None
    workspace = inputs.environ.get("GITHUB_WORKSPACE") or "."
    path = Path(workspace) / raw  # an absolute raw replaces the workspace
    if os.path.normpath(workspace) == CONTAINER_WORKSPACE:
        _check_visible_in_container(raw, os.path.normpath(path))
    return path


def _check_visible_in_container(raw: str, resolved: str) -> None:
    """In the runner's container layout, a token file outside its mounts is an input error that
    says what to pass instead, never a bare "file not found" (or another file of the same name
    inside the image). Run on a host (pip install), any path is fine: this check is skipped."""
    if any(resolved == mount or resolved.startswith(mount + "/") for mount in CONTAINER_MOUNTS):
        return
    where = (
        "is an absolute path on the runner's host"
        if raw.startswith("/")
        else f"resolves to {show(resolved)}, outside the workspace"
    )
    raise InputError(
        "web-identity-token-file",
        f"{show(raw)} {where}, which this container action cannot see: it sees only the "
        "workspace (as /github/workspace), the runner's temp directory (as "
        "/github/runner_temp) and /github/home, /github/workflow and /github/file_commands.",
        remedy=(
            "Write the token file inside the workspace and pass its path relative to the "
            "workspace (for ${{ github.workspace }}/token.jwt, pass token.jwt), or write it "
            "under ${{ runner.temp }} and pass that path."
        ),
    )


def _choose_source(
    roles: bool,
    keys: StaticKeys | None,
    token_file: Path | None,
    role_chaining: bool,
    force_skip_oidc: bool,
) -> Source:
    if keys and token_file:
        raise ConflictingInputsError(
            "Both 'aws-access-key-id' and 'web-identity-token-file' are set; which one should "
            "be the source is ambiguous.",
            remedy="Keep only one of them.",
        )
    if keys:
        return Source.KEYS
    if token_file:
        if not roles:
            raise InputError(
                "role-to-assume",
                "is required with 'web-identity-token-file' (the token is exchanged for a role).",
            )
        return Source.TOKEN_FILE
    if role_chaining:
        if not roles:
            raise InputError("role-to-assume", "is required with 'role-chaining: true'.")
        return Source.EXISTING
    if roles and force_skip_oidc:
        raise ConflictingInputsError(
            "If 'force-skip-oidc' is true and 'role-to-assume' is set, 'aws-access-key-id' or "
            "'web-identity-token-file' must be set",
            remedy="Or set 'role-chaining: true' to assume the role from existing credentials.",
        )
    if roles:
        return Source.OIDC
    return Source.EXISTING


class _Inputs:
    """The step's inputs, read through the runner, remembering which ones were given (set to
    a non-empty value): :func:`_check_applicability` warns about those without re-reading."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.environ: Mapping[str, str] = runner.environ
        self.given: set[str] = set()

    def get(self, name: str) -> str:
        value = self.runner.get_input(name)
        if value:
            self.given.add(name)
        return value

    def flag(self, name: str, default: bool) -> bool:
        self.get(name)
        return self.runner.get_bool(name, default)

    def lines(self, name: str, *, commas: bool = False) -> list[str]:
        self.get(name)
        return self.runner.get_lines(name, commas=commas)


# -- one reader per concern, each returning its part of Settings ---------------------------------


@dataclass(frozen=True)
class _SourceAndRoles:
    source: Source
    roles: tuple[str, ...]
    keys: StaticKeys | None
    token_file: Path | None
    audience: str
    use_existing_credentials: bool
    profiles: tuple[named_profiles.ProfileSpec, ...]

    @property
    def assume_role_hops(self) -> int:
        """The most sts:AssumeRole calls of any chain (``role-to-assume``'s or a profile's)."""
        return max(
            count_assume_role_hops(self.source, roles)
            for roles in (self.roles, *(p.roles for p in self.profiles))
        )


@dataclass(frozen=True)
class _Session:
    duration: Duration
    session_name: str
    external_id: str | None
    source_identity: str | None


@dataclass(frozen=True)
class _Tags:
    skip_session_tagging: bool
    user_tags: tuple[tuple[str, tags.Tag], ...]
    transitive_tag_keys: tuple[str, ...]


@dataclass(frozen=True)
class _Policies:
    inline_policy: str | None
    managed_policies: tuple[str, ...]


@dataclass(frozen=True)
class _Export:
    mask_account_id: bool
    output_credentials: bool
    output_env_credentials: bool
    unset_current_credentials: bool
    special_characters_workaround: bool
    allowed_account_ids: tuple[str, ...]
    aws_profile: str | None
    overwrite_aws_profile: bool
    allowed_account_ids_as_given: str = ""


def _read_region(inputs: _Inputs) -> tuple[str, partitions.Partition]:
    region = inputs.get("aws-region")
    if not region:
        raise InputError(
            "aws-region",
            "is required.",
            remedy="Set 'aws-region' (e.g. us-east-1) in the step's 'with:'.",
        )
    if not partitions.REGION_PATTERN.match(region):
        raise InputError("aws-region", f"Region is not valid: {show(region)}")
    return region, partitions.partition_for_region(region)


def _read_source_and_roles(
    inputs: _Inputs, partition: partitions.Partition, keys: StaticKeys | None
) -> _SourceAndRoles:
    roles = _roles(inputs, partition)
    token_file = _token_file(inputs)
    role_chaining = inputs.flag("role-chaining", False)
    force_skip_oidc = inputs.flag("force-skip-oidc", False)
    # `profiles` assumes roles from the same source: it chooses the source as roles do.
    profiles_raw = inputs.get(named_profiles.INPUT)
    wants_roles = bool(roles) or bool(profiles_raw)
    source = _choose_source(wants_roles, keys, token_file, role_chaining, force_skip_oidc)
    profile_specs = named_profiles.parse_profiles(
        profiles_raw, partition, first_hop_needs_arn=source.is_web_identity
    )
    if source.is_web_identity and roles and not roles[0].startswith("arn:"):
        raise InputError(
            "role-to-assume",
            f"{show(roles[0])} is a role name, but with {source.value} there is no source account "
            "to expand it with.",
            remedy=f"Give the full ARN: arn:{partition.name}:iam::<account>:role/{roles[0]}.",
        )
    if token_file is not None:
        # Validate now (exists, regular file, no symlink), and mask what it holds at once.
        token = safefiles.read_regular_file(token_file, what=TOKEN_FILE_WHAT).strip()
        inputs.runner.mask(token)
        if not token:
            raise InputError("web-identity-token-file", f"{token_file} is empty.")
    return _SourceAndRoles(
        source=source,
        roles=roles,
        keys=keys,
        token_file=token_file,
        audience=_audience(inputs) or partition.default_audience,
        use_existing_credentials=inputs.flag("use-existing-credentials", False),
        profiles=profile_specs,
    )


# An IAM OIDC provider's client IDs (the audiences it accepts) are 1-255 characters.
MAX_AUDIENCE = 255


def _audience(inputs: _Inputs) -> str:
    """A longer audience can match no provider; sent, it only made the token endpoint answer
    414 (an error that did not name the input)."""
    audience = inputs.get("audience")
    if len(audience) > MAX_AUDIENCE:
        raise InputError(
            "audience",
            f"is {len(audience)} characters; an IAM OIDC provider's audiences (client IDs) have "
            f"at most {MAX_AUDIENCE}.",
            remedy="Use the audience your IAM OIDC provider lists (sts.amazonaws.com by default).",
        )
    return audience


def _read_session(inputs: _Inputs) -> _Session:
    duration = parse_duration(inputs.get("role-duration-seconds"))
    session_name = check_session_name(
        inputs.get("role-session-name") or default_session_name(inputs.environ)
    )
    external_id = inputs.get("role-external-id") or None
    if external_id is not None and not EXTERNAL_ID.fullmatch(external_id):
        raise InputError("role-external-id", r"must be 2-1224 characters of [\w+=,.@:/-].")
    source_identity = inputs.get("source-identity") or None
    if source_identity is not None and (
        not SOURCE_IDENTITY.fullmatch(source_identity) or source_identity.lower().startswith("aws:")
    ):
        raise InputError(
            "source-identity", r"must be 2-64 characters of [\w+=,.@-], not starting with aws:."
        )
    return _Session(duration, session_name, external_id, source_identity)


def _read_tags(inputs: _Inputs, assume_role_hops: int) -> _Tags:
    skip_tagging = inputs.flag("role-skip-session-tagging", False)
    user_tags = [
        ("custom-tags", t)
        for t in tags.parse_tags("custom-tags", inputs.get("custom-tags"), allow_lines=False)
    ] + [
        ("session-tags", t)
        for t in tags.parse_tags("session-tags", inputs.get("session-tags"), allow_lines=True)
    ]
    transitive = _transitive_keys(inputs, skip_tagging, bool(user_tags))
    default_keys = (
        []
        if skip_tagging or assume_role_hops == 0
        else tags.default_tag_keys_for_validation(inputs.environ)
    )
    tags.check_user_tags(
        user_tags,
        reserved_keys=[] if skip_tagging else list(tags.DEFAULT_TAG_KEYS),
        default_keys=default_keys,
        transitive_keys=transitive,
    )
    return _Tags(skip_tagging, tuple(user_tags), transitive)


def _transitive_keys(inputs: _Inputs, skip_tagging: bool, user_tags: bool) -> tuple[str, ...]:
    """``transitive-tag-keys``; with ``role-skip-session-tagging: true`` and no tags of the
    user's, no tag is sent, so the keys are ignored with a warning, as configure-aws-credentials
    ignores them (a workflow that works with it must work here)."""
    keys = tuple(inputs.lines("transitive-tag-keys"))
    if keys and skip_tagging and not user_tags:
        inputs.runner.warning(
            "'transitive-tag-keys' is ignored: 'role-skip-session-tagging' is true and no "
            "'session-tags' or 'custom-tags' are given, so no session tag is sent to pass on.",
            title="transitive-tag-keys ignored",
        )
        return ()
    return keys


def _read_policies(inputs: _Inputs) -> _Policies:
    inline_policy = _policy(inputs)
    managed = tuple(inputs.lines("managed-session-policies"))
    if len(managed) > MAX_MANAGED_POLICIES:
        raise InputError(
            "managed-session-policies",
            f"lists {len(managed)} policies; STS allows {MAX_MANAGED_POLICIES}.",
        )
    for arn in managed:
        if not POLICY_ARN.match(arn):
            raise InputError("managed-session-policies", f"{show(arn)} is not a policy ARN.")
    return _Policies(inline_policy, managed)


def _read_export(inputs: _Inputs) -> _Export:
    """Where and how the credentials go: environment, outputs, a profile; which accounts."""
    aws_profile = inputs.get("aws-profile") or None
    if aws_profile is not None:
        profiles.validate_profile_name(aws_profile)
    output_env = inputs.flag("output-env-credentials", aws_profile is None)
    allowed = tuple(inputs.lines("allowed-account-ids", commas=True))
    for number, account in enumerate(allowed, 1):
        if not partitions.ACCOUNT_ID.match(account):
            # The entry's number and the whole input: one entry alone would be a fragment.
            raise InputError(
                "allowed-account-ids",
                f"entry {number} of {show(inputs.get('allowed-account-ids'))} is not a 12-digit "
                "account ID.",
                remedy="List 12-digit account IDs, separated by commas or line breaks.",
            )
    return _Export(
        mask_account_id=inputs.flag("mask-aws-account-id", False),
        output_credentials=inputs.flag("output-credentials", False),
        output_env_credentials=output_env,
        unset_current_credentials=inputs.flag("unset-current-credentials", False),
        special_characters_workaround=inputs.flag("special-characters-workaround", False),
        allowed_account_ids=allowed,
        aws_profile=aws_profile,
        overwrite_aws_profile=inputs.flag("overwrite-aws-profile", False),
        allowed_account_ids_as_given=inputs.get("allowed-account-ids"),
    )


def _read_retry(inputs: _Inputs) -> tuple[int, int]:
    """``(max_attempts, action_timeout_s)``."""
    disable_retry = inputs.flag("disable-retry", False)
    max_attempts = _non_negative(inputs, "retry-max-attempts", DEFAULT_MAX_ATTEMPTS, 100)
    if disable_retry or max_attempts == 0:
        max_attempts = 1
    return max_attempts, _non_negative(inputs, "action-timeout-s", 0, 6 * 3600)


def _read_refresh(inputs: _Inputs, chosen: _SourceAndRoles, export: _Export) -> bool:
    """``refresh-credentials``: web-identity sources only (a refresh from keys would keep a
    long-lived secret on disk), and only where its exports are wanted."""
    if not inputs.flag("refresh-credentials", False):
        return False
    if not chosen.source.is_web_identity:
        raise InputError(
            "refresh-credentials",
            f"works only with a web-identity source (GitHub OIDC or 'web-identity-token-file'); "
            f"this run uses {chosen.source.value}, and refreshing those would mean keeping a "
            "long-lived secret on disk for later steps.",
            remedy="Remove 'refresh-credentials', or assume the role with GitHub OIDC.",
        )
    if chosen.use_existing_credentials:
        raise ConflictingInputsError(
            "'refresh-credentials' and 'use-existing-credentials' do not go together: valid "
            "existing credentials would skip the refresh set-up.",
            remedy="Keep only one of them.",
        )
    if "output-env-credentials" in inputs.given and not export.output_env_credentials:
        raise ConflictingInputsError(
            "'refresh-credentials' hands the session to later steps through AWS_CONFIG_FILE and "
            "AWS_PROFILE, which 'output-env-credentials: false' would not export.",
            remedy="Remove 'output-env-credentials: false' (with aws-profile, refresh still "
            "exports them).",
        )
    return True


def _read_sts_endpoint(inputs: _Inputs) -> str | None:
    sts_endpoint = inputs.get("sts-endpoint") or None
    if sts_endpoint is not None:
        _url("sts-endpoint", sts_endpoint)
    return sts_endpoint


# A 12-digit account ID inside a role input (an ARN's account). Not allowed-account-ids: those
# are shown as given in the mismatch error (the list the user wrote, not the session's account).
_GIVEN_ACCOUNT = re.compile(r"(?<!\d)\d{12}(?!\d)")
_INPUTS_WITH_ACCOUNTS = ("role-to-assume", "profiles")


def _mask_given_accounts(inputs: _Inputs) -> None:
    """With ``mask-aws-account-id``, mask the accounts the role inputs name before any reader
    can quote one in an input error (SPEC "1.1 / Hardening": masked first, failure paths too).
    An invalid flag is left to its own reader, which reports it in its turn."""
    try:
        if not inputs.runner.get_bool("mask-aws-account-id", False):
            return
    except InputError:
        return
    for name in _INPUTS_WITH_ACCOUNTS:
        for account in dict.fromkeys(_GIVEN_ACCOUNT.findall(inputs.runner.get_input(name))):
            inputs.runner.mask(account)


def load_settings(runner: Runner) -> Settings:
    """Read and validate every input. No network, no file writes.

    The readers run in a fixed order (the first invalid input is the one reported)."""
    inputs = _Inputs(runner)
    _mask_given_accounts(inputs)
    region, partition = _read_region(inputs)
    keys = _keys(inputs)
    proxy = resolve_proxy_settings(inputs.get("http-proxy"), inputs.get("no-proxy"), runner.environ)
    chosen = _read_source_and_roles(inputs, partition, keys)
    session = _read_session(inputs)
    tag_part = _read_tags(inputs, chosen.assume_role_hops)
    policies = _read_policies(inputs)
    export = _read_export(inputs)
    max_attempts, action_timeout_s = _read_retry(inputs)
    settings = Settings(
        region=region,
        partition=partition,
        source=chosen.source,
        roles=chosen.roles,
        keys=chosen.keys,
        token_file=chosen.token_file,
        audience=chosen.audience,
        proxy=proxy,
        mask_account_id=export.mask_account_id,
        duration=session.duration,
        external_id=session.external_id,
        session_name=session.session_name,
        source_identity=session.source_identity,
        skip_session_tagging=tag_part.skip_session_tagging,
        user_tags=tag_part.user_tags,
        transitive_tag_keys=tag_part.transitive_tag_keys,
        inline_policy=policies.inline_policy,
        managed_policies=policies.managed_policies,
        output_credentials=export.output_credentials,
        output_env_credentials=export.output_env_credentials,
        unset_current_credentials=export.unset_current_credentials,
        max_attempts=max_attempts,
        special_characters_workaround=export.special_characters_workaround,
        use_existing_credentials=chosen.use_existing_credentials,
        allowed_account_ids=export.allowed_account_ids,
        action_timeout_s=action_timeout_s,
        sts_endpoint=_read_sts_endpoint(inputs),
        aws_profile=export.aws_profile,
        overwrite_aws_profile=export.overwrite_aws_profile,
        refresh_credentials=_read_refresh(inputs, chosen, export),
        given=frozenset(inputs.given),
        profiles=chosen.profiles,
        allowed_account_ids_as_given=export.allowed_account_ids_as_given,
    )
    _check_applicability(runner, settings)
    return settings


def _check_platform(s: Settings) -> None:
    """Windows: the environment and outputs path only (hostos.paths); the inputs that leave
    private files for later steps are input errors, checked before any request."""
    unsupported = hostos_paths.unsupported_inputs()
    for name, used in (
        ("aws-profile", s.aws_profile is not None),
        ("profiles", bool(s.profiles)),
        ("refresh-credentials", s.refresh_credentials),
    ):
        if used and name in unsupported:
            raise InputError(
                name,
                "is not available on Windows runners: it leaves credentials in files for later "
                "steps, which py-aws-oidc keeps private on Linux and macOS only.",
                remedy="Remove it and use the exported AWS_* variables, or run the job on a "
                "Linux or macOS runner.",
            )


def _check_applicability(runner: Runner, s: Settings) -> None:
    """Inputs that would have no effect on the chosen path: errors where ignoring them could
    surprise a security review (tags, external id), warnings elsewhere."""
    _check_platform(s)
    _check_profiles(s)
    chains_without_hop = [
        name for name, roles in s.chains if count_assume_role_hops(s.source, roles) == 0
    ]
    if not s.chains or chains_without_hop:
        needs_hop = [
            name
            for name, given in (
                ("session-tags", any(i == "session-tags" for i, _ in s.user_tags)),
                ("custom-tags", any(i == "custom-tags" for i, _ in s.user_tags)),
                ("transitive-tag-keys", bool(s.transitive_tag_keys)),
                ("role-external-id", s.external_id is not None),
                ("source-identity", s.source_identity is not None),
            )
            if given
        ]
        if needs_hop and chains_without_hop and chains_without_hop[0] is not None:
            raise _profile_without_hop(chains_without_hop[0], needs_hop)
        if needs_hop:
            if s.source.is_web_identity:
                first = s.roles[0] if s.roles else "arn:aws:iam::111111111111:role/entry"
                raise ConflictingInputsError(
                    f"{', '.join(repr(n) for n in needs_hop)} only apply to sts:AssumeRole, and "
                    f"this run makes no such call: STS refuses session tags, external IDs and "
                    f"source identities on AssumeRoleWithWebIdentity ({s.source.value}).",
                    remedy=(
                        "Chain a second role: set 'role-to-assume' to two lines, e.g.\n"
                        f"  {first}\n  arn:{s.partition.name}:iam::111111111111:role/tagged-target\n"
                        "The second role's trust policy must allow sts:AssumeRole and "
                        "sts:TagSession for the first role."
                    ),
                )
            raise ConflictingInputsError(
                f"{', '.join(repr(n) for n in needs_hop)} only apply to sts:AssumeRole, and "
                "this run assumes no role.",
                remedy="Set 'role-to-assume', or remove these inputs.",
            )
    if not s.chains and (s.inline_policy or s.managed_policies):
        raise ConflictingInputsError(
            "'inline-session-policy' and 'managed-session-policies' need 'role-to-assume' "
            "(they restrict an assumed-role session).",
        )
    if s.source is not Source.OIDC and "audience" in s.given:
        runner.warning(f"'audience' is only used with GitHub OIDC; this run uses {s.source.value}.")
    if not s.chains and ({"role-duration-seconds", "role-session-name"} & s.given):
        runner.warning(
            "'role-duration-seconds' and 'role-session-name' need 'role-to-assume'; ignored."
        )


def _profile_without_hop(name: str, needs_hop: list[str]) -> ConflictingInputsError:
    return ConflictingInputsError(
        f"{', '.join(repr(n) for n in needs_hop)} apply to every profile, and profile "
        f"'{name}' (input 'profiles') makes no sts:AssumeRole call: STS refuses session "
        "tags, external IDs and source identities on AssumeRoleWithWebIdentity.",
        remedy=(
            f"Chain a second role in that profile: '{name} = ENTRY_ROLE_ARN > "
            "TARGET_ROLE_ARN' (the target's trust policy allows sts:AssumeRole and "
            "sts:TagSession for the entry role), or remove these inputs."
        ),
    )


def _check_profiles(s: Settings) -> None:
    """``profiles`` next to inputs that cannot apply to it."""
    if not s.profiles:
        return
    if s.aws_profile is not None and any(p.name == s.aws_profile for p in s.profiles):
        raise InputError(
            named_profiles.INPUT,
            f"names the profile '{s.aws_profile}', which 'aws-profile' names too.",
            remedy="'aws-profile' receives role-to-assume's session: give the two other names.",
        )
    # With refresh-credentials and no aws-profile, role-to-assume's session is the profile
    # py-aws-oidc (exported as AWS_PROFILE): a profile of that name would replace it.
    own = REFRESH_PROFILE if s.refresh_credentials and s.roles and s.aws_profile is None else None
    if own is not None and any(p.name == own for p in s.profiles):
        raise InputError(
            named_profiles.INPUT,
            f"names the profile '{own}', the profile refresh-credentials writes "
            "role-to-assume's session under (exported as AWS_PROFILE).",
            remedy="Give the profile another name, or set 'aws-profile' to name "
            "role-to-assume's session.",
        )
    if s.aws_profile is not None and not s.roles:
        raise ConflictingInputsError(
            "'aws-profile' receives the session of 'role-to-assume', and with 'profiles' but no "
            "'role-to-assume' there is none.",
            remedy=f"Add '{s.aws_profile} = ROLE_ARN' to 'profiles' instead of 'aws-profile'.",
        )
    if s.use_existing_credentials:
        raise ConflictingInputsError(
            "'use-existing-credentials' skips the step when valid credentials exist, but the "
            "sessions of 'profiles' exist only once the step has minted them.",
            remedy="Remove 'use-existing-credentials', or mint the profiles in a separate step.",
        )


# -- the post step --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostSettings:
    """What the post step needs: whether to clean up, and which variables the main step set."""

    skip_cleanup: bool
    clear_env: bool
    aws_profile: str | None
    # From the main step's state (GITHUB_STATE, passed back as STATE_*): what it wrote to the
    # shared files (JSON, see profiles.WriteRecord) and the file variables it exported.
    profile_files_record: str = ""
    exported_file_vars: tuple[str, ...] = ()
    # refresh-credentials: the directory the main step made (its saved state), or "".
    refresh_dir: str = ""


def load_post_settings(runner: Runner) -> PostSettings:
    """The post step's settings (the runner passes the step's inputs to its post step too).
    ``AWS_SKIP_CLEANUP_STEP=true`` skips the clean-up, and the inputs are then not read."""
    if runner.environ.get("AWS_SKIP_CLEANUP_STEP", "").strip() == "true":
        return PostSettings(skip_cleanup=True, clear_env=False, aws_profile=None)
    aws_profile = runner.get_input("aws-profile") or None
    state = runner.environ
    return PostSettings(
        skip_cleanup=False,
        clear_env=runner.get_bool("output-env-credentials", aws_profile is None),
        aws_profile=aws_profile,
        profile_files_record=state.get(f"STATE_{STATE_PROFILE_FILES}", ""),
        exported_file_vars=tuple(
            name
            for name in state.get(f"STATE_{STATE_PROFILE_FILE_VARS}", "").split(",")
            if name in PROFILE_FILE_VARS
        ),
        refresh_dir=runner.environ.get(f"STATE_{REFRESH_STATE}", "").strip(),
    )
