"""The audit chain: a deleted, edited or cut-off line is found and named; report and shipping."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from gogooku3.serving.audit import AuditLog, report, ship, verify
from tests.helpers import ROOT


def _log(path, n=6):
    log = AuditLog(path)
    for i in range(n):
        status = [200, 401, 200, 403, 429, 200][i % 6]
        log.append({"time": f"2026-12-0{1 + i % 3}T01:00:00+00:00", "key_id": "ab" * 8 if status != 401 else None,
                    "method": "GET", "route": "/v1/predictions/{date}", "params": {"date": "2026-12-01"},
                    "status": status, "latency_seconds": 0.002})  # fmt: skip
    log.close()
    return path


def _lines(path):
    return path.read_text().splitlines(keepends=True)


def test_an_intact_chain_verifies_and_a_restart_extends_it(tmp_path):
    path = _log(tmp_path / "a.jsonl")
    first = verify(path)
    assert first.ok and first.lines == 6
    _log(path, 2)  # a second process continues the same chain
    result = verify(path)
    assert result.ok and result.lines == 8, result


def test_a_deleted_line_is_found_and_named(tmp_path):
    path = _log(tmp_path / "a.jsonl")
    lines = _lines(path)
    path.write_text("".join(lines[:2] + lines[3:]))
    result = verify(path)
    assert not result.ok and result.bad_line == 3 and "removed" in result.reason


def test_an_edited_line_is_found_even_when_its_own_hash_is_recomputed(tmp_path):
    from gogooku3.serving.audit import line_hash

    path = _log(tmp_path / "a.jsonl")
    lines = _lines(path)
    rec = json.loads(lines[1])
    rec["status"] = 200  # hide a denial
    path.write_text("".join(lines[:1] + [json.dumps(rec) + "\n"] + lines[2:]))
    result = verify(path)
    assert not result.ok and result.bad_line == 2 and "edited" in result.reason
    rec["hash"] = line_hash(rec)  # a careful forger fixes the line's own hash: the next line breaks
    path.write_text("".join(lines[:1] + [json.dumps(rec) + "\n"] + lines[2:]))
    result = verify(path)
    assert not result.ok and result.bad_line == 3


def test_lines_cut_off_the_end_show_against_the_recorded_last_hash(tmp_path):
    path = _log(tmp_path / "a.jsonl")
    last = verify(path).last_hash
    path.write_text("".join(_lines(path)[:-1]))
    assert verify(path).ok  # alone, a shorter chain is a valid chain
    assert not verify(path, expected_last_hash=last).ok


def test_report_counts_per_key_route_and_denials_in_the_period(tmp_path):
    path = _log(tmp_path / "a.jsonl")
    rep = report(path)
    assert rep["requests"] == 6 and rep["chain"]["ok"]
    assert {d["kind"]: d["count"] for d in rep["denials"]} == {"auth_failed": 1, "scope_denied": 1, "rate_limited": 1}
    from datetime import date

    day1 = report(path, since=date(2026, 12, 1), until=date(2026, 12, 1))
    assert day1["requests"] == 2  # lines 1 and 4


def test_report_command_prints_and_exits_1_on_a_broken_chain(tmp_path):
    path = _log(tmp_path / "a.jsonl")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-m", "gogooku3.serving.audit", "report", "--since", "2026-12-01", "--until", "2026-12-31"]
    ok = subprocess.run([*cmd, str(path)], capture_output=True, text=True, env=env, timeout=60)
    assert ok.returncode == 0 and "chain ok (6 lines)" in ok.stdout and "scope_denied" in ok.stdout, ok.stderr
    lines = _lines(path)
    path.write_text("".join(lines[:4] + lines[5:]))
    broken = subprocess.run([*cmd, "--json", str(path)], capture_output=True, text=True, env=env, timeout=60)
    assert broken.returncode == 1 and json.loads(broken.stdout)["chain"]["bad_line"] == 5
    missing = subprocess.run([*cmd, str(tmp_path / "nope.jsonl")], capture_output=True, text=True, env=env, timeout=60)
    assert missing.returncode == 2 and "nope.jsonl does not exist" in missing.stderr


class _DirStore:
    """The put() side of an ObjectStore, writing under a folder (the S3 backend is another helper's)."""

    def __init__(self, root):
        self.root = root

    def put(self, key, data: bytes, **kw):
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def test_ship_puts_the_log_under_the_audit_prefix(tmp_path):
    path = _log(tmp_path / "a.jsonl")
    store = _DirStore(tmp_path / "bucket")
    key = ship(path, store)
    assert key.startswith("audit/a/0000000006-") and (tmp_path / "bucket" / key).read_bytes() == path.read_bytes()
    assert ship(path, store) == key  # same content, same object
    path.write_text("".join(_lines(path)[1:]))
    assert ship(path, store).endswith("-broken.jsonl")  # tampered logs are shipped as evidence, marked


def test_the_app_reports_a_broken_chain_at_start_and_on_demand(tmp_path, store_root, tracking_uri):
    from fastapi.testclient import TestClient

    from gogooku3.serving.app import create_app
    from tests.serving.conftest import make_settings

    settings, keys = make_settings(tmp_path, store_root, tracking_uri)
    _log(settings.audit_log)
    lines = _lines(settings.audit_log)
    settings.audit_log.write_text("".join(lines[:2] + lines[3:]))
    with TestClient(create_app(settings)) as client:
        text = client.get("/metrics").text
        assert "gogooku3_audit_chain_valid 0.0" in text
        assert 'gogooku3_security_events_total{kind="audit_chain_broken"} 1.0' in text
        r = client.get("/v1/admin/audit", headers={"X-API-Key": keys.admin})
        assert r.status_code == 200 and r.json()["ok"] is False and "line 3" in r.json()["detail"]
    events = [json.loads(x) for x in settings.security_log.read_text().splitlines()]
    assert [e["kind"] for e in events] == ["audit_chain_broken", "audit_chain_broken"]
