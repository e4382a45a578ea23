"""``settings.json``: what a later mint needs to repeat the step's chain exactly.

Written by the step (:func:`document`), read by the credential process (:func:`settings`). It
records what the step *did*, not only what it was asked: the role ARNs after name expansion, each
hop's granted duration (after ``max`` stepped down, after the chaining cap) and the tags and
transitive keys the first sts:AssumeRole hop sent (after a PackedPolicyTooLarge drop). A mint in
a later step therefore sends the same requests, with the same session name and tags, whatever
that step's ``GITHUB_*`` variables say.

No secret is stored except a proxy password, when ``http-proxy`` (or ``HTTPS_PROXY``) holds one:
a later mint must go through the same proxy. The file is 0600 in a 0700 directory of the
runner's user, removed by the post step (docs/long-jobs.md).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import partitions, tags
from ..assume import ASSUME_ROLE, Outcome
from ..config import Duration, Settings, Source
from ..proxy import ProxySettings
from . import layout

_SOURCES = {Source.OIDC: "oidc", Source.TOKEN_FILE: "token-file"}


class SettingsFileError(ValueError):
    """settings.json is not one this version wrote."""


def _token_file(
    settings: Settings, environ: Mapping[str, str], mounts: Mapping[str, str]
) -> dict[str, str] | None:
    """The token file as the later step will find it: relative to the workspace when it lies
    inside it (the container sees the workspace at another path than the host); under a mount
    of ``mounts`` (container path -> host path: ``/github/home``), at its host path."""
    if settings.token_file is None:
        return None
    path = posixpath.normpath(os.path.abspath(settings.token_file))
    workspace = environ.get("GITHUB_WORKSPACE", "")
    if workspace:
        root = posixpath.normpath(os.path.abspath(workspace))
        if path.startswith(root.rstrip("/") + "/"):
            return {"workspace_relative": path[len(root.rstrip("/")) + 1 :]}
    for inside, host in mounts.items():
        if path.startswith(inside.rstrip("/") + "/"):
            return {"absolute": host.rstrip("/") + path[len(inside.rstrip("/")) :]}
    return {"absolute": path}


def document(
    settings: Settings,
    outcome: Outcome,
    environ: Mapping[str, str],
    mounts: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The settings file's content for a successful web-identity run."""
    if settings.source not in _SOURCES:
        raise ValueError("refresh needs a web-identity source")
    assume_hops = [hop for hop in outcome.hops if hop.method == ASSUME_ROLE]
    first = assume_hops[0] if assume_hops else None
    return {
        "format": layout.SETTINGS_FORMAT,
        "region": settings.region,
        "source": _SOURCES[settings.source],
        "token_file": _token_file(settings, environ, mounts or {}),
        "audience": settings.audience,
        "roles": [hop.role_arn for hop in outcome.hops],
        "final_duration_s": outcome.hops[-1].duration_s,
        "session_name": settings.session_name,
        "source_identity": settings.source_identity,
        "external_id": settings.external_id,
        "tags": [[t.key, t.value] for t in first.tags] if first else [],
        "transitive_tag_keys": list(first.transitive_tag_keys) if first else [],
        "inline_policy": settings.inline_policy,
        "managed_policies": list(settings.managed_policies),
        "sts_endpoint": settings.sts_endpoint,
        "proxy": {"url": settings.proxy.url, "no_proxy": list(settings.proxy.no_proxy)},
        "max_attempts": settings.max_attempts,
        "special_characters_workaround": settings.special_characters_workaround,
        "allowed_account_ids": list(settings.allowed_account_ids),
        "mask_account_id": settings.mask_account_id,
        "action_timeout_s": settings.action_timeout_s,
    }


