"""Flows: investor-type net buying (weekly), margin interest, short-selling ratio by sector.

Every table is joined as of its publication date (``PublishedDate``): a row is used
from that session on, never before. Each part produces nothing, with a log line,
when its table is absent.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from gogooku3.errors import DataError
from gogooku3.features.context import FeatureContext
from gogooku3.features.ops import col, rmean
from gogooku3.features.spec import Feature
from gogooku3.schema import CODE, DATE, EXTRA_TABLES

INVESTORS = {"foreign": "Foreigners", "individual": "Individuals", "proprietary": "Proprietary"}


def _checked(ctx: FeatureContext, name: str, needed: Sequence[str]) -> pl.DataFrame | None:
    table = ctx.table(name)
    if table is None or table.height == 0:
        ctx.skip(name, f"market.extras['{name}'] absent")
        return None
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise DataError(f"extras['{name}']: missing column(s) {', '.join(missing)}")
    schema = EXTRA_TABLES[name]
    return table.select([pl.col(c).cast(schema[c]) for c in needed])


def _investors(ctx: FeatureContext, section: str | None, weeks: Sequence[int]) -> list[Feature]:
    cols = [f"{p}{s}" for p in INVESTORS.values() for s in ("Sales", "Purchases", "Balance")]
    table = _checked(ctx, "investor_types", ["PublishedDate", "EndDate", "Section", *cols])
    if table is None:
        return []
    if section is not None:
        table = table.filter(pl.col("Section") == section)
    weekly = (table.group_by("PublishedDate", "EndDate").agg(pl.col(cols).sum())
              .sort("PublishedDate", "EndDate")
              .unique("PublishedDate", keep="last", maintain_order=True))
    exprs, out = [], []
    src = ("investor_types",)
    for short, name in INVESTORS.items():
        gross = pl.col(f"{name}Sales") + pl.col(f"{name}Purchases")
        for k in weeks:
            net = pl.col(f"{name}Balance").rolling_sum(k, min_samples=k)
            feat = f"flow_{short}_net_{k}w"
            exprs.append((net / gross.rolling_sum(k, min_samples=k)).alias(f"_f_{feat}"))
            out.append(ctx.feature(feat, col(f"_f_{feat}"), src, lookback=None,
                                   description=f"{name} net buying / gross trading, last {k} published weeks"))
    ctx.join_asof(weekly.with_columns(exprs).select("PublishedDate", *[e.meta.output_name() for e in exprs]),
                  "PublishedDate")
    return out


def _margin(ctx: FeatureContext) -> list[Feature]:
    table = _checked(ctx, "margin", [CODE, DATE, "PublishedDate", "ShortMarginTradeVolume", "LongMarginTradeVolume"])
    if table is None:
        return []
    long, short = pl.col("LongMarginTradeVolume"), pl.col("ShortMarginTradeVolume")
    weekly = (table.sort(CODE, "PublishedDate", DATE)
              .unique([CODE, "PublishedDate"], keep="last", maintain_order=True)
              .select(CODE, "PublishedDate",
                      ((long + 1) / (short + 1)).log().alias("_g_ls"),
                      ((long + 1) / (long.shift(1) + 1)).log().over(CODE).alias("_g_lchg"),
                      ((short + 1) / (short.shift(1) + 1)).log().over(CODE).alias("_g_schg"),
                      long.alias("_g_long"), short.alias("_g_short"))
              .rename({"PublishedDate": "_g_pub"}))
    ctx.join_asof(weekly, "_g_pub", by=CODE)
    avg_vol = rmean(pl.col("Volume"), 20)  # raw shares, as margin balances are
    src = ("margin",)
    return [
        ctx.feature("margin_long_short", col("_g_ls"), src, lookback=None,
                    description="ln((long + 1) / (short + 1)) margin balances, latest published"),
        ctx.feature("margin_long_chg", col("_g_lchg"), src, lookback=None,
                    description="log change of the long margin balance vs the previous record"),
        ctx.feature("margin_short_chg", col("_g_schg"), src, lookback=None,
                    description="log change of the short margin balance vs the previous record"),
        ctx.feature("margin_long_days", col("_g_long") / avg_vol, src + ("Volume",), lookback=None,
                    description="long margin balance / 20-session mean volume (days to cover)"),
        ctx.feature("margin_short_days", col("_g_short") / avg_vol, src + ("Volume",), lookback=None,
                    description="short margin balance / 20-session mean volume"),
    ]


def _short_ratio(ctx: FeatureContext, windows: Sequence[int]) -> list[Feature]:
    cols = ["SellingExcludingShortSellingTurnoverValue", "ShortSellingWithRestrictionsTurnoverValue",
            "ShortSellingWithoutRestrictionsTurnoverValue"]
    table = _checked(ctx, "short_ratio", [DATE, "PublishedDate", "Sector33Code", *cols])
    if table is None:
        return []
    sector = ctx.sector_column()
    if sector is None:
        ctx.skip("short_ratio", "market.listed absent (no Sector33Code to match)")
        return []
    shorts = pl.col(cols[1]) + pl.col(cols[2])
    ratio = shorts / (shorts + pl.col(cols[0]))
    daily = (table.sort("Sector33Code", "PublishedDate", DATE)
             .unique(["Sector33Code", "PublishedDate"], keep="last", maintain_order=True)
             .with_columns(ratio.alias("_s_ratio"))
             .select(pl.col("Sector33Code").alias(sector), pl.col("PublishedDate").alias("_s_pub"),
                     *[pl.col("_s_ratio").rolling_mean(w, min_samples=w).over("Sector33Code").alias(f"_s_ratio_{w}")
                       for w in windows]))
    ctx.join_asof(daily, "_s_pub", by=sector)
    return [ctx.feature(f"short_ratio_sector_{w}", col(f"_s_ratio_{w}"), ("short_ratio", "listed.Sector33Code"),
                        lookback=None, description=f"sector short-selling share of turnover, mean of {w} records")
            for w in windows]


def flow(ctx: FeatureContext, investors: bool = True, margin: bool = True, short_ratio: bool = True,
         section: str | None = None, weeks: Sequence[int] = (1, 4),
         short_windows: Sequence[int] = (1, 5)) -> list[Feature]:
    """``section`` filters investor_types (e.g. ``TSEPrime``); None sums every section."""
    out: list[Feature] = []
    if investors:
        out += _investors(ctx, section, weeks)
    if margin:
        out += _margin(ctx)
    if short_ratio:
        out += _short_ratio(ctx, short_windows)
    return out
