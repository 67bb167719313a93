"""Cross-sectional signal metrics and a long-short decile portfolio.

Every metric is computed per trading day across stocks, then summarized over days:
``rank_ic`` is the mean over days of the Spearman correlation between prediction and
realized forward return; ``ic`` the same with Pearson.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from gogooku3.stats import daily_rank_ic, dense_by_date

TRADING_DAYS = 252


def daily_ic(frame: pl.DataFrame, pred: str, target: str, min_stocks: int = 10) -> pl.DataFrame:
    """Per date: ``ic`` (Pearson), ``rank_ic`` (Spearman), ``hit_rate`` and the stock count.

    ``rank_ic`` is :func:`gogooku3.stats.daily_rank_ic`, the one RankIC that validation
    (training) and evaluation share. ``hit_rate`` is the share of stocks whose prediction
    and realized return fall on the same side of that day's cross-sectional median
    (stocks exactly at a median left out).
    """
    valid = frame.select("Date", pred, target).drop_nulls().filter(pl.col(pred).is_finite())
    side = lambda c: (pl.col(c) - pl.col(c).median().over("Date")).sign()  # noqa: E731
    # A value exactly at the median (ties are common in tree predictions) has no side.
    both_sided = (side(pred) != 0) & (side(target) != 0)
    per_date = (
        valid.with_columns(_hit=pl.when(both_sided).then((side(pred) == side(target)).cast(pl.Float64)))
        .group_by("Date")
        .agg(n=pl.len(), ic=pl.corr(pred, target, method="pearson"), hit_rate=pl.col("_hit").mean())
        .filter(pl.col("n") >= min_stocks)
    )
    return (
        per_date.join(_rank_ic(valid, pred, target, min_stocks), on="Date", how="left")
        .select("Date", "n", "ic", "rank_ic", "hit_rate")
        .with_columns(pl.col("ic", "rank_ic").fill_nan(None))
        .sort("Date")
    )


def _rank_ic(valid: pl.DataFrame, pred: str, target: str, min_stocks: int) -> pl.DataFrame:
    """``Date``, ``rank_ic``: the long frame laid out as ``[dates, stocks]`` for :func:`daily_rank_ic`."""
    dates = valid.get_column("Date").unique().sort()
    if dates.is_empty():
        return pl.DataFrame({"Date": dates, "rank_ic": pl.Series([], dtype=pl.Float64)})
    date_idx = valid.get_column("Date").rank("dense").cast(pl.Int64).to_numpy() - 1
    stock_idx = valid.select(pl.int_range(pl.len()).over("Date")).to_series().cast(pl.Int64).to_numpy()  # slot per date
    shape = (int(date_idx.max()) + 1, int(stock_idx.max()) + 1)
    matrix = lambda c: dense_by_date(date_idx, stock_idx, valid.get_column(c).cast(pl.Float64).to_numpy(), shape)  # noqa: E731
    return pl.DataFrame({"Date": dates, "rank_ic": daily_rank_ic(matrix(pred), matrix(target), min_stocks)})


def newey_west_tstat(values: np.ndarray, lags: int) -> float:
    """t-statistic of the mean with a Newey-West (Bartlett) long-run variance.

    Forward returns over h days overlap, so daily ICs at horizon h are autocorrelated up
    to lag h - 1; an i.i.d. t-stat would overstate significance.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n < 3:
        return float("nan")
    d = x - x.mean()
    var = d @ d / n
    for lag in range(1, min(lags, n - 1) + 1):
        var += 2.0 * (1.0 - lag / (lags + 1.0)) * (d[lag:] @ d[:-lag]) / n
    return float(x.mean() / np.sqrt(var / n)) if var > 0 else float("nan")


@dataclass(frozen=True)
class LongShort:
    """Daily returns of the long-short book and its summary statistics.

    ``annual_return`` and ``sharpe`` are net of costs; ``gross_*`` before costs, and
    ``annual_cost`` is the yearly cost, so ``gross_annual_return - annual_cost == annual_return``.
    """

    daily: pl.DataFrame  # Date, gross, cost, net, turnover
    annual_return: float
    sharpe: float
    max_drawdown: float
    turnover: float
    gross_annual_return: float
    gross_sharpe: float
    annual_cost: float


