"""A canary key sent to the API appears in no log, audit line, metric, key file or stored file."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from tests.serving.conftest import DAYS


def _all_bytes(*roots: Path) -> bytes:
    return b"".join(p.read_bytes() for root in roots for p in sorted(root.rglob("*")) if p.is_file())


def test_canary_and_real_keys_leave_no_trace(served, store_root, caplog, capfd):
    client, settings, keys = served
    caplog.set_level(logging.DEBUG)
    canary_secret = secrets.token_urlsafe(32)
    canary = f"g3_{keys.reader.split('_')[1]}_{canary_secret}"  # a real key id with a wrong secret
    loose = f"g3_{'c' * 16}_{canary_secret}"
    for key in (canary, loose, "g3_" + canary_secret):
        assert client.get(f"/v1/predictions/{DAYS[0]}", headers={"X-API-Key": key}).status_code == 401
    # a key pasted into parameters is redacted from the audit line
    client.get("/v1/predictions/latest", params={"codes": canary, "api_key": canary}, headers={"X-API-Key": keys.reader})
    client.get(f"/v1/predictions/{canary}", headers={"X-API-Key": keys.reader})
    assert client.get(f"/v1/predictions/{DAYS[0]}", headers={"X-API-Key": keys.reader}).status_code == 200
    metrics = client.get("/metrics").text.encode()
    out, err = capfd.readouterr()
    stored = _all_bytes(settings.audit_log.parent, store_root)
    # every server-side log record (httpx's are the test client's own request lines)
    server_logs = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    everything = stored + metrics + out.encode() + err.encode() + server_logs.encode()
    assert settings.audit_log.stat().st_size > 0 and settings.security_log.stat().st_size > 0
    for needle in (canary_secret, keys.reader.split("_", 2)[2], keys.admin.split("_", 2)[2]):
        assert needle.encode() not in everything
    assert b"[redacted]" in settings.audit_log.read_bytes()
