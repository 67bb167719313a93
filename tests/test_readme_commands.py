"""The README is executable: every command in its code blocks runs, on small data.

This file runs the commands that train; tests/test_readme_tools.py runs the others (two
files, so the suite's two workers share them). `pytest tests/test_readme_*.py -v` lists
each command as a test id; the changes
made to run it in the suite (appended size overrides, the test's own store and ports)
are printed by ``test_every_readme_command_has_a_plan``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.readme_commands import ROOT, Command, Plan, is_training, plan, readme_commands

COMMANDS = readme_commands()
JQUANTS_PORT = "8080"  # the port the README's J-Quants commands name


def test_every_readme_command_has_a_plan(tmp_path: Path) -> None:
    assert len(COMMANDS) >= 15, [c.text for c in COMMANDS]
    for command in COMMANDS:
        p = plan(command, tmp_path)  # raises for a command the suite does not know how to run
        print(f"{command.text}\n    runs with: {', '.join(p.changes) or 'nothing changed'}")


def test_parser_reads_continuations_env_and_comments(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("text\n```bash\nA=1 python train.py x=1 \\\n    y=2   # note\n# only a comment\n```\n"
                      "```python\nprint('not a command')\n```\n")
    (command,) = readme_commands(readme)
    assert command.argv == ("python", "train.py", "x=1", "y=2") and command.env == (("A", "1"),)


def test_an_unknown_command_fails_the_suite(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not covered"):
        plan(Command("python scripts/nosuch.py", ("python", "scripts/nosuch.py")), tmp_path)


def _free_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def _with_port(argv: list[str], old: str, new: str) -> list[str]:
    return [a.replace(old, new) for a in argv]


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    out = log.open("w")
    return subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)  # its own group: the server and its children end together


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 120.0,
               headers: dict[str, str] | None = None) -> int:
    """The HTTP status the server answers ``url`` with (any answer counts as up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"no answer from {url} within {timeout:.0f}s: {log.read_text()[-2000:]}")


def _run(p: Plan, env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess:
    result = subprocess.run(p.argv, cwd=ROOT, env={**os.environ, **p.env, **env}, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"{' '.join(p.argv)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def quotes_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A HOME holding ~/quotes.parquet (a small synthetic market's quotes), as the README assumes."""
    from gogooku3.data.synthetic import SyntheticMarketSource

    home = tmp_path_factory.mktemp("home")
    market = SyntheticMarketSource(n_stocks=40, start="2021-06-01", end="2022-12-31", seed=3).load()
    market.quotes.write_parquet(home / "quotes.parquet")
    return home


@pytest.fixture(scope="module")
def trained_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """An output folder with one small finished run (for reproduce and compare), and its run id."""
    from tests.helpers import mlflow_runs

    out = tmp_path_factory.mktemp("store")
    train = plan(Command("python train.py", ("python", "train.py")), out)
    _run(train, {})
    return out, str(mlflow_runs(out).iloc[0]["run_id"])


@pytest.fixture(scope="module")
def jquants_server(tmp_path_factory: pytest.TempPathFactory):
    """The README's loopback J-Quants server, on a free port instead of 8080; yields the port."""
    (command,) = [c for c in COMMANDS if "gogooku3.data.jquants.server" in c.argv]
    out = tmp_path_factory.mktemp("jquants")
    port = _free_port()
    p = plan(command, out)
    log = out / "server.log"
    process = _start(_with_port(p.argv, JQUANTS_PORT, port), p.env, log)
    try:
        _wait_http(f"http://127.0.0.1:{port}/v2/markets/calendar", process, log)
        yield port
    finally:
        _stop(process)


TRAINING = [c for c in COMMANDS if is_training(c)]


@pytest.mark.slow
@pytest.mark.parametrize("command", TRAINING, ids=[c.text for c in TRAINING])
def test_readme_training_command_runs(command: Command, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    run_readme_command(command, tmp_path, request)


def run_readme_command(command: Command, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Run one README command as :func:`plan` says; servers are started, probed over HTTP and ended."""
    out = tmp_path
    p = plan(command, out)
    env: dict[str, str] = {}
    if p.needs_run_id or "scripts/compare_runs.py" in command.argv:
        out, run_id = request.getfixturevalue("trained_store")
        p = plan(command, out)
        if p.needs_run_id:
            p.argv.insert(2, run_id)
    if "data=parquet" in command.argv:
        env["HOME"] = str(request.getfixturevalue("quotes_home"))
    if p.needs_jquants_server:
        port = request.getfixturevalue("jquants_server")
        p.argv = _with_port(p.argv, JQUANTS_PORT, port)
        env.setdefault("JQUANTS_API_KEY", "demo")
    if p.server:
        port = _free_port()
        log = tmp_path / "server.log"
        headers = {}
        if "mlflow-ui" in command.argv:
            argv, url = p.argv + [f"MLFLOW_PORT={port}"], f"http://127.0.0.1:{port}/"
        else:  # the J-Quants server: asked with the key the README starts it with
            argv, url = _with_port(p.argv, JQUANTS_PORT, port), f"http://127.0.0.1:{port}/v2/markets/calendar"
            headers["x-api-key"] = argv[argv.index("--api-key") + 1]
        process = _start(argv, {**p.env, **env}, log)
        try:
            assert _wait_http(url, process, log, headers=headers) == 200
        finally:
            _stop(process)
        return
    _run(p, env)
