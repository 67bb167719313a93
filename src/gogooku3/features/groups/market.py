"""Market (TOPIX-like index) state and each stock's exposure to it."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from gogooku3.errors import DataError
from gogooku3.features.context import FeatureContext
from gogooku3.features.ops import CLOSE, col, log_return, safe_div
from gogooku3.features.spec import Feature
from gogooku3.schema import DATE

IDX = ("index.Close",)
R_M = "_m_r1"


def _index_table(index: pl.DataFrame, returns: Sequence[int], vols: Sequence[int],
                 trends: Sequence[int]) -> tuple[pl.DataFrame, dict[str, tuple[int, str]]]:
    """Per-date market features computed on the index's own rows (one per session)."""
    if DATE not in index.columns or "Close" not in index.columns:
        raise DataError("index: missing required column Date or Close")
    if index.get_column(DATE).is_duplicated().any():
        raise DataError("index: duplicate Date rows")
    close = pl.col("Close")
    r1 = (close / close.shift(1)).log()
    cols: dict[str, tuple[pl.Expr, int, str]] = {R_M: (r1, 1, "")}
    for h in returns:
        cols[f"mkt_ret_{h}d"] = ((close / close.shift(h)).log(), h, f"index log return over {h} sessions")
    for w in vols:
        cols[f"mkt_vol_{w}d"] = (r1.rolling_std(w, min_samples=w), w, f"std of index daily log returns, {w}")
    for w in trends:
        cols[f"mkt_trend_{w}d"] = ((close / close.rolling_mean(w, min_samples=w)).log(), w - 1,
                                   f"ln(index / its {w}-session mean)")
        cols[f"mkt_dd_{w}d"] = ((close / close.rolling_max(w, min_samples=w)).log(), w - 1,
                                f"index drawdown from its {w}-session high")
    if len(vols) >= 2:
        short, long = min(vols), max(vols)
        cols[f"mkt_vol_ratio_{short}_{long}d"] = (
            r1.rolling_std(short, min_samples=short) / r1.rolling_std(long, min_samples=long), long,
            f"volatility regime: index vol {short} / vol {long}")
    table = (index.select(pl.col(DATE).cast(pl.Date), pl.col("Close").cast(pl.Float64)).sort(DATE)
             .select(DATE, *[e.alias(f"_m_{n}" if n != R_M else n) for n, (e, _, _) in cols.items()]))
    return table, {n: (lb, d) for n, (_, lb, d) in cols.items() if n != R_M}


def market(ctx: FeatureContext, returns: Sequence[int] = (1, 5, 20), vols: Sequence[int] = (20, 60),
           trends: Sequence[int] = (20, 60), beta_windows: Sequence[int] = (60,)) -> list[Feature]:
    """Index returns, volatility, trend and regime; rolling beta/alpha and residual returns."""
    table, meta = _index_table(ctx.table("index"), returns, vols, trends)
    ctx.join_on_date(table)
    out = [ctx.feature(n, col(f"_m_{n}"), IDX, window=lb or None, lookback=lb, description=d)
           for n, (lb, d) in meta.items()]
    r_i, r_m = log_return(col(CLOSE), 1), col(R_M)
    src = ("Close", "AdjustmentFactor", "index.Close")
    if beta_windows:
        both = r_i.is_not_null() & r_m.is_not_null()
        r = ctx.helpers_from({"ri": pl.when(both).then(r_i), "rm": pl.when(both).then(r_m), "ri_raw": r_i})
        sums = ctx.window_sums({"i": r["ri"], "m": r["rm"], "im": r["ri"] * r["rm"], "mm": r["rm"] * r["rm"]})
    for w in beta_windows:
        mean_i, mean_m = sums["i"].mean(w), sums["m"].mean(w)
        cov = sums["im"].mean(w) - mean_i * mean_m
        var_m = sums["mm"].mean(w) - mean_m * mean_m
        x = ctx.helpers_from({f"beta_{w}": safe_div(cov, var_m), f"mean_i_{w}": mean_i, f"mean_m_{w}": mean_m})
        beta = x[f"beta_{w}"]
        out += [
            ctx.feature(f"beta_mkt_{w}d", beta, src, window=w, lookback=w, description=f"rolling beta to the index, {w}"),
            ctx.feature(f"alpha_mkt_{w}d", x[f"mean_i_{w}"] - beta * x[f"mean_m_{w}"], src, window=w, lookback=w,
                        description=f"mean daily return not explained by beta, {w}"),
            ctx.feature(f"resid_ret_1d_{w}", r["ri_raw"] - beta * r_m, src, window=w, lookback=w,
                        description=f"today's log return minus beta_{w} x index return"),
        ]
    return out
