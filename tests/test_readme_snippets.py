"""Every code block in README.md and docs/*.md is valid in its language, so users can copy them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import hcl2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(language: str) -> list[str]:
    found: list[str] = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        found += re.findall(rf"^ *```{language}\n(.*?)^ *```", text, re.S | re.M)
    return found


@pytest.mark.parametrize("block", blocks("json"))
def test_json_blocks_parse(block: str) -> None:
    json.loads(block)


@pytest.mark.parametrize("block", blocks("hcl"))
def test_terraform_blocks_parse(block: str) -> None:
    hcl2.loads(block)


@pytest.mark.parametrize("block", blocks("yaml"))
def test_yaml_blocks_parse_and_use_known_inputs(block: str) -> None:
    """Workflow snippets are YAML, and every `with:` key of this action is a declared input."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    declared = set(action["inputs"])
    text = block
    # Snippets may be a fragment of a steps list: indent-safe parse of the whole block.
    doc = yaml.safe_load(text)
    assert doc is not None

    def steps(node: object) -> list[dict[str, object]]:
        found: list[dict[str, object]] = []
        if isinstance(node, dict):
            uses = str(node.get("uses", ""))
            if "py-aws-oidc" in uses and "/.github/workflows/" not in uses:
                found.append(node)
            for value in node.values():
                found += steps(value)
        elif isinstance(node, list):
            for value in node:
                found += steps(value)
        return found

    for step in steps(doc):
        unknown = set(step.get("with") or {}) - declared  # type: ignore[arg-type]
        assert not unknown, f"snippet uses undeclared inputs {unknown}"


def test_there_are_snippets_to_check() -> None:
    assert len(blocks("json")) >= 3 and len(blocks("hcl")) >= 2 and len(blocks("yaml")) >= 6
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "```yaml\njobs:" in readme and "```json\n" in readme  # the quick start and a policy
