"""Row-order helpers: most checks compare a row with the previous row of the same code.

On quotes sorted by Code then Date (the MarketData contract) that is a plain shift
masked at code boundaries: linear time, no per-code windows.
"""

from __future__ import annotations

import polars as pl


def is_sorted_by_code_date(frame: pl.DataFrame) -> bool:
    """True when rows are ordered by Code, then Date (ties allowed)."""
    if frame.height < 2:
        return True
    code, date = pl.col("Code"), pl.col("Date")
    ok = (code > code.shift(1)) | ((code == code.shift(1)) & (date >= date.shift(1)))
    return bool(frame.select(ok.fill_null(True).all()).item())


def sort_by_code_date(frame: pl.DataFrame) -> pl.DataFrame:
    """Stable sort by Code, Date (a no-op when already sorted): delivery order breaks ties."""
    if is_sorted_by_code_date(frame):
        return frame
    return frame.sort("Code", "Date", maintain_order=True, nulls_last=True)


def same_code_as_previous() -> pl.Expr:
    """On sorted rows: the previous row belongs to the same code."""
    return (pl.col("Code") == pl.col("Code").shift(1)).fill_null(False)


def code_run() -> pl.Expr:
    """On sorted rows: an integer id per code, increasing down the frame."""
    return (~same_code_as_previous()).cum_sum()
