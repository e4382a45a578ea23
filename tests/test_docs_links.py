"""Every relative link and anchor in README.md and docs/*.md resolves, and the README stays short.

Anchors follow GitHub's rules for heading ids: the heading's text as rendered (inline code, emphasis
and links reduced to their text), lowercased, every character other than a letter, a digit, a
space, ``-`` or ``_`` removed, each space turned into ``-``; a heading whose id is already taken
gets ``-1``, then ``-2``, ... Lines inside fenced code blocks are never headings, and links inside
code are not links.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
README_MAX_LINES = 450

_FENCE = re.compile(r"^\s{0,3}(```+|~~~+)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_INLINE_CODE = re.compile(r"(`+)(.+?)\1")
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HTML_ID = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"")


def documents() -> list[Path]:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    pages += [ROOT / name for name in ("CHANGELOG.md", "SECURITY.md") if (ROOT / name).exists()]
    return pages


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) for every line outside a fenced code block."""
    lines: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = _FENCE.match(line)
        if match:
            marker = match.group(1)
            if fence is None:
                fence = marker[0] * 3
            elif marker.startswith(fence):
                fence = None
            continue
        if fence is None:
            lines.append((number, line))
    return lines


def rendered(text: str) -> str:
    """A heading's text as GitHub renders it: links, code spans and emphasis reduced to text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = _INLINE_CODE.sub(lambda m: m.group(2).strip(), text)
    return re.sub(r"(\*\*|\*|~~)", "", text)


def slug(heading: str) -> str:
    text = rendered(heading).strip().lower()
    text = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    seen: dict[str, int] = {}
    found: set[str] = set()
    for _, line in prose_lines(text):
        found.update(_HTML_ID.findall(line))
        match = _HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path) -> list[tuple[int, str]]:
    found = []
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        for target in _LINK.findall(_INLINE_CODE.sub("", line)):
            found.append((number, target))
    return found


def _ignored(path: Path) -> bool:
    """A path .gitignore keeps out of the repository (``.venv/``, ``dist/``, ...)."""
    probe = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=ROOT, check=False,
                           capture_output=True)
    return probe.returncode == 0


def broken_links(path: Path) -> list[str]:
    problems = []
    for number, target in links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto:, ...
            continue
        file_part, _, anchor = target.partition("#")
        where = f"{path.relative_to(ROOT)}:{number}: {target}"
        linked = (path.parent / unquote(file_part)).resolve() if file_part else path
        if file_part.startswith("/") or ROOT not in (linked, *linked.parents):
            problems.append(f"{where} (outside the repository)")
        elif not linked.exists():
            problems.append(f"{where} (no such file)")
        elif _ignored(linked):
            problems.append(f"{where} (ignored by git: not in the repository)")
        elif anchor and linked.suffix != ".md":
            problems.append(f"{where} (an anchor into a file that has no headings)")
        elif anchor and unquote(anchor) not in anchors(linked):
            problems.append(f"{where} (no heading with that anchor)")
    return problems


@pytest.mark.parametrize("path", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(path: Path) -> None:
    assert broken_links(path) == []


def test_readme_is_a_page_a_user_reads_in_ten_minutes() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines (at most {README_MAX_LINES})"


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Set-up: two commands", "set-up-two-commands"),
        ("Writing an AWS profile (`aws-profile`, `overwrite-aws-profile`)",
         "writing-an-aws-profile-aws-profile-overwrite-aws-profile"),
        ("Install the CLI: `pipx install py-aws-oidc`", "install-the-cli-pipx-install-py-aws-oidc"),
        ("What's **new** in [1.2](CHANGELOG.md)", "whats-new-in-12"),
        ("snake_case and  two spaces", "snake_case-and--two-spaces"),
    ],
)
def test_slugs_follow_githubs_rules(heading: str, expected: str) -> None:
    assert slug(heading) == expected


def test_the_checker_finds_a_broken_anchor_a_missing_file_and_skips_code() -> None:
    # The probe page must be inside the repository (links may not leave it): docs/, removed after.
    page = ROOT / "docs" / "_link_check_probe.md"
    ignored = ROOT / "docs" / "__pycache__" / "probe.txt"  # .gitignore: __pycache__/
    made_dir = not ignored.parent.exists()
    ignored.parent.mkdir(exist_ok=True)
    ignored.write_text("not in the repository\n", encoding="utf-8")
    page.write_text(
        "# Title\n\n## Same\n\n## Same\n\n"
        "[ok](#same-1) [bad](#same-2) [gone](nowhere.md) [ok](../README.md#inputs)\n"
        "[tracked](../.gitignore) [ignored](__pycache__/probe.txt)\n"
        "`[not a link](nowhere.md)`\n\n```md\n[in code](nowhere.md)\n# not a heading\n```\n"
        "[bad](#not-a-heading)\n",
        encoding="utf-8",
    )
    try:
        problems = broken_links(page)
    finally:
        page.unlink()
        ignored.unlink()
        if made_dir:
            ignored.parent.rmdir()
    assert [p.split(": ", 1)[1] for p in problems] == [
        "#same-2 (no heading with that anchor)",
        "nowhere.md (no such file)",
        "__pycache__/probe.txt (ignored by git: not in the repository)",
        "#not-a-heading (no heading with that anchor)",
    ]
