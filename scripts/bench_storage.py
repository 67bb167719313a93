"""Benchmark the storage layer: a feature store's throughput, local against S3 on loopback, and
ClickHouse (chdb) for stored predictions, one year at 4,000 stocks x 4 horizons.

    python scripts/bench_storage.py                       # 1 GB feature store; ~3.9M prediction rows
    python scripts/bench_storage.py --size-mb 8 --small   # seconds (the smoke test)

Feature store: parquet parts of float32 features written with ``put`` and read back with
``get`` (sha256 checked) through the ObjectStore interface, on a LocalObjectStore and on an
S3ObjectStore against a ``weed mini`` this script starts on loopback (ports --base-port ..
+9) and ends by its PID. Prints MB/s of each.

ClickHouse: the bulk insert time, the time of a day's re-write through OlapPredictionStore
(delete then insert), and the times of the queries the API and monitoring make: one
session for all stocks, one stock over the year, and a monthly aggregate.
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from gogooku3.storage.olap import ChdbOlap
from gogooku3.storage.olap_predictions import OlapPredictionStore
from gogooku3.storage.predictions import PREDICTION_SCHEMA, conform

HORIZONS = (1, 5, 10, 20)


def sessions(n: int, start: date = date(2025, 1, 6)) -> list[date]:
    days, d = [], start
    while len(days) < n:
        if d.weekday() < 5:
            days.append(d)
        d += timedelta(days=1)
    return days


def year_of_predictions(n_stocks: int, days: list[date], seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    codes = pl.DataFrame({"Code": [f"{1000 + i}" for i in range(n_stocks)]})
    grid = (
        codes.join(pl.DataFrame({"Date": days}), how="cross")
        .join(pl.DataFrame({"horizon": list(HORIZONS)}, schema={"horizon": pl.Int32}), how="cross")
    )
    n = grid.height
    pred = rng.normal(0, 0.02, n)
    frame = grid.with_columns(
        for_session=pl.col("Date") + pl.duration(days=1),
        prediction=pl.Series(pred),
        quantile_levels=pl.lit([0.1, 0.5, 0.9], dtype=pl.List(pl.Float64)),
        quantiles=pl.concat_list(pl.Series(pred - 0.03), pl.Series(pred), pl.Series(pred + 0.03)),
        ensemble_score=pl.Series(rng.normal(0, 1, n)),
        confidence=pl.Series(rng.uniform(0, 1, n)),
        model_version=pl.lit("bench-v1"),
        run_id=pl.lit("bench-run"),
    )
    rank = pl.col("ensemble_score").rank("ordinal", descending=True).over("Date", "horizon").cast(pl.Int32)
    frame = frame.with_columns(rank=rank)
    return conform("predictions", frame.select(list(PREDICTION_SCHEMA)))


def timed(label: str, fn) -> object:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn()
    print(f"{label:<44} {time.perf_counter() - start:8.3f} s")
    return out


PART_MB = 64  # one feature-store part (a few sessions of features)


def feature_parts(size_mb: int, seed: int = 0) -> list[bytes]:
    """Parquet parts of random float32 features (incompressible, like real ones) totalling ~size_mb."""
    rng = np.random.default_rng(seed)
    part_mb = min(PART_MB, size_mb)
    n_parts = max(1, -(-size_mb // part_mb))
    n_cols, parts = 64, []
    rows = part_mb * 2**20 // (4 * n_cols)
    for _ in range(n_parts):
        values = rng.standard_normal((rows, n_cols), dtype=np.float32)
        frame = pl.DataFrame(values, schema=[f"f{i}" for i in range(n_cols)])
        buffer = io.BytesIO()
        frame.write_parquet(buffer, compression="uncompressed", statistics=False)  # random: zstd gains nothing
        parts.append(buffer.getvalue())
    return parts


def throughput(name: str, store, parts: list[bytes]) -> None:  # type: ignore[no-untyped-def]
    total = sum(len(p) for p in parts) / 2**20
    start = time.perf_counter()
    for i, part in enumerate(parts):
        store.put(f"features/bench/part-{i:04d}.parquet", part)
    write = time.perf_counter() - start
    start = time.perf_counter()
    read = sum(len(store.get(f"features/bench/part-{i:04d}.parquet")) for i in range(len(parts)))
    took = time.perf_counter() - start
    assert read == sum(len(p) for p in parts)
    print(f"feature store {name:<6} {total:7.0f} MB in {len(parts)} parts: "
          f"write {total / write:7.1f} MB/s ({write:.2f} s), read {total / took:7.1f} MB/s ({took:.2f} s)")  # fmt: skip


def bench_feature_store(size_mb: int, base_port: int) -> None:
    from gogooku3.storage.objects import LocalObjectStore, S3ObjectStore
    from gogooku3.storage.s3_server import WeedMini

    parts = timed(f"generate {size_mb} MB of feature parts", lambda: feature_parts(size_mb))
    with tempfile.TemporaryDirectory(prefix="g3-bench-fs-") as tmp:
        throughput("local", LocalObjectStore(Path(tmp) / "local"), parts)
        # The script's own server and credentials (generated; nothing real).
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "gogooku3bench")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", secrets.token_hex(16))
        os.environ.setdefault("AWS_REGION", "us-east-1")
        server = WeedMini(Path(tmp) / "weed", base_port)
        server.start()
        try:
            store = S3ObjectStore("bench", "fs", endpoint_url=server.endpoint)
            store.ensure_bucket(object_lock=False)
            throughput("s3", store, parts)
        finally:
            server.stop()  # exactly the PID it started


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--small", action="store_true", help="200 stocks x 20 sessions")
    p.add_argument("--stocks", type=int, default=4000)
    p.add_argument("--sessions", type=int, default=245)
    p.add_argument("--size-mb", type=int, default=1024, help="feature store size for the throughput test")
    p.add_argument("--base-port", type=int, default=18480, help="weed mini's ports: base .. base+9")
    a = p.parse_args()
    if a.size_mb < 1:
        p.error(f"--size-mb {a.size_mb}: must be at least 1")
    bench_feature_store(a.size_mb, a.base_port)
    n_stocks, n_days = (200, 20) if a.small else (a.stocks, a.sessions)
    days = sessions(n_days)
    frame = timed(f"generate {n_stocks} stocks x {n_days} sessions x 4", lambda: year_of_predictions(n_stocks, days))
    print(f"rows {frame.height:,}, in-memory {frame.estimated_size('mb'):.0f} MB")
    with tempfile.TemporaryDirectory(prefix="g3-bench-") as tmp, ChdbOlap(Path(tmp) / "olap") as olap:
        olap.apply_schema()
        store = OlapPredictionStore(olap)
        start = time.perf_counter()
        olap.insert("predictions", frame)
        took = time.perf_counter() - start
        print(f"{'bulk insert':<44} {took:8.3f} s  ({frame.height / took:,.0f} rows/s)")
        day = frame.filter(pl.col("Date") == days[len(days) // 2])
        timed(f"re-write one session ({day.height:,} rows)", lambda: store.write("predictions", day))
        one_day = lambda: store.read("predictions", days[3], days[3], horizon=5)  # noqa: E731
        got = timed("read one session, all stocks, horizon 5", one_day)
        assert got.height == n_stocks
        got = timed("read one stock over the period", lambda: store.read("predictions", codes=["1000"]))
        assert got.height == n_days * len(HORIZONS)
        sql = (
            "SELECT toYYYYMM(Date) AS m, horizon, avg(prediction) AS p, count() AS n "
            "FROM gogooku3.predictions GROUP BY m, horizon ORDER BY m, horizon"
        )
        timed("monthly aggregate over every row", lambda: olap.query(sql))
        timed("dates()", store.dates)
        size = sum(f.stat().st_size for f in (Path(tmp) / "olap").rglob("*") if f.is_file())
        print(f"on disk {size / 2**20:.0f} MB")


if __name__ == "__main__":
    main()
