"""Storage fixtures: a chdb database of the test's own (chdb holds one path per process)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def chdb_olap(tmp_path: Path):
    from gogooku3.storage.olap import ChdbOlap

    olap = ChdbOlap(tmp_path / "olap", backups_dir=tmp_path / "olap_backups")
    olap.apply_schema()
    yield olap
    olap.close()
