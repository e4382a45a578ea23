"""Shared fixtures: the local servers (session-scoped), the runner-like harness, the leak check.

* ``oidc_issuer`` / ``moto_server`` / ``sts`` (the fault layer in front of moto, verifying tokens
  against ``oidc_issuer``) / ``forward_proxy``: started once per session, on first use.
* Between tests the servers' rules and records are reset (issuer claims, faults, latency; STS
  rules and records; proxy records), so every test starts from a clean, realistic setup.
* ``run_action(inputs, *, env=None, argv=(), oidc=True, timeout=60, cwd=None)`` runs the action
  (see ``tests/support/harness.py``); ``workspace`` is the step's ``GITHUB_WORKSPACE``;
  ``secrets.add(value)`` declares an extra secret; ``token_file(...)`` writes a minted token into
  the workspace and declares it.
* The leak check (``tests/support/leakcheck.py``) runs after every test, on every result that
  ``run_action`` produced in it, and fails the test on any problem.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest

from localdev.forward_proxy import ForwardProxy
from localdev.moto_sts import MotoServer
from localdev.oidc_issuer import OidcIssuer
from localdev.runner_step import host_command
from localdev.sts_faults import StsFaultProxy
from tests.support.harness import ActionHarness, ActionResult
from tests.support.host_runtime import build_action_dir
from tests.support.leakcheck import SecretRegistry, find_leaks, format_problems, known_secrets

# The test process itself stays hermetic too: no host AWS profile or config reaches boto3.
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
              "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS",
              "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
    os.environ.pop(_name, None)
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

_RESULTS = pytest.StashKey[list[ActionResult]]()
_SECRETS = pytest.StashKey[SecretRegistry]()

# Servers started in this session (so the per-test reset never starts one by itself).
_started: dict[str, Any] = {}


class RunAction(Protocol):
    def __call__(
        self,
        inputs: dict[str, str | None] | None = None,
        *,
        env: dict[str, str | None] | None = None,
        argv: tuple[str, ...] | list[str] = (),
        oidc: bool = True,
        timeout: float = 60,
        cwd: str | os.PathLike[str] | None = None,
    ) -> ActionResult: ...


# -- servers --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    with MotoServer() as server:
        _started["moto"] = server
        yield server
    _started.pop("moto", None)


@pytest.fixture(scope="session")
def oidc_issuer() -> Iterator[OidcIssuer]:
    with OidcIssuer() as issuer:
        _started["issuer"] = issuer
        yield issuer
    _started.pop("issuer", None)


@pytest.fixture(scope="session")
def sts(moto_server: MotoServer, oidc_issuer: OidcIssuer) -> Iterator[StsFaultProxy]:
    with StsFaultProxy(moto_server.url, verify_tokens=oidc_issuer) as proxy:
        _started["sts"] = proxy
        yield proxy
    _started.pop("sts", None)


@pytest.fixture(scope="session")
def _forward_proxy_server() -> Iterator[ForwardProxy]:
    with ForwardProxy() as proxy:
        _started["forward_proxy"] = proxy
        yield proxy
    _started.pop("forward_proxy", None)


@pytest.fixture
def forward_proxy(_forward_proxy_server: ForwardProxy) -> ForwardProxy:
    """An HTTP proxy on 127.0.0.1 recording ``(method, url)``; use ``forward_proxy.url``."""
    return _forward_proxy_server


@pytest.fixture(autouse=True)
def _reset_servers(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts with default claims, no faults, no rules and empty records."""
    request.node.stash[_RESULTS] = []
    request.node.stash[_SECRETS] = SecretRegistry()
    for server in _started.values():
        reset = getattr(server, "reset", None)
        if reset is not None and not isinstance(server, MotoServer):
            reset()
    yield


# -- harness ---------------------------------------------------------------------------------------


