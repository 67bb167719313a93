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


def test_gross_minus_cost_is_net_on_a_known_book():
    # The hand-computed two-day book above: gross 0.09, 0.0; traded 2, 4 -> cost 0.002, 0.004 at 10 bps.
    dates = [date(2024, 1, 1), date(2024, 1, 2)]
    frame = pl.DataFrame(
        {
            "Code": [f"s{j}" for _ in dates for j in range(10)],
            "Date": [d for d in dates for _ in range(10)],
            "pred_h1": [float(j) for j in range(10)] + [float(9 - j) for j in range(10)],
            "target_h1": [0.01 * j for j in range(10)] + [0.0] * 10,
        }
    )
    metrics, _, book = evaluate(frame, [1], cost_bps=10.0, min_stocks=5)
    assert metrics["gross_annual_return_h1"] == pytest.approx(0.045 * 252)
    assert metrics["annual_cost_h1"] == pytest.approx(0.003 * 252)
    assert metrics["annual_return_h1"] == pytest.approx(0.042 * 252)
    assert metrics["gross_annual_return_h1"] - metrics["annual_cost_h1"] == pytest.approx(metrics["annual_return_h1"], abs=1e-12)
    gross, net = np.array([0.09, 0.0]), np.array([0.088, -0.004])
    assert metrics["gross_sharpe_h1"] == pytest.approx(gross.mean() / gross.std(ddof=1) * np.sqrt(252))
    assert metrics["sharpe_h1"] == pytest.approx(net.mean() / net.std(ddof=1) * np.sqrt(252))
    assert metrics["turnover_h1"] == pytest.approx(1.5)
    # Without costs gross and net are one series.
    free, _, _ = evaluate(frame, [1], cost_bps=0.0, min_stocks=5)
    assert free["annual_return_h1"] == free["gross_annual_return_h1"] and free["annual_cost_h1"] == 0.0


def test_gross_minus_cost_is_net_on_a_noisy_book():
    metrics, _, _ = evaluate(_panel(n_dates=120, signal=0.1), [1], cost_bps=25.0)
    assert metrics["annual_cost_h1"] > 0
    assert metrics["gross_annual_return_h1"] - metrics["annual_cost_h1"] == pytest.approx(metrics["annual_return_h1"], abs=1e-12)
    assert metrics["gross_sharpe_h1"] > metrics["sharpe_h1"]


def _drift_panel(drift: float, n_dates: int = 250, group: int = 10, cycle: int = 10, horizon: int = 5) -> pl.DataFrame:
    """A market with a planted ``horizon``-day drift, built by hand.

    ``2 * cycle`` groups of ``group`` stocks; on date t group L(t mod cycle) gets the top
    predictions and S(t mod cycle) the bottom. Over the next ``horizon`` days each L stock
    rises ``drift / 2 / horizon`` a day and each S stock falls as much, and does nothing
    otherwise (each group is picked once every ``cycle`` > ``horizon`` days). So the
    long-short spread of a cohort earns ``drift`` over ``horizon`` days, once.
    """
    n = 2 * cycle * group
    pred = np.tile(np.linspace(-0.5, 0.5, n), (n_dates, 1))  # the middle: nobody in the tails
    ret = np.zeros((n_dates, n))  # ret[t]: return from t to t+1
    step = drift / 2 / horizon
    for t in range(n_dates):
        g = t % cycle
        longs, shorts = range(g * group, (g + 1) * group), range((cycle + g) * group, (cycle + g + 1) * group)
        pred[t, list(longs)], pred[t, list(shorts)] = 1.0 + np.arange(group), -1.0 - np.arange(group)
        ret[t : t + horizon, list(longs)] += step
        ret[t : t + horizon, list(shorts)] -= step
    forward = np.array([ret[t : t + horizon].sum(axis=0) if t + horizon <= n_dates else np.full(n, np.nan)
                        for t in range(n_dates)])  # fmt: skip
    dates = [date(2024, 1, 1) + timedelta(days=i) for i in range(n_dates)]
    return pl.DataFrame(
        {
            "Code": [f"c{j:03d}" for _ in dates for j in range(n)],
            "Date": [d for d in dates for _ in range(n)],
            f"pred_h{horizon}": pred.ravel(),
            "target_h1": ret.ravel(),
            f"target_h{horizon}": forward.ravel(),
        }
    )


def test_an_h5_book_earns_a_planted_5_day_drift_once_per_5_days():
    drift, n_dates = 0.02, 250
    frame = _drift_panel(drift, n_dates)
    # quantile 0.05 of 200 stocks = the 10 stocks of one group on each side.
    book = long_short(frame, "pred_h5", "target_h1", holding=5, quantile=0.05, cost_bps=0.0)
    daily = book.daily["gross"].to_numpy()
    # Once the book holds its 5 cohorts (1/5 of capital each), every day earns drift / 5.
    assert daily[4:] == pytest.approx(np.full(n_dates - 4, drift / 5))
    assert daily[:4] == pytest.approx(drift / 5 * np.arange(1, 5) / 5)  # building up
    metrics, _, _ = evaluate(frame, [5], quantile=0.05, cost_bps=0.0)
    expected = drift / 5 * 252 * (n_dates - 4 + (1 + 2 + 3 + 4) / 5) / n_dates
    assert metrics["gross_annual_return_h5"] == pytest.approx(expected)
    assert metrics["annual_return_h5"] == pytest.approx(expected)
    assert metrics["annual_return_h5"] < drift * 252 / 4  # not the 5-day return counted daily
    # The cohort's 5-day spread is the planted drift, as the h=5 target shows.
    cohort = frame.filter(pl.col("Date") == date(2024, 1, 1)).sort("pred_h5")
    assert cohort["target_h5"].tail(10).mean() - cohort["target_h5"].head(10).mean() == pytest.approx(drift)
