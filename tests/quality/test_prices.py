"""TSE price limits and split-adjusted daily moves."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from gogooku3.quality.prices import daily_price_limit, price_jumps


def test_daily_limit_bands():
    prices = np.array([50, 99.9, 100, 499, 500, 999, 1_000, 2_999, 3_000, 60_000_000, np.nan])
    expected = [30, 30, 50, 80, 100, 150, 300, 500, 700, 10_000_000]
    got = daily_price_limit(prices)
    assert got[:-1].tolist() == expected and np.isnan(got[-1])


def _quotes(closes, factors=None):
    n = len(closes)
    return pl.DataFrame({
        "Code": ["1"] * n, "Date": [date(2021, 1, 4 + i) for i in range(n)], "Close": closes,
        "AdjustmentFactor": factors or [1.0] * n,
    })


def _jumps(quotes, threshold=0.3):
    return price_jumps(quotes, max_abs_return=threshold, limit_multiplier=2.0, limit_tolerance=0.05)


def test_split_explains_the_raw_price_halving():
    assert _jumps(_quotes([1000.0, 500.0, 505.0], [1.0, 0.5, 1.0])).height == 0
    unadjusted = _jumps(_quotes([1000.0, 500.0, 505.0]))
    assert unadjusted["Date"].to_list() == [date(2021, 1, 5)] and not unadjusted["split"][0]


def test_limit_move_versus_unexplained_jump():
    # 150 yen: the daily limit is 50 yen, so 150 -> 200 (+33%) is a stop-high; 200 -> 2000 is not.
    j = _jumps(_quotes([150.0, 200.0, 2000.0]))
    assert j["Date"].to_list() == [date(2021, 1, 5), date(2021, 1, 6)]
    assert j["limit_move"].to_list() == [True, False]


def test_suspended_days_compare_with_the_last_traded_close_and_carry_factors():
    j = _jumps(_quotes([1000.0, None, 510.0], [1.0, 0.5, 1.0]), threshold=1e-6)
    assert j["prev_close"].to_list() == [500.0] and j["split"].to_list() == [True]
    assert abs(j["move"][0] - 0.02) < 1e-12


def test_first_row_of_a_code_has_no_previous_close():
    two = pl.concat([_quotes([1000.0, 1010.0]), _quotes([50.0, 51.0]).with_columns(pl.lit("2").alias("Code"))])
    assert _jumps(two, threshold=1e-6)["Code"].to_list() == ["1", "2"]
