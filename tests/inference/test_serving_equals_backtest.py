"""Serving equals backtest: predict.py's prediction for a past session d, from data ending at d,
equals the same model's prediction for d from the full history, to 1e-6, for LightGBM, ATFT
and their ensemble (the train/serve skew Qlib's #2080 reports)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from gogooku3.data.window import market_window
from gogooku3.datasets.panel import Panel
from gogooku3.features import build_features
from gogooku3.inference.ensemble import Member, combine
from gogooku3.inference.loading import load_model
from gogooku3.pipeline.experiment import instantiate
from gogooku3.pipeline.predict import predict_sessions
from gogooku3.schema import target_column
from tests.inference.deployed import predict_config

pytestmark = pytest.mark.slow


def _full_history(cfg, market, model, days):
    """The model's predictions for ``days`` computed on features of the whole history."""
    features = build_features(market, cfg.features.groups, name=cfg.features.name)
    h = tuple(int(x) for x in model.meta["horizons"])
    frame = features.frame.with_columns([pl.lit(None, pl.Float64).alias(target_column(x)) for x in h])
    panel = Panel(frame, tuple(features.names), h, listed=market.listed)
    quantiles = {"quantiles": True} if model.meta.get("quantiles") else {}
    preds = model.deployable.estimator.predict(panel, min(days), max(days), **quantiles)
    return preds.filter(pl.col("Date").is_in(pl.Series(days).implode()))


def _served(cfg, market, models, weights, day, tmp_path):
    served, _, _ = predict_sessions(cfg, market_window(market, None, day), models, weights, [day], tmp_path / str(day))
    return served


def test_each_model_and_the_ensemble_serve_what_the_backtest_scores(deployed, tmp_path):
    outputs, runs = deployed
    cfg = predict_config(outputs)
    uri = cfg.tracking.uri
    models = {f: load_model(run, uri) for f, run in runs.items()}
    market = instantiate(cfg.data).load()
    sessions = market.calendar.filter(market.calendar <= market.quotes.get_column("Date").max())
    days = [sessions[-120], sessions[-41], sessions[-1]]
    full = {f: _full_history(cfg, market, m, days) for f, m in models.items()}
    for day in days:
        for family, model in models.items():
            served = _served(cfg, market, [model], [1.0], day, tmp_path)
            for h in model.meta["horizons"]:
                got = served.filter(pl.col("horizon") == h).select("Code", pl.col("prediction").alias("served"))
                want = full[family].filter(pl.col("Date") == day).select("Code", pl.col(f"pred_h{h}").alias("full"))
                both = want.join(got, on="Code", how="full", coalesce=True)
                assert both.height == want.height > 20, (family, day, h)
                np.testing.assert_allclose(both["served"].to_numpy(), both["full"].to_numpy(), rtol=0, atol=1e-6,
                                           err_msg=f"{family} {day} h{h}")  # fmt: skip
        ensemble = _served(cfg, market, list(models.values()), [0.6, 0.4], day, tmp_path)
        members = [Member(m.label, w, full[f].filter(pl.col("Date") == day), tuple(m.meta.get("quantiles") or ()))
                   for (f, m), w in zip(models.items(), [0.6, 0.4])]  # fmt: skip
        want = combine(members, [1, 5]).select("Code", "horizon", pl.col("ensemble_score").alias("full"),
                                               pl.col("confidence").alias("full_conf"))  # fmt: skip
        both = want.join(ensemble, on=["Code", "horizon"], how="inner")
        assert both.height == want.height
        # Scores are z-scores: dividing by a day's spread of ATFT returns (~0.005) turns its ~2e-8
        # float32-feature rounding into ~5e-6, so 1e-5 here is ~5e-8 in return units.
        np.testing.assert_allclose(both["ensemble_score"].to_numpy(), both["full"].to_numpy(), rtol=0, atol=1e-5)
        # Confidence is a per-day percentile: two near-equal stocks may swap one step, never more.
        steps = both.group_by("horizon").agg(pl.len().alias("n"))
        np.testing.assert_allclose(both["confidence"].to_numpy(), both["full_conf"].to_numpy(), rtol=0,
                                   atol=1.01 / steps["n"].min())  # fmt: skip
