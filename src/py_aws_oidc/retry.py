"""Classified retries under one deadline.

Only :class:`TransientFailure` is retried (network errors, HTTP 5xx, throttling, the IdP's key
fetch); every other exception propagates at once. ``max_attempts`` counts every request made for
one call: no SDK retries hide underneath (``transport.request`` makes exactly one attempt).
Backoff is full-jitter exponential: attempt n sleeps ``uniform(0, min(CAP, BASE * 2**n))``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from .errors import ActionTimeoutError, RetriesExhaustedError
from .runner import Runner

T = TypeVar("T")

BACKOFF_BASE_S = 0.2
BACKOFF_CAP_S = 5.0
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 15.0
MIN_REQUEST_TIMEOUT_S = 0.5
# Without action-timeout-s, one call stops retrying once this much time has gone by: a stalled
# STS then costs at most about a minute and a read timeout, never the job's whole timeout.
RETRY_BUDGET_S = 60.0


class TransientFailure(Exception):
    """A failure worth another attempt. ``description`` is safe to print (no secrets)."""

    def __init__(self, description: str, code: str = "") -> None:
        super().__init__(description)
        self.description = description
        self.code = code


@dataclass
class Deadline:
    """The step's overall deadline (``action-timeout-s``); ``None`` means none."""

    timeout_s: float | None
    started: float = 0.0

    def __post_init__(self) -> None:
        if not self.started:
            self.started = time.monotonic()

    def remaining(self) -> float | None:
        if self.timeout_s is None:
            return None
        return self.timeout_s - (time.monotonic() - self.started)

    def expired_error(self) -> ActionTimeoutError:
        return ActionTimeoutError(
            f"Action timed out after {self.timeout_s:g} seconds.",
            remedy="Raise 'action-timeout-s', or check that STS and the token endpoint are reachable.",
        )

    def check(self) -> None:
        left = self.remaining()
        if left is not None and left <= 0:
            raise self.expired_error()

    def timeouts(self) -> tuple[float, float]:
        """(connect, read) timeouts for one request, never past the deadline."""
        left = self.remaining()
        if left is None:
            return CONNECT_TIMEOUT_S, READ_TIMEOUT_S
        if left <= 0:
            raise self.expired_error()
        left = max(left, MIN_REQUEST_TIMEOUT_S)
        return min(CONNECT_TIMEOUT_S, left), min(READ_TIMEOUT_S, left)


def backoff_delay(attempt: int, rng: random.Random | None = None) -> float:
    """Full jitter: uniform(0, min(cap, base * 2**attempt)) for attempt 0, 1, 2, ..."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2**attempt))
    return (rng or random).uniform(0, ceiling)  # jitter, not cryptography


def call_with_retries(
    fn: Callable[[int], T],
    *,
    label: str,
    max_attempts: int,
    deadline: Deadline,
    runner: Runner,
    hop: int = 1,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``fn(attempt)`` until it returns, retrying only :class:`TransientFailure`."""
    attempts = max(1, max_attempts)
    started = time.monotonic()
    for attempt in range(attempts):
        deadline.check()
        try:
            return fn(attempt)
        except TransientFailure as failure:
            delay = backoff_delay(attempt)
            over_budget = (
                deadline.timeout_s is None and time.monotonic() - started + delay > RETRY_BUDGET_S
            )
            if attempt + 1 >= attempts or over_budget:
                made = attempt + 1
                raise RetriesExhaustedError(
                    f"{label} failed after {made} attempt{'s' if made > 1 else ''}"
                    f"{f' ({RETRY_BUDGET_S:g} s of retries)' if over_budget else ''}: "
                    f"{failure.description}",
                    code=failure.code,
                    hop=hop,
                    remedy="The failure looks transient (network, throttling or a 5xx); "
                    "re-run the job, or raise 'retry-max-attempts' / set 'action-timeout-s'.",
                ) from None
            left = deadline.remaining()
            if left is not None:
                if left <= 0:
                    raise deadline.expired_error() from None
                delay = min(delay, left)
            runner.info(
                f"Retry {label}: attempt {attempt + 1} of {attempts} failed: "
                f"{failure.description}. Retrying after {int(delay * 1000)} ms."
            )
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
