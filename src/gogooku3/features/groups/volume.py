"""Volume and liquidity: volume surprise, short/long volume ratio, turnover, Amihud."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from gogooku3.features.context import FeatureContext
from gogooku3.features.ops import CLOSE, PRESENT, VOLUME, col, lag, log_return, rmean
from gogooku3.features.spec import Feature
from gogooku3.schema import DATE

VOL = ("Volume", "AdjustmentFactor")
TURN = ("TurnoverValue", "Close", "Volume")


def turnover_expr() -> pl.Expr:
    """Traded value in yen: TurnoverValue, else raw Close x Volume where it is missing."""
    return pl.coalesce(pl.col("TurnoverValue"), pl.col("Close") * pl.col("Volume"))


def volume(ctx: FeatureContext, surprise: Sequence[int] = (20,),
           ratios: Sequence[Sequence[int]] = ((5, 20),), turnover: bool = True,
           share: bool = True, amihud: Sequence[int] = (20,)) -> list[Feature]:
    """Relative volume measures; every one is scale-free across splits."""
    lv = (col(VOLUME) + 1).log()
    out: list[Feature] = []
    for w in surprise:
        out.append(ctx.feature(
            f"vol_surprise_{w}d", lv - rmean(lag(lv, 1), w), VOL, window=w, lookback=w,
            description=f"ln(1+volume_t) minus its mean over the previous {w} sessions"))
    for short, long in ratios:
        out.append(ctx.feature(
            f"vol_ratio_{short}_{long}d", (rmean(col(VOLUME), short) / rmean(col(VOLUME), long)).log(),
            VOL, window=long, lookback=long - 1,
            description=f"ln(mean volume {short} sessions / mean volume {long} sessions)"))
    tv = turnover_expr()
    if turnover:
        out.append(ctx.feature("turnover_log", (tv + 1).log(), TURN,
                               description="ln(1 + traded value in yen)"))
    if share:
        if "date_turnover" not in ctx.cache:  # over all codes, whichever slice runs now
            ctx.cache["date_turnover"] = (
                ctx.base.lazy().filter(col(PRESENT)).select(DATE, tv.alias("_tv")).filter(pl.col("_tv") > 0)
                .group_by(DATE).agg(pl.col("_tv").sum().alias("_date_turnover")).collect())
        ctx.join_on_date(ctx.cache["date_turnover"])
        out.append(ctx.feature(
            "turnover_share_log", pl.when(col(PRESENT) & (tv > 0)).then(tv / col("_date_turnover")).log(), TURN,
            description="ln(share of the date's total traded value)"))
    for w in amihud:
        illiq = pl.when(tv > 0).then(log_return(col(CLOSE), 1).abs() / tv * 1e9)
        out.append(ctx.feature(
            f"amihud_{w}d", rmean(illiq, w), TURN + ("AdjustmentFactor",), window=w, lookback=w,
            description=f"mean |daily return| per billion yen traded, {w} sessions"))
    return out
