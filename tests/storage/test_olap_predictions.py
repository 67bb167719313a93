"""Both PredictionStore backends, fed the same frames, give the same answers."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from gogooku3.errors import DataError
from gogooku3.storage.olap_predictions import OlapPredictionStore
from gogooku3.storage.predictions import PREDICTION_SCHEMA, QUALITY_SCHEMA, REALIZED_SCHEMA, LocalPredictionStore

D0 = date(2021, 3, 1)  # old on purpose: retention counts from the write, not from Date


def predictions(day: date, version: str, codes: list[str], seed: float = 0.0) -> pl.DataFrame:
    n = len(codes)
    rows = [
        {
            "Code": c, "Date": day, "for_session": day + timedelta(days=1), "horizon": h,
            "prediction": seed + i * 0.01 + h, "quantile_levels": None if i % 3 == 0 else [0.1, 0.9],
            "quantiles": None if i % 3 == 0 else [seed - 1.0, seed + 1.0], "ensemble_score": (n - i) / n,
            "confidence": None if i == 1 else 0.5, "rank": i + 1, "model_version": version, "run_id": "r1",
        }  # fmt: skip
        for h in (1, 5)
        for i, c in enumerate(codes)
    ]
    return pl.DataFrame(rows, schema=PREDICTION_SCHEMA)


@pytest.fixture(params=["local", "olap"])
def store(request, tmp_path, chdb_olap):
    return LocalPredictionStore(tmp_path / "local") if request.param == "local" else OlapPredictionStore(chdb_olap)


@pytest.fixture
def both(tmp_path, chdb_olap):
    return LocalPredictionStore(tmp_path / "local"), OlapPredictionStore(chdb_olap)


def _same(stores, fn):
    a, b = (fn(s) for s in stores)
    assert a.schema == b.schema
    assert a.equals(b, null_equal=True), (a, b)
    return a


def test_backends_agree_on_writes_rewrites_and_filters(both):
    frames = [
        predictions(D0, "v1", ["1301", "1332", "7203", "9984"]),
        predictions(D0 + timedelta(days=1), "v1", ["1301", "7203"], seed=2.0),
        predictions(D0, "v2", ["1301", "x'y"], seed=5.0),
        predictions(D0, "v1", ["1301", "6758"], seed=9.0),  # replaces (D0, v1) whole
    ]
    for store in both:
        for f in frames:
            store.write("predictions", f)
    everything = _same(both, lambda s: s.read("predictions", model_version="v1"))
    assert set(everything.filter(pl.col("Date") == D0)["Code"]) == {"1301", "6758"}
    assert everything.filter(pl.col("quantiles").is_null()).height > 0
    _same(both, lambda s: s.read("predictions", D0, D0, codes=["1301", "x'y"], horizon=5, model_version="v2"))
    _same(both, lambda s: s.read("predictions", start=D0 + timedelta(days=1)))
    assert both[0].dates() == both[1].dates() == [D0, D0 + timedelta(days=1)]


def test_realized_and_quality_round_trip_alike(both):
    realized = pl.DataFrame(
        {"Date": [D0, D0], "horizon": [1, 5], "model_version": ["v1", "v1"], "rank_ic": [0.1, None],
         "hit_rate": [0.5, 0.6], "decile_spread": [0.01, 0.02], "n_stocks": [40, 40], "matured_on": [D0, None]},
        schema=REALIZED_SCHEMA,
    )  # fmt: skip
    quality = pl.DataFrame(
        {"Date": [D0, D0], "run_id": ["r1", "r1"], "gate": ["g5", "g1"], "status": ["pass", "fail"],
         "success_ratio": [1.0, 0.5], "rows_in": [10, 10], "rows_quarantined": [0, 3], "detail": ["{}", '{"a": 1}']},
        schema=QUALITY_SCHEMA,
    )  # fmt: skip
    for store in both:
        store.write("realized", realized)
        store.write("realized", realized.head(1).with_columns(rank_ic=pl.lit(0.3)))
        store.write("quality", quality)
    got = _same(both, lambda s: s.read("realized"))
    assert got["rank_ic"].to_list() == [0.3, None]
    assert _same(both, lambda s: s.read("quality"))["gate"].to_list() == ["g1", "g5"]


def test_empty_reads_have_the_schema(store):
    assert store.read("predictions").schema == pl.Schema(PREDICTION_SCHEMA)
    assert store.dates("realized") == []


def test_bad_frames_are_one_line_errors(store):
    with pytest.raises(DataError, match="lacks column rank"):
        store.write("predictions", predictions(D0, "v1", ["1301"]).drop("rank"))
    with pytest.raises(DataError, match="unknown prediction-store table"):
        store.read("nope")


def test_null_key_is_refused_by_olap(chdb_olap):
    frame = predictions(D0, "v1", ["1301"]).with_columns(horizon=pl.lit(None, dtype=pl.Int32))
    with pytest.raises(DataError, match="column horizon has 2 null"):
        OlapPredictionStore(chdb_olap).write("predictions", frame)
