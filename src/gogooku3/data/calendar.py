"""Trading calendars: an exchange's sessions (exchange-calendars), sessions inferred from the data, or none.

``data.calendar`` picks one (:func:`resolve_calendar`):

* an exchange-calendars code (``XTKS``, ``XNYS``, ``XLON``, ...): that exchange's sessions
  over the data's range; a range the calendar cannot evaluate is a one-line error naming
  ``data.calendar`` and the calendar's valid range.
* ``infer``: the sessions are the dates of the file on which at least
  ``data.infer_min_share`` of the codes listed then (between their own first and last
  date, so a growing universe does not shrink the share) have a close.
* ``none``: every date of the file is a session; nothing is off the calendar.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import polars as pl

from gogooku3.errors import ConfigError

log = logging.getLogger("gogooku3.data")

INFER, NONE = "infer", "none"
DEFAULT_EXCHANGE = "XTKS"


@dataclass(frozen=True)
class Calendar:
    """The sessions a market is judged against, and where they came from (``name``)."""

    name: str
    sessions: pl.Series  # pl.Date, ascending, unique


def _calendar_class(code: str):  # noqa: ANN202 - exchange_calendars type, imported lazily
    import exchange_calendars as xcals

    try:
        return type(xcals.get_calendar(code))
    except xcals.errors.InvalidCalendarName:
        raise ConfigError(
            f"data.calendar={code!r} is not an exchange-calendars code (e.g. XTKS, XNYS, XLON), "
            f"'{INFER}' (sessions from the data) or '{NONE}'"
        ) from None


def calendar_range(code: str) -> tuple[date | None, date | None]:
    """The first and last dates exchange calendar ``code`` can be evaluated on (None: unbounded)."""
    cls = _calendar_class(code)
    lo, hi = cls.bound_min(), cls.bound_max()
    return (lo.date() if lo is not None else None), (hi.date() if hi is not None else None)


@lru_cache(maxsize=32)
def _sessions(code: str, start: date, end: date) -> tuple[date, ...]:
    import exchange_calendars as xcals
    import pandas as pd

    lo, hi = calendar_range(code)
    if (lo is not None and start < lo) or (hi is not None and end > hi):
        valid = f"{lo}..{hi}" if lo and hi else (f"from {lo} on" if lo else f"up to {hi}")
        raise ConfigError(
            f"data.calendar={code}: the data spans {start}..{end} but {code} can be evaluated only {valid}; "
            f"use data.calendar={INFER} (sessions from the data) or {NONE}, or restrict the data to that range"
        )
    # The calendar's own bounds must enclose the range, so pad them by a few weeks (within its limits).
    pad = timedelta(days=31)
    first = max(start - pad, lo) if lo is not None else start - pad
    last = min(end + pad, hi) if hi is not None else end + pad
    calendar = xcals.get_calendar(code, start=pd.Timestamp(first), end=pd.Timestamp(last))
    return tuple(d for d in (ts.date() for ts in calendar.sessions) if start <= d <= end)


def trading_sessions(start: date | str, end: date | str, calendar: str = DEFAULT_EXCHANGE) -> list[date]:
    """Every session of exchange ``calendar`` with ``start <= session <= end``, ascending."""
    first, last = parse_config_date(start, "start"), parse_config_date(end, "end")
    if first > last:
        raise ConfigError(f"data.start={first} is after data.end={last}")
    return list(_sessions(str(calendar).upper(), first, last))


def sessions_series(start: date | str, end: date | str, calendar: str = DEFAULT_EXCHANGE) -> pl.Series:
    return pl.Series("Date", trading_sessions(start, end, calendar), dtype=pl.Date)


def check_calendar_setting(value: str) -> str:
    """``data.calendar`` normalized (codes upper-case); a one-line ConfigError when unknown."""
    text = str(value).strip()
    if text.lower() in (INFER, NONE):
        return text.lower()
    _calendar_class(text.upper())
    return text.upper()


def resolve_calendar(setting: str, quotes: pl.DataFrame, *, min_share: float = 0.5,
                     end: date | None = None) -> Calendar:
    """The sessions ``quotes`` (Code, Date, Close) are judged against under ``data.calendar=setting``.

    ``end`` (``data.end``) extends the range past the newest quote, so a feed that stopped
    early shows as late: an exchange gives its sessions up to ``end``, ``infer`` and ``none``
    assume weekdays after the file's last date.
    """
    name = check_calendar_setting(setting)
    dates = quotes.get_column("Date")
    first, last = dates.min(), dates.max()
    if first is None:
        return Calendar(name, pl.Series("Date", [], dtype=pl.Date))
    horizon = max(last, end) if end is not None else last
    if name not in (INFER, NONE):
        return Calendar(name, sessions_series(first, horizon, name))
    if name == NONE:
        sessions = dates.unique().sort()
    else:
        if not 0.0 < min_share <= 1.0:
            raise ConfigError(f"data.infer_min_share={min_share} must lie in (0, 1]")
        sessions = infer_sessions(quotes, min_share)
        _log_inferred(sessions, dates, min_share)
    tail = _weekdays(last + timedelta(days=1), horizon)
    return Calendar(name, pl.concat([sessions, tail]).alias("Date"))


def infer_sessions(quotes: pl.DataFrame, min_share: float) -> pl.Series:
    """Dates on which at least ``min_share`` of the codes listed then have a close.

    A code counts as listed on the dates between its own first and last close, so a
    universe that grows (or shrinks) over the years does not hide its sessions.
    """
    traded = quotes.filter(pl.col("Close").is_not_null()).select("Code", "Date")
    if traded.height == 0:
        return pl.Series("Date", [], dtype=pl.Date)
    spans = traded.group_by("Code").agg(pl.col("Date").min().alias("first"), pl.col("Date").max().alias("last"))
    per_date = traded.group_by("Date").agg(pl.col("Code").n_unique().alias("n")).sort("Date")
    days = per_date.get_column("Date").to_physical().to_numpy()
    firsts = np.sort(spans.get_column("first").to_physical().to_numpy())
    lasts = np.sort(spans.get_column("last").to_physical().to_numpy())
    listed = np.searchsorted(firsts, days, side="right") - np.searchsorted(lasts, days, side="left")
    share = per_date.get_column("n").to_numpy() / np.maximum(listed, 1)
    return per_date.get_column("Date").filter(pl.Series(share >= min_share)).alias("Date")


def _weekdays(start: date, end: date) -> pl.Series:
    if start > end:
        return pl.Series("Date", [], dtype=pl.Date)
    days = pl.date_range(start, end, "1d", eager=True)
    return days.filter(days.dt.weekday() <= 5).alias("Date")


def _log_inferred(sessions: pl.Series, dates: pl.Series, min_share: float) -> None:
    if sessions.is_empty():
        log.warning("data.calendar=infer: no date has a close for %.0f%% of the listed codes "
                    "(data.infer_min_share=%g); every row will be off the calendar", 100 * min_share, min_share)
        return
    first, last = sessions.min(), sessions.max()
    weekdays = _weekdays(first, last)
    idle = int((~weekdays.is_in(sessions.implode())).sum())
    off = int(dates.unique().is_in(sessions.implode()).not_().sum())
    log.info(
        "data.calendar=infer: %d sessions %s..%s (dates with a close for >= %.0f%% of the codes listed then, "
        "data.infer_min_share=%g); %d weekdays without a session, %d file dates off it; "
        "to check against an exchange instead: data.calendar=XNYS (or XTKS, XLON, ...)",
        sessions.len(), first, last, 100 * min_share, min_share, idle, off,
    )


def parse_config_date(value: date | str, name: str) -> date:
    """``data.<name>`` as a date; a one-line ConfigError naming the key otherwise."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"data.{name}={value!r} is not a date (expected YYYY-MM-DD)") from None
