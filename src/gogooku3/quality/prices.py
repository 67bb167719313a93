"""Daily price moves on raw (unadjusted) quotes, adjusted for splits, and TSE price limits.

A close-to-close move is judged against the previous traded close, scaled by every
AdjustmentFactor since then (the factor sits on the ex-date row: 0.5 for a 1:2 split,
so the raw price halves). A big move is plausible when a split explains it or when it
equals the exchange's daily price limit (a stop-high or stop-low).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from gogooku3.quality.frames import code_run

# Tokyo Stock Exchange daily price limit (yen) by previous close: upper bound of each
# price band (exclusive) and the limit within it; above the last band the last limit.
_BAND_UPPER = np.array([
    100, 200, 500, 700, 1_000, 1_500, 2_000, 3_000, 5_000, 7_000, 10_000, 15_000, 20_000,
    30_000, 50_000, 70_000, 100_000, 150_000, 200_000, 300_000, 500_000, 700_000, 1_000_000,
    1_500_000, 2_000_000, 3_000_000, 5_000_000, 7_000_000, 10_000_000, 15_000_000,
    20_000_000, 30_000_000, 50_000_000,
], dtype=np.float64)
_BAND_LIMIT = np.array([
    30, 50, 80, 100, 150, 300, 400, 500, 700, 1_000, 1_500, 3_000, 4_000, 5_000, 7_000,
    10_000, 15_000, 30_000, 40_000, 50_000, 70_000, 100_000, 150_000, 300_000, 400_000,
    500_000, 700_000, 1_000_000, 1_500_000, 3_000_000, 4_000_000, 5_000_000, 7_000_000,
    10_000_000,
], dtype=np.float64)


def daily_price_limit(base_price: np.ndarray) -> np.ndarray:
    """The TSE daily limit in yen for each base (previous close) price; NaN stays NaN."""
    base = np.asarray(base_price, dtype=np.float64)
    idx = np.searchsorted(_BAND_UPPER, np.nan_to_num(base, nan=0.0), side="right")
    out = _BAND_LIMIT[idx]
    return np.where(np.isnan(base), np.nan, out)


def price_jumps(
    quotes: pl.DataFrame, *, max_abs_return: float, limit_multiplier: float, limit_tolerance: float
) -> pl.DataFrame:
    """The rows whose split-adjusted close-to-close move exceeds ``max_abs_return``.

    ``quotes`` must be sorted by Code, Date. Returns Code, Date, prev_close (the last
    traded close of the same code, scaled by every AdjustmentFactor since, so on
    today's share basis), Close, move, split (an adjustment since the previous trade)
    and limit_move (the change equals the TSE daily limit, up to expanded limits).
    """
    af = pl.col("AdjustmentFactor").fill_null(1.0)
    traded = pl.col("Close").is_not_null()

    def at_last_trade(expr: pl.Expr) -> pl.Expr:
        return pl.when(traded).then(expr).forward_fill().shift(1)

    cum = pl.when(af > 0).then(af.log()).otherwise(0.0).cum_sum()
    same = (at_last_trade(code_run()) == code_run()).fill_null(False)
    since = pl.when(same).then(cum - at_last_trade(cum))
    prev = at_last_trade(pl.col("Close")) * since.exp()
    move = pl.col("Close") / pl.col("prev_close") - 1.0
    jumps = (
        quotes.lazy()
        .select("Code", "Date", "Close", prev.alias("prev_close"), since.alias("_since"))
        .filter((move.abs() > max_abs_return).fill_null(False))
        .select("Code", "Date", "prev_close", "Close", move.alias("move"),
                (pl.col("_since").abs() > 1e-12).fill_null(False).alias("split"))
        .collect()
    )
    limit = pl.Series("_limit", daily_price_limit(jumps["prev_close"].to_numpy()), dtype=pl.Float64)
    change = (pl.col("Close") - pl.col("prev_close")).abs()
    return jumps.with_columns(limit).with_columns(
        ((change >= pl.col("_limit") * (1.0 - limit_tolerance))
         & (change <= pl.col("_limit") * limit_multiplier)).fill_null(False).alias("limit_move"),
    ).drop("_limit")
