"""Validate the canonical quotes and build the frame every feature group reads.

Choices (documented in docs/features.md):
* Sessions: one row per code for every session between its first and last quote.
  Sessions are ``market.calendar`` plus any quote date; a session a code has no row
  for is inserted as a suspended row (null prices) and removed again at the end, so
  windows count sessions and returns never jump silently over a gap.
* Split adjustment without look-ahead: F_t = product of AdjustmentFactor on the
  code's rows up to and including t (null factor = 1, no corporate action);
  adjusted price = raw / F_t, adjusted volume = raw volume * F_t.
"""

from __future__ import annotations

import polars as pl

from gogooku3.data.market import MarketData
from gogooku3.errors import DataError
from gogooku3.features import ops
from gogooku3.schema import CODE, DATE, QUOTE_COLUMNS, QUOTE_DEFAULTS, QUOTE_REQUIRED

SESSION = "_session"


def validate_quotes(quotes: pl.DataFrame) -> pl.DataFrame:
    """Canonical dtypes, defaults for optional columns, sorted by Code, Date; else DataError."""
    missing = [c for c in QUOTE_REQUIRED if c not in quotes.columns]
    if missing:
        raise DataError(f"quotes: missing required column(s) {', '.join(missing)}")
    exprs = []
    for name, dtype in QUOTE_COLUMNS.items():
        if name in quotes.columns:
            exprs.append(pl.col(name))
        else:
            exprs.append(pl.lit(QUOTE_DEFAULTS[name], dtype=dtype).alias(name))
    if quotes.height == 0:
        raise DataError("quotes: no rows")
    q = quotes.select(exprs)
    for name, dtype in QUOTE_COLUMNS.items():
        if q.schema[name] != dtype:
            try:
                q = q.with_columns(pl.col(name).cast(dtype, strict=True))
            except Exception as exc:  # polars raises several error types for casts
                raise DataError(
                    f"quotes column {name}: cannot convert {q.schema[name]} to {dtype}"
                ) from exc
    for key in (CODE, DATE):
        n_null = q.get_column(key).null_count()
        if n_null:
            raise DataError(f"quotes column {key}: {n_null} null value(s)")
    bad = q.filter(pl.col("AdjustmentFactor") <= 0)
    if bad.height:
        row = bad.row(0, named=True)
        raise DataError(
            f"quotes column AdjustmentFactor: non-positive value {row['AdjustmentFactor']} "
            f"at Code={row[CODE]} Date={row[DATE]}"
        )
    ordered = q.select(((pl.col(CODE) > pl.col(CODE).shift(1))
                         | ((pl.col(CODE) == pl.col(CODE).shift(1)) & (pl.col(DATE) >= pl.col(DATE).shift(1))))
                        .fill_null(True).all()).item()
    if not ordered:  # sorting copies every column; canonical quotes are sorted already
        q = q.sort(CODE, DATE)
    dup = q.filter((pl.col(CODE) == pl.col(CODE).shift(1)) & (pl.col(DATE) == pl.col(DATE).shift(1)))
    if dup.height:
        row = dup.row(0, named=True)
        raise DataError(f"quotes: duplicate (Code, Date) row Code={row[CODE]} Date={row[DATE]}")
    return q


def sessions(market: MarketData, quotes: pl.DataFrame) -> pl.DataFrame:
    """Date -> consecutive session number, from the calendar plus every quote date."""
    cal = pl.DataFrame({DATE: market.calendar.cast(pl.Date)}) if market.calendar is not None \
        else pl.DataFrame({DATE: []}, schema={DATE: pl.Date})
    days = pl.concat([cal, quotes.select(DATE)]).unique().sort(DATE)
    return days.with_row_index(SESSION)


def session_grid(quotes: pl.DataFrame, session_table: pl.DataFrame) -> pl.DataFrame:
    """Quotes with one row per code per session between its first and last quote.

    Inserted rows have null prices and ``_present`` false. When no code has a gap
    the quotes are returned as they are, sharing their memory (the common case).
    """
    days = session_table.get_column(DATE)
    runs = quotes.get_column(CODE).rle()  # quotes are sorted by Code, Date and unique
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
        return quotes.with_columns(pl.lit(True).alias(ops.PRESENT))
    q = quotes.with_columns(days.search_sorted(quotes.get_column(DATE)).cast(pl.UInt32).alias(SESSION),
                            pl.lit(True).alias(ops.PRESENT))
    grid = (
        spans.select(CODE, pl.int_ranges(pl.col("_first"), pl.col("_last") + 1,
                                         dtype=pl.UInt32).alias(SESSION))
        .explode(SESSION)
        .join(session_table, on=SESSION, how="left")
    )
    out = grid.join(q.drop(DATE), on=[CODE, SESSION], how="left")
    return (
        out.with_columns(pl.col(ops.PRESENT).fill_null(False))
        .drop(SESSION)
        .sort(CODE, DATE)
        .select(q.drop(SESSION).columns)
    )


def prepare(market: MarketData) -> tuple[pl.DataFrame, pl.Series]:
    """The session grid of every code (raw quote columns and ``_present``) and the sessions.

    Code is flagged as sorted (it is), so ``over("Code")`` runs on contiguous slices.
    Per-code columns are added slice by slice with :func:`adjust`.
    """
    quotes = validate_quotes(market.quotes)
    session_table = sessions(market, quotes)
    grid = session_grid(quotes, session_table).with_columns(pl.col(CODE).set_sorted())
    return grid, session_table.get_column(DATE)


def adjust(grid: pl.DataFrame) -> pl.DataFrame:
    """Rows of whole codes of the grid plus position within the code and split-adjusted OHLCV."""
    factor = pl.col("AdjustmentFactor").fill_null(1.0).cum_prod().over(CODE)
    return grid.with_columns(
        pl.int_range(pl.len(), dtype=pl.UInt32).over(CODE).alias(ops.POS),
        factor.alias(ops.FACTOR),
    ).with_columns(
        (pl.col("Open") / pl.col(ops.FACTOR)).alias(ops.OPEN),
        (pl.col("High") / pl.col(ops.FACTOR)).alias(ops.HIGH),
        (pl.col("Low") / pl.col(ops.FACTOR)).alias(ops.LOW),
        (pl.col("Close") / pl.col(ops.FACTOR)).alias(ops.CLOSE),
        (pl.col("Volume") * pl.col(ops.FACTOR)).alias(ops.VOLUME),
    )
