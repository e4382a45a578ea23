#!/usr/bin/env python3
"""Which major tag a release moves: ``release_tag.py TAG < all-tags`` decides.

``release.yml`` runs on every ``v*.*.*`` tag push. ``@v1`` users get whatever ``v1`` points at,
so ``v1`` moves only to the highest release of major 1:

* a release tag is ``vMAJOR.MINOR.PATCH`` (numbers without leading zeros); anything else that
  the trigger matches (``v1.3.0-rc.1``, ``v1.3.0rc1``, ``v1.2.3.4``) is a pre-release or not a
  release, and moves nothing;
* a backport (``v1.2.9`` pushed after ``v1.5.0``) moves nothing: ``v1`` stays on the highest;
* the tag itself counts as existing (it was pushed before the workflow runs).

Standard library only; the workflow runs it with the runner's ``python3``. The tags come on
stdin, one per line (``refs/tags/`` prefixes and blank lines are ignored). It prints step outputs
(``>> "$GITHUB_OUTPUT"``): ``major=v1`` (empty: move nothing) and ``prerelease=true|false``;
the reason goes to stderr.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable

__all__ = ["major_tag_move", "release_version"]

_RELEASE = re.compile(r"v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")


def release_version(tag: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) of a release tag; None for a pre-release or anything else."""
    match = _RELEASE.fullmatch(tag.strip().removeprefix("refs/tags/"))
    if match is None:
        return None
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def major_tag_move(tag: str, existing: Iterable[str]) -> tuple[str | None, str]:
    """(the major tag to point at ``tag``'s release, or None; why)."""
    version = release_version(tag)
    if version is None:
        return None, f"{tag} is not a vX.Y.Z release (a pre-release moves no major tag)"
    major = f"v{version[0]}"
    same_major = [
        found
        for found in (release_version(name) for name in existing)
        if found is not None and found[0] == version[0]
    ]
    highest = max([version, *same_major])
    if highest != version:
        shown = "v{}.{}.{}".format(*highest)
        return None, f"{tag} is below {shown}, the highest release of {major}: {major} stays"
    return major, f"{tag} is the highest release of {major}: {major} moves to it"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: release_tag.py TAG < tags (one per line)\n")
        return 2
    tag = argv[1]
    major, why = major_tag_move(tag, sys.stdin.read().splitlines())
    sys.stderr.write(why + "\n")
    print(f"major={major or ''}")
    print(f"prerelease={'false' if release_version(tag) else 'true'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
