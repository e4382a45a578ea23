"""State and helpers shared by the container tests and their conftest (one module, one copy)."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Timings:
    build_s: float | None = None
    build_steps: int = 0
    build_cached_steps: int = 0
    runs: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add_run(self, label: str, seconds: float) -> None:
        self.runs.setdefault(label, []).append(seconds)


TIMINGS = Timings()


@dataclass(frozen=True)
class PodmanEnv:
    conf: str
    base_image: str
    cache_dir: Path

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "CONTAINERS_CONF": self.conf}

    def run(self, *args: str, check: bool = True, timeout: float = 600,
            **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["podman", *args], env=self.env, text=True, check=check,
                              timeout=timeout, stdin=subprocess.DEVNULL, **kwargs)  # type: ignore[call-overload]


def read_timings(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
