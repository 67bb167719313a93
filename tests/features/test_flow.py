"""Flow tables are used from their publication date on, never before."""

from __future__ import annotations

import logging
from datetime import date

import polars as pl
import pytest
from featurekit import tiny_market

from gogooku3.features import build_features
from gogooku3.schema import INVESTOR_TYPE_COLUMNS, MARGIN_COLUMNS, SHORT_RATIO_COLUMNS


def investors() -> pl.DataFrame:
    rows = []
    for pub, end, net in [(date(2019, 4, 11), date(2019, 4, 5), 10.0), (date(2019, 4, 18), date(2019, 4, 12), -30.0),
                          (date(2019, 4, 27), date(2019, 4, 19), 50.0)]:  # a Saturday publication
        for section, share in [("TSEPrime", 0.75), ("TSEStandard", 0.25)]:
            row = {c: 0.0 for c, t in INVESTOR_TYPE_COLUMNS.items() if t == pl.Float64}
            row.update({"PublishedDate": pub, "StartDate": end, "EndDate": end, "Section": section,
                        "ForeignersSales": 100.0 * share, "ForeignersPurchases": (100.0 + net) * share,
                        "ForeignersBalance": net * share})
            rows.append(row)
    return pl.DataFrame(rows, schema=INVESTOR_TYPE_COLUMNS)


def test_investor_flows_from_publication_date():
    market = tiny_market(extras={"investor_types": investors()})
    f = build_features(market, {"flow": {"weeks": [1, 2]}}).frame.filter(pl.col("Code") == "1000")
    v = dict(zip(f["Date"].to_list(), f["flow_foreign_net_1w"].to_list()))
    two = dict(zip(f["Date"].to_list(), f["flow_foreign_net_2w"].to_list()))
    assert v[date(2019, 4, 10)] is None
    assert v[date(2019, 4, 11)] == pytest.approx(10 / 210)
    assert v[date(2019, 4, 17)] == pytest.approx(10 / 210)
    assert v[date(2019, 4, 18)] == pytest.approx(-30 / 170)
    assert two[date(2019, 4, 17)] is None and two[date(2019, 4, 18)] == pytest.approx(-20 / 380)
    # published on Saturday 27 April: first usable session is 7 May (after Golden Week)
    assert v[date(2019, 4, 26)] == pytest.approx(-30 / 170)
    assert v[date(2019, 5, 7)] == pytest.approx(50 / 250)


def test_margin_uses_published_not_record_date():
    margin = pl.DataFrame({
        "Code": ["1000", "1000", "2000"], "Date": [date(2019, 4, 5), date(2019, 4, 12), date(2019, 4, 5)],
        "PublishedDate": [date(2019, 4, 9), date(2019, 4, 16), date(2019, 4, 10)],
        "ShortMarginTradeVolume": [99.0, 199.0, 9.0], "LongMarginTradeVolume": [399.0, 999.0, 9.0],
    }, schema=MARGIN_COLUMNS)
    f = build_features(tiny_market(extras={"margin": margin}), {"flow": {}}).frame
    one = f.filter(pl.col("Code") == "1000")
    val = dict(zip(one["Date"].to_list(), one["margin_long_short"].to_list()))
    chg = dict(zip(one["Date"].to_list(), one["margin_long_chg"].to_list()))
    assert val[date(2019, 4, 8)] is None
    assert val[date(2019, 4, 9)] == pytest.approx(pytest.approx(1.3862944, rel=1e-6))  # ln(400 / 100)
    assert val[date(2019, 4, 15)] == pytest.approx(1.3862944, rel=1e-6)
    assert val[date(2019, 4, 16)] == pytest.approx(1.6094379, rel=1e-6)  # ln(1000 / 200)
    assert chg[date(2019, 4, 16)] == pytest.approx(0.9162907, rel=1e-6)  # ln(1000 / 400)
    two = f.filter(pl.col("Code") == "2000")
    assert two.filter(pl.col("Date") == date(2019, 4, 9))["margin_long_short"].is_null().all()
    assert two.filter(pl.col("Date") == date(2019, 4, 10))["margin_long_short"].item() == pytest.approx(0.0)


def test_short_ratio_by_sector_needs_listed(caplog):
    sr = pl.DataFrame({
        "Date": [date(2019, 4, 5), date(2019, 4, 8)], "PublishedDate": [date(2019, 4, 8), date(2019, 4, 9)],
        "Sector33Code": ["0050", "0050"], "SellingExcludingShortSellingTurnoverValue": [60.0, 50.0],
        "ShortSellingWithRestrictionsTurnoverValue": [30.0, 40.0],
        "ShortSellingWithoutRestrictionsTurnoverValue": [10.0, 10.0],
    }, schema=SHORT_RATIO_COLUMNS)
    f = build_features(tiny_market(extras={"short_ratio": sr}), {"flow": {"short_windows": [1, 2]}}).frame
    one = f.filter(pl.col("Code") == "2000")
    val = dict(zip(one["Date"].to_list(), one["short_ratio_sector_1"].to_list()))
    assert val[date(2019, 4, 5)] is None and val[date(2019, 4, 8)] == pytest.approx(0.4)
    assert val[date(2019, 4, 9)] == pytest.approx(0.5)
    assert one.filter(pl.col("Date") == date(2019, 4, 9))["short_ratio_sector_2"].item() == pytest.approx(0.45)
    with caplog.at_level(logging.INFO, logger="gogooku3.features"):
        panel = build_features(tiny_market(extras={"short_ratio": sr}, listed=False), {"flow": {}})
    assert panel.names == [] and "listed absent" in caplog.text
    assert "investor_types" in caplog.text and "margin" in caplog.text
