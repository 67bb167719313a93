"""Gate 3: every feature corruption trips the features gate under quality=default."""

from __future__ import annotations

import polars as pl
import pytest

from gogooku3.quality import QualityGateError

from .builders import GOOD_METRICS, HORIZONS, make_features, make_predictions

VICTIM = "13100"  # code 1 of the tiny market


def _name(value):
    return getattr(value, "__name__", None)


def _all_nan_feature(frame, features):
    return frame.with_columns(pl.lit(float("nan")).alias("ret_5d")), features


def _infinite_feature(frame, features):
    return frame.with_columns(pl.when(pl.col("Code") == VICTIM).then(float("inf")).otherwise(pl.col("vol_20d"))
                              .alias("vol_20d")), features


def _constant_feature(frame, features):
    return frame.with_columns(pl.lit(1.0).alias("const")), [*features, "const"]


def _extreme_feature(frame, features):
    return frame.with_columns(pl.when(pl.col("Code") == VICTIM).then(pl.col("ret_1d") * 1e4 + 50)
                              .otherwise(pl.col("ret_1d")).alias("ret_1d")), features


def _missing_feature(frame, features):
    return frame, [*features, "not_there"]


FEATURE_CORPUS = [
    (_all_nan_feature, "feature_missing", "ret_5d"),
    (_infinite_feature, "feature_infinite", "vol_20d"),
    (_constant_feature, "feature_constant", "const"),
    (_extreme_feature, "feature_extreme", "ret_1d"),
    (_missing_feature, "features_schema", "not_there"),
]


@pytest.mark.parametrize(("corrupt", "check", "text"), FEATURE_CORPUS, ids=_name)
def test_feature_corruption_trips_features_gate(gates_for, market, corrupt, check, text):
    frame, features = corrupt(*make_features(market))
    gates = gates_for("default")
    with pytest.raises(QualityGateError) as info:
        gates.features(frame, features)
    assert info.value.gate == "features"
    failed = {r.check: r for r in info.value.report.failed}
    assert check in failed and text in str(info.value)
