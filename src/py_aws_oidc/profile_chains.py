"""The ``profiles`` input's sessions: one role chain per profile, all from one source.

Every profile is a full chain (its first role assumed from the source, as ``role-to-assume``
would be) with the step's other settings (duration, tags, session name, policies, external id).
The chains share one :class:`TokenSource`, so one OIDC token serves every profile, and run
concurrently in threads (at most :data:`MAX_CONCURRENT` at a time). All or nothing: every
chain runs to its end, and the first failure in the input's order is raised, naming its
profile; the caller writes nothing then.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .assume import Chain, Outcome, TokenSource
from .config import Settings
from .errors import ActionError
from .named_profiles import ProfileSpec
from .retry import Deadline
from .runner import Runner

__all__ = ["MAX_CONCURRENT", "ChainResult", "run_chains"]

MAX_CONCURRENT = 8

# Turns a chain's STS failure into the error the user sees (AccessDenied diagnostics etc.).
Explain = Callable[[Settings, Chain, ActionError], ActionError]


@dataclass(frozen=True)
class ChainResult:
    """One finished chain: ``profile`` is None for ``role-to-assume``'s."""

    profile: ProfileSpec | None
    outcome: Outcome


def run_chains(
    settings: Settings,
    profiles: Sequence[ProfileSpec],
    runner: Runner,
    deadline: Deadline,
    explain: Explain,
    *,
    with_main: bool,
) -> list[ChainResult]:
    """Assume ``role-to-assume`` (when ``with_main``) and every profile; results in that order.

    Raises the explained error of the first chain (main first, then the profiles in order)
    that failed; a profile's error keeps its class and its message names the profile.
    """
    tokens = TokenSource(settings, runner, deadline) if settings.source.is_web_identity else None
    jobs: list[tuple[ProfileSpec | None, Settings, Runner]] = []
    if with_main:
        jobs.append((None, settings, runner.prefixed("[role-to-assume] ") if profiles else runner))
    for profile in profiles:
        profile_settings = dataclasses.replace(settings, roles=profile.roles)
        jobs.append((profile, profile_settings, runner.prefixed(f"[{profile.name}] ")))

    def run_one(job: tuple[ProfileSpec | None, Settings, Runner]) -> Outcome:
        _profile, job_settings, job_runner = job
        chain = Chain(job_settings, job_runner, deadline, tokens=tokens)
        try:
            return chain.run()
        except ActionError as exc:
            raise explain(job_settings, chain, exc) from None

    if len(jobs) == 1:
        return [ChainResult(jobs[0][0], run_one(jobs[0]))]

    with ThreadPoolExecutor(max_workers=min(MAX_CONCURRENT, len(jobs))) as pool:
        futures = [pool.submit(run_one, job) for job in jobs]
        failures: list[tuple[ProfileSpec | None, ActionError]] = []
        results: list[ChainResult] = []
        for (job_profile, _settings, _runner), future in zip(jobs, futures, strict=True):
            exc = future.exception()
            if exc is None:
                results.append(ChainResult(job_profile, future.result()))
            elif isinstance(exc, ActionError):
                failures.append((job_profile, exc))
            else:
                raise exc
    if not failures:
        return results
    failed, first = failures[0]
    if failed is not None:
        others = [f"'{other.name}'" for other, _ in failures[1:] if other is not None]
        also = f" (also failed: {', '.join(others)})" if others else ""
        # Same class (same remedy), the message names the profile.
        first.message = f"Profile '{failed.name}' (input 'profiles'): {first.message}{also}"
        first.args = (first.message,)
    raise first
