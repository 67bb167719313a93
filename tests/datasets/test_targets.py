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
