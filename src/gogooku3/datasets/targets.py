"""Forward-return targets from split-adjusted closes."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from gogooku3.schema import target_column


def adjusted_close(quotes: pl.LazyFrame | pl.DataFrame) -> pl.Expr:
    """Close divided by the running product of AdjustmentFactor, per Code.

    Uses factors up to and including each row only, so it is continuous across splits
    without knowing later ones. Expects rows sorted by Code then Date.
    """
    return pl.col("Close") / pl.col("AdjustmentFactor").fill_null(1.0).cum_prod().over("Code")


def forward_returns(quotes: pl.DataFrame, horizons: Sequence[int]) -> pl.DataFrame:
    """``Code``, ``Date`` and ``target_h{h}`` = adjusted close h sessions ahead / today - 1.

    Rows are per stock, one per session while listed, so a shift of h rows is h
    sessions. The last h rows of each stock, and rows whose either close is null
    (suspension), have no target.
    """
    frame = quotes.lazy().sort("Code", "Date").with_columns(_adj=adjusted_close(quotes))
    return (
        frame.with_columns(
            [(pl.col("_adj").shift(-h).over("Code") / pl.col("_adj") - 1.0).alias(target_column(h)) for h in horizons]
        )
        .select("Code", "Date", *[target_column(h) for h in horizons])
        .collect()
    )