def _str(doc: Mapping[str, Any], key: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not value:
        raise SettingsFileError(f"'{key}' is missing")
    return value


def _opt_str(doc: Mapping[str, Any], key: str) -> str | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise SettingsFileError(f"'{key}' is not text")
    return value


def _strs(doc: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = doc.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingsFileError(f"'{key}' is not a list of text")
    return tuple(value)


def _int(doc: Mapping[str, Any], key: str) -> int:
    value = doc.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SettingsFileError(f"'{key}' is not a number")
    return value


def resolve_token_file(entry: Any, environ: Mapping[str, str]) -> Path | None:
    """The token file for this caller: a workspace-relative path is resolved against the
    calling step's ``GITHUB_WORKSPACE`` (else its working directory)."""
    if entry is None:
        return None
    if isinstance(entry, dict) and isinstance(entry.get("workspace_relative"), str):
        base = environ.get("GITHUB_WORKSPACE") or os.getcwd()
        return Path(base) / str(entry["workspace_relative"])
    if isinstance(entry, dict) and isinstance(entry.get("absolute"), str):
        return Path(entry["absolute"])
    raise SettingsFileError("'token_file' is malformed")


def settings(doc: Any, environ: Mapping[str, str]) -> Settings:
    """The :class:`Settings` that replays the recorded chain (raises SettingsFileError)."""
    if not isinstance(doc, dict) or doc.get("format") != layout.SETTINGS_FORMAT:
        raise SettingsFileError("unknown format")
    source = {v: k for k, v in _SOURCES.items()}.get(doc.get("source", ""))
    if source is None:
        raise SettingsFileError("'source' is unknown")
    region = _str(doc, "region")
    roles = _strs(doc, "roles")
    if not roles:
        raise SettingsFileError("'roles' is empty")
    raw_tags = doc.get("tags") or []
    if not isinstance(raw_tags, list) or not all(
        isinstance(t, list) and len(t) == 2 and all(isinstance(x, str) for x in t)
        for t in raw_tags
    ):
        raise SettingsFileError("'tags' is malformed")
    proxy = doc.get("proxy") or {}
    if not isinstance(proxy, dict):
        raise SettingsFileError("'proxy' is malformed")
    token_file = resolve_token_file(doc.get("token_file"), environ)
    if (source is Source.TOKEN_FILE) != (token_file is not None):
        raise SettingsFileError("'token_file' does not match 'source'")
    return Settings(
        region=region,
        partition=partitions.partition_for_region(region),
        source=source,
        roles=roles,
        keys=None,
        token_file=token_file,
        audience=_str(doc, "audience"),
        proxy=ProxySettings(_opt_str(proxy, "url"), _strs(proxy, "no_proxy")),
        # Not for masks (the process registers none: the step's masks cover the job's log),
        # for its error line, which quotes STS (Settings.hide_accounts).
        mask_account_id=bool(doc.get("mask_account_id")),
        # The granted duration, not the request: `max` already stepped down in the step.
        duration=Duration(_int(doc, "final_duration_s")),
        external_id=_opt_str(doc, "external_id"),
        session_name=_str(doc, "session_name"),
        source_identity=_opt_str(doc, "source_identity"),
        # The recorded tags are the complete set the step sent (defaults included); the
        # defaults are not computed again from this step's variables.
        skip_session_tagging=True,
        user_tags=tuple(("session-tags", tags.Tag(k, v)) for k, v in raw_tags),
        transitive_tag_keys=_strs(doc, "transitive_tag_keys"),
        inline_policy=_opt_str(doc, "inline_policy"),
        managed_policies=_strs(doc, "managed_policies"),
        output_credentials=False,
        output_env_credentials=False,
        unset_current_credentials=False,
        max_attempts=max(1, _int(doc, "max_attempts")),
        special_characters_workaround=bool(doc.get("special_characters_workaround")),
        use_existing_credentials=False,
        allowed_account_ids=_strs(doc, "allowed_account_ids"),
        action_timeout_s=_int(doc, "action_timeout_s"),
        sts_endpoint=_opt_str(doc, "sts_endpoint"),
        aws_profile=None,
        overwrite_aws_profile=False,
    )
