"""host/main.js and host/post.js under the real node, as the runner runs a node24 action: how
they find Python, and that the step's arguments, environment, stdio and exit status pass
through untouched. The bundled program here is a stand-in zip that reports what it got (the real
one runs in tests/host/test_host_build.py and the integration suite)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.support.action_yml import REPO_ROOT
from tests.support.host_runtime import builder
from tests.support.later_steps import find_python

NODE = shutil.which("node", path="/usr/bin:/usr/local/bin") or "/usr/bin/node"
# The stand-in's __main__.py starts as the real one does (the launcher's version handshake).
REPORT = builder().HANDSHAKE + r'''
import hashlib, json, os, sys
args = sys.argv[1:]
marker = os.environ.get("MARKER")
if marker:
    open(marker, "a").write("pyz ran\n")
if args[:1] == ["exit"]:
    sys.exit(int(args[1]))
if args[:1] == ["signal"]:
    os.kill(os.getpid(), int(args[1]))
if args[:1] == ["stdin"]:
    sys.stdout.write(sys.stdin.read().upper())
    sys.stderr.write("to stderr\n")
    sys.exit(0)
big = sorted((k, v) for k, v in os.environ.items() if k.startswith("BIG_"))
print(json.dumps({
    "argv": args, "executable": sys.executable, "version": list(sys.version_info[:2]),
    "isolated": sys.flags.isolated, "no_site": sys.flags.no_site, "utf8": sys.flags.utf8_mode,
    "big": hashlib.sha256(json.dumps(big).encode()).hexdigest(), "big_count": len(big),
    "injected": "sitecustomize" in sys.modules or "injected" in sys.modules,
    "cwd": os.getcwd(),
}))
'''


def _python_path(relative: str) -> str:
    path = Path("/root/.pyenv/versions") / relative
    if not path.is_file():
        pytest.skip(f"no {relative} here")
    return str(path)


def _python(minor: int) -> str:
    found = find_python(minor)
    if found is None:
        pytest.skip(f"no python3.{minor} here")
    return found


@pytest.fixture
def action(tmp_path: Path) -> Path:
    """host/'s launchers in a fresh action directory with the stand-in program."""
    directory = tmp_path / "action"
    (directory / "dist").mkdir(parents=True)
    for script in ("main.js", "post.js", "launch.js"):
        shutil.copy(REPO_ROOT / "host" / script, directory / script)
    with zipfile.ZipFile(directory / "dist" / "py-aws-oidc.pyz", "w") as archive:
        archive.writestr("__main__.py", REPORT)
    return directory


def _bin(tmp_path: Path, name: str, target: str) -> Path:
    """A directory holding ``name`` -> ``target`` (a symlink)."""
    directory = tmp_path / f"bin-{name}-{abs(hash(target)) % 10_000}"
    directory.mkdir(exist_ok=True)
    if not (directory / name).is_symlink():
        (directory / name).symlink_to(target)
    return directory


def _fake(tmp_path: Path, directory: str, name: str = "python3", version: str = "3 12") -> Path:
    """A fake python that answers the launcher's handshake (fd 3) with ``version``, exits 1 as
    an old Python does, and leaves a mark when run."""
    folder = tmp_path / directory
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text(f'#!/bin/sh\necho "$@" >> "{tmp_path}/fake-ran"\n'
                      f'echo "{version}" >&3\nexit 1\n')
    script.chmod(0o755)
    return folder


def run(action: Path, *args: str, path: str, env: dict[str, str] | None = None,
        script: str = "main.js", cwd: Path | None = None, stdin: str | None = None,
        ) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": path, "MARKER": str(action.parent / "marker"), **(env or {})}
    return subprocess.run([NODE, str(action / script), *args], env=environ, cwd=cwd or action,
                          capture_output=True, text=True, input=stdin, check=False, timeout=60)


