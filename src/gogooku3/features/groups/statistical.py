"""Rolling statistical operators in the spirit of Alpha158.

Bar shape (``kbar_*``), price ratios (``*0``) and, for every window w, 29 operators on
close, high, low and volume: trend (roc, ma, beta, rsqr, resi), dispersion (std),
extremes and their timing (max, min, qtlu, qtld, rank, rsv, imax, imin, imxd),
price-volume correlation (corr, cord), up/down counts and sums (cnt*, sum*) and
volume statistics (vma, vstd, wvma, vsum*). Level-based values are divided by the
latest close so they are comparable across stocks and unaffected by splits.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from gogooku3.errors import ConfigError
from gogooku3.features.context import FeatureContext
from gogooku3.features.ops import (
    CLOSE, HIGH, LOW, OPEN, POS, VOLUME, WindowSums, col, complete, lag, rmax, rmin, rquantile, rrank_pct,
    rstd, safe_div,
)
from gogooku3.features.spec import Feature
from gogooku3.schema import CODE

C = ("Close", "AdjustmentFactor")
HLC = ("High", "Low", "Close", "AdjustmentFactor")
CV = ("Close", "Volume", "AdjustmentFactor")
V = ("Volume", "AdjustmentFactor")
OHLC = ("Open", "High", "Low", "Close", "AdjustmentFactor")

_POS_BITS = 20  # positions within a code fit in 20 bits (over 4,000 years of sessions)


def extreme_key(x: pl.Expr, highest: bool) -> pl.Expr:
    """An integer whose rolling max marks the window's max (or min) of ``x``, latest on ties.

    The dense rank of ``x`` (any order-preserving map will do, so using the whole
    column adds no look-ahead to the result) is packed with the position in the code.
    """
    rank = x.rank("dense").cast(pl.Int64)
    if not highest:
        rank = (1 << 40) - rank
    return rank * (1 << _POS_BITS) + col(POS).cast(pl.Int64)


def sessions_since(key: pl.Expr, w: int) -> pl.Expr:
    """Sessions since the extreme encoded by :func:`extreme_key` within the last ``w``."""
    at = rmax(key, w) % (1 << _POS_BITS)
    return (col(POS).cast(pl.Int64) - at).cast(pl.Float64)


def _corr(a: pl.Expr, b: pl.Expr, w: int) -> pl.Expr:
    """Rolling Pearson correlation; null where undefined (a window without variance gives +-inf or NaN)."""
    r = pl.rolling_corr(a, b, window_size=w, min_samples=w).over(CODE)
    return pl.when(r.is_finite()).then(r.clip(-1.0, 1.0))


def _inputs(ctx: FeatureContext) -> tuple[dict[str, pl.Expr], dict[str, WindowSums]]:
    """Shared intermediate series (materialized once) and their window sums."""
    c, v = col(CLOSE), col(VOLUME)
    prev_c, prev_v = lag(c, 1), lag(v, 1)
    base = ctx.helpers_from({
        "d1": c - prev_c, "dv": v - prev_v, "rel": c / prev_c,
        "lv": (v + 1).log(), "lvr": (v / prev_v + 1).log(),
        "rv": (c / prev_c - 1).abs() * v, "pc": col(POS).cast(pl.Float64) * c,
        "hkey": extreme_key(col(HIGH), True), "lkey": extreme_key(col(LOW), False),
    })
    d1, dv = base["d1"], base["dv"]
    sums = ctx.window_sums({
        "c": c, "pc": base["pc"], "v": v, "rv": base["rv"],
        "up": (d1 > 0).cast(pl.Float64), "dn": (d1 < 0).cast(pl.Float64),
        "d1p": d1.clip(lower_bound=0), "d1a": d1.abs(),
        "dvp": dv.clip(lower_bound=0), "dva": dv.abs(),
    })
    return base, sums


# Window sums each operator reads (see :func:`_inputs`).
_SUMS = {
    "ma": ("c",), "beta": ("c", "pc"), "rsqr": ("c", "pc"), "resi": ("c", "pc"),
    "cntp": ("up",), "cntn": ("dn",), "cntd": ("up", "dn"),
    "sump": ("d1p", "d1a"), "sumn": ("d1p", "d1a"), "sumd": ("d1p", "d1a"),
    "vma": ("v",), "wvma": ("rv",), "vsump": ("dvp", "dva"), "vsumn": ("dvp", "dva"), "vsumd": ("dvp", "dva"),
}


def _window(ctx: FeatureContext, base: dict[str, pl.Expr], sums: dict[str, WindowSums], w: int,
            ops: list[str]) -> dict[str, tuple[pl.Expr, tuple[str, ...], int]]:
    """name -> (expression, sources, lookback) for window ``w``.

    Window sums and order statistics several operators share are materialized once
    per window first (polars does not share repeated sub-expressions); what derives
    from them elementwise is cheap and stays an expression.
    """
    c, h, lo, v = col(CLOSE), col(HIGH), col(LOW), col(VOLUME)
    need = set(ops)
    shared: dict[str, pl.Expr] = {f"s{k}": sums[k].sum(w) for k in sorted({k for o in ops for k in _SUMS.get(o, ())})}
    if need & {"max", "rsv"}:
        shared["hi"] = rmax(h, w)
    if need & {"min", "rsv"}:
        shared["low"] = rmin(lo, w)
    if need & {"std", "rsqr"}:
        shared["std_c"] = rstd(c, w)
    if need & {"imax", "imxd"}:
        shared["since_high"] = sessions_since(base["hkey"], w)
    if need & {"imin", "imxd"}:
        shared["since_low"] = sessions_since(base["lkey"], w)
    if need & {"qtlu", "qtld", "rank"}:
        shared["full_c"] = complete(c, w)
    x = ctx.helpers_from({f"{k}_{w}": e for k, e in shared.items()})
    x = {k.rsplit("_", 1)[0]: e for k, e in x.items()}
    if "sc" in x:
        x["mean_c"] = x["sc"] / w
    if "spc" in x:
        # regression of close on 0..w-1: sum_k k * c_(t-w+1+k) from sums of p * c and c
        weighted = x["spc"] - (col(POS).cast(pl.Float64) - (w - 1)) * x["sc"]
        x["cov_xc"] = weighted / w - (w - 1) / 2 * x["mean_c"]
    if "sup" in x:
        x["cntp"] = x["sup"] / w
    if "sdn" in x:
        x["cntn"] = x["sdn"] / w
    if "sd1p" in x:
        x["sump"] = safe_div(x["sd1p"], x["sd1a"])
    if "sdvp" in x:
        x["vsump"] = safe_div(x["sdvp"], x["sdva"])
    if "srv" in x:
        x["mean_rv"] = x["srv"] / w
    full = x.get("full_c")
    x_mean, x_var = (w - 1) / 2, (w * w - 1) / 12
    table: dict[str, tuple[pl.Expr, tuple[str, ...], int]] = {
        "roc": (lag(c, w) / c, C, w),
        "qtlu": (rquantile(c, 0.8, w, full) / c, C, w - 1),
        "qtld": (rquantile(c, 0.2, w, full) / c, C, w - 1),
        "rank": (rrank_pct(c, w, full), C, w - 1),
        "corr": (_corr(c, base["lv"], w), CV, w - 1),
        "cord": (_corr(base["rel"], base["lvr"], w), CV, w),
        "vstd": (safe_div(rstd(v, w), v), V, w - 1),
    }
    if "sv" in x:
        table["vma"] = (safe_div(x["sv"] / w, v), V, w - 1)
    if "mean_c" in x:
        table["ma"] = (x["mean_c"] / c, C, w - 1)
    if "std_c" in x:
        table["std"] = (x["std_c"] / c, C, w - 1)
    if "cov_xc" in x:
        slope = x["cov_xc"] / x_var
        table["beta"] = (slope / c, C, w - 1)
        table["resi"] = ((c - (x["mean_c"] + slope * x_mean)) / c, C, w - 1)
        if "std_c" in x:
            var_pop = x["std_c"] * x["std_c"] * ((w - 1) / w)
            table["rsqr"] = (safe_div(x["cov_xc"] * x["cov_xc"], x_var * var_pop), C, w - 1)
    if "hi" in x:
        table["max"] = (x["hi"] / c, HLC, w - 1)
    if "low" in x:
        table["min"] = (x["low"] / c, HLC, w - 1)
    if "hi" in x and "low" in x:
        table["rsv"] = (safe_div(c - x["low"], x["hi"] - x["low"]), HLC, w - 1)
    if "since_high" in x:
        table["imax"] = (x["since_high"] / w, HLC, w - 1)
    if "since_low" in x:
        table["imin"] = (x["since_low"] / w, HLC, w - 1)
    if "since_high" in x and "since_low" in x:
        table["imxd"] = ((x["since_high"] - x["since_low"]) / w, HLC, w - 1)
    if "cntp" in x:
        table["cntp"] = (x["cntp"], C, w)
    if "cntn" in x:
        table["cntn"] = (x["cntn"], C, w)
    if "cntp" in x and "cntn" in x:
        table["cntd"] = (x["cntp"] - x["cntn"], C, w)
    if "sump" in x:
        # sum of falls = sum |d| - sum of rises, so sumn = 1 - sump and sumd = 2 sump - 1
        table.update({"sump": (x["sump"], C, w), "sumn": (1 - x["sump"], C, w), "sumd": (2 * x["sump"] - 1, C, w)})
    if "vsump" in x:
        table.update({"vsump": (x["vsump"], V, w), "vsumn": (1 - x["vsump"], V, w),
                      "vsumd": (2 * x["vsump"] - 1, V, w)})
    if "mean_rv" in x:
        table["wvma"] = (safe_div(rstd(base["rv"], w), x["mean_rv"]), CV, w)
    return table


OPERATORS = ("roc", "ma", "std", "beta", "rsqr", "resi", "max", "min", "qtlu", "qtld", "rank", "rsv",
             "imax", "imin", "imxd", "corr", "cord", "cntp", "cntn", "cntd", "sump", "sumn", "sumd",
             "vma", "vstd", "wvma", "vsump", "vsumn", "vsumd")


def statistical(ctx: FeatureContext, windows: Sequence[int] = (5, 10, 20, 30, 60),
                operators: Sequence[str] | None = None, kbar: bool = True,
                price_ratios: bool = True) -> list[Feature]:
    """Alpha158-style operators; ``operators`` defaults to all of :data:`OPERATORS`."""
    ops = list(operators) if operators is not None else list(OPERATORS)
    bad = [o for o in ops if o not in OPERATORS]
    if bad:
        raise ConfigError(f"features.groups.statistical.operators: unknown {bad} (known: {list(OPERATORS)})")
    o, h, lo, c = col(OPEN), col(HIGH), col(LOW), col(CLOSE)
    out: list[Feature] = []
    if kbar:
        rng = h - lo
        top, bottom = pl.max_horizontal(o, c), pl.min_horizontal(o, c)
        shapes = {
            "kbar_mid": (c - o) / o, "kbar_len": rng / o, "kbar_mid2": safe_div(c - o, rng),
            "kbar_up": (h - top) / o, "kbar_up2": safe_div(h - top, rng), "kbar_low": (bottom - lo) / o,
            "kbar_low2": safe_div(bottom - lo, rng), "kbar_sft": (2 * c - h - lo) / o,
            "kbar_sft2": safe_div(2 * c - h - lo, rng),
        }
        out += [ctx.feature(n, e, OHLC, description="bar shape") for n, e in shapes.items()]
    if price_ratios:
        vwap = safe_div(pl.col("TurnoverValue"), pl.col("Volume"))
        out += [
            ctx.feature("open0", o / c, OHLC, description="open / close"),
            ctx.feature("high0", h / c, OHLC, description="high / close"),
            ctx.feature("low0", lo / c, OHLC, description="low / close"),
            ctx.feature("vwap0", vwap / pl.col("Close"), ("TurnoverValue", "Volume", "Close"),
                        description="(turnover / volume) / close, both raw"),
        ]
    bad_w = [w for w in windows if w < 2]
    if bad_w:
        raise ConfigError(f"features.groups.statistical.windows: {bad_w} < 2")
    if windows and ops:
        base, sums = _inputs(ctx)
        for w in windows:
            table = _window(ctx, base, sums, w, ops)
            for name in ops:
                expr, sources, lookback = table[name]
                out.append(ctx.feature(f"{name}_{w}d", expr, sources, window=w, lookback=lookback,
                                       description=f"{name} over {w} sessions"))
    return out