def long_short(
    frame: pl.DataFrame,
    pred: str,
    daily_return: str,
    holding: int = 1,
    quantile: float = 0.1,
    cost_bps: float = 10.0,
) -> LongShort:
    """A long top-decile, short bottom-decile book, equal weights, held ``holding`` days.

    Each day a new cohort is formed from that day's predictions alone and kept for
    ``holding`` days (overlapping cohorts, 1/holding of capital each), so the book is
    daily and its P&L uses 1-day forward returns ``daily_return`` (return from t to t+1).
    A missing forward return (suspension, delisting) counts as 0. Costs are
    ``cost_bps`` per unit traded, on sum |delta w|; ``turnover`` is the mean daily
    one-way share of the book traded (sum |delta w| / 2).
    """
    pivot = lambda col: frame.pivot(on="Code", index="Date", values=col, sort_columns=True).sort("Date")  # noqa: E731
    preds = pivot(pred)
    dates = preds.get_column("Date")
    p = preds.drop("Date").to_numpy().astype(float)
    r = pivot(daily_return).select(preds.columns).drop("Date").to_numpy().astype(float)
    r = np.nan_to_num(r, nan=0.0)

    valid = np.isfinite(p)
    count = valid.sum(axis=1, keepdims=True)
    k = np.floor(count * quantile)
    ranks = np.where(valid, np.argsort(np.argsort(np.where(valid, p, np.inf), axis=1), axis=1), -1)
    long = valid & (ranks >= count - k) & (k > 0)
    short = valid & (ranks < k) & (k > 0)
    cohort = long / np.maximum(k, 1) - short / np.maximum(k, 1)

    # Position = average of the last `holding` cohorts (a running sum over days).
    cum = np.cumsum(np.vstack([np.zeros((1, cohort.shape[1])), cohort]), axis=0)
    start = np.maximum(np.arange(1, len(cohort) + 1) - holding, 0)
    weights = (cum[1:] - cum[start]) / holding

    traded = np.abs(np.diff(np.vstack([np.zeros((1, weights.shape[1])), weights]), axis=0)).sum(axis=1)
    gross = (weights * r).sum(axis=1)
    cost = traded * cost_bps / 1e4
    net = gross - cost
    equity = np.cumprod(1.0 + net)
    drawdown = equity / np.maximum.accumulate(equity) - 1.0
    return LongShort(
        daily=pl.DataFrame({"Date": dates, "gross": gross, "cost": cost, "net": net, "turnover": traded / 2}),
        annual_return=_annual(net),
        sharpe=_sharpe(net),
        max_drawdown=float(drawdown.min()) if len(drawdown) else float("nan"),
        turnover=float(np.mean(traded / 2)),
        gross_annual_return=_annual(gross),
        gross_sharpe=_sharpe(gross),
        annual_cost=_annual(cost),
    )


def cost_model(cost_bps: float) -> dict[str, str]:
    """The cost model of :func:`long_short`, as MLflow params (``cost_model.*``).

    Every buy and every sell pays ``cost_bps`` of the traded notional (bps per side, so
    a round trip costs twice that); the daily traded notional is sum |delta w| over the
    book's weights, which sum to +1 long and -1 short.
    """
    return {
        "cost_model.bps_per_side": f"{float(cost_bps):g}",
        "cost_model.charged_on": "sum |delta w| per day (each buy and each sell)",
        "cost_model.turnover": "sum |delta w| / 2 per day (one-way share of the book)",
        "cost_model.book": "long top / short bottom quantile, equal weight, +1/-1 gross, h overlapping cohorts",
    }


def evaluate_horizon(
    frame: pl.DataFrame,
    pred: str,
    target: str,
    daily_return: str,
    horizon: int,
    quantile: float = 0.1,
    cost_bps: float = 10.0,
    min_stocks: int = 10,
) -> tuple[dict[str, float], pl.DataFrame, LongShort]:
    """All metrics of one prediction column at one horizon, plus the daily series."""
    ic = daily_ic(frame, pred, target, min_stocks)
    book = long_short(frame, pred, daily_return, holding=horizon, quantile=quantile, cost_bps=cost_bps)
    rank_ic = ic.get_column("rank_ic").drop_nulls().to_numpy()
    pearson = ic.get_column("ic").drop_nulls().to_numpy()
    stats = {
        "ic": _mean(pearson),
        "rank_ic": _mean(rank_ic),
        "icir": _ratio(pearson),
        "rank_icir": _ratio(rank_ic),
        "rank_ic_tstat": newey_west_tstat(rank_ic, lags=horizon),
        "hit_rate": _mean(ic.get_column("hit_rate").to_numpy()),
        "annual_return": book.annual_return,
        "sharpe": book.sharpe,
        "gross_annual_return": book.gross_annual_return,
        "gross_sharpe": book.gross_sharpe,
        "annual_cost": book.annual_cost,
        "max_drawdown": book.max_drawdown,
        "turnover": book.turnover,
        "n_days": float(len(rank_ic)),
    }
    return stats, ic, book


def evaluate(
    frame: pl.DataFrame,
    horizons: Sequence[int],
    pred_template: str = "pred_h{h}",
    quantile: float = 0.1,
    cost_bps: float = 10.0,
    min_stocks: int = 10,
) -> tuple[dict[str, float], dict[int, pl.DataFrame], dict[int, LongShort]]:
    """Metrics for every horizon; keys like ``rank_ic_h5``. Needs ``target_h1`` for the P&L."""
    metrics, ics, books = {}, {}, {}
    for h in horizons:
        stats, ics[h], books[h] = evaluate_horizon(
            frame, pred_template.format(h=h), f"target_h{h}", "target_h1", h, quantile, cost_bps, min_stocks
        )
        metrics.update({f"{name}_h{h}": value for name, value in stats.items()})
    return metrics, ics, books


def _annual(daily: np.ndarray) -> float:
    return float(daily.mean() * TRADING_DAYS) if len(daily) else float("nan")


def _sharpe(daily: np.ndarray) -> float:
    std = daily.std(ddof=1) if len(daily) > 1 else float("nan")
    return float(daily.mean() / std * np.sqrt(TRADING_DAYS)) if std and std > 0 else float("nan")


def _mean(x: np.ndarray) -> float:
    return float(np.mean(x)) if len(x) else float("nan")


def _ratio(x: np.ndarray) -> float:
    return float(np.mean(x) / np.std(x, ddof=1)) if len(x) > 1 and np.std(x, ddof=1) > 0 else float("nan")
