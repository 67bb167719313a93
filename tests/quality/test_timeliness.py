"""Expected latest session for backtests and live data, and the lag in sessions."""

from __future__ import annotations

from datetime import date, datetime

from gogooku3.data.calendar import sessions_series
from gogooku3.quality.timeliness import TOKYO, expected_session, lag_sessions

CAL = sessions_series(date(2021, 12, 1), date(2022, 1, 31))


def test_backtest_end_clipped_to_calendar():
    assert expected_session(CAL, date(2022, 1, 2)) == date(2021, 12, 30)  # year-end holidays
    assert expected_session(CAL, date(2022, 1, 7)) == date(2022, 1, 7)


def test_live_session_counts_only_after_the_close():
    assert expected_session(CAL, None, datetime(2022, 1, 7, 10, 0, tzinfo=TOKYO)) == date(2022, 1, 6)
    assert expected_session(CAL, None, datetime(2022, 1, 7, 16, 0, tzinfo=TOKYO)) == date(2022, 1, 7)
    assert expected_session(CAL, None, datetime(2022, 1, 9, 12, 0, tzinfo=TOKYO)) == date(2022, 1, 7)


def test_lag_in_sessions():
    assert lag_sessions(CAL, date(2022, 1, 7), date(2022, 1, 7)) == 0
    assert lag_sessions(CAL, date(2021, 12, 30), date(2022, 1, 7)) == 4  # Jan 4, 5, 6, 7
    assert lag_sessions(CAL, date(2022, 1, 10), date(2022, 1, 7)) == 0
