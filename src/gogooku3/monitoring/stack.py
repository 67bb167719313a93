"""The local monitoring stack: Prometheus, the Pushgateway and Alertmanager on loopback.

Each server is started directly (no shell), so the PID recorded under the stack's folder is
the server's own, and :func:`stop` ends exactly those PIDs (``storage.s3_server.stop_pid``).
Secrets for Alertmanager's receivers are written from the environment to 0600 files next to
its config (or taken from ``<NAME>_FILE``), never into the config itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gogooku3.errors import ConfigError
from gogooku3.monitoring.alertmanager import SECRET_FILES, SECRETS_DIR
from gogooku3.storage.s3_server import stop_pid

BINARIES = {"prometheus": "prometheus", "pushgateway": "prometheus-pushgateway",
            "alertmanager": "prometheus-alertmanager"}  # Debian's names  # fmt: skip
SECRET_ENVS = {"slack": "slack_webhook_env", "pagerduty": "pagerduty_key_env", "smtp": "smtp_password_env"}


def binary(name: str) -> str:
    found = shutil.which(BINARIES[name])
    if not found:
        raise ConfigError(f"{BINARIES[name]} is not installed (apt-get install prometheus prometheus-alertmanager "
                          "prometheus-pushgateway)")  # fmt: skip
    return found


def unset_secrets(routing: Mapping[str, Any]) -> list[str]:
    """The secret environment variables set neither directly nor as ``<NAME>_FILE``."""
    envs = [routing[key] for key in SECRET_ENVS.values()]
    return [e for e in envs if not (os.environ.get(e) or os.environ.get(f"{e}_FILE"))]


def secret_files(routing: Mapping[str, Any], secret_dir: Path) -> dict[str, str]:
    """kind -> file Alertmanager reads: ``$NAME_FILE`` when set, else ``$NAME`` written to a 0600 file."""
    out: dict[str, str] = {}
    secret_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for kind, key in SECRET_ENVS.items():
        env = routing[key]
        path = secret_dir / SECRET_FILES[kind]
        if os.environ.get(f"{env}_FILE"):
            out[kind] = str(Path(os.environ[f"{env}_FILE"]).resolve())
        else:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(os.environ.get(env, ""))
            out[kind] = str(path)
    return out


def commands(stack: Mapping[str, Any], out: Path) -> dict[str, list[str]]:
    h = stack["host"]
    return {
        "pushgateway": [binary("pushgateway"), f"--web.listen-address={h}:{stack['pushgateway_port']}",
                        f"--persistence.file={out / 'pushgateway' / 'metrics.db'}"],
        "alertmanager": [binary("alertmanager"), f"--config.file={out / 'alertmanager' / 'alertmanager.yml'}",
                         f"--storage.path={out / 'alertmanager' / 'data'}",
                         f"--web.listen-address={h}:{stack['alertmanager_port']}", "--cluster.listen-address="],
        "prometheus": [binary("prometheus"), f"--config.file={out / 'prometheus' / 'prometheus.yml'}",
                       f"--storage.tsdb.path={out / 'prometheus' / 'data'}",
                       f"--web.listen-address={h}:{stack['prometheus_port']}", "--web.enable-lifecycle"],
    }  # fmt: skip


def ready_url(name: str, stack: Mapping[str, Any]) -> str:
    port = stack[f"{name}_port"]
    return f"http://{stack['host']}:{port}/-/ready"


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:  # noqa: S310 - loopback http
            return resp.status == 200
    except OSError:
        return False


def start(stack: Mapping[str, Any], out: Path, timeout_s: float = 30.0) -> dict[str, int]:
    """Start the three servers with the configs rendered under ``out``; name -> PID (also in <name>.pid)."""
    running = [p for p in (out / f"{name}.pid" for name in BINARIES) if p.is_file()]
    if running:  # before starting anything: a failed start must not end the running stack
        raise ConfigError(f"{running[0]}: the stack is already running (make monitor-stop first)")
    pids: dict[str, int] = {}
    for folder in ("prometheus/data", "alertmanager/data", "pushgateway"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    try:
        for name, cmd in commands(stack, out).items():
            pid_file = out / f"{name}.pid"
            with open(out / f"{name}.log", "ab") as log:
                proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)  # fmt: skip
            pids[name] = proc.pid
            pid_file.write_text(f"{proc.pid}\n")
            deadline = time.monotonic() + timeout_s
            while not _ready(ready_url(name, stack)):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not become ready on {ready_url(name, stack)}; see {out / name}.log")
                time.sleep(0.2)
    except BaseException:
        stop(out)
        raise
    return pids


def stop(out: Path) -> list[int]:
    """End exactly the PIDs recorded under ``out``; the PIDs that were recorded."""
    ended = []
    for name in BINARIES:
        pid_file = out / f"{name}.pid"
        if pid_file.is_file():
            pid = int(pid_file.read_text().split()[0])
            stop_pid(pid, grace_s=5.0)
            try:  # reap it when it is our own child (start() in this process)
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            pid_file.unlink()
            ended.append(pid)
    shutil.rmtree(out / "alertmanager" / SECRETS_DIR, ignore_errors=True)  # the 0600 copies of env secrets
    return ended
