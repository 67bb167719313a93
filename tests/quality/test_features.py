"""Gate 3: every feature corruption trips the features gate under quality=default."""

from __future__ import annotations

import polars as pl
import pytest

from gogooku3.quality import QualityGateError

from .builders import make_features, make_market

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


def _reference_stats(frame: pl.DataFrame, f: str) -> dict:
    """Per-feature statistics straight from their definitions, one column at a time."""
    x = frame[f]
    nan = int(x.is_nan().sum()) if x.dtype.is_float() else 0
    inf = int(x.is_infinite().sum()) if x.dtype.is_float() else 0
    values = x.filter(x.is_finite()) if x.dtype.is_float() else x
    std = values.std()
    return {"missing_ratio": (x.null_count() + nan) / frame.height, "inf_ratio": inf / frame.height,
            "std": 0.0 if std is None or std != std else float(std)}


def test_per_feature_statistics_match_their_definitions():
    from gogooku3.quality.config import QualityConfig
    from gogooku3.quality.features import check_features

    frame, _ = make_features(make_market())
    n = frame.height
    odd = {
        "with_nan": pl.when(pl.int_range(n) % 7 == 0).then(float("nan")).otherwise(pl.col("ret_1d")),
        "with_inf": pl.when(pl.int_range(n) % 11 == 0).then(float("inf")).otherwise(pl.col("ret_1d")),
        "nan_and_neg_inf": pl.when(pl.int_range(n) == 3).then(float("-inf")).when(pl.int_range(n) == 4)
                             .then(float("nan")).otherwise(pl.col("vol_20d")),
        "all_null": pl.lit(None, pl.Float64),
        "one_value": pl.when(pl.int_range(n) == 5).then(1.0).otherwise(None),
        "only_nan": pl.when(pl.int_range(n) == 5).then(float("nan")).otherwise(None),
        "constant": pl.lit(0.1),
        "integers": pl.int_range(n) % 5,
        "float32_nan": pl.when(pl.int_range(n) % 3 == 0).then(float("nan")).otherwise(pl.col("ret_5d"))
                         .cast(pl.Float32),
        "overflowing": pl.when(pl.int_range(n) % 2 == 0).then(1e200).otherwise(-1e200),
    }
    frame = frame.with_columns(expr.alias(name) for name, expr in odd.items())
    features = [c for c in frame.columns if c not in ("Code", "Date")]
    evidence, *_ = check_features(frame, features, QualityConfig())
    table = evidence.tables["per_feature"]
    assert table["feature"].to_list() == features
    for row in table.iter_rows(named=True):
        expected = _reference_stats(frame, row["feature"])
        assert {k: row[k] for k in expected} == pytest.approx(expected, rel=1e-12), row["feature"]


def test_exempt_features_skip_only_the_extreme_check(gates_for, market):
    frame, features = _extreme_feature(*make_features(market))
    frame = frame.rename({"ret_1d": "sessions_listed_log"})
    features = ["sessions_listed_log" if f == "ret_1d" else f for f in features]
    _, report = gates_for("default").features(frame, features)  # exempt in conf/quality/default.yaml
    assert report.status == "passed"
    with pytest.raises(QualityGateError, match="feature_extreme"):
        gates_for("default", "quality.extreme_check_exempt=[]").features(frame, features)
    infinite = frame.with_columns(pl.when(pl.col("Code") == VICTIM).then(float("inf"))
                                  .otherwise(pl.col("sessions_listed_log")).alias("sessions_listed_log"))
    with pytest.raises(QualityGateError, match="feature_infinite"):
        gates_for("default").features(infinite, features)


def test_missing_share_counts_rows_past_each_features_warmup():
    from gogooku3.quality.config import QualityConfig
    from gogooku3.quality.features import check_features

    frame, _ = make_features(make_market())
    session = pl.col("Date").rank("dense")
    age = session - session.min().over("Code")  # sessions since the code's first, gaps counted
    # Null on each code's first 30 sessions by definition, plus one stray null later.
    frame = frame.sort("Code", "Date").with_columns(
        long=pl.when(age >= 30).then(pl.int_range(pl.len()).cast(pl.Float64)),
        stray=pl.when((age >= 30) & (age != 40)).then(pl.int_range(pl.len()).cast(pl.Float64)))
    evidence, *_ = check_features(frame, ["long", "stray"], QualityConfig(), {"long": 30, "stray": 30})
    ratio = dict(zip(*evidence.tables["per_feature"].select("feature", "missing_ratio")))
    past = frame.filter(age >= 30).height
    assert ratio["long"] == 0.0
    assert ratio["stray"] == pytest.approx(frame.filter(age == 40).height / past)
    plain, *_ = check_features(frame, ["long"], QualityConfig())  # without warm-ups: every row counts
    assert plain.tables["per_feature"]["missing_ratio"][0] == pytest.approx(1 - past / frame.height)
