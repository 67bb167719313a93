"""Forward-return targets counted in sessions of the market's calendar."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from gogooku3.data.sessions import PRESENT, adjusted_close, session_grid, session_table
from gogooku3.schema import CODE, DATE, target_column


def forward_returns(quotes: pl.DataFrame, horizons: Sequence[int], calendar: pl.Series | None = None) -> pl.DataFrame:
    """``Code``, ``Date`` and ``target_h{h}`` = adjusted close h sessions ahead / today - 1.

    Sessions are ``calendar`` plus every quote date. Where the stock has no valid close
    on the session h ahead (a gap, a suspension, after delisting or past the data's
    end) the target is null: it never falls back to the next row the stock has.
    ``quotes`` must be unique on (Code, Date).
    """
    q = quotes.select(CODE, DATE, "Close", *(["AdjustmentFactor"] if "AdjustmentFactor" in quotes.columns else []))
    if "AdjustmentFactor" not in q.columns:
        q = q.with_columns(AdjustmentFactor=pl.lit(1.0))
    q = q.sort(CODE, DATE)
    grid = session_grid(q, session_table(calendar, q.get_column(DATE)))
    # On the grid a shift of h rows is h sessions; gap rows have a null close.
    return (
        grid.lazy()
        .with_columns(_adj=adjusted_close())
        .with_columns([(pl.col("_adj").shift(-h).over(CODE) / pl.col("_adj") - 1.0).alias(target_column(h))
                       for h in horizons])
        .filter(pl.col(PRESENT))
        .select(CODE, DATE, *[target_column(h) for h in horizons])
        .collect()
    )
