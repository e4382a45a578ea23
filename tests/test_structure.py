"""docs/DESIGN.md's size rule (issue 11): no function in src/ is longer than 80 lines, argparse
builders aside, as ``python scripts/function_lengths.py`` counts them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "function_lengths.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)


def test_no_function_in_src_is_longer_than_80_lines() -> None:
    proc = _run()
    assert proc.returncode == 0, proc.stdout
    assert "0 function(s) over 80 lines outside argparse builders" in proc.stdout


def test_the_script_finds_a_long_function_but_not_an_argparse_builder(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(85))
    (tmp_path / "long.py").write_text(f"def long():\n{body}", encoding="utf-8")
    builder = "".join(f"    p.add_argument('--a{i}')\n" for i in range(85))
    (tmp_path / "cli.py").write_text(f"def build(p):\n{builder}", encoding="utf-8")
    proc = _run(str(tmp_path))
    assert proc.returncode == 1, proc.stdout
    assert "long.py:1 long\n" in proc.stdout and "(argparse builder: not counted)" in proc.stdout
    assert "1 function(s) over 80 lines" in proc.stdout
