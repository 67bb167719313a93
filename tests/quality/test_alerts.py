"""Failed gates alert through a real loopback HTTP webhook; the URL never reaches any output."""

from __future__ import annotations

import dataclasses
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import polars as pl
import pytest

from gogooku3.quality import QualityGateError

SECRET = "t0ps3cr3t-token"


@pytest.fixture
def webhook():
    """A real HTTP server on 127.0.0.1 that records every POSTed JSON body."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "type": self.headers["Content-Type"], "json": json.loads(body)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/{SECRET}", received
    server.shutdown()
    server.server_close()


def _duplicated(market):
    return dataclasses.replace(market, quotes=pl.concat([market.quotes, market.quotes.head(2)]))


def _all_text(directory) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in directory.rglob("*") if p.is_file())


def test_failed_gate_posts_json_to_webhook(gates_for, market, webhook, caplog):
    url, received = webhook
    gates = gates_for("default", f"quality.alert_webhook_url='{url}'", docs=True)
    with pytest.raises(QualityGateError) as info:
        gates.raw(_duplicated(market))
    assert len(received) == 1
    post = received[0]
    assert post["type"] == "application/json" and post["path"].endswith(SECRET)
    body = post["json"]
    assert body["gate"] == "raw" and body["status"] == "failed"
    assert [f["check"] for f in body["failed_expectations"]] == ["duplicate_keys"]
    assert body["message"] == str(info.value)
    assert SECRET not in str(info.value) and SECRET not in caplog.text
    assert SECRET not in _all_text(gates.out_dir)


def test_webhook_url_from_environment_and_passing_gate_is_silent(gates_for, market, webhook, monkeypatch):
    url, received = webhook
    monkeypatch.setenv("GOGOOKU_TEST_QUALITY_WEBHOOK", url)
    gates = gates_for("default", "quality.alert_webhook_url_env=GOGOOKU_TEST_QUALITY_WEBHOOK")
    gates.raw(market)
    assert received == []
    with pytest.raises(QualityGateError):
        gates.processed(dataclasses.replace(market, quotes=pl.concat([market.quotes, market.quotes.head(1)])))
    assert [r["json"]["gate"] for r in received] == ["processed"]
    assert SECRET not in _all_text(gates.out_dir)


def test_unreachable_webhook_does_not_hide_the_gate_error(gates_for, market, caplog):
    gates = gates_for("default", f"quality.alert_webhook_url='http://127.0.0.1:9/{SECRET}'",
                      "quality.alert_timeout_s=2")
    with pytest.raises(QualityGateError, match="duplicate_keys"):
        gates.raw(_duplicated(market))
    assert "webhook failed" in caplog.text and SECRET not in caplog.text


def test_custom_hook_is_pluggable(gates_for, market):
    seen = []
    gates = gates_for("default", alert_hooks=[seen.append])
    with pytest.raises(QualityGateError):
        gates.raw(_duplicated(market))
    assert [r.gate for r in seen] == ["raw"]
