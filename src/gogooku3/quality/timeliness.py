"""How far the newest data lags behind the session it should reach."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import polars as pl

from gogooku3.quality.evidence import Rule

TOKYO = ZoneInfo("Asia/Tokyo")
SESSION_CLOSE = time(15, 30)  # TSE cash session close (since November 2024)


def expected_session(calendar: pl.Series, expected_end: date | None, now: datetime | None = None) -> date | None:
    """The session the data should reach.

    Backtest (``expected_end`` given): the configured data end clipped to the calendar
    (the last session on or before it). Live (``None``): the latest session whose close
    has passed in Tokyo.
    """
    sessions = calendar.sort()
    if expected_end is not None:
        cutoff = expected_end
    else:
        now = (now or datetime.now(TOKYO)).astimezone(TOKYO)
        today = now.date()
        done_today = now.time() >= SESSION_CLOSE
        cutoff = today if done_today else date.fromordinal(today.toordinal() - 1)
    before = sessions.filter(sessions <= cutoff)
    return before[-1] if before.len() else None


def lag_sessions(calendar: pl.Series, newest: date | None, expected: date | None) -> int:
    """Sessions after ``newest`` up to and including ``expected`` (0 when up to date)."""
    if expected is None:
        return 0
    if newest is None:
        return int(calendar.filter(calendar <= expected).len())
    return int(calendar.filter((calendar > newest) & (calendar <= expected)).len())


def timeliness_evidence(
    calendar: pl.Series, newest: date | None, expected: date | None, max_lag_days: int
) -> tuple[pl.DataFrame, list[Rule]]:
    """A one-row table (newest date, expected session, lag) and its rule."""
    lag = lag_sessions(calendar, newest, expected)
    table = pl.DataFrame(
        {"newest_date": [str(newest)], "expected_date": [str(expected)], "lag_sessions": [lag]}
    )
    rule = Rule(
        check="timeliness", table="timeliness", column="lag_sessions", kind="between",
        dimension="timeliness", min_value=0, max_value=max_lag_days,
        description="sessions between the newest data date and the expected latest session",
    )
    return table, [rule]
