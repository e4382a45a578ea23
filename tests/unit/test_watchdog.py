"""The ``action-timeout-s`` watchdog: once the results are being written it never fires (its
"Nothing was exported" would not be true), also when a write fails (issue 12, item 4)."""

from __future__ import annotations

import io

import pytest

from py_aws_oidc import action
from py_aws_oidc.runner import Runner


def test_the_watchdog_cannot_fire_once_writing_has_begun(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    exits: list[int] = []
    monkeypatch.setattr(action.os, "_exit", exits.append)
    dog = action.Watchdog(0, Runner({}, out))  # no timer: fired by hand, as a late timer would
    with pytest.raises(OSError), dog.finishing():
        raise OSError("GITHUB_OUTPUT could not be written half-way")
    dog._fire()  # a timer thread that was already waiting for the lock
    assert exits == []
    assert "timed out" not in out.getvalue()


def test_the_watchdog_fires_while_the_chain_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    exits: list[int] = []
    monkeypatch.setattr(action.os, "_exit", exits.append)
    dog = action.Watchdog(0, Runner({}, out))
    dog._fire()
    assert exits == [1]
    assert "Action timed out after 0 seconds. Nothing was exported." in out.getvalue()
