"""Calendar and validity flags: suspensions, listing age, daily price limits."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest
from featurekit import adjusted_pandas, compare, tiny_market, with_quotes

from gogooku3.features import build_features
from gogooku3.features.groups.calendar import LISTED_CAP, limit_width


def test_suspension_counts_match_pandas(messy_market):
    panel = build_features(messy_market, {"calendar": {"suspension_window": 10}})
    ref = adjusted_pandas(messy_market.quotes)
    ref["susp"] = ref["Close"].isna().astype(float)
    ref["susp10"] = ref.groupby("Code")["susp"].rolling(10, min_periods=10).sum().reset_index(level=0, drop=True)
    ref["age"] = np.log1p(ref.groupby("Code").cumcount().clip(upper=LISTED_CAP))  # capped: a bounded lookback
    compare(panel.frame, ref, "suspended", "susp")
    compare(panel.frame, ref, "suspended_10d", "susp10")
    compare(panel.frame, ref, "sessions_listed_log", "age")
    assert panel.frame["suspended"].sum() > 0


@pytest.mark.parametrize("base,width", [(99, 30), (100, 50), (499.9, 80), (1000, 300), (2999, 500), (3000, 700)])
def test_limit_table(base, width):
    assert pl.select(limit_width(pl.lit(float(base)))).item() == width


def test_limit_up_and_down_flags():
    market = tiny_market(codes=("1000",))
    q = market.quotes
    d = q["Date"].to_list()
    # tiny closes are 1000 + i: d[10] rises by the 300 yen limit, d[20] falls 150 (not a limit),
    # d[30] falls by the limit. (Rebounds the next day are limit moves of their own, not checked.)
    q = q.with_columns(
        pl.when(pl.col("Date") == d[10]).then(pl.col("Close").shift(1) + 300)
        .when(pl.col("Date") == d[20]).then(pl.col("Close").shift(1) - 150)  # base 1018 < 1500 -> 300
        .when(pl.col("Date") == d[30]).then(pl.col("Close").shift(1) - 300)
        .otherwise(pl.col("Close")).alias("Close"))
    f = build_features(with_quotes(market, q), {"calendar": {}}).frame
    up, down = f["limit_up"].to_list(), f["limit_down"].to_list()
    assert up[0] is None and up[10] == 1.0 and up[9] == 0.0 and up[20] == 0.0
    assert down[20] == 0.0 and down[30] == 1.0 and down[10] == 0.0 and sum(x or 0 for x in down[:30]) == 0.0
    days = dict(zip(f["Date"].to_list(), f["day_of_week"].to_list()))
    assert days[date(2019, 4, 1)] == 1.0 and days[date(2019, 4, 5)] == 5.0
