"""data.calendar: an exchange's sessions, sessions inferred from the file, or none."""

from __future__ import annotations

import logging
from datetime import date

import polars as pl
import pytest

from gogooku3.data.calendar import calendar_range, infer_sessions, resolve_calendar, sessions_series
from gogooku3.errors import ConfigError


def _quotes(dates: list[date], codes: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {"Code": [c for c in codes for _ in dates], "Date": dates * len(codes), "Close": 100.0},
        schema={"Code": pl.String, "Date": pl.Date, "Close": pl.Float64},
    )


def test_exchange_code_gives_that_exchanges_sessions():
    quotes = _quotes([date(2023, 7, 3), date(2023, 7, 5)], ["A"])
    nyse = resolve_calendar("XNYS", quotes)
    assert nyse.name == "XNYS" and date(2023, 7, 4) not in nyse.sessions.to_list()  # Independence Day
    tokyo = resolve_calendar("xtks", quotes)
    assert tokyo.name == "XTKS" and date(2023, 7, 4) in tokyo.sessions.to_list()
    assert tokyo.sessions.equals(sessions_series("2023-07-03", "2023-07-05"))


def test_dates_before_the_calendar_are_a_one_line_error_naming_the_key_and_range():
    lo, _ = calendar_range("XTKS")
    quotes = _quotes([date(1990, 1, 4), date(1990, 1, 5)], ["A"])
    with pytest.raises(ConfigError) as info:
        resolve_calendar("XTKS", quotes)
    message = str(info.value)
    assert "data.calendar=XTKS" in message and str(lo) in message and "infer" in message and "\n" not in message


def test_unknown_code_names_the_key():
    with pytest.raises(ConfigError, match="data.calendar='NOPE'"):
        resolve_calendar("NOPE", _quotes([date(2023, 7, 3)], ["A"]))


def test_infer_takes_dates_most_listed_codes_trade_and_logs_one_line(caplog):
    days = [d for d in pl.date_range(date(1990, 1, 1), date(1990, 3, 30), "1d", eager=True).to_list()
            if d.weekday() < 5]
    holiday = days[10]
    quotes = _quotes([d for d in days if d != holiday], ["A", "B", "C", "D"])
    stray = pl.DataFrame({"Code": ["A"], "Date": [date(1990, 2, 3)], "Close": [1.0]})  # a Saturday, one code
    with caplog.at_level(logging.INFO, logger="gogooku3.data"):
        cal = resolve_calendar("infer", pl.concat([quotes, stray]))
    assert cal.name == "infer" and cal.sessions.to_list() == [d for d in days if d != holiday]
    lines = [r.getMessage() for r in caplog.records if "data.calendar=infer" in r.getMessage()]
    assert len(lines) == 1 and f"{len(days) - 1} sessions" in lines[0]
    assert "1 weekdays without a session" in lines[0] and "data.calendar=XNYS" in lines[0]


def test_infer_counts_only_codes_listed_then_so_a_growing_universe_keeps_its_sessions():
    days = [date(2020, 1, d) for d in (6, 7, 8, 9, 10, 13, 14, 15, 16, 17)]
    old = _quotes(days, ["A"])
    new = _quotes(days[5:], [f"N{i}" for i in range(9)])  # nine codes listed half-way through
    sessions = infer_sessions(pl.concat([old, new]), 0.5)
    assert sessions.to_list() == days  # before the listing, A alone is the whole universe


def test_none_makes_every_file_date_a_session_and_end_extends_by_weekdays():
    quotes = _quotes([date(2020, 1, 4), date(2020, 1, 6)], ["A"])  # a Saturday is a session too
    cal = resolve_calendar("none", quotes, end=date(2020, 1, 10))
    assert cal.sessions.to_list() == [date(2020, 1, 4), date(2020, 1, 6), *[date(2020, 1, d) for d in (7, 8, 9, 10)]]


def test_bad_infer_share_names_the_key():
    with pytest.raises(ConfigError, match="data.infer_min_share"):
        resolve_calendar("infer", _quotes([date(2020, 1, 6)], ["A"]), min_share=0.0)


def test_synthetic_and_jquants_keep_the_tokyo_calendar():
    from gogooku3.data.jquants.source import JQuantsSource
    from gogooku3.data.synthetic import SyntheticMarketSource

    with pytest.raises(ConfigError, match="data.calendar=XNYS"):
        SyntheticMarketSource(n_stocks=5, calendar="XNYS").load()
    with pytest.raises(ConfigError, match="data.calendar=infer"):
        JQuantsSource(calendar="infer").load()
    market = SyntheticMarketSource(n_stocks=5, start="2021-01-01", end="2021-03-31").load()
    assert market.calendar_name == "XTKS"
