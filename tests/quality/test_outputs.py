"""Gates 4 and 5: corrupted model output trips training_output or predictions under quality=default."""

from __future__ import annotations

import polars as pl
import pytest

from gogooku3.quality import QualityGateError

from .builders import GOOD_METRICS, HORIZONS, make_predictions

VICTIM = "13100"  # code 1 of the tiny market


def _collapsed(preds):
    return preds.with_columns(pl.lit(0.001).alias("pred_h5"))


def _collapsed_per_date(preds):
    return preds.with_columns(pl.col("Date").dt.ordinal_day().cast(pl.Float64).alias("pred_h1") / 1000)


def _nan_predictions(preds):
    return preds.with_columns(_null_for_victim("pred_h1"))


def _null_for_victim(column):
    return pl.when(pl.col("Code") == VICTIM).then(None).otherwise(pl.col(column)).alias(column)


@pytest.mark.parametrize(("corrupt", "metrics", "check"), [
    (_collapsed, GOOD_METRICS, "prediction_spread"),
    (_collapsed_per_date, GOOD_METRICS, "prediction_collapsed_dates"),
    (_nan_predictions, GOOD_METRICS, "predictions_finite"),
    (lambda p: p, {"rank_ic_h1": float("nan")}, "metrics_finite"),
    (lambda p: p, {}, "metrics_present"),
], ids=["collapsed", "collapsed_per_date", "nan", "nan_metric", "no_metrics"])
def test_training_output_corruption_trips_gate(gates_for, market, corrupt, metrics, check):
    gates = gates_for("default")
    with pytest.raises(QualityGateError) as info:
        gates.training_output(corrupt(make_predictions(market)), metrics, HORIZONS)
    assert info.value.gate == "training_output"
    assert check in {r.check for r in info.value.report.failed}
    assert check in str(info.value)


@pytest.mark.parametrize(("corrupt", "check"), [
    (lambda p: pl.concat([p, p.head(3)]), "one_row_per_key"),
    (lambda p: p.drop("pred_h5"), "predictions_schema"),
    (lambda p: p.with_columns(_null_for_victim("pred_h5")), "all_horizons"),
    (lambda p: p.with_columns((pl.col("pred_h1") * 1000).alias("pred_h1")), "plausible_range"),
], ids=["duplicates", "missing_horizon", "null_horizon", "out_of_range"])
def test_prediction_corruption_trips_predictions_gate(gates_for, market, corrupt, check):
    gates = gates_for("default")
    with pytest.raises(QualityGateError) as info:
        gates.predictions(corrupt(make_predictions(market)), HORIZONS)
    assert info.value.gate == "predictions"
    assert check in {r.check for r in info.value.report.failed}


def test_required_metrics_are_configurable(gates_for, market):
    gates = gates_for("default", "quality.required_metrics=[rank_ic_*,sharpe]")
    with pytest.raises(QualityGateError, match="metrics_present.*sharpe"):
        gates.training_output(make_predictions(market), GOOD_METRICS, HORIZONS)
