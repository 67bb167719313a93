"""Per-date transforms of earlier features: rank, z-score, market- and sector-relative."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from gogooku3.errors import ConfigError
from gogooku3.features.context import FeatureContext
from gogooku3.features.ops import PRESENT, col
from gogooku3.features.spec import Feature
from gogooku3.schema import CODE, DATE

OPS = {
    "rank": "csrank",       # percentile rank within the date, in (0, 1]
    "zscore": "csz",        # (x - date mean) / date std
    "demean": "mktrel",     # x - date mean (market-relative)
    "sector_demean": "secrel",  # x - mean of the date's Sector33 peers
    "sector_zscore": "secz",    # z-score within the date's Sector33 peers
}
SECTOR_OPS = ("sector_demean", "sector_zscore")


def _transform(value: pl.Expr, op: str, by: pl.Expr) -> pl.Expr:
    x = pl.when(col(PRESENT)).then(value)
    if op == "rank":  # the ranks of a Float32 feature are those of its Float64 values
        return x.rank("average").over(by) / x.count().over(by)
    x = x.cast(pl.Float64)
    mean = x.mean().over(by)
    if op in ("demean", "sector_demean"):
        return x - mean
    std = x.std().over(by)
    return pl.when(std > 0).then((x - mean) / std)


def _date_sector(ctx: FeatureContext) -> pl.Expr | None:
    """One integer per (Date, Sector33Code) pair; None when listed has no sector.

    Grouping by one integer is several times faster than by a date and a string.
    Codes absent from listed form their own group per date, as a null sector would.
    """
    listed = ctx.table("listed")
    if listed is None or "Sector33Code" not in listed.columns:
        return None
    sectors = listed.select(pl.col(CODE).cast(pl.String), pl.col("Sector33Code").cast(pl.String)) \
        .unique(CODE, keep="last")
    ids = sectors.select(CODE, pl.col("Sector33Code").rank("dense").cast(pl.UInt32).fill_null(0).alias("_sector_id"))
    ctx.join_on_code(ids)
    n = int(ids.get_column("_sector_id").max() or 0) + 1
    key = col(DATE).to_physical().cast(pl.Int64) * n + col("_sector_id").fill_null(0)
    return ctx.helpers_from({"date_sector": key})["date_sector"]


def cross_section(ctx: FeatureContext, features: Sequence[str] = ("ret_1d", "ret_5d", "ret_20d"),
                  ops: Sequence[str] = ("rank", "demean", "sector_demean")) -> list[Feature]:
    """Uses only the same date's values of other stocks, so it adds no look-ahead."""
    bad = [o for o in ops if o not in OPS]
    if bad:
        raise ConfigError(f"features.groups.cross_section.ops: unknown {bad} (known: {list(OPS)})")
    sector = None
    if any(o in SECTOR_OPS for o in ops):
        sector = _date_sector(ctx)
        if sector is None:
            ctx.skip(",".join(o for o in ops if o in SECTOR_OPS), "market.listed absent")
    out: list[Feature] = []
    for name in features:
        if name not in ctx.specs:
            if ctx.skipped:
                ctx.skip(name, f"not produced (groups skipped: {', '.join(ctx.skipped)})")
                continue
            raise ConfigError(
                f"features.groups.cross_section.features: {name} is not produced by any other group")
        src = ctx.specs[name]
        x = col(name)
        for op in ops:
            if op in SECTOR_OPS:
                if sector is None:
                    continue
                expr, sources = _transform(x, op, sector), src.sources + ("listed.Sector33Code",)
            else:
                expr, sources = _transform(x, op, col(DATE)), src.sources
            out.append(ctx.feature(f"{name}_{OPS[op]}", expr, sources, window=src.window,
                                   lookback=src.lookback, min_obs=src.min_obs,
                                   description=f"{op} of {name} across the date's stocks"))
    return out