@pytest.fixture
def secrets(request: pytest.FixtureRequest) -> SecretRegistry:
    """Declare extra secrets for this test's leak check: ``secrets.add(value)``."""
    registry: SecretRegistry = request.node.stash[_SECRETS]
    return registry


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The step's GITHUB_WORKSPACE (and working directory); write token files here."""
    path = tmp_path / "workspace"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def runtime() -> str:
    """How ``run_action`` runs a step: ``"console"`` (the console script, as the image runs it)
    or ``"host"`` (``node <action>/main.js`` / ``post.js`` with the zip application built from
    the current sources: ``host_action``). Modules run both with ``pytestmark = BOTH_RUNTIMES``
    (tests/support/host_runtime.py), which parametrises this fixture."""
    return "console"


@pytest.fixture(scope="session")
def host_action(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An action directory of the host runtime, built once per session from the sources."""
    return build_action_dir(tmp_path_factory.mktemp("host-runtime") / "action")


@pytest.fixture
def make_harness(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    workspace: Path,
    oidc_issuer: OidcIssuer,
    sts: StsFaultProxy,
    runtime: str,
) -> Callable[..., ActionHarness]:
    """``make_harness(command=None, base_dir=None, workspace=None)``: a harness bound to the
    servers and this test's leak check; ``command`` replaces the step's command (the console
    script, or the host runtime's launchers: ``runtime``; e.g. ``[python, "-c", ...]``),
    ``base_dir`` the runner's directory (default ``tmp_path/runner``)."""
    results: list[ActionResult] = request.node.stash[_RESULTS]
    post_command: list[str] | None = None
    if runtime == "host":
        action_dir: Path = request.getfixturevalue("host_action")
        default, post_command = host_command(action_dir), host_command(action_dir, post=True)
    else:
        assert runtime == "console", runtime
        default = None

    def make(command: list[str] | None = None, base_dir: Path | None = None,
             workspace_dir: Path | None = None) -> ActionHarness:
        return ActionHarness(base_dir=base_dir or tmp_path / "runner", issuer=oidc_issuer,
                             sts=sts, workspace=workspace_dir or workspace,
                             command=command or default, on_result=results.append,
                             post_command=None if command else post_command)

    return make


@pytest.fixture
def harness(make_harness: Callable[..., ActionHarness]) -> ActionHarness:
    return make_harness()


@pytest.fixture
def run_action(harness: ActionHarness) -> RunAction:
    """Run the action like the runner does; every result goes through the leak check."""
    return harness.run_action


@pytest.fixture
def token_file(
    workspace: Path, oidc_issuer: OidcIssuer, secrets: SecretRegistry
) -> Callable[..., Path]:
    """``token_file(name="token.jwt", content=None, audience=..., **claims) -> Path``: a minted
    (or given) token written into the workspace and declared secret."""

    def make(name: str = "token.jwt", content: str | None = None, **mint_args: Any) -> Path:
        token = content if content is not None else oidc_issuer.mint(**mint_args)
        secrets.add(token, "token-file")
        path = workspace / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(token, encoding="utf-8")
        return path

    return make


# -- the leak check, after every test --------------------------------------------------------------


def _leak_problems(item: pytest.Item) -> str | None:
    results = item.stash.get(_RESULTS, [])
    if not results:
        return None
    registry = item.stash.get(_SECRETS, None)
    declared = list(registry) if registry is not None else []
    issuer = _started.get("issuer")
    sts_proxy = _started.get("sts")
    found: list[tuple[ActionResult, list[str]]] = []
    for result in results:
        secrets_known = known_secrets(result, issuer=issuer, sts=sts_proxy, declared=declared)
        problems = find_leaks(result, secrets_known)
        if problems:
            found.append((result, problems))
    return format_problems(found) if found else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Fail the test (in its call phase) when any of its runs leaked or misbehaved."""
    try:
        return (yield)
    finally:
        message = _leak_problems(item)
        if message:
            raise AssertionError(message)
