"""Session tags: the user's (``session-tags``, ``custom-tags``) and the default ones.

STS accepts tags only on ``sts:AssumeRole`` (never on AssumeRoleWithWebIdentity). Limits (STS
model): at most 50 tags, key 1..128 and value 0..256 characters of ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]``,
keys unique case-insensitively. botocore checks none of this, so we do, before any request.

Default tags follow configure-aws-credentials (CAC): ``GitHub=Actions`` and values from the
``GITHUB_*`` variables. After a web-identity hop the values that the token also carries come from
its claims instead: STS has verified those, while an earlier step can rewrite environment
variables through GITHUB_ENV.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .errors import ConflictingInputsError, InputError
from .runner import load_json_input, show

MAX_TAGS = 50
MAX_KEY = 128
MAX_VALUE = 256
_EXTRA_CHARS = frozenset("_.:/=+-@")

# (tag key, claim, environment variable); claim None = no claim carries it.
PROTECTED_TAGS: tuple[tuple[str, str | None, str], ...] = (
    ("Repository", "repository", "GITHUB_REPOSITORY"),
    ("Workflow", "workflow", "GITHUB_WORKFLOW"),
    ("Action", None, "GITHUB_ACTION"),
    ("Actor", "actor", "GITHUB_ACTOR"),
    ("Commit", "sha", "GITHUB_SHA"),
    ("Branch", "ref", "GITHUB_REF"),
)
# CAC's "droppable" set: left out when STS answers PackedPolicyTooLarge.
OPTIONAL_TAGS: tuple[tuple[str, str | None, str], ...] = (
    ("EventName", "event_name", "GITHUB_EVENT_NAME"),
    ("BaseRef", "base_ref", "GITHUB_BASE_REF"),
    ("HeadRef", "head_ref", "GITHUB_HEAD_REF"),
    ("RunId", "run_id", "GITHUB_RUN_ID"),
    ("Job", None, "GITHUB_JOB"),
    ("TriggeringActor", None, "GITHUB_TRIGGERING_ACTOR"),
)
DEFAULT_TAG_KEYS = ("GitHub", *(t[0] for t in PROTECTED_TAGS + OPTIONAL_TAGS))
OPTIONAL_TAG_KEYS = frozenset(t[0] for t in OPTIONAL_TAGS)


@dataclass(frozen=True)
class Tag:
    key: str
    value: str


def _allowed(ch: str) -> bool:
    return ch in _EXTRA_CHARS or unicodedata.category(ch)[0] in "LZN"


def sanitize(value: str) -> str:
    """CAC's sanitising of environment-derived values: bad characters to ``_``, 256 max."""
    return "".join(ch if _allowed(ch) else "_" for ch in value)[:MAX_VALUE]


def _refuse_bad_characters(input_name: str, what: str, text: str) -> None:
    bad = sorted({ch for ch in text if not _allowed(ch)})
    if bad:
        raise InputError(
            input_name,
            f"{what} has characters STS refuses: {' '.join(map(repr, bad))}.",
            remedy="Tags may use letters, digits, spaces and _ . : / = + - @.",
        )


def _check_tag(input_name: str, key: str, value: str, where: str = "") -> None:
    """``where`` names the line the tag came from (``line 2 'Team=a'``); a key alone is shown
    only for the JSON form. Values are never cut (issue 12: a cut secret cannot be masked)."""
    label = where or f"tag key {show(key)}"
    if not 1 <= len(key) <= MAX_KEY:
        raise InputError(input_name, f"{label}: the key must be 1-{MAX_KEY} characters.")
    _refuse_bad_characters(input_name, f"{label}: the key", key)
    if len(value) > MAX_VALUE:
        raise InputError(input_name, f"{label}: the value is longer than {MAX_VALUE}.")
    _refuse_bad_characters(input_name, f"{label}: the value", value)


def _json_tags(input_name: str, raw: str) -> list[Tag]:
    data = load_json_input(input_name, raw)
    if not isinstance(data, dict):
        raise InputError(input_name, "must be a JSON object (not an array or primitive).")
    tags = []
    for key, value in data.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int | float | str):
            text = str(value)
        else:
            raise InputError(
                input_name, f"the value of tag {show(key)} must be a string, number or boolean."
            )
        tags.append(Tag(str(key), text))
    return tags


def parse_tags(input_name: str, raw: str, *, allow_lines: bool) -> list[Tag]:
    """Parse a tags input: a JSON object, or (``allow_lines``) ``Key=Value`` lines."""
    text = raw.strip()
    if not text:
        return []
    if text.startswith("{") or not allow_lines:
        tags = _json_tags(input_name, text)
        for tag in tags:
            _check_tag(input_name, tag.key, tag.value)
        return tags
    tags = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if "=" not in line:
            raise InputError(
                input_name,
                f"line {number} is not Key=Value.",
                remedy="Write one Key=Value per line, or a JSON object.",
            )
        key, _, value = line.partition("=")
        tag = Tag(key.strip(), value.strip())
        # The whole line, not the key: a line is what the runner masks.
        _check_tag(input_name, tag.key, tag.value, where=f"line {number} {show(line)}")
        tags.append(tag)
    return tags


