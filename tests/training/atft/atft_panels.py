"""Tiny hand-built panels in the canonical schema, and a small estimator, for the ATFT tests."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from gogooku3.datasets.panel import Panel
from gogooku3.datasets.split import Fold
from gogooku3.stats import daily_rank_ic, dense_by_date
from gogooku3.training.atft.estimator import ATFTEstimator

HORIZONS = (1, 5, 10, 20)
FEATURES = ("ret_1d", "ret_5d", "noise_a", "noise_b")


def make_panel(n_stocks: int = 24, n_days: int = 160, seed: int = 0, reversal: float = 0.4,
               drop_frac: float = 0.0) -> Panel:  # fmt: skip
    """Returns with planted one-day reversal, so ``ret_1d`` predicts ``target_h1``.

    ``drop_frac`` removes random rows (late listings / gaps) to exercise the masks.
    """
    rng = np.random.default_rng(seed)
    days = [d for d in (date(2021, 1, 4) + timedelta(i) for i in range(n_days * 2)) if d.weekday() < 5][:n_days]
    eps = rng.standard_normal((n_days, n_stocks)) * 0.02
    ret = np.zeros_like(eps)
    for t in range(n_days):
        ret[t] = eps[t] - (reversal * ret[t - 1] if t else 0.0)
    ret_5d = np.vstack([np.full((4, n_stocks), np.nan), np.lib.stride_tricks.sliding_window_view(ret, 5, 0).sum(-1)])
    csum = np.vstack([np.zeros((1, n_stocks)), np.cumsum(ret, 0)])
    targets = {}
    for h in HORIZONS:
        fwd = np.full_like(ret, np.nan)
        fwd[: n_days - h] = csum[1 + h : n_days + 1] - csum[1 : n_days + 1 - h]
        targets[f"target_h{h}"] = fwd
    codes = [f"{1300 + i}0" for i in range(n_stocks)]
    grid = {
        "Code": np.repeat(codes, n_days),
        "Date": np.tile(np.array(days, dtype="datetime64[D]"), n_stocks),
        "ret_1d": ret.T.ravel(),
        "ret_5d": ret_5d.T.ravel(),
        "noise_a": rng.standard_normal(n_days * n_stocks),
        "noise_b": rng.standard_normal(n_days * n_stocks) * 3 + 1,
        **{k: v.T.ravel() for k, v in targets.items()},
    }
    frame = pl.DataFrame(grid).with_columns(pl.col("Date").cast(pl.Date)).fill_nan(None)
    if drop_frac:
        frame = frame.filter(pl.Series(rng.random(frame.height) >= drop_frac))
    listed = pl.DataFrame({
        "Code": codes,
        "Sector17Code": [str(i % 3) for i in range(n_stocks)],
        "Sector33Code": [str(i % 5) for i in range(n_stocks)],
        "MarketCode": ["0111" if i % 2 else "0112" for i in range(n_stocks)],
    })  # fmt: skip
    return Panel(frame=frame.sort("Code", "Date"), features=FEATURES, horizons=HORIZONS, listed=listed)


def make_fold(panel: Panel, valid_days: int = 25, test_days: int = 25, embargo: int = 20) -> Fold:
    days = panel.frame.get_column("Date").unique().sort().to_list()
    n = len(days)
    test = (days[n - test_days], days[n - 1])
    v_end = n - test_days - embargo - 1
    valid = (days[v_end - valid_days + 1], days[v_end])
    train = (days[0], days[v_end - valid_days - embargo])
    return Fold(index=0, train=train, valid=valid, test=test)


SMALL = dict(lookback=10, hidden_size=16, feature_dim=4, attention_heads=2,
             graph={"window": 20, "min_periods": 10, "top_k": 5}, data={"dates_per_batch": 8}, optim={"lr": 1e-2}, num_threads=1)  # fmt: skip
TRAINER = {"max_epochs": 3, "enable_progress_bar": False, "log_every_n_steps": 1}


def make_estimator(output_dir: Path, epochs: int = 3, **kwargs) -> ATFTEstimator:
    return ATFTEstimator(horizons=(1, 5, 10, 20), seed=7, trainer={**TRAINER, "max_epochs": epochs},
                         output_dir=output_dir, **{**SMALL, **kwargs})  # fmt: skip


def rank_ic(preds: pl.DataFrame, panel: Panel) -> float:
    rows = preds.join(panel.frame, on=["Code", "Date"]).drop_nulls("target_h1")
    d = rows["Date"].rank("dense").cast(pl.Int64).to_numpy() - 1
    s = rows["Code"].rank("dense").cast(pl.Int64).to_numpy() - 1
    shape = (d.max() + 1, s.max() + 1)
    return float(np.nanmean(daily_rank_ic(dense_by_date(d, s, rows["pred_h1"].to_numpy(), shape),
                                          dense_by_date(d, s, rows["target_h1"].to_numpy(), shape))))  # fmt: skip
