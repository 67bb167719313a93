"""Realized volatility: close-to-close, Parkinson and Garman-Klass over several windows."""

from __future__ import annotations

import math
from collections.abc import Sequence

from gogooku3.errors import ConfigError
from gogooku3.features.context import FeatureContext
from gogooku3.features.ops import CLOSE, HIGH, LOW, OPEN, col, log_return, rmean, rstd
from gogooku3.features.spec import Feature

ESTIMATORS = ("cc", "parkinson", "gk")
OHLC = ("Open", "High", "Low", "Close", "AdjustmentFactor")


def volatility(ctx: FeatureContext, windows: Sequence[int] = (5, 20, 60),
               estimators: Sequence[str] = ESTIMATORS) -> list[Feature]:
    """Daily (not annualized) volatility estimates; null until a full window exists."""
    bad = [e for e in estimators if e not in ESTIMATORS]
    if bad:
        raise ConfigError(f"features.groups.volatility.estimators: unknown {bad} (known: {ESTIMATORS})")
    r1 = log_return(col(CLOSE), 1)
    hl2 = (col(HIGH) / col(LOW)).log() ** 2
    co2 = (col(CLOSE) / col(OPEN)).log() ** 2
    gk_day = 0.5 * hl2 - (2 * math.log(2) - 1) * co2
    out: list[Feature] = []
    for w in windows:
        if "cc" in estimators:
            out.append(ctx.feature(f"vol_cc_{w}d", rstd(r1, w), ("Close", "AdjustmentFactor"),
                                   window=w, lookback=w, description=f"std of daily log returns, {w} sessions"))
        if "parkinson" in estimators:
            out.append(ctx.feature(f"vol_pk_{w}d", (rmean(hl2, w) / (4 * math.log(2))).sqrt(), OHLC,
                                   window=w, lookback=w - 1, description=f"Parkinson high-low volatility, {w} sessions"))
        if "gk" in estimators:
            out.append(ctx.feature(f"vol_gk_{w}d", rmean(gk_day, w).clip(lower_bound=0).sqrt(), OHLC,
                                   window=w, lookback=w - 1, description=f"Garman-Klass volatility, {w} sessions"))
    return out
