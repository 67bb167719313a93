"""Sessions, the per-code session grid and split adjustment: the clock every later stage counts in.

Lags, rolling windows, forward-return horizons and the split's embargo all count
*sessions* of the market's calendar, never rows: a stock with a gap has fewer rows
than sessions, and counting rows would stretch a 5-session label over 8 sessions.
Everything here is shared by ``features`` (windows) and ``datasets`` (targets, folds).

* Sessions are the calendar's sessions plus any quote date, numbered consecutively
  (the gates have judged off-calendar dates by the time these run).
* The grid has one row per code for every session between its first and last quote;
  a session a code has no row for becomes a row with null prices and ``_present``
  false, so a shift of k rows on the grid is k sessions.
* Split adjustment without look-ahead: F_t = product of AdjustmentFactor on the code's
  rows up to and including t (null = 1, no corporate action); adjusted price =
  raw / F_t, adjusted volume = raw volume * F_t.
"""

from __future__ import annotations

import polars as pl

from gogooku3.schema import CODE, DATE

SESSION = "_session"
PRESENT = "_present"


def session_table(calendar: pl.Series | None, dates: pl.Series) -> pl.DataFrame:
    """``Date`` -> consecutive session number ``_session``, from the calendar plus ``dates``."""
    cal = calendar.cast(pl.Date).rename(DATE) if calendar is not None else pl.Series(DATE, [], pl.Date)
    days = pl.concat([cal, dates.cast(pl.Date).rename(DATE)]).unique().sort()
    return days.to_frame().with_row_index(SESSION)


def trading_sessions_between(calendar: pl.Series | None, dates: pl.Series) -> list:
    """The sessions from the first to the last of ``dates``, ascending (for splits)."""
    days = session_table(calendar, dates).get_column(DATE)
    return days.filter((days >= dates.min()) & (days <= dates.max())).to_list()


def session_grid(quotes: pl.DataFrame, table: pl.DataFrame) -> pl.DataFrame:
    """Quotes with one row per code per session between its first and last quote.

    ``quotes`` must be sorted by Code, Date and unique on them. Inserted rows have null
    values and ``_present`` false. When no code has a gap the quotes come back as they
    are, sharing their memory (the common case).
    """
    days = table.get_column(DATE)
    runs = quotes.get_column(CODE).rle()
    n = runs.struct.field("len")
    end = n.cum_sum()
    dates = quotes.get_column(DATE)
    spans = pl.DataFrame({
        CODE: runs.struct.field("value"),
        "_first": days.search_sorted(dates.gather(end - n)).cast(pl.UInt32),
        "_last": days.search_sorted(dates.gather(end - 1)).cast(pl.UInt32),
        "_n": n,
    })
    has_gap = spans.filter(pl.col("_last") - pl.col("_first") + 1 != pl.col("_n")).height > 0
    if not has_gap:  # adding only a literal column keeps the quotes' buffers (no copy)
        return quotes.with_columns(pl.lit(True).alias(PRESENT))
    q = quotes.with_columns(days.search_sorted(dates).cast(pl.UInt32).alias(SESSION), pl.lit(True).alias(PRESENT))
    grid = (
        spans.select(CODE, pl.int_ranges(pl.col("_first"), pl.col("_last") + 1, dtype=pl.UInt32).alias(SESSION))
        .explode(SESSION)
        .join(table, on=SESSION, how="left")
    )
    out = grid.join(q.drop(DATE), on=[CODE, SESSION], how="left")
    return (
        out.with_columns(pl.col(PRESENT).fill_null(False))
        .drop(SESSION)
        .sort(CODE, DATE)
        .select(q.drop(SESSION).columns)
    )


def adjustment_factor() -> pl.Expr:
    """F_t: the running product of AdjustmentFactor per code (rows sorted by Code, Date)."""
    return pl.col("AdjustmentFactor").fill_null(1.0).cum_prod().over(CODE)


def adjusted_close() -> pl.Expr:
    """Close / F_t: continuous across splits without knowing later ones."""
    return pl.col("Close") / adjustment_factor()
