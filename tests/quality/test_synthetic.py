"""A clean synthetic market passes every gate under quality=strict."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from gogooku3.data.synthetic import SyntheticMarketSource
from gogooku3.quality import QualityGates

from .builders import make_features, quality_config


def test_clean_synthetic_market_passes_strict(tmp_path):
    market = SyntheticMarketSource(n_stocks=30, start="2021-01-01", end="2022-06-30", seed=0).load()
    gates = QualityGates.from_config(quality_config("strict"), tmp_path, calendar=market.calendar,
                                     expected_end=date(2022, 6, 30))
    out, r1 = gates.raw(market)
    out, r2 = gates.processed(out)
    frame, features = make_features(out)
    frame, r3 = gates.features(frame, features)
    rng = np.random.default_rng(0)
    horizons = [1, 5]
    preds = market.oracle.select("Code", "Date", *[
        (pl.col(f"oracle_h{h}") + pl.Series(rng.normal(0, 0.01, market.oracle.height))).alias(f"pred_h{h}")
        for h in horizons
    ]).drop_nulls()
    r4 = gates.training_output(preds, {"rank_ic_h1": 0.05}, horizons)
    r5 = gates.predictions(preds, horizons)
    assert [r.status for r in (r1, r2, r3, r4, r5)] == ["passed"] * 5
    assert out.quotes.height == market.quotes.height
    assert all(v == 1.0 for k, v in gates.metrics().items() if k.endswith("success_ratio"))


@pytest.mark.parametrize("feature_set, n_stocks, start", [
    ("core", 40, "2021-06-01"), ("standard", 40, "2021-06-01"),
    # Year-over-year fundamentals need a year of warm-up; event features need enough stocks to occur.
    pytest.param("full", 100, "2020-01-01", marks=pytest.mark.slow),
])
def test_synthetic_features_pass_strict_with_every_feature_set(tmp_path, feature_set, n_stocks, start):
    """What `python train.py features=<set> quality=strict` runs gate 3 on."""
    from pathlib import Path

    from omegaconf import OmegaConf

    from gogooku3.features import build_features

    market = SyntheticMarketSource(n_stocks=n_stocks, start=start, end="2022-12-31", seed=0, extras=True).load()
    gates = QualityGates.from_config(quality_config("strict"), tmp_path, calendar=market.calendar,
                                     expected_end=date(2022, 12, 30))
    market, _ = gates.raw(market)
    market, _ = gates.processed(market)
    conf = Path(__file__).resolve().parents[2] / "conf" / "features" / f"{feature_set}.yaml"
    built = build_features(market, OmegaConf.to_container(OmegaConf.load(conf).groups), name=feature_set)
    _, report = gates.features(built.frame, list(built.names), {s.name: s.warmup for s in built.specs})
    assert report.status == "passed"
