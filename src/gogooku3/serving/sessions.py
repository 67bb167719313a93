"""The latest completed session: the one /readyz expects stored predictions for.

A session counts as completed ``grace_minutes`` after its close (Tokyo time), the window
the daily predict job has to write it. Tests inject their own ``latest_session``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from gogooku3.errors import ConfigError

TOKYO = ZoneInfo("Asia/Tokyo")


def parse_hhmm(text: str, what: str = "serving.freshness.close_time") -> tuple[int, int]:
    try:
        hh, mm = (int(p) for p in str(text).split(":"))
        if not (0 <= hh < 24 and 0 <= mm < 60):
            raise ValueError
    except ValueError:
        raise ConfigError(f"{what}={text!r} is not a time HH:MM") from None
    return hh, mm


def latest_session_fn(calendar: str = "XTKS", close_time: str = "15:30", grace_minutes: int = 180,
                      now: Callable[[], datetime] | None = None) -> Callable[[], date]:  # fmt: skip
    """A function returning the latest completed session of exchange ``calendar`` as of now."""
    import exchange_calendars as xcals
    import pandas as pd

    hh, mm = parse_hhmm(close_time)
    try:
        cal = xcals.get_calendar(calendar)
    except xcals.errors.InvalidCalendarName:
        raise ConfigError(f"serving.freshness.calendar={calendar!r} is not an exchange-calendars code") from None
    clock = now or (lambda: datetime.now(TOKYO))

    def latest() -> date:
        t = clock().astimezone(TOKYO)
        ready = (t - timedelta(hours=hh, minutes=mm + grace_minutes)).date()  # the last day whose window has passed
        return cal.date_to_session(pd.Timestamp(ready), direction="previous").date()

    return latest
