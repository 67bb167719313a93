"""Realized scoring waits for labels to mature and means what its names say."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from gogooku3.inference.realized import calibration_table, realized_performance

SESSIONS = pl.Series("Date", [date(2024, 3, d) for d in (1, 4, 5, 6, 7, 8)])


def _predictions(scores, day):
    n = len(scores)
    return pl.DataFrame({"Code": [f"{1000 + i}" for i in range(n)], "Date": [day] * n, "horizon": [1] * n,
                         "ensemble_score": scores, "confidence": np.linspace(0.1, 1, n),
                         "model_version": ["m"] * n})  # fmt: skip


def test_a_perfect_score_has_rank_ic_one_and_matures_one_session_later():
    realized = np.linspace(-0.02, 0.03, 20)
    centred = (realized - realized.mean()) * 10  # ensemble scores are z-scores: centred each day
    preds = pl.concat([_predictions(centred, date(2024, 3, 1)), _predictions(centred, date(2024, 3, 8))])
    targets = pl.DataFrame({"Code": preds["Code"][:20].to_list() * 2, "Date": [date(2024, 3, 1)] * 20 + [date(2024, 3, 8)] * 20,
                            "target_h1": realized.tolist() + [None] * 20})  # fmt: skip
    out = realized_performance(preds, targets, SESSIONS)
    assert out.height == 1  # 2024-03-08 has no label yet
    row = out.row(0, named=True)
    assert row["rank_ic"] == 1.0 and row["matured_on"] == date(2024, 3, 4)
    assert row["hit_rate"] == 1.0 and row["decile_spread"] > 0 and row["n_stocks"] == 20


def test_calibration_has_one_row_per_confidence_decile():
    rng = np.random.default_rng(1)
    preds = pl.concat([_predictions(rng.normal(size=100), d) for d in SESSIONS[:3]])
    targets = preds.select("Code", "Date", pl.Series("target_h1", rng.normal(size=300)))
    table = calibration_table(preds, targets)
    assert table["conf_decile"].to_list() == list(range(10))
    assert table["n"].sum() == 300
