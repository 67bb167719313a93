from __future__ import annotations

import polars as pl
import pytest

from gogooku3.datasets.panel import Panel
from gogooku3.datasets.split import walk_forward_folds
from gogooku3.datasets.targets import forward_returns
from gogooku3.training.lightgbm import LightGBMEstimator

HORIZONS = [1, 5]
PARAMS = {"num_leaves": 7, "min_data_in_leaf": 50, "learning_rate": 0.1, "num_threads": 1, "deterministic": True}


def _simple_features(market) -> tuple[pl.DataFrame, list[str]]:
    """Two causal features, built here so this test does not depend on the feature package."""
    q = market.quotes.with_columns(adj=pl.col("Close") / pl.col("AdjustmentFactor").cum_prod().over("Code"))
    frame = q.select(
        "Code",
        "Date",
        ret_1d=pl.col("adj") / pl.col("adj").shift(1).over("Code") - 1,
        ret_5d=pl.col("adj") / pl.col("adj").shift(5).over("Code") - 1,
    )
    return frame, ["ret_1d", "ret_5d"]


@pytest.fixture(scope="module")
def panel_and_fold(small_market):
    features, names = _simple_features(small_market)
    frame = features.join(forward_returns(small_market.quotes, HORIZONS), on=["Code", "Date"])
    panel = Panel(frame=frame, features=tuple(names), horizons=tuple(HORIZONS))
    dates = frame.get_column("Date").unique().sort().to_list()
    fold = walk_forward_folds(dates, n_folds=1, test_days=60, valid_days=40, embargo_days=5, max_horizon=5,
                              min_train_days=120)[0]
    return panel, fold


def _fit_predict(panel, fold, curve=None):
    model = LightGBMEstimator(HORIZONS, seed=1, params=PARAMS, num_boost_round=60, early_stopping_rounds=20)
    results = model.fit(panel, fold, (lambda n, v, s: curve.append((n, v, s))) if curve is not None else None)
    return results, model.predict(panel, *fold.test)


def test_fit_predict_shapes_and_validation_curve(panel_and_fold):
    panel, fold = panel_and_fold
    curve: list = []
    results, preds = _fit_predict(panel, fold, curve)
    assert preds.columns == ["Code", "Date", "pred_h1", "pred_h5"]
    assert preds.height == panel.between(*fold.test).height
    assert preds.select(pl.exclude("Code", "Date").is_finite().all()).row(0) == (True, True)
    assert {"val/rank_ic_h1", "val/rank_ic_h5", "best_iteration_h1"} <= set(results)
    steps = [s for n, _, s in curve if n == "val/rank_ic_h1"]
    assert steps == list(range(1, len(steps) + 1)) and len(steps) >= 20


def test_targets_outside_train_and_valid_windows_are_never_read(panel_and_fold):
    """Scramble every target the fold must not see: the fitted model must not change."""
    panel, fold = panel_and_fold
    _, clean = _fit_predict(panel, fold)
    in_train = pl.col("Date").is_between(*fold.train)
    in_valid = pl.col("Date").is_between(*fold.valid)
    scrambled = panel.frame.with_columns(
        [pl.when(in_train | in_valid).then(pl.col(t)).otherwise(pl.col(t).shuffle(7) * 100) for t in panel.targets]
    )
    _, after = _fit_predict(Panel(scrambled, panel.features, panel.horizons), fold)
    assert clean.equals(after)
    # And the check can fail: scrambling training targets does change the model.
    moved = panel.frame.with_columns([pl.col(t).shuffle(3) for t in panel.targets])
    _, changed = _fit_predict(Panel(moved, panel.features, panel.horizons), fold)
    assert not clean.equals(changed)


def test_early_stopping_metric_names_its_horizon(panel_and_fold):
    panel, fold = panel_and_fold
    model = LightGBMEstimator(HORIZONS, seed=1, params=PARAMS, num_boost_round=30, early_stopping_rounds=10)
    results = model.fit(panel, fold)
    for h in HORIZONS:
        booster = model.models[h].booster
        assert set(booster.best_score["valid"]) == {f"rank_ic_h{h}"}
        assert booster.best_score["valid"][f"rank_ic_h{h}"] == results[f"val/rank_ic_h{h}"]
