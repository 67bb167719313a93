"""The synthetic extra tables: canonical schemas, seeded, and realistic publication lags."""

from __future__ import annotations

from datetime import date, time, timedelta

import polars as pl
import pytest

from gogooku3.data.calendar import trading_sessions
from gogooku3.data.synthetic_extras import SECTIONS, generate_extras
from gogooku3.schema import EXTRA_TABLES


@pytest.fixture(scope="module")
def market():
    from gogooku3.data.synthetic import generate_market

    return generate_market(n_stocks=15, start="2021-01-01", end="2021-12-31", seed=4)


@pytest.fixture(scope="module")
def extras(market):
    return generate_extras(market, seed=4)


@pytest.fixture(scope="module")
def sessions(market):
    last = market.calendar.max()
    return trading_sessions(market.calendar.min(), last + timedelta(days=30))


def nth_session_after(sessions: list[date], day: date, n: int) -> date:
    later = [s for s in sessions if s > day]
    return later[n - 1]


def test_schemas_are_the_canonical_ones(extras):
    assert set(extras) == set(EXTRA_TABLES)
    for name, frame in extras.items():
        assert dict(frame.schema) == EXTRA_TABLES[name], name
        assert frame.height > 0


def test_seeded(market, extras):
    again = generate_extras(market, seed=4)
    other = generate_extras(market, seed=5)
    for name in EXTRA_TABLES:
        assert again[name].equals(extras[name])
    assert not other["statements"].equals(extras["statements"])


def test_statements_quarterly_on_sessions_some_after_the_close(market, extras):
    st = extras["statements"]
    assert st.get_column("DisclosedDate").is_in(market.calendar.implode()).all()
    per_code = st.group_by("Code").len().get_column("len")
    assert per_code.min() >= 3 and per_code.max() <= 5  # one year: four quarters (+/- window edges)
    times = st.get_column("DisclosedTime").str.to_time("%H:%M:%S")
    assert (times > time(15, 0)).any() and (times <= time(15, 0)).any()
    assert set(st.get_column("TypeOfCurrentPeriod")) <= {"1Q", "2Q", "3Q", "FY"}
    assert not st.select(pl.struct("Code", "DisclosedDate", "TypeOfCurrentPeriod").is_duplicated().any()).item()


def test_investor_types_weekly_published_the_following_week(extras):
    it = extras["investor_types"]
    assert set(it.get_column("Section")) == set(SECTIONS)
    week = lambda c: pl.col(c).dt.truncate("1w")  # noqa: E731
    assert it.select((week("PublishedDate") == week("EndDate") + pl.duration(weeks=1)).all()).item()
    assert it.select((pl.col("StartDate") <= pl.col("EndDate")).all()).item()


def test_margin_published_two_sessions_after_the_record_date(extras, sessions):
    margin = extras["margin"]
    sample = margin.unique("Date").sort("Date").head(10)
    for day, published in sample.select("Date", "PublishedDate").iter_rows():
        assert published == nth_session_after(sessions, day, 2)


def test_short_ratio_daily_per_sector_published_next_session(market, extras, sessions):
    sr = extras["short_ratio"]
    sectors = set(market.listed.get_column("Sector33Code"))
    assert set(sr.get_column("Sector33Code")) == sectors
    # One row per (sector, session) on which the sector has a listed stock.
    assert not sr.select(pl.struct("Sector33Code", "Date").is_duplicated().any()).item()
    assert sr.get_column("Date").unique().sort().equals(market.calendar.sort().alias("Date"))
    for day, published in sr.unique("Date").sort("Date").head(10).select("Date", "PublishedDate").iter_rows():
        assert published == nth_session_after(sessions, day, 1)
