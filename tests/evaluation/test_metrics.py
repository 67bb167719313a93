from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from scipy.stats import pearsonr, spearmanr

from gogooku3.evaluation.metrics import daily_ic, evaluate, long_short, newey_west_tstat


def _panel(n_dates=30, n_stocks=50, signal=1.0, seed=0):
    rng = np.random.default_rng(seed)
    pred = rng.normal(size=(n_dates, n_stocks))
    target = 0.01 * (signal * pred + rng.normal(size=(n_dates, n_stocks)))
    dates = [date(2024, 1, 1) + timedelta(days=i) for i in range(n_dates)]
    return pl.DataFrame(
        {
            "Code": [f"{1000 + j}0" for _ in dates for j in range(n_stocks)],
            "Date": [d for d in dates for _ in range(n_stocks)],
            "pred_h1": pred.ravel(),
            "target_h1": target.ravel(),
        }
    )


def test_rank_ic_is_mean_of_daily_spearman():
    frame = _panel()
    ic = daily_ic(frame, "pred_h1", "target_h1")
    expected = [spearmanr(g["pred_h1"], g["target_h1"])[0] for _, g in frame.group_by("Date", maintain_order=True)]
    pearson = [pearsonr(g["pred_h1"], g["target_h1"])[0] for _, g in frame.group_by("Date", maintain_order=True)]
    assert ic["rank_ic"].to_list() == pytest.approx(expected)
    assert ic["ic"].to_list() == pytest.approx(pearson)
    metrics, _, _ = evaluate(frame, [1])
    assert metrics["rank_ic_h1"] == pytest.approx(np.mean(expected))
    assert metrics["rank_icir_h1"] == pytest.approx(np.mean(expected) / np.std(expected, ddof=1))


def test_pooled_correlation_is_not_what_we_report():
    # Day-level shifts make a pooled Pearson large while every daily ranking is random.
    frame = _panel(signal=0.0).with_columns(
        pl.col("pred_h1") + pl.col("Date").rank("dense") * 10, pl.col("target_h1") + pl.col("Date").rank("dense") * 10
    )
    metrics, _, _ = evaluate(frame, [1])
    pooled = np.corrcoef(frame["pred_h1"], frame["target_h1"])[0, 1]
    assert pooled > 0.9 and abs(metrics["rank_ic_h1"]) < 0.1


def test_days_with_too_few_stocks_and_nulls_are_left_out():
    frame = _panel(n_stocks=12)
    frame = frame.with_columns(pl.when(pl.col("Code") < "10050").then(None).otherwise(pl.col("target_h1")).alias("target_h1"))
    assert daily_ic(frame, "pred_h1", "target_h1", min_stocks=10).height == 0
    assert daily_ic(frame, "pred_h1", "target_h1", min_stocks=5)["n"].max() == 7


def test_long_short_by_hand():
    # 10 stocks, 2 days. Decile = 1 stock each side. Day 1 goes long s9, short s0.
    dates = [date(2024, 1, 1), date(2024, 1, 2)]
    pred = [[float(j) for j in range(10)], [float(9 - j) for j in range(10)]]
    ret = [[0.01 * j for j in range(10)], [0.0] * 10]
    frame = pl.DataFrame(
        {
            "Code": [f"s{j}" for _ in dates for j in range(10)],
            "Date": [d for d in dates for _ in range(10)],
            "pred_h1": sum(pred, []),
            "target_h1": sum(ret, []),
        }
    )
    book = long_short(frame, "pred_h1", "target_h1", holding=1, quantile=0.1, cost_bps=10.0)
    # Day 1: gross 0.09 - 0.00; traded |+1| + |-1| = 2 -> cost 0.002.
    # Day 2: flips both legs: traded 4 -> cost 0.004, gross 0.
    assert book.daily["gross"].to_list() == pytest.approx([0.09, 0.0])
    assert book.daily["cost"].to_list() == pytest.approx([0.002, 0.004])
    assert book.turnover == pytest.approx((1.0 + 2.0) / 2)
    assert book.max_drawdown == pytest.approx((1.088 * 0.996) / 1.088 - 1.0)
    held = long_short(frame, "pred_h1", "target_h1", holding=2, quantile=0.1, cost_bps=0.0)
    assert held.daily["gross"].to_list() == pytest.approx([0.045, 0.0])


def test_signal_gives_positive_sharpe_and_noise_does_not():
    good, _, _ = evaluate(_panel(n_dates=200, signal=0.3), [1])
    bad, _, _ = evaluate(_panel(n_dates=200, signal=0.0, seed=1), [1])
    assert good["sharpe_h1"] > 2.0 and good["rank_ic_tstat_h1"] > 5.0 and good["hit_rate_h1"] > 0.55
    assert abs(bad["rank_ic_tstat_h1"]) < 3.0


def test_newey_west_accounts_for_overlap():
    rng = np.random.default_rng(0)
    iid = rng.normal(0.1, 1.0, 5000)
    assert newey_west_tstat(iid, 0) == pytest.approx(iid.mean() / iid.std() * np.sqrt(len(iid)), rel=1e-3)
    overlapped = np.convolve(rng.normal(0.0, 1.0, 5020), np.ones(20), "valid")
    assert abs(newey_west_tstat(overlapped, 20)) < abs(overlapped.mean() / overlapped.std() * np.sqrt(len(overlapped))) + 1e-9


def test_hit_rate_ignores_values_at_the_median():
    # Half the predictions tie at the median; the others all point the right way.
    frame = pl.DataFrame(
        {
            "Date": [date(2024, 1, 1)] * 12,
            "pred_h1": [0.0] * 6 + [-3.0, -2.0, -1.0, 1.0, 2.0, 3.0],
            "target_h1": [0.5, -0.5, 0.4, -0.4, 0.3, -0.3, -3.0, -2.0, -1.0, 1.0, 2.0, 3.0],
        }
    )
    assert daily_ic(frame, "pred_h1", "target_h1", min_stocks=5)["hit_rate"].item() == 1.0
