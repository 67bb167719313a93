"""Retention under a moved clock: each class goes at its own age; locked audit objects stay."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import asdict
from datetime import datetime, timedelta, timezone

from gogooku3.config.retention import Retention
from gogooku3.storage.retention import expired_model_versions, plan, sweep
from tests.helpers import ROOT

RULES = {name: asdict(rule) for name, rule in Retention().classes.items()}
YEAR = timedelta(days=365)


def _fill(store, **put_kwargs):
    store.put("raw/jquants/bars/date=2024-01-04.parquet", b"raw")
    store.put("features/panel.parquet", b"feat")
    store.put("audit/2026/log.jsonl", b"audit", **put_kwargs)
    store.put("scratch/other.bin", b"no class")  # not in the table: never touched


def test_each_class_goes_at_its_own_age_local(local_store):
    _fill(local_store)
    start = datetime.now(timezone.utc)
    keys = lambda: [i.key for i in local_store.list()]  # noqa: E731
    assert plan(local_store, RULES, start + YEAR) == []
    gone = sweep(local_store, RULES, start + 2.1 * YEAR, dry_run=False)
    assert [(d.data_class, d.key, d.action) for d in gone] == [
        ("processed_features", "features/panel.parquet", "deleted")]
    gone = sweep(local_store, RULES, start + 3.1 * YEAR, dry_run=False)
    assert [d.key for d in gone] == ["audit/2026/log.jsonl"]
    assert keys() == ["raw/jquants/bars/date=2024-01-04.parquet", "scratch/other.bin"]
    gone = sweep(local_store, RULES, start + 8 * YEAR, dry_run=False)
    assert [d.key for d in gone] == ["raw/jquants/bars/date=2024-01-04.parquet"]
    assert keys() == ["scratch/other.bin"]


def test_dry_run_deletes_nothing(local_store):
    _fill(local_store)
    listed = sweep(local_store, RULES, datetime.now(timezone.utc) + 8 * YEAR, dry_run=True)
    assert {d.data_class for d in listed} == {"raw_market_data", "processed_features", "audit_logs"}
    assert all(d.action == "delete" and d.age_days > d.keep_days for d in listed)
    assert len(local_store.list()) == 4


def test_eight_years_on_s3_keeps_locked_audit(s3_store):
    until = datetime.now(timezone.utc) + timedelta(days=2)
    _fill(s3_store, retain_until=until)
    done = sweep(s3_store, RULES, datetime.now(timezone.utc) + 8 * YEAR, dry_run=False)
    actions = {d.key: d.action for d in done}
    assert actions == {
        "raw/jquants/bars/date=2024-01-04.parquet": "deleted",
        "features/panel.parquet": "deleted",
        "audit/2026/log.jsonl": "kept-locked",
    }
    assert [i.key for i in s3_store.list()] == ["audit/2026/log.jsonl", "scratch/other.bin"]
    assert s3_store.get("audit/2026/log.jsonl") == b"audit"


def test_model_versions_never_an_aliased_one():
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    versions = [("1", now - 2 * YEAR, ["champion"]), ("2", now - 2 * YEAR, []),
                ("3", now - timedelta(days=30), []), ("4", now - 3 * YEAR, ["challenger"])]  # fmt: skip
    assert expired_model_versions(versions, 365, now) == ["2"]


def test_cli_dry_run_lists_why(tmp_path):
    from gogooku3.storage.objects import LocalObjectStore

    store = LocalObjectStore(tmp_path / "objects")
    store.put("raw/a.bin", b"a")
    store.put("features/b.bin", b"b")
    now = (datetime.now(timezone.utc) + 3 * YEAR).isoformat()
    cmd = [sys.executable, "-m", "gogooku3.storage", "retention", "--dry-run", "--now", now,
           f"storage.objects.root={tmp_path / 'objects'}"]  # fmt: skip
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "features/b.bin" in out.stdout and "processed_features" in out.stdout
    assert "raw/a.bin" not in out.stdout
    assert "enforced by ClickHouse TTL" in out.stdout
    assert "would delete 1" in out.stdout
    assert store.exists("features/b.bin")
    bad = subprocess.run([*cmd[:6], "yesterday"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--now=yesterday" in bad.stderr
    typo = subprocess.run([*cmd[:5], "storage=nosuch"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert typo.returncode == 2 and len(typo.stderr.strip().splitlines()) == 1 and "storage" in typo.stderr
