"""A token's claims: from a JSON file, a JWT, a token file or the runner (``--from-env``).

A token is never printed, logged or put in an error message: only its claims are. Tokens are
decoded without verifying the signature (this is a diagnostic tool; STS verifies).

:func:`parse_subject` reads every ``sub`` form GitHub mints (sts-oidc-facts.md section 4.4):
``repo:O/R:ref:refs/heads/B``, ``...:ref:refs/tags/T``, ``...:environment:E``, ``...:pull_request``,
the immutable ``repo:O@OWNER_ID/R@REPO_ID:...`` form and custom templates (``key:value:...``),
with ``:`` inside a value encoded as ``%3A``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

from ..oidc import DEFAULT_AUDIENCE, decode_unverified
from .errors import ClaimsError

ABSENT = "(absent)"


def _read(path: str, what: str) -> str:
    """A regular UTF-8 file of at most 1 MiB (``/dev/zero`` would never end), else exit 2."""
    from .files import read_text_file

    return read_text_file(path, f"{what} {path!r}")


def claims_from_json_text(text: str, source: str) -> dict[str, object]:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ClaimsError(f"{source}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ClaimsError(f'{source}: claims must be a JSON object such as {{"sub": "..."}}')
    # claims_summary marks missing claims "(absent)"; a claim that is absent is not a value.
    return {str(key): value for key, value in doc.items() if value != ABSENT}


def load_claims_file(path: str) -> dict[str, object]:
    return claims_from_json_text(_read(path, "claims file"), path)


def decode_token(token: str) -> dict[str, object]:
    """The JWT's payload, unverified. Errors never quote the token."""
    try:
        return decode_unverified(token)
    except ValueError as exc:
        raise ClaimsError(str(exc)) from None


def load_token_file(path: str) -> dict[str, object]:
    return decode_token(_read(path, "token file"))


def fetch_token_from_env(
    audience: str = DEFAULT_AUDIENCE,
    environ: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
) -> str:
    """Request the current job's OIDC token with the action's own code (same request, timeouts,
    retries and masking: the token's ``::add-mask::`` goes to stdout). Returns the token."""
    from ..errors import ActionError
    from ..oidc import fetch_token_with_retries, request_credentials
    from ..proxy import requests_proxies, resolve_proxy_settings
    from ..retry import Deadline
    from ..runner import Runner

    env = os.environ if environ is None else environ
    try:
        url, bearer = request_credentials(env, "trust check --from-env needs the job's OIDC token")
        runner = Runner(env, stream)
        runner.mask(bearer)
        return fetch_token_with_retries(
            url,
            bearer,
            audience,
            runner=runner,
            deadline=Deadline(None),
            proxies=requests_proxies(resolve_proxy_settings("", "", env), url),
            max_attempts=3,  # an interactive diagnostic: fail fast
        )
    except ActionError as exc:
        raise ClaimsError(f"--from-env: {exc}") from None


def claims_from_env(
    audience: str = DEFAULT_AUDIENCE,
    environ: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
) -> dict[str, object]:
    return decode_token(fetch_token_from_env(audience, environ, stream))


# --- the sub claim ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """A parsed ``sub``. ``kind``: branch, tag, ref, environment, pull_request, repository
    (a custom template holding only the repository), custom, or unknown."""

    raw: str
    kind: str
    owner: str | None = None
    repo: str | None = None
    owner_id: str | None = None
    repo_id: str | None = None
    ref: str | None = None
    environment: str | None = None
    fields: tuple[tuple[str, str], ...] = ()

    @property
    def immutable(self) -> bool:
        return self.owner_id is not None or self.repo_id is not None

    @property
    def repository(self) -> str | None:
        if self.owner is None or self.repo is None:
            return None
        return f"{self.owner}/{self.repo}"

    @property
    def prefix(self) -> str | None:
        """``repo:O/R`` or ``repo:O@ID/R@ID``, as it appears in the sub."""
        return next((f"repo:{v}" for k, v in self.fields if k == "repo"), None)

    @property
    def custom(self) -> bool:
        """Whether the sub came from a customised template rather than the default form."""
        keys = [key for key, _ in self.fields]
        return (
            keys[:1] != ["repo"]
            or len(keys) != 2
            or keys[1] not in ("ref", "environment", "pull_request")
        )


def decode_value(value: str) -> str:
    """GitHub writes ``:`` inside a sub value as ``%3A`` (and leaves ``%`` alone)."""
    return value.replace("%3A", ":").replace("%3a", ":")


def split_owner_repo(value: str) -> tuple[str, str | None, str | None, str | None]:
    """``O/R`` or ``O@OID/R@RID`` -> (owner, owner_id, repo, repo_id)."""
    owner_part, _, repo_part = value.partition("/")
    owner, _, owner_id = owner_part.partition("@")
    repo, _, repo_id = repo_part.partition("@")
    return owner, owner_id or None, repo or None, repo_id or None


def parse_subject(sub: str) -> Subject:
    parts = sub.split(":")
    fields: list[tuple[str, str]] = []
    i = 0
    while i < len(parts):
        key = parts[i]
        if key == "pull_request":
            fields.append(("pull_request", ""))
            i += 1
            continue
        if i + 1 >= len(parts):
            return Subject(raw=sub, kind="unknown", fields=tuple(fields))
        fields.append((key, parts[i + 1]))
        i += 2
    values = dict(fields)
    owner = repo = owner_id = repo_id = None
    if "repo" in values:
        owner, owner_id, repo, repo_id = split_owner_repo(values["repo"])
    elif "repository" in values:
        owner, _, repo, _ = split_owner_repo(values["repository"])
    ref = decode_value(values["ref"]) if "ref" in values else None
    environment = decode_value(values["environment"]) if "environment" in values else None
    if environment is not None:
        kind = "environment"
    elif "pull_request" in values:
        kind = "pull_request"
    elif ref is not None:
        kind = (
            "branch"
            if ref.startswith("refs/heads/")
            else "tag"
            if ref.startswith("refs/tags/")
            else "ref"
        )
    elif set(values) == {"repo"}:
        kind = "repository"
    elif fields:
        kind = "custom"
    else:
        kind = "unknown"
    return Subject(
        raw=sub,
        kind=kind,
        owner=owner,
        repo=repo,
        owner_id=owner_id,
        repo_id=repo_id,
        ref=ref,
        environment=environment,
        fields=tuple(fields),
    )
