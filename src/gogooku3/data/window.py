"""The market as known at the close of a session, cut to the sessions a prediction reads."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import polars as pl

from gogooku3.data.digest import frame_sha256
from gogooku3.data.market import MarketData

# Extras tables are dated by when they became public; the first of these columns present counts.
_PUBLISHED = ("PublishedDate", "DisclosedDate", "Date")


def market_window(market: MarketData, start: date | None, end: date) -> MarketData:
    """Quotes, index and oracle with ``start <= Date <= end``; extras published on or before ``end``.

    Extras keep their earlier rows: as-of joins (the latest statement before ``start``) need
    them, and they are small. The digest is that of the window's quotes.
    """
    in_window = pl.col("Date") <= end
    if start is not None:
        in_window &= pl.col("Date") >= start
    extras = {}
    for name, table in (market.extras or {}).items():
        column = next((c for c in _PUBLISHED if c in table.columns), None)
        extras[name] = table if column is None else table.filter(pl.col(column) <= end)
    quotes = market.quotes.filter(in_window)
    calendar = market.calendar.filter(market.calendar <= end)
    if start is not None:
        calendar = calendar.filter(calendar >= start)
    return replace(
        market, quotes=quotes, calendar=calendar, digest=frame_sha256(quotes),
        index=None if market.index is None else market.index.filter(in_window),
        oracle=None if market.oracle is None else market.oracle.filter(in_window), extras=extras,
    )  # fmt: skip
