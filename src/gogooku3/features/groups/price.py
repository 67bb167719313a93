"""Price and returns: multi-horizon log returns, gaps, candle shapes, distance to extremes."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from gogooku3.features.context import FeatureContext
from gogooku3.features.ops import CLOSE, HIGH, LOW, OPEN, col, lag, log_return, rmax, rmin, safe_div
from gogooku3.features.spec import Feature

PX = ("Close", "AdjustmentFactor")
OHLC = ("Open", "High", "Low", "Close", "AdjustmentFactor")


def price(ctx: FeatureContext, horizons: Sequence[int] = (1, 5, 10, 20, 60, 120),
          gap: bool = True, intraday: bool = True, range: bool = True,  # noqa: A002
          candle: bool = True, extremes: Sequence[int] = (20, 60)) -> list[Feature]:
    """Log returns over ``horizons`` sessions and one-day bar shape features."""
    c, o, h, lo = col(CLOSE), col(OPEN), col(HIGH), col(LOW)
    out = [ctx.feature(f"ret_{k}d", log_return(c, k), PX, window=k, lookback=k,
                       description=f"ln(close_t / close_t-{k}), split-adjusted")
           for k in horizons]
    if gap:
        out.append(ctx.feature("gap_1d", (o / lag(c, 1)).log(), ("Open",) + PX, window=1, lookback=1,
                               description="overnight gap ln(open_t / close_t-1)"))
    if intraday:
        out.append(ctx.feature("intraday_1d", (c / o).log(), OHLC, description="ln(close / open)"))
    if range:
        out.append(ctx.feature("hl_range_1d", (h / lo).log(), OHLC, description="ln(high / low)"))
        out.append(ctx.feature("close_pos_1d", safe_div(c - lo, h - lo), OHLC,
                               description="(close - low) / (high - low)"))
    if candle:
        top, bottom = pl.max_horizontal(o, c), pl.min_horizontal(o, c)
        out += [
            ctx.feature("candle_body", (c - o) / o, OHLC, description="(close - open) / open"),
            ctx.feature("candle_upper", (h - top) / o, OHLC, description="upper shadow / open"),
            ctx.feature("candle_lower", (bottom - lo) / o, OHLC, description="lower shadow / open"),
            ctx.feature("candle_body_share", safe_div(c - o, h - lo), OHLC,
                        description="(close - open) / (high - low)"),
        ]
    for w in extremes:
        out += [
            ctx.feature(f"dist_high_{w}d", (c / rmax(h, w)).log(), OHLC, window=w, lookback=w - 1,
                        description=f"ln(close / max high of last {w} sessions)"),
            ctx.feature(f"dist_low_{w}d", (c / rmin(lo, w)).log(), OHLC, window=w, lookback=w - 1,
                        description=f"ln(close / min low of last {w} sessions)"),
        ]
    return out
