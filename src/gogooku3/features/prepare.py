"""Validate the canonical quotes and build the frame every feature group reads.

Sessions, the session grid and split adjustment are :mod:`gogooku3.data.sessions`'s
(documented in docs/features.md): gap rows are inserted as suspended rows (null
prices) and removed again at the end, so windows count sessions and returns never
jump silently over a gap.
"""

from __future__ import annotations

import polars as pl

from gogooku3.data.market import MarketData
from gogooku3.data.sessions import adjustment_factor, session_grid, session_table
from gogooku3.errors import DataError
from gogooku3.features import ops
from gogooku3.schema import CODE, DATE, QUOTE_COLUMNS, QUOTE_DEFAULTS, QUOTE_REQUIRED

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


def prepare(market: MarketData) -> tuple[pl.DataFrame, pl.Series]:
    """The session grid of every code (raw quote columns and ``_present``) and the sessions.

    Code is flagged as sorted (it is), so ``over("Code")`` runs on contiguous slices.
    Per-code columns are added slice by slice with :func:`adjust`.
    """
    quotes = validate_quotes(market.quotes)
    table = session_table(market.calendar, quotes.get_column(DATE))
    grid = session_grid(quotes, table).with_columns(pl.col(CODE).set_sorted())
    return grid, table.get_column(DATE)


def adjust(grid: pl.DataFrame) -> pl.DataFrame:
    """Rows of whole codes of the grid plus position within the code and split-adjusted OHLCV."""
    factor = adjustment_factor()
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
