"""Alertmanager: the config is valid, every route has an amtool case, and alerts reach real loopback sinks."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from gogooku3.monitoring.render import compose, documents
from gogooku3.storage.s3_server import stop_pid
from tests.helpers import ROOT

CONFIG = ROOT / "ops" / "alertmanager" / "alertmanager.yml"
AM_PORT, SMTP_PORT, HTTP_PORT = 18510, 18511, 18512  # this suite's share of 18500-18549

# (labels of an alert, the receivers it must reach, in order); one case or more per route
ROUTE_CASES = [
    ({"alertname": "ApiDown", "severity": "critical", "team": "platform", "service": "api"}, ["pagerduty", "slack-platform"]),
    ({"alertname": "ApiLatencyP99High", "severity": "warning", "team": "platform", "service": "api"}, ["slack-platform"]),
    ({"alertname": "X", "severity": "info", "team": "platform", "service": "api"}, ["email-platform"]),
    ({"alertname": "JobFailed", "severity": "critical", "team": "ml", "service": "jobs"}, ["pagerduty", "slack-ml"]),
    ({"alertname": "JobStale", "severity": "warning", "team": "ml", "service": "jobs"}, ["slack-ml"]),
    ({"alertname": "X", "severity": "info", "team": "ml", "service": "model"}, ["email-ml"]),
    ({"alertname": "DataStale", "severity": "warning", "team": "data", "service": "data"}, ["slack-data"]),
    ({"alertname": "QuarantineSpike", "severity": "info", "team": "data", "service": "data"}, ["email-data"]),
    ({"alertname": "AuditChainBroken", "severity": "critical", "team": "security", "service": "security"},
     ["pagerduty", "slack-security"]),
    ({"alertname": "AuthFailuresHigh", "severity": "warning", "team": "security", "service": "security"},
     ["slack-security"]),
    ({"alertname": "X", "severity": "info", "team": "security", "service": "security"}, ["email-security"]),
    ({"alertname": "X", "severity": "warning", "team": "nobody", "service": "api"}, ["email-default"]),
]


def amtool(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("amtool")
    if exe is None:
        pytest.fail("amtool is not installed (apt-get install prometheus-alertmanager)")
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=60)


def test_amtool_check_config():
    out = amtool("check-config", str(CONFIG))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout


@pytest.mark.parametrize("labels, receivers", ROUTE_CASES, ids=[f"{c[0]['team']}-{c[0]['severity']}" for c in ROUTE_CASES])
def test_route(labels, receivers):
    out = amtool("config", "routes", "test", f"--config.file={CONFIG}", f"--verify.receivers={','.join(receivers)}",
                 *(f"{k}={v}" for k, v in labels.items()))  # fmt: skip
    assert out.returncode == 0, f"{labels} -> {out.stdout.strip()}, expected {receivers}"


def test_a_wrong_expectation_fails():
    out = amtool("config", "routes", "test", f"--config.file={CONFIG}", "--verify.receivers=slack-platform",
                 "severity=critical", "team=platform")  # fmt: skip
    assert out.returncode != 0


def test_every_route_has_a_case():
    """A route added to the config without a case here fails (the root's receiver included)."""
    route = yaml.safe_load(CONFIG.read_text())["route"]
    reached = {r for _, receivers in ROUTE_CASES for r in receivers}
    owned = [c["receiver"] for c in route["routes"]]
    assert len(owned) == len(set(owned)), "two routes share a receiver: a receiver's case would not cover both"
    for child in [route, *route["routes"]]:
        assert child["receiver"] in reached, f"route {child.get('matchers')} -> {child['receiver']} has no case"
    declared = {r["name"] for r in yaml.safe_load(CONFIG.read_text())["receivers"]}
    assert reached == declared


class Sinks:
    """A loopback SMTP server (aiosmtpd) and an HTTP server taking Slack and PagerDuty POSTs."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], str]] = []
        self.posts: list[tuple[str, dict]] = []

    def __enter__(self) -> Sinks:
        from aiosmtpd.controller import Controller

        sinks = self

        class Mail:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
                sinks.mails.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
                return "250 OK"

        class Http(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                sinks.posts.append((self.path, json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status": "success"}')

            def log_message(self, *args):
                pass

        self.smtp = Controller(Mail(), hostname="127.0.0.1", port=SMTP_PORT)
        self.smtp.start()
        self.http = ThreadingHTTPServer(("127.0.0.1", HTTP_PORT), Http)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.http.shutdown()
        self.http.server_close()
        self.smtp.stop()

    def slack(self) -> list[dict]:
        return [p for path, p in self.posts if path == "/slack"]

    def pagerduty(self) -> list[dict]:
        return [p for path, p in self.posts if path == "/pagerduty"]


def _wait(check, timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def _api(path: str, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{AM_PORT}{path}", method="POST" if body is not None else "GET",
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 - loopback
        return json.loads(resp.read() or b"null")


@pytest.fixture
def alertmanager(tmp_path: Path):
    """A real Alertmanager on loopback, config rendered for the loopback sinks; ended by its own PID."""
    exe = shutil.which("prometheus-alertmanager")
    if exe is None:
        pytest.fail("prometheus-alertmanager is not installed")
    (tmp_path / "slack_url").write_text(f"http://127.0.0.1:{HTTP_PORT}/slack")
    (tmp_path / "pd_key").write_text("test-routing-key-0123")
    cfg = compose([f"monitoring.routing.smtp_smarthost=127.0.0.1:{SMTP_PORT}", "monitoring.routing.smtp_require_tls=false",
                   "monitoring.routing.smtp_username=", f"monitoring.routing.pagerduty_url=http://127.0.0.1:{HTTP_PORT}/pagerduty",
                   "monitoring.routing.group_wait=1s", "monitoring.routing.group_interval=1s"])  # fmt: skip
    text = documents(cfg, {"slack": str(tmp_path / "slack_url"), "pagerduty": str(tmp_path / "pd_key")})
    config = tmp_path / "alertmanager.yml"
    config.write_text(text["alertmanager/alertmanager.yml"])
    proc = subprocess.Popen([exe, f"--config.file={config}", f"--storage.path={tmp_path / 'data'}",
                             f"--web.listen-address=127.0.0.1:{AM_PORT}", "--cluster.listen-address="],
                            stdout=open(tmp_path / "am.log", "wb"), stderr=subprocess.STDOUT)  # fmt: skip
    try:
        ready = _wait(lambda: proc.poll() is None and _ready(), 20)
        assert ready, (tmp_path / "am.log").read_text()
        yield proc
    finally:
        stop_pid(proc.pid, 5.0, proc)


def _ready() -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{AM_PORT}/-/ready", timeout=1) as resp:  # noqa: S310
            return resp.status == 200
    except OSError:
        return False


def _alert(labels: dict, summary: str) -> dict:
    return {"labels": labels, "annotations": {"summary": summary, "runbook": "see docs", "runbook_url": "docs/x"}}


@pytest.mark.slow
def test_alerts_arrive_at_email_slack_and_pagerduty_and_inhibition_holds(alertmanager):
    down, latency, spike = (c[0] for c in (ROUTE_CASES[0], ROUTE_CASES[1], ROUTE_CASES[7]))
    with Sinks() as sinks:
        _api("/api/v2/alerts", [_alert(down, "API down"), _alert(spike, "gate raw quarantined")])
        time.sleep(0.5)  # the source alert is known before its target arrives
        _api("/api/v2/alerts", [_alert(latency, "p99 high")])
        assert _wait(lambda: sinks.mails and sinks.slack() and sinks.pagerduty()), (sinks.mails, sinks.posts)

        pd = sinks.pagerduty()[0]
        assert pd["routing_key"] == "test-routing-key-0123" and pd["event_action"] == "trigger"
        assert pd["payload"]["summary"] == "ApiDown: API down" and pd["payload"]["severity"]
        slack = sinks.slack()[0]
        assert slack["channel"] == "#gogooku3-platform" and "ApiDown" in json.dumps(slack)
        to, content = sinks.mails[0]
        assert to == ["data@example.org"] and "QuarantineSpike" in content

        got = {a["labels"]["alertname"]: a["status"] for a in _api("/api/v2/alerts")}
        assert got["ApiLatencyP99High"]["state"] == "suppressed" and got["ApiLatencyP99High"]["inhibitedBy"]
        time.sleep(3)  # several group intervals: the inhibited alert still sends nothing
        assert not any("ApiLatencyP99High" in json.dumps(p) for _, p in sinks.posts)
        assert len(sinks.pagerduty()) == 1 and len(sinks.mails) == 1