def report(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, done.stdout + done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _no_python_error(done: subprocess.CompletedProcess[str], action: Path) -> None:
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("::error::"), done.stdout
    for needle in ("PY_AWS_OIDC_PYTHON", "actions/setup-python", "container action", "3.10"):
        assert needle in lines[0]
    assert not (action.parent / "marker").exists(), "the program ran"


def test_runs_the_program_isolated_with_the_arguments(action: Path, tmp_path: Path) -> None:
    python = _python(11)
    got = report(run(action, "--help", "a b", path=str(_bin(tmp_path, "python3", python))))
    assert got["argv"] == ["--help", "a b"]
    assert (got["isolated"], got["no_site"], got["utf8"]) == (1, 1, 1)
    assert got["cwd"] == str(action)
    post = report(run(action, path=str(_bin(tmp_path, "python3", python)), script="post.js"))
    assert post["argv"] == ["post"]


def test_no_python_on_path(action: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    _no_python_error(run(action, path=str(empty)), action)


def test_a_too_old_python_is_not_used(action: Path, tmp_path: Path) -> None:
    old = _bin(tmp_path, "python3", _python(9))
    _no_python_error(run(action, path=str(old)), action)
    fake = _fake(tmp_path, "fake-old", version="3.9")
    _no_python_error(run(action, path=f"{fake}:{old}"), action)
    # The fake was asked with the isolation flags, and nothing else ran.
    assert (tmp_path / "fake-ran").read_text().startswith("-I -S -X utf8 -X py-aws-oidc-ready=3 ")


def test_a_python_that_refuses_the_flags_is_skipped(action: Path, tmp_path: Path) -> None:
    python2 = _bin(tmp_path, "python3", _python_path("2.7.18/bin/python2.7"))
    good = _bin(tmp_path, "python3.12", _python(12))
    done = run(action, "--x", path=f"{python2}:{good}")
    assert report(done)["version"] == [3, 12]
    assert report(done)["argv"] == ["--x"]


def test_the_windows_probe_asks_with_the_same_flags(tmp_path: Path) -> None:
    script = ("const l = require(process.argv[1]); "
              "console.log(JSON.stringify(process.argv.slice(2).map((p) => l.probe([p]))))")
    pythons = [_python(9), _python(10), _python(12), str(tmp_path / "missing")]
    done = subprocess.run([NODE, "-e", script, str(REPO_ROOT / "host" / "launch.js"), *pythons],
                          capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(done.stdout) == [False, True, True, False]


def test_a_later_suitable_python_is_found_after_an_old_one(action: Path, tmp_path: Path) -> None:
    old = _bin(tmp_path, "python3", _python(9))
    good = _bin(tmp_path, "python3.10", _python(10))
    got = report(run(action, path=f"{old}:{good}"))
    assert got["version"] == [3, 10]


def test_a_relative_path_entry_is_never_searched(action: Path, tmp_path: Path) -> None:
    # The working directory is the workspace (checked-out code): its bin/python3 must not run,
    # neither for the probe nor for the program.
    _fake(action, "bin")
    _fake(action, ".", name="python3")
    empty = tmp_path / "empty"
    empty.mkdir()
    _no_python_error(run(action, path=f"bin:.::{empty}"), action)
    assert not (action / "fake-ran").exists()
    good = _bin(tmp_path, "python3", _python(11))
    assert report(run(action, path=f"bin:{good}"))["version"] == [3, 11]
    assert not (action / "fake-ran").exists()


def test_py_aws_oidc_python_chooses_the_interpreter(action: Path, tmp_path: Path) -> None:
    path = str(_bin(tmp_path, "python3", _python(11)))
    chosen = _python(12)
    got = report(run(action, path=path, env={"PY_AWS_OIDC_PYTHON": chosen}))
    assert got["version"] == [3, 12]
    (action.parent / "marker").unlink()
    for bad in (_python(9), "python3", str(tmp_path / "missing")):
        done = run(action, path=path, env={"PY_AWS_OIDC_PYTHON": bad})
        _no_python_error(done, action)
        assert bad in done.stdout


def test_pythonpath_and_sitecustomize_have_no_effect(action: Path, tmp_path: Path) -> None:
    inject = tmp_path / "inject"
    inject.mkdir()
    for name in ("sitecustomize.py", "usercustomize.py", "injected.py", "json.py"):
        (inject / name).write_text(f"open({str(tmp_path / 'injected')!r}, 'a').write('x')\n")
    (inject / "zz.pth").write_text("import injected\n")
    env = {"PYTHONPATH": str(inject), "PYTHONSTARTUP": str(inject / "injected.py"),
           "PYTHONUSERBASE": str(inject), "PYTHONHOME": str(inject), "PYTHONINSPECT": "1"}
    got = report(run(action, path=str(_bin(tmp_path, "python3", _python(11))), env=env))
    assert not got["injected"]
    assert not (tmp_path / "injected").exists()


def test_exit_status_and_signals_pass_through(action: Path, tmp_path: Path) -> None:
    path = str(_bin(tmp_path, "python3", _python(11)))
    for code in (0, 1, 2, 3, 77):
        assert run(action, "exit", str(code), path=path).returncode == code
    done = run(action, "signal", str(int(signal.SIGTERM)), path=path)
    assert done.returncode == 128 + signal.SIGTERM


def test_stdio_and_a_large_environment_pass_through(action: Path, tmp_path: Path) -> None:
    path = str(_bin(tmp_path, "python3", _python(11)))
    done = run(action, "stdin", path=path, stdin="hello ü\n")
    assert (done.returncode, done.stdout, done.stderr) == (0, "HELLO Ü\n", "to stderr\n")
    # 1 MiB of variables (each below the kernel's 128 KiB limit for one string).
    big = {f"BIG_{i:02d}": (chr(ord("a") + i % 26) * (64 * 1024 - 16)) for i in range(16)}
    got = report(run(action, path=path, env=big))
    expected = hashlib.sha256(json.dumps(sorted(big.items())).encode()).hexdigest()
    assert (got["big_count"], got["big"]) == (16, expected)
    assert sum(len(v) for v in big.values()) > 1_000_000


def test_the_step_environment_reaches_the_program_unchanged(action: Path, tmp_path: Path) -> None:
    path = str(_bin(tmp_path, "python3", _python(11)))
    env = {"BIG_X": "spaces and = signs\tand tabs", "INPUT_AWS-REGION": "us-east-1"}
    got = report(run(action, path=path, env=env))
    assert got["big"] == hashlib.sha256(
        json.dumps([("BIG_X", env["BIG_X"])]).encode()).hexdigest()
    assert os.path.basename(got["executable"]).startswith("python3")
