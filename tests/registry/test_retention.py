"""Retention lists old versions that no alias protects."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from gogooku3.registry.retention import artifact_retention
from gogooku3.registry.versions import VersionInfo

NOW = datetime(2026, 12, 7, tzinfo=timezone.utc)


def version(n: int, age_days: int, *aliases: str) -> VersionInfo:
    return VersionInfo(name="m", version=str(n), created=NOW - timedelta(days=age_days), run_id=None,
                       source=f"models:/m-{n}", aliases=aliases)  # fmt: skip


def test_old_unaliased_versions_only_oldest_first():
    versions = [version(1, 800, "previous"), version(2, 700), version(3, 400), version(4, 364), version(5, 900, "champion")]
    assert [v.version for v in artifact_retention(versions, NOW)] == ["2", "3"]
    assert [v.version for v in artifact_retention(versions, NOW, keep_days=500)] == ["2"]
    assert [v.version for v in artifact_retention(versions, NOW, keep_days=0)] == ["2", "3", "4"]
