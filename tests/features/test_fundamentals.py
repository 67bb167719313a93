"""Statements joined as of availability: the 15:00 cutoff, weekends and holidays."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import polars as pl
import pytest
from featurekit import tiny_market

from gogooku3.errors import ConfigError
from gogooku3.features import build_features
from gogooku3.features.groups.fundamentals import available_from
from gogooku3.schema import STATEMENT_COLUMNS


def statements(rows: list[dict]) -> pl.DataFrame:
    base = {c: None for c in STATEMENT_COLUMNS}
    base.update({"TypeOfDocument": "FY", "TypeOfCurrentPeriod": "FY", "CurrentFiscalYearEndDate": date(2019, 3, 31),
                 "NetSales": 1000.0, "OperatingProfit": 100.0, "Profit": 50.0, "EarningsPerShare": 5.0,
                 "TotalAssets": 2000.0, "Equity": 500.0, "BookValuePerShare": 50.0,
                 "ForecastEarningsPerShare": 6.0})
    return pl.DataFrame([{**base, **r} for r in rows], schema=STATEMENT_COLUMNS)


SESSIONS = tiny_market().calendar


@pytest.mark.parametrize("disclosed,time,expected", [
    (date(2019, 4, 10), "14:59:59", date(2019, 4, 10)),   # during the session: same day
    (date(2019, 4, 10), "15:00:00", date(2019, 4, 11)),   # at the close: next session
    (date(2019, 4, 10), "15:30:00", date(2019, 4, 11)),
    (date(2019, 4, 12), "16:00:00", date(2019, 4, 15)),   # Friday evening: Monday
    (date(2019, 4, 13), "10:00:00", date(2019, 4, 15)),   # Saturday: Monday
    (date(2019, 4, 26), "15:00:00", date(2019, 5, 7)),    # before Golden Week (10 days closed)
    (date(2019, 5, 3), "11:00:00", date(2019, 5, 7)),     # on a holiday
    (date(2019, 4, 10), None, date(2019, 4, 11)),         # time unknown: treated as after the close
    (date(2019, 6, 28), "16:00:00", None),                # after the last session: not usable yet
])
def test_available_from(disclosed, time, expected):
    st = statements([{"Code": "1000", "DisclosedDate": disclosed, "DisclosedTime": time}])
    got = available_from(st, SESSIONS, "15:00:00").get_column("_fin_avail").item()
    assert got == expected


def test_bad_cutoff_is_named():
    with pytest.raises(ConfigError, match="fundamentals.cutoff"):
        available_from(statements([{"Code": "1000", "DisclosedDate": date(2019, 4, 10)}]), SESSIONS, "3pm")


def test_panel_values_start_on_the_availability_session():
    st = statements([
        {"Code": "1000", "DisclosedDate": date(2019, 4, 26), "DisclosedTime": "15:00:00", "Profit": 50.0},
        {"Code": "1000", "DisclosedDate": date(2019, 5, 14), "DisclosedTime": "13:00:00", "Profit": 80.0,
         "ForecastEarningsPerShare": 9.0},
        {"Code": "2000", "DisclosedDate": date(2019, 5, 7), "DisclosedTime": "09:00:00", "Profit": 10.0},
    ])
    market = tiny_market(extras={"statements": st})
    f = build_features(market, {"fundamentals": {}}).frame
    one = f.filter(pl.col("Code") == "1000")
    at = lambda d: one.filter(pl.col("Date") == d).row(0, named=True)  # noqa: E731
    assert at(date(2019, 4, 26))["fin_net_margin"] is None
    assert at(date(2019, 5, 7))["fin_net_margin"] == pytest.approx(0.05)
    assert at(date(2019, 5, 13))["fin_net_margin"] == pytest.approx(0.05)
    assert at(date(2019, 5, 14))["fin_net_margin"] == pytest.approx(0.08)
    assert at(date(2019, 5, 14))["fin_eps_rev"] == pytest.approx(0.5 / 1.25)  # symmetric: (1.5 - 1) / mean(1.5, 1)
    assert at(date(2019, 5, 7))["fin_roe"] == pytest.approx(0.1)
    assert at(date(2019, 5, 8))["fin_days_since"] == 1
    close = at(date(2019, 5, 14))
    two = f.filter(pl.col("Code") == "2000")
    assert two.filter(pl.col("Date") < date(2019, 5, 7))["fin_roe"].is_null().all()
    assert two.filter(pl.col("Date") == date(2019, 5, 7))["fin_roe"].item() == pytest.approx(0.02)
    assert close["fin_book_to_price"] > 0


def test_yoy_growth_uses_the_same_period_a_year_earlier():
    st = statements([
        {"Code": "1000", "DisclosedDate": date(2019, 4, 2), "DisclosedTime": "13:00:00", "TypeOfCurrentPeriod": "1Q",
         "CurrentFiscalYearEndDate": date(2019, 12, 31), "NetSales": 100.0},
        {"Code": "1000", "DisclosedDate": date(2019, 4, 5), "DisclosedTime": "13:00:00", "TypeOfCurrentPeriod": "FY",
         "CurrentFiscalYearEndDate": date(2019, 3, 31), "NetSales": 500.0},
        {"Code": "1000", "DisclosedDate": date(2019, 5, 10), "DisclosedTime": "13:00:00", "TypeOfCurrentPeriod": "1Q",
         "CurrentFiscalYearEndDate": date(2020, 12, 31), "NetSales": 130.0},
    ])
    f = build_features(tiny_market(extras={"statements": st}), {"fundamentals": {}}).frame
    one = f.filter(pl.col("Code") == "1000")
    assert one.filter(pl.col("Date") == date(2019, 5, 9))["fin_sales_yoy"].is_null().all()
    assert one.filter(pl.col("Date") == date(2019, 5, 10))["fin_sales_yoy"].item() == pytest.approx(30 / 115)  # (130 - 100) / mean(130, 100)


def test_split_after_disclosure_keeps_valuation_continuous():
    st = statements([{"Code": "1000", "DisclosedDate": date(2019, 4, 2), "DisclosedTime": "13:00:00"}])
    market = tiny_market(extras={"statements": st})
    q = market.quotes
    ex = date(2019, 5, 7)
    after = (pl.col("Code") == "1000") & (pl.col("Date") >= ex)
    split = q.with_columns(
        pl.when(after).then(pl.col("Close") / 2).otherwise(pl.col("Close")).alias("Close"),
        pl.when((pl.col("Code") == "1000") & (pl.col("Date") == ex)).then(0.5)
        .otherwise(pl.col("AdjustmentFactor")).alias("AdjustmentFactor"))
    base = build_features(market, {"fundamentals": {}}).frame
    got = build_features(replace(market, quotes=split, digest="x"), {"fundamentals": {}}).frame
    pick = pl.col("Code") == "1000"
    a, b = base.filter(pick)["fin_earnings_yield"], got.filter(pick)["fin_earnings_yield"]
    assert (a - b).abs().max() < 1e-6


def test_absent_statements_degrade(caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="gogooku3.features"):
        panel = build_features(tiny_market(), {"price": {"horizons": [1]}, "fundamentals": {}})
    assert not any(n.startswith("fin_") for n in panel.names)
    assert "fundamentals produces nothing" in caplog.text
