"""Benchmark ClickHouse (chdb) for stored predictions: one year at 4,000 stocks x 4 horizons.

    python scripts/bench_storage.py            # ~245 sessions x 4,000 x 4 = ~3.9M rows
    python scripts/bench_storage.py --small    # 200 stocks x 20 sessions, seconds

Prints the bulk insert time, the time of a day's re-write through OlapPredictionStore
(delete then insert), and the times of the queries the API and monitoring make: one
session for all stocks, one stock over the year, and a monthly aggregate.
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--small", action="store_true", help="200 stocks x 20 sessions")
    p.add_argument("--stocks", type=int, default=4000)
    p.add_argument("--sessions", type=int, default=245)
    a = p.parse_args()
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
