"""The ``profiles`` input: named sessions minted in one step from one source.

Two forms (SPEC.md "1.1 / Many accounts from one step")::

    dev  = arn:aws:iam::111111111111:role/deploy
    prod = arn:aws:iam::222222222222:role/entry > arn:aws:iam::333333333333:role/deploy

or a JSON object ``{"dev": "ARN", "prod": ["ARN", "ARN"]}`` (the input starts with ``{``).
A chain is assumed like a multi-line ``role-to-assume``: the first role from the source, each
next one with sts:AssumeRole from the previous session. In the line form, blank lines and lines
starting with ``#`` are skipped.

Everything here is pure: :func:`parse_profiles` checks the names (the ``aws-profile`` rules,
unique) and every role entry (the ``role-to-assume`` rules) and raises :class:`InputError`
naming ``profiles``. Nothing is looked up and nothing is written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from . import partitions
from .errors import InputError
from .profiles import validate_profile_name
from .runner import show

__all__ = ["INPUT", "MAX_PROFILES", "ProfileSpec", "parse_profiles"]

INPUT = "profiles"
# One step mints at most this many: each is one or more STS calls (8 at a time) and three masks,
# and the 'profiles' output and the summary grow with each. STS allows far more requests per
# second per account; the cap is about a step that stays readable and quick to fail.
MAX_PROFILES = 100
_FORMS = (
    "Give one profile per line as 'NAME = ROLE_ARN' (a chain: 'NAME = ROLE_ARN > ROLE_ARN'), "
    'or a JSON object {"NAME": "ROLE_ARN", "OTHER": ["ROLE_ARN", "ROLE_ARN"]}.'
)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class ProfileSpec:
    """One named profile: its name and its role chain (ARNs or role names, in order)."""

    name: str
    roles: tuple[str, ...]


def parse_profiles(
    raw: str, partition: partitions.Partition, *, first_hop_needs_arn: bool
) -> tuple[ProfileSpec, ...]:
    """The profiles in ``raw`` (empty: none), validated; raises :class:`InputError`.

    ``first_hop_needs_arn``: the source is a web identity token, so a chain's first role has no
    account to expand a role name with (as for ``role-to-assume``).
    """
    text = raw.strip()
    if not text:
        return ()
    pairs = _json_pairs(text) if text.startswith("{") else _line_pairs(text)
    if not pairs:
        raise InputError(INPUT, "lists no profile.", remedy=_FORMS)
    if len(pairs) > MAX_PROFILES:
        raise InputError(
            INPUT,
            f"lists {len(pairs)} profiles; one step mints at most {MAX_PROFILES}.",
            remedy="Split them over several steps.",
        )
    seen: set[str] = set()
    specs: list[ProfileSpec] = []
    for name, roles in pairs:
        validate_profile_name(name, input_name=INPUT)
        if name in seen:
            raise InputError(
                INPUT,
                f"names the profile {show(name)} twice.",
                remedy="Give each profile a unique name.",
            )
        seen.add(name)
        if not roles:
            raise InputError(
                INPUT,
                f"profile {show(name)} has no role.",
                remedy="Give it a role ARN, or a chain 'ROLE_ARN > ROLE_ARN'.",
            )
        for position, role in enumerate(roles):
            _check_role(name, role, partition, needs_arn=first_hop_needs_arn and position == 0)
        specs.append(ProfileSpec(name, tuple(roles)))
    return tuple(specs)


def _line_pairs(text: str) -> list[tuple[str, list[str]]]:
    pairs: list[tuple[str, list[str]]] = []
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, equals, chain = stripped.partition("=")
        if not equals:
            raise InputError(
                INPUT,
                f"line {number} ({show(stripped)}) is not 'NAME = ROLE_ARN'.",
                remedy=_FORMS,
            )
        name = name.strip()
        if not name:
            raise InputError(INPUT, f"line {number} has no profile name before '='.", remedy=_FORMS)
        roles = [part.strip() for part in chain.split(">")]
        if any(not role for role in roles):
            raise InputError(
                INPUT,
                f"profile {show(name)} (line {number}) has an empty role in "
                f"{show(chain.strip())}.",
                remedy="Separate the roles of a chain with '>', one ARN on each side.",
            )
        pairs.append((name, roles))
    return pairs


def _no_duplicate_keys(items: list[tuple[str, object]]) -> dict[str, object]:
    keys = [key for key, _ in items]
    for key in keys:
        if keys.count(key) > 1:
            raise InputError(
                INPUT,
                f"names the profile {show(key)} twice.",
                remedy="Give each profile a unique name.",
            )
    return dict(items)


def _json_pairs(text: str) -> list[tuple[str, list[str]]]:
    try:
        document = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise InputError(
            INPUT, f"is not valid JSON ({exc.msg} at line {exc.lineno}).", remedy=_FORMS
        ) from None
    except RecursionError:
        raise InputError(INPUT, "is JSON nested too deeply.", remedy=_FORMS) from None
    if not isinstance(document, dict):
        raise InputError(INPUT, "must be a JSON object.", remedy=_FORMS)
    pairs: list[tuple[str, list[str]]] = []
    for name, value in document.items():
        if isinstance(value, str):
            roles = [value.strip()]
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            roles = [item.strip() for item in value]
        else:
            raise InputError(
                INPUT,
                f"the value of profile {show(name)} must be a role ARN or a list of role ARNs.",
                remedy=_FORMS,
            )
        if any(not role for role in roles):
            raise InputError(
                INPUT,
                f"profile {show(name)} has an empty role.",
                remedy="Give a role ARN in every place of the chain.",
            )
        pairs.append((name, roles))
    return pairs


def _check_role(
    profile: str, role: str, partition: partitions.Partition, *, needs_arn: bool
) -> None:
    where = f"profile {show(profile)}"
    if role.startswith("arn:"):
        match = partitions.ROLE_ARN.match(role)
        if not match:
            raise InputError(
                INPUT,
                f"{where}: {show(role)} is not a role ARN.",
                remedy="Use arn:<partition>:iam::<12-digit account>:role/<path/name>.",
            )
        if match["partition"] != partition.name:
            raise InputError(
                INPUT,
                f"{where}: {show(role)} is in partition '{match['partition']}', but the region "
                f"is in '{partition.name}'.",
                remedy="Use roles of the region's partition (e.g. cn-north-1 for aws-cn).",
            )
        return
    if not partitions.ROLE_NAME.match(role):
        raise InputError(
            INPUT,
            f"{where}: {show(role)} is neither a role ARN nor a role name.",
            remedy="Use arn:<partition>:iam::<12-digit account>:role/<path/name>.",
        )
    if needs_arn:
        raise InputError(
            INPUT,
            f"{where}: {show(role)} is a role name, but the first role of a chain assumed "
            "with a web identity token needs its full ARN (there is no source account to "
            "expand the name with).",
            remedy=f"Give the full ARN: arn:{partition.name}:iam::<account>:role/{role}.",
        )
