"""backup -> verify -> restore on small real parts: files, chdb, an MLflow sqlite store."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from gogooku3.storage.backup import main
from gogooku3.storage.olap import ChdbOlap
from gogooku3.storage.olap_predictions import OlapPredictionStore
from tests.storage.test_olap_predictions import predictions


def make_sources(tmp_path: Path) -> dict[str, Path]:
    src = {k: tmp_path / "src" / k for k in ("objects", "conf", "runs", "olap")}
    (src["objects"] / "raw/2024").mkdir(parents=True)
    (src["objects"] / "raw/2024/daily.parquet").write_bytes(b"\x00PAR1" * 100)
    (src["objects"] / "features.txt").write_text("f")
    (src["conf"] / "model").mkdir(parents=True)
    (src["conf"] / "train.yaml").write_text("defaults: [model: lgbm]\n")
    (src["conf"] / "model/lgbm.yaml").write_text("lr: 0.1\n")
    for run in ("2026-01-01/10-00-00", "2026-01-02/11-00-00"):
        (src["runs"] / run / ".hydra").mkdir(parents=True)
        (src["runs"] / run / ".hydra/config.yaml").write_text(f"run: {run}\n")
        (src["runs"] / run / "big.log").write_text("not a config")
    with ChdbOlap(src["olap"]) as olap:
        olap.apply_schema()
        OlapPredictionStore(olap).write("predictions", predictions(date(2024, 1, 5), "v1", ["1301", "7203"]))
    db = tmp_path / "src/mlflow.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE runs (id TEXT, metric REAL)")
    con.executemany("INSERT INTO runs VALUES (?, ?)", [("a", 0.1), ("b", None)])
    con.commit()
    con.close()
    src["mlflow"] = db
    return src


def args_for(src: dict[str, Path]) -> list[str]:
    return ["--objects", str(src["objects"]), "--conf", str(src["conf"]), "--runs", str(src["runs"]),
            "--olap", str(src["olap"]), "--mlflow-db", str(src["mlflow"])]  # fmt: skip


def test_backup_verify_restore_round_trip(tmp_path, capsys):
    src = make_sources(tmp_path)
    out = tmp_path / "backup"
    assert main("backup", ["--to", str(out), *args_for(src)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "unverified"
    assert [e["key"] for e in manifest["parts"]["runs"]["entries"]] == [
        "2026-01-01/10-00-00/.hydra/config.yaml", "2026-01-02/11-00-00/.hydra/config.yaml"]  # fmt: skip
    assert manifest["parts"]["olap"]["tables"]["predictions"]["rows"] == 4
    assert manifest["parts"]["mlflow"]["tables"]["runs"]["rows"] == 2
    assert main("verify", [str(out)]) == 0
    assert "RTO" in capsys.readouterr().out
    assert json.loads((out / "manifest.json").read_text())["status"] == "verified"
    assert main("restore", [str(out), "--to", str(tmp_path / "back")]) == 0
    assert (tmp_path / "back/objects/raw/2024/daily.parquet").read_bytes() == b"\x00PAR1" * 100
    with ChdbOlap(tmp_path / "back/olap") as olap:
        got = OlapPredictionStore(olap).read("predictions")
    assert got.equals(predictions(date(2024, 1, 5), "v1", ["1301", "7203"]).sort("Date", "horizon", "rank", "Code"))


@pytest.mark.parametrize("damage", ["object", "olap", "mlflow"])
def test_verify_reports_a_damaged_backup(tmp_path, damage, capsys):
    src = make_sources(tmp_path)
    out = tmp_path / "backup"
    main("backup", ["--to", str(out), *args_for(src)])
    if damage == "object":
        (out / "objects/features.txt").write_text("g")
    elif damage == "olap":
        manifest = json.loads((out / "manifest.json").read_text())
        manifest["parts"]["olap"]["tables"]["predictions"]["rows"] = 5  # the backup no longer matches its record
        (out / "manifest.json").write_text(json.dumps(manifest))
    else:
        con = sqlite3.connect(out / "mlflow/mlflow.db")
        con.execute("UPDATE runs SET metric = 0.2 WHERE id = 'a'")
        con.commit()
        con.close()
    assert main("verify", [str(out)]) == 1
    assert "difference:" in capsys.readouterr().err
    assert json.loads((out / "manifest.json").read_text())["status"] == "failed"


def test_restore_never_overwrites_and_bad_input_is_one_line(tmp_path, capsys):
    src = make_sources(tmp_path)
    out = tmp_path / "backup"
    main("backup", ["--to", str(out), "--conf", str(src["conf"])])
    assert main("restore", [str(out)]) == 2  # the source still exists
    assert "exists and is not empty" in capsys.readouterr().err
    assert main("backup", ["--to", str(out), "--conf", str(src["conf"])]) == 2
    assert main("backup", ["--to", str(tmp_path / "b2"), "--objects", str(tmp_path / "nope")]) == 2
    assert "--objects" in capsys.readouterr().err and not (tmp_path / "b2").exists()
    assert main("verify", [str(tmp_path)]) == 2


@pytest.fixture
def pg_databases():
    """Two databases of the test's own on the machine's PostgreSQL (trust auth), dropped after."""
    import os

    import psycopg2

    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    names = [f"g3test_backup_{os.getpid()}_{i}" for i in range(2)]
    con = psycopg2.connect(admin)
    con.autocommit = True
    for n in names:
        con.cursor().execute(f'DROP DATABASE IF EXISTS "{n}"')
        con.cursor().execute(f'CREATE DATABASE "{n}"')
    yield admin, [f"postgresql://postgres@127.0.0.1:5432/{n}" for n in names]
    for n in names:
        con.cursor().execute(f'DROP DATABASE IF EXISTS "{n}"')
    con.close()


def test_postgresql_store_is_dumped_verified_in_scratch_and_restored(pg_databases, tmp_path):
    import psycopg2

    admin, (source, target) = pg_databases
    con = psycopg2.connect(source)
    con.cursor().execute("CREATE TABLE runs (id text primary key, metric real)")
    con.cursor().execute("INSERT INTO runs VALUES ('a', 0.1), ('b', NULL)")
    con.commit()
    con.close()
    out = tmp_path / "backup"
    assert main("backup", ["--to", str(out), "--mlflow-db", source]) == 0
    assert json.loads((out / "manifest.json").read_text())["parts"]["mlflow"]["tables"]["runs"]["rows"] == 2
    assert main("verify", [str(out), "--pg-admin-uri", admin]) == 0
    assert main("restore", [str(out), "--mlflow-db", target]) == 0
    con = psycopg2.connect(target)
    cur = con.cursor()
    cur.execute("SELECT id, metric FROM runs ORDER BY id")
    assert [(r[0], None if r[1] is None else round(r[1], 3)) for r in cur.fetchall()] == [("a", 0.1), ("b", None)]
    con.close()


def test_object_store_on_s3_backed_up_verified_and_restored_into_a_fresh_bucket(weed, s3_store, tmp_path, monkeypatch):
    """The object store is backed up through the ObjectStore interface, so an S3 store works too."""
    from gogooku3.storage.objects import S3ObjectStore

    monkeypatch.setenv("GOGOOKU3_S3_ENDPOINT", weed.endpoint)
    s3_store.put("raw/jquants/2024-01-05.parquet", b"\x00PAR1" * 300, classification="public")
    s3_store.put("features/v1/part-0.parquet", b"features" * 50)
    before = {i.key: (i.sha256, i.size, i.classification) for i in s3_store.list()}
    source = f"s3://{s3_store.bucket}/{s3_store.prefix}"
    out = tmp_path / "backup"
    assert main("backup", ["--to", str(out), "--objects-uri", source]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert {e["key"]: e["sha256"] for e in manifest["parts"]["object_store"]["entries"]} == {
        k: v[0] for k, v in before.items()}  # fmt: skip
    assert main("verify", [str(out)]) == 0
    assert json.loads((out / "manifest.json").read_text())["status"] == "verified"

    fresh = S3ObjectStore(f"{s3_store.bucket}-r", "restored", endpoint_url=weed.endpoint)
    assert main("restore", [str(out), "--objects-uri", f"s3://{fresh.bucket}/restored"]) == 0
    assert {i.key: (i.sha256, i.size, i.classification) for i in fresh.list()} == before
    assert fresh.get("features/v1/part-0.parquet") == b"features" * 50  # read checks the sha256
    # The restore refuses to write over a store that is not empty.
    assert main("restore", [str(out), "--objects-uri", f"s3://{fresh.bucket}/restored"]) == 2


def test_object_store_backup_fails_on_a_tampered_object(local_store, tmp_path, capsys):
    local_store.put("a.txt", b"alpha")
    (local_store.root / "a.txt").write_bytes(b"alphx")
    assert main("backup", ["--to", str(tmp_path / "b"), "--objects-uri", str(local_store.root)]) == 2
    assert "a.txt" in capsys.readouterr().err
