"""Per-date transforms of earlier features: rank, z-score, market- and sector-relative."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from gogooku3.errors import ConfigError
from gogooku3.features.context import FeatureContext
from gogooku3.features.ops import PRESENT, col
from gogooku3.features.spec import Feature
from gogooku3.schema import DATE

OPS = {
    "rank": "csrank",       # percentile rank within the date, in (0, 1]
    "zscore": "csz",        # (x - date mean) / date std
    "demean": "mktrel",     # x - date mean (market-relative)
    "sector_demean": "secrel",  # x - mean of the date's Sector33 peers
    "sector_zscore": "secz",    # z-score within the date's Sector33 peers
}
SECTOR_OPS = ("sector_demean", "sector_zscore")


def _transform(x: pl.Expr, op: str, by: list[str]) -> pl.Expr:
    if op == "rank":
        return x.rank("average").over(by) / x.count().over(by)
    mean = x.mean().over(by)
    if op in ("demean", "sector_demean"):
        return x - mean
    std = x.std().over(by)
    return pl.when(std > 0).then((x - mean) / std)


def cross_section(ctx: FeatureContext, features: Sequence[str] = ("ret_1d", "ret_5d", "ret_20d"),
                  ops: Sequence[str] = ("rank", "demean", "sector_demean")) -> list[Feature]:
    """Uses only the same date's values of other stocks, so it adds no look-ahead."""
    bad = [o for o in ops if o not in OPS]
    if bad:
        raise ConfigError(f"features.groups.cross_section.ops: unknown {bad} (known: {list(OPS)})")
    sector = None
    if any(o in SECTOR_OPS for o in ops):
        sector = ctx.sector_column()
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
        x = pl.when(col(PRESENT)).then(col(name).cast(pl.Float64))
        for op in ops:
            if op in SECTOR_OPS:
                if sector is None:
                    continue
                expr, sources = _transform(x, op, [DATE, sector]), src.sources + ("listed.Sector33Code",)
            else:
                expr, sources = _transform(x, op, [DATE]), src.sources
            out.append(ctx.feature(f"{name}_{OPS[op]}", expr, sources, window=src.window,
                                   lookback=src.lookback, description=f"{op} of {name} across the date's stocks"))
    return out
