"""chdb behind the Olap interface: schema file, frames in and out, TTL and BACKUP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from gogooku3.errors import ConfigError
from gogooku3.storage.olap import ChdbOlap, ClickHouseOlap, schema_statements


def metrics(run: str, n: int, when: datetime) -> pl.DataFrame:
    return pl.DataFrame(
        {"run_id": [run] * n, "fold": [0] * n, "step": list(range(n)), "name": ["loss"] * n,
         "value": [1.0 / (i + 1) for i in range(n)], "logged_at": [when] * n},
        schema={"run_id": pl.String, "fold": pl.Int32, "step": pl.Int64, "name": pl.String,
                "value": pl.Float64, "logged_at": pl.Datetime("ms", "UTC")},
    )  # fmt: skip


def test_schema_file_defines_the_four_tables_partitioned_by_month(chdb_olap):
    tables = chdb_olap.query("SELECT name, partition_key FROM system.tables WHERE database = 'gogooku3' ORDER BY name")
    assert tables["name"].to_list() == ["predictions", "quality", "realized", "training_metrics"]
    assert all(k.startswith("toYYYYMM(") for k in tables["partition_key"])
    assert len(schema_statements("x")) == 5 and all("gogooku3" not in s for s in schema_statements("x"))


def test_frames_round_trip_with_parameters(chdb_olap):
    now = datetime.now(UTC).replace(microsecond=0)
    chdb_olap.insert("training_metrics", metrics("run-a", 5, now))
    chdb_olap.insert("training_metrics", metrics("run-b", 3, now))
    got = chdb_olap.query(
        "SELECT step, value FROM gogooku3.training_metrics WHERE run_id = {r:String} ORDER BY step", {"r": "run-b"}
    )
    assert got["step"].to_list() == [0, 1, 2] and got["value"].to_list() == [1.0, 0.5, 1.0 / 3]


def test_training_metrics_older_than_six_months_are_dropped(chdb_olap):
    now = datetime.now(UTC).replace(microsecond=0)
    chdb_olap.insert("training_metrics", metrics("old", 4, now - timedelta(days=200)))
    chdb_olap.insert("training_metrics", metrics("new", 4, now - timedelta(days=20)))
    chdb_olap.execute("OPTIMIZE TABLE gogooku3.training_metrics FINAL")
    left = chdb_olap.query("SELECT DISTINCT run_id FROM gogooku3.training_metrics")
    assert left["run_id"].to_list() == ["new"]


def test_backup_and_restore_need_the_allowed_path(tmp_path):
    with ChdbOlap(tmp_path / "db", backups_dir=tmp_path / "bk") as olap:
        olap.apply_schema()
        olap.insert("training_metrics", metrics("r", 3, datetime.now(UTC)))
        olap.execute(f"BACKUP DATABASE gogooku3 TO File('{tmp_path}/bk/one/')")
    with ChdbOlap(tmp_path / "db2") as olap:  # no backups_dir: the engine refuses
        with pytest.raises(Exception, match="allowed_path"):
            olap.execute(f"RESTORE DATABASE gogooku3 FROM File('{tmp_path}/bk/one/')")
    with ChdbOlap(tmp_path / "db3", backups_dir=tmp_path / "bk") as olap:
        olap.execute(f"RESTORE DATABASE gogooku3 FROM File('{tmp_path}/bk/one/')")
        assert olap.query("SELECT count() AS n FROM gogooku3.training_metrics")["n"][0] == 3


def test_clickhouse_server_url_is_checked_on_construction():
    assert ClickHouseOlap("http://default:pw@127.0.0.1:18499").database == "gogooku3"
    with pytest.raises(ConfigError, match="olap url"):
        ClickHouseOlap("tcp://host:9000")
