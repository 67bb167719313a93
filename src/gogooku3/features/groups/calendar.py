"""Calendar and validity flags: listing age, suspensions, daily price limits, weekday.

Price limits follow the TSE daily limit table (width by base price): the base is the
previous close, carried into today's share units with today's AdjustmentFactor.
A close at or beyond base +/- width is flagged as limit-up/limit-down.
"""

from __future__ import annotations

import polars as pl

from gogooku3.features.context import FeatureContext
from gogooku3.features.ops import POS, col, lag, rsum
from gogooku3.data.price_limits import limit_width
from gogooku3.features.spec import Feature
from gogooku3.schema import DATE

LISTED_CAP = 250  # sessions: about a year


def calendar(ctx: FeatureContext, suspension_window: int = 20) -> list[Feature]:
    """Flags are 0/1 floats so every model can read them."""
    close = pl.col("Close")
    suspended = close.is_null().cast(pl.Float64)
    base = lag(close, 1) * pl.col("AdjustmentFactor").fill_null(1.0)
    width = limit_width(base)
    tol = 1e-9 * base
    raw = ("Close", "AdjustmentFactor")
    return [
        # Capped, so the value at t reads a bounded past: a prediction from the last LISTED_CAP
        # sessions equals one from the whole history.
        ctx.feature("sessions_listed_log", (col(POS).clip(upper_bound=LISTED_CAP).cast(pl.Float64) + 1).log(),
                    ("Code", "Date"), lookback=LISTED_CAP,
                    description=f"ln(1 + sessions since the code's first quote in the data, at most {LISTED_CAP})"),
        ctx.feature("suspended", suspended, ("Close",), description="1 if the session has no trade"),
        ctx.feature(f"suspended_{suspension_window}d", rsum(suspended, suspension_window), ("Close",),
                    window=suspension_window, lookback=suspension_window - 1,
                    description=f"sessions without trade among the last {suspension_window}"),
        ctx.feature("limit_up", pl.when(base.is_not_null() & close.is_not_null())
                    .then((close >= base + width - tol).cast(pl.Float64)), raw, window=1, lookback=1,
                    description="close at the daily limit-up price"),
        ctx.feature("limit_down", pl.when(base.is_not_null() & close.is_not_null())
                    .then((close <= base - width + tol).cast(pl.Float64)), raw, window=1, lookback=1,
                    description="close at the daily limit-down price"),
        ctx.feature("day_of_week", pl.col(DATE).dt.weekday().cast(pl.Float64), ("Date",),
                    description="1 = Monday .. 5 = Friday"),
        ctx.feature("month_first_session", (pl.col(DATE).dt.month() != lag(pl.col(DATE), 1).dt.month())
                    .cast(pl.Float64), ("Date",), window=1, lookback=1,
                    description="1 on the code's first session of a month"),
    ]
