"""`make monitor`'s stack: the three real servers start on loopback with the rendered configs,
their own PIDs are recorded, and stop ends exactly those."""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.request
from pathlib import Path

import pytest

from gogooku3.monitoring import render, stack

PORTS = {"prometheus_port": 18520, "pushgateway_port": 18521, "alertmanager_port": 18522}  # of 18500-18549
SECRET = "https://hooks.slack.example/T000/B000/canary-5d1e"


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback
        return json.loads(resp.read())


def _eventually(read, timeout_s: float = 15.0):
    """``read()`` once it is non-empty (Prometheus discovers its targets shortly after start)."""
    deadline = time.monotonic() + timeout_s
    while not (got := read()):
        assert time.monotonic() < deadline, "Prometheus discovered nothing"
        time.sleep(0.3)
    return got


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_start_records_the_servers_own_pids_and_stop_ends_exactly_them(tmp_path, monkeypatch):
    for name in stack.BINARIES.values():
        if shutil.which(name) is None:
            pytest.fail(f"{name} is not installed (apt-get install prometheus prometheus-alertmanager prometheus-pushgateway)")
    monkeypatch.setenv("GOGOOKU3_SLACK_WEBHOOK_URL", SECRET)
    monkeypatch.delenv("GOGOOKU3_SLACK_WEBHOOK_URL_FILE", raising=False)
    cfg = render.compose([f"monitoring.stack.{k}={v}" for k, v in PORTS.items()])
    secrets = stack.secret_files(cfg["monitoring"]["routing"], tmp_path / "alertmanager" / "secrets")
    render.render(cfg, tmp_path, secrets)
    slack_file = Path(secrets["slack"])
    assert slack_file.read_text() == SECRET and (slack_file.stat().st_mode & 0o777) == 0o600
    assert SECRET not in (tmp_path / "alertmanager" / "alertmanager.yml").read_text()

    pids = stack.start(cfg["monitoring"]["stack"], tmp_path)
    try:
        for name, pid in pids.items():
            assert int((tmp_path / f"{name}.pid").read_text()) == pid
            assert Path(os.readlink(f"/proc/{pid}/exe")).name == Path(stack.binary(name)).resolve().name
        base = f"http://127.0.0.1:{PORTS['prometheus_port']}"
        rules = _get(f"{base}/api/v1/rules")["data"]["groups"]
        n_alerts = sum(len(a) for a in render.rule_groups_of(cfg).values())
        assert sum(len(g["rules"]) for g in rules) == n_alerts
        ams = _eventually(lambda: _get(f"{base}/api/v1/alertmanagers")["data"]["activeAlertmanagers"])
        assert ams[0]["url"].startswith(f"http://127.0.0.1:{PORTS['alertmanager_port']}/")
        targets = _eventually(lambda: _get(f"{base}/api/v1/targets")["data"]["activeTargets"])
        assert {t["labels"]["job"] for t in targets} == {"api", "pushgateway"}
        with pytest.raises(Exception, match="already running"):
            stack.start(cfg["monitoring"]["stack"], tmp_path)
    finally:
        ended = stack.stop(tmp_path)
    assert sorted(ended) == sorted(pids.values())
    assert not any(_alive(p) for p in pids.values())
    assert not list(tmp_path.glob("*.pid")) and not slack_file.exists()
    assert stack.stop(tmp_path) == []  # nothing recorded: nothing ended
