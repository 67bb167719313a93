"""The Tokyo Stock Exchange trading calendar (exchange-calendars ``XTKS``)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import polars as pl

from gogooku3.errors import ConfigError


@lru_cache(maxsize=16)
def _sessions(start: date, end: date) -> tuple[date, ...]:
    import exchange_calendars as xcals
    import pandas as pd

    # The calendar's own bounds must enclose the range, so pad them by a few weeks.
    pad = pd.Timedelta(days=31)
    calendar = xcals.get_calendar("XTKS", start=pd.Timestamp(start) - pad, end=pd.Timestamp(end) + pad)
    return tuple(d for d in (ts.date() for ts in calendar.sessions) if start <= d <= end)


def trading_sessions(start: date | str, end: date | str) -> list[date]:
    """Every XTKS session with ``start <= session <= end``, ascending."""
    first, last = parse_config_date(start, "start"), parse_config_date(end, "end")
    if first > last:
        raise ConfigError(f"data.start={first} is after data.end={last}")
    return list(_sessions(first, last))


def sessions_series(start: date | str, end: date | str) -> pl.Series:
    return pl.Series("Date", trading_sessions(start, end), dtype=pl.Date)


def parse_config_date(value: date | str, name: str) -> date:
    """``data.<name>`` as a date; a one-line ConfigError naming the key otherwise."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"data.{name}={value!r} is not a date (expected YYYY-MM-DD)") from None
