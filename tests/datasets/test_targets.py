from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from gogooku3.datasets.targets import forward_returns


def _quotes(closes, factors=None, code="13010"):
    n = len(closes)
    return pl.DataFrame(
        {
            "Code": [code] * n,
            "Date": pl.date_range(date(2024, 1, 1), date(2024, 1, n), eager=True),
            "Close": closes,
            "AdjustmentFactor": factors or [1.0] * n,
        }
    )


def test_forward_returns_and_last_rows_empty():
    t = forward_returns(_quotes([100.0, 110.0, 121.0, 133.1]), [1, 2])
    assert t["target_h1"].to_list()[:3] == pytest.approx([0.1, 0.1, 0.1])
    assert t["target_h1"][3] is None
    assert t["target_h2"].to_list()[:2] == pytest.approx([0.21, 0.21])
    assert t["target_h2"].tail(2).null_count() == 2


def test_split_is_adjusted_and_stocks_never_mix():
    # A 1:2 split on day 3: raw close halves, the adjusted return is +10%.
    a = _quotes([100.0, 110.0, 60.5, 66.55], [1.0, 1.0, 0.5, 1.0])
    b = _quotes([50.0, 50.0, 50.0, 50.0], code="13020")
    t = forward_returns(pl.concat([b, a]), [1]).filter(pl.col("Code") == "13010")
    assert t["target_h1"].to_list()[:3] == pytest.approx([0.1, 0.1, 0.1])


def test_suspended_end_gives_no_target():
    t = forward_returns(_quotes([100.0, None, 120.0]), [1, 2])
    assert t["target_h1"].to_list()[:2] == [None, None]
    assert t["target_h2"][0] == pytest.approx(0.2)


def test_a_gap_gives_null_never_the_next_row():
    # Sessions Jan 1..5; the stock has no row on Jan 3 (a gap the calendar knows of).
    q = _quotes([100.0, 110.0, 121.0, 133.1, 146.41]).filter(pl.col("Date") != date(2024, 1, 3))
    calendar = pl.Series(pl.date_range(date(2024, 1, 1), date(2024, 1, 5), eager=True))
    t = forward_returns(q, [1, 2], calendar)
    assert t["Date"].to_list() == q["Date"].to_list()
    h1 = dict(zip(t["Date"], t["target_h1"]))
    assert h1[date(2024, 1, 2)] is None  # Jan 3 has no close: not Jan 4's
    h2 = dict(zip(t["Date"], t["target_h2"]))
    assert h2[date(2024, 1, 1)] is None and h2[date(2024, 1, 2)] == pytest.approx(133.1 / 110.0 - 1)


def test_no_adjustment_factor_column_means_no_corporate_actions():
    t = forward_returns(_quotes([100.0, 110.0]).drop("AdjustmentFactor"), [1])
    assert t["target_h1"][0] == pytest.approx(0.1)