def check_user_tags(
    tags: Sequence[tuple[str, Tag]],
    *,
    reserved_keys: Sequence[str],
    default_keys: Sequence[str],
    transitive_keys: Sequence[str],
) -> None:
    """Validate the user's tags together: duplicates, clashes, count, transitive keys.

    ``tags`` pairs each tag with the input it came from (for the error message);
    ``reserved_keys`` may not be used by the user; ``default_keys`` are the default tags this
    run will send (they count towards the limit).
    """
    seen: dict[str, str] = {}
    reserved = {k.lower(): k for k in reserved_keys}
    for input_name, tag in tags:
        low = tag.key.lower()
        if low in reserved:
            raise InputError(
                input_name,
                f"key '{tag.key}' conflicts with a protected session tag set by this action "
                "and cannot be overridden.",
                remedy="Rename the tag, or set role-skip-session-tagging: true to send only yours.",
            )
        if low in seen:
            raise InputError(
                input_name,
                f"tag key '{tag.key}' is given twice (STS compares keys case-insensitively; "
                f"first in '{seen[low]}').",
            )
        seen[low] = input_name
    total = len(tags) + len(default_keys)
    if total > MAX_TAGS:
        name = tags[-1][0] if tags else "session-tags"
        raise InputError(
            name,
            f"total session tags ({total}) would exceed the AWS limit of {MAX_TAGS} "
            f"({len(default_keys)} default tags + {len(tags)} of yours).",
        )
    known = [t.key for _, t in tags] + list(default_keys)
    for key in unsent_keys(transitive_keys, known)[:1]:
        raise InputError(
            "transitive-tag-keys",
            f"{show(key)} names no session tag that this run sends.",
            remedy="List only keys from session-tags, custom-tags or the default tags.",
        )


def unsent_keys(keys: Sequence[str], sent_keys: Sequence[str]) -> list[str]:
    """The ``keys`` (transitive tag keys) that name none of ``sent_keys`` (case-insensitive,
    as STS compares tag keys)."""
    sent = {k.lower() for k in sent_keys}
    return [k for k in keys if k.lower() not in sent]


def tags_for_hop(
    defaults: Sequence[Tag],
    user_tags: Sequence[Tag],
    transitive_keys: Sequence[str],
    inherited: set[str],
) -> tuple[list[Tag], list[str]]:
    """The tags and transitive keys one sts:AssumeRole sends. ``inherited`` (lower-case keys)
    are transitive tags of an earlier hop: STS refuses a request that sets them again.

    The inputs were checked before any request (:func:`check_user_tags`); this checks the run's
    actual tags, whose default values may come from the token's claims."""
    chosen = [t for t in [*defaults, *user_tags] if t.key.lower() not in inherited]
    transitive = [k for k in transitive_keys if k.lower() not in inherited]
    for key in unsent_keys(transitive, [t.key for t in chosen])[:1]:
        raise ConflictingInputsError(
            f"'transitive-tag-keys' names '{key}', but no tag with that key is sent "
            "(its claim or variable is empty in this run).",
            remedy="Remove it from transitive-tag-keys, or give the tag in session-tags.",
        )
    if len(chosen) > MAX_TAGS:
        raise ConflictingInputsError(
            f"{len(chosen)} session tags would be sent; STS allows {MAX_TAGS}.",
            remedy="Send fewer tags in session-tags/custom-tags.",
        )
    return chosen, transitive


def droppable_tags(
    sent: Sequence[Tag], transitive_keys: Sequence[str], user_tags: Sequence[Tag]
) -> list[Tag]:
    """CAC's answer to PackedPolicyTooLarge: the optional default tags this hop sent, except
    transitive ones and the user's own (which are never dropped)."""
    transitive = {k.lower() for k in transitive_keys}
    return [
        t
        for t in sent
        if t.key in OPTIONAL_TAG_KEYS
        and t.key.lower() not in transitive
        and not any(t is u for u in user_tags)
    ]


def default_tags(
    environ: Mapping[str, str],
    claims: Mapping[str, object] | None,
) -> list[Tag]:
    """The default tags; with ``claims`` (a verified web-identity token) the claim-backed values
    come only from the token (an empty or absent claim leaves the tag out)."""
    tags = [Tag("GitHub", "Actions")]
    for key, claim, env_name in PROTECTED_TAGS + OPTIONAL_TAGS:
        if claims is not None and claim is not None:
            raw = claims.get(claim)
            value = str(raw) if isinstance(raw, str | int) and not isinstance(raw, bool) else ""
        else:
            value = environ.get(env_name, "")
        if value:
            tags.append(Tag(key, sanitize(value)))
    return tags


def default_tag_keys_for_validation(environ: Mapping[str, str]) -> list[str]:
    """The default keys to count before any request, as CAC counts them: those whose variable
    is set. After a web-identity hop the values come from the token's claims, which mirror these
    variables; the exact count is checked again before each sts:AssumeRole call."""
    keys = ["GitHub"]
    for key, _claim, env_name in PROTECTED_TAGS + OPTIONAL_TAGS:
        if environ.get(env_name):
            keys.append(key)
    return keys
