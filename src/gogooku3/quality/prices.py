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
    big = big_moves(quotes.lazy(), max_abs_return).collect()
    return with_limit_moves(big, limit_multiplier=limit_multiplier, limit_tolerance=limit_tolerance)


def big_moves(quotes: pl.LazyFrame, max_abs_return: float) -> pl.LazyFrame:
    """The lazy part of :func:`price_jumps` (everything but ``limit_move``), to collect with other queries."""
    af = pl.col("AdjustmentFactor").fill_null(1.0)

    def at_last_trade(column: str) -> pl.Expr:
        return pl.when(pl.col("_traded")).then(pl.col(column)).forward_fill().shift(1)

    # Each step is its own column: as one expression tree the shared parts were computed again and again.
    # Without an adjustment since the last trade (almost every row) prev_close is that close as it is,
    # so the move is judged on it first; the split-scaled close is computed for the rows left.
    since = pl.when(at_last_trade("_run") == pl.col("_run")).then(pl.col("_cum") - at_last_trade("_cum"))
    big = (pl.col("Close") / pl.col("_last") - 1.0).abs() > max_abs_return
    move = pl.col("Close") / pl.col("prev_close") - 1.0
    return (
        quotes
        .select("Code", "Date", "Close", pl.col("Close").is_not_null().alias("_traded"), code_run().alias("_run"),
                pl.when(af > 0).then(af.log()).otherwise(0.0).cum_sum().alias("_cum"))
        .with_columns(since.alias("_since"), at_last_trade("Close").alias("_last"))
        .filter(((pl.col("_since") != 0.0) | big).fill_null(False))
        .with_columns((pl.col("_last") * pl.col("_since").exp()).alias("prev_close"))
        .filter((move.abs() > max_abs_return).fill_null(False))
        .select("Code", "Date", "prev_close", "Close", move.alias("move"),
                (pl.col("_since").abs() > 1e-12).fill_null(False).alias("split"))
    )


def with_limit_moves(moves: pl.DataFrame, *, limit_multiplier: float, limit_tolerance: float) -> pl.DataFrame:
    """Add ``limit_move`` to :func:`big_moves` rows: the change is the daily limit (within the tolerances)."""
    limit = pl.Series("_limit", daily_price_limit(moves["prev_close"].to_numpy()), dtype=pl.Float64)
    change = (pl.col("Close") - pl.col("prev_close")).abs()
    return moves.with_columns(limit).with_columns(
        ((change >= pl.col("_limit") * (1.0 - limit_tolerance))
         & (change <= pl.col("_limit") * limit_multiplier)).fill_null(False).alias("limit_move"),
    ).drop("_limit")
