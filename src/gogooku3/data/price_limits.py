"""The Tokyo Stock Exchange daily price-limit table (yen width by base price).

One table for every stage: quality judges jumps against it, features flag limit moves.
"""

from __future__ import annotations

import numpy as np
import polars as pl

# Upper bound of each base-price band (exclusive) and the daily limit within it; above
# the last band, the last limit.
BAND_UPPER = np.array([
    100, 200, 500, 700, 1_000, 1_500, 2_000, 3_000, 5_000, 7_000, 10_000, 15_000, 20_000,
    30_000, 50_000, 70_000, 100_000, 150_000, 200_000, 300_000, 500_000, 700_000, 1_000_000,
    1_500_000, 2_000_000, 3_000_000, 5_000_000, 7_000_000, 10_000_000, 15_000_000,
    20_000_000, 30_000_000, 50_000_000,
], dtype=np.float64)  # fmt: skip
BAND_LIMIT = np.array([
    30, 50, 80, 100, 150, 300, 400, 500, 700, 1_000, 1_500, 3_000, 4_000, 5_000, 7_000,
    10_000, 15_000, 30_000, 40_000, 50_000, 70_000, 100_000, 150_000, 300_000, 400_000,
    500_000, 700_000, 1_000_000, 1_500_000, 3_000_000, 4_000_000, 5_000_000, 7_000_000,
    10_000_000,
], dtype=np.float64)  # fmt: skip


def daily_price_limit(base_price: np.ndarray) -> np.ndarray:
    """The daily limit in yen for each base (previous close) price; NaN stays NaN."""
    base = np.asarray(base_price, dtype=np.float64)
    out = BAND_LIMIT[np.searchsorted(BAND_UPPER, np.nan_to_num(base, nan=0.0), side="right")]
    return np.where(np.isnan(base), np.nan, out)


def limit_width(base: pl.Expr) -> pl.Expr:
    """The same table as a Polars expression (null base -> null)."""
    expr = pl.when(base.is_null()).then(None)
    for bound, width in zip(BAND_UPPER, BAND_LIMIT[:-1]):
        expr = expr.when(base < float(bound)).then(float(width))
    return expr.otherwise(float(BAND_LIMIT[-1]))
