"""Daily price moves on raw (unadjusted) quotes, adjusted for splits, and TSE price limits.

A close-to-close move is judged against the previous traded close, scaled by every
AdjustmentFactor since then (the factor sits on the ex-date row: 0.5 for a 1:2 split,
so the raw price halves). A big move is plausible when a split explains it or when it
equals the exchange's daily price limit (a stop-high or stop-low).
"""

from __future__ import annotations

import polars as pl

from gogooku3.data.price_limits import daily_price_limit
from gogooku3.quality.frames import code_run

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
