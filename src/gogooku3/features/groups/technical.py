"""Technical indicators with the textbook (and ``ta`` package) definitions.

Price-unit indicators (MACD, ATR) are divided by the close so they are comparable
across stocks; oscillators keep their usual 0..100 scale. Recursive indicators
(RSI, MACD, ATR, ADX) depend on the whole history of the code, so their lookback is
unbounded; they start from the code's first session exactly as ``ta`` starts from the
first row, and skip suspended sessions (null output there, recursion continues).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from gogooku3.features.context import FeatureContext
from gogooku3.features.ops import (
    CLOSE, HIGH, LOW, POS, col, ewm, lag, rmax, rmean, rmin, rstd, safe_div,
)
from gogooku3.features.spec import Feature

C = ("Close", "AdjustmentFactor")
HLC = ("High", "Low", "Close", "AdjustmentFactor")


def wilder(x: pl.Expr, n: int, first: int) -> pl.Expr:
    """Wilder smoothing seeded with the plain mean of the first n values.

    ``x`` is valid from position ``first`` of each code; the mean of positions
    first..first+n-1 seeds the recursion y_t = y_{t-1} + (x_t - y_{t-1}) / n.
    """
    seed_at = first + n - 1
    seeded = (pl.when(col(POS) == seed_at).then(rmean(x, n))
              .when(col(POS) > seed_at).then(x))
    return ewm(seeded, alpha=1.0 / n)


def rsi(ctx: FeatureContext, close: pl.Expr, n: int) -> pl.Expr:
    diff = close - lag(close, 1)
    first = col(POS) == 0  # ta counts the first row as a zero move
    up = pl.when(first).then(0.0).when(diff > 0).then(diff).when(diff.is_not_null()).then(0.0)
    down = pl.when(first).then(0.0).when(diff < 0).then(-diff).when(diff.is_not_null()).then(0.0)
    ema = ctx.helpers_from({f"rsi_up_{n}": ewm(up, alpha=1 / n, min_samples=n),
                            f"rsi_down_{n}": ewm(down, alpha=1 / n, min_samples=n)})
    ema_up, ema_down = ema[f"rsi_up_{n}"], ema[f"rsi_down_{n}"]
    return pl.when(ema_down == 0).then(100.0).otherwise(100 - 100 / (1 + ema_up / ema_down))


def true_range(first_is_range: bool) -> pl.Expr:
    """max(H, C_prev) - min(L, C_prev); on a code's first row H - L (ATR) or null (ADX)."""
    prev = lag(col(CLOSE), 1)
    tr = pl.max_horizontal(col(HIGH), prev) - pl.min_horizontal(col(LOW), prev)
    tr = pl.when(prev.is_not_null()).then(tr)
    if first_is_range:
        tr = pl.when(col(POS) == 0).then(col(HIGH) - col(LOW)).otherwise(tr)
    return tr


def adx_parts(ctx: FeatureContext, n: int) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(+DI, -DI, ADX) as in Wilder (and ``ta``): DI from Wilder sums, ADX Wilder-smoothed DX.

    Built in stages of helper columns: nesting these recursive window expressions
    directly makes the query plan grow exponentially.
    """
    up = col(HIGH) - lag(col(HIGH), 1)
    down = lag(col(LOW), 1) - col(LOW)
    both = up.is_not_null() & down.is_not_null()
    raw = ctx.helpers_from({
        f"tr_{n}": true_range(False),
        f"pdm_{n}": pl.when((up > down) & (up > 0)).then(up).when(both).then(0.0),
        f"mdm_{n}": pl.when((down > up) & (down > 0)).then(down).when(both).then(0.0),
    })
    sm = ctx.helpers_from({k.replace("_", "s_", 1): wilder(e, n, first=1) for k, e in raw.items()})
    tr, pdm, mdm = sm[f"trs_{n}"], sm[f"pdms_{n}"], sm[f"mdms_{n}"]
    valid = tr.is_not_null()
    di = ctx.helpers_from({
        f"dip_{n}": pl.when(valid).then(pl.when(tr != 0).then(100 * pdm / tr).otherwise(0.0)),
        f"dim_{n}": pl.when(valid).then(pl.when(tr != 0).then(100 * mdm / tr).otherwise(0.0)),
    })
    di_plus, di_minus = di[f"dip_{n}"], di[f"dim_{n}"]
    total = di_plus + di_minus
    dx = ctx.helpers_from({f"dx_{n}": pl.when(valid).then(
        pl.when(total != 0).then(100 * (di_plus - di_minus).abs() / total).otherwise(0.0))})[f"dx_{n}"]
    return di_plus, di_minus, wilder(dx, n, first=n)


def technical(ctx: FeatureContext, rsi_windows: Sequence[int] = (14,),
              macd: Sequence[int] | None = (12, 26, 9), bollinger: Sequence[int] = (20,),
              bollinger_dev: float = 2.0, atr_windows: Sequence[int] = (14,),
              adx_windows: Sequence[int] = (14,), stochastic: Sequence[Sequence[int]] = ((14, 3),),
              ma_gaps: Sequence[int] = (5, 20, 60)) -> list[Feature]:
    """RSI, MACD, Bollinger position/width, ATR, ADX/DI, stochastics, moving-average gaps."""
    c = col(CLOSE)
    out: list[Feature] = []
    for n in rsi_windows:
        out.append(ctx.feature(f"rsi_{n}", rsi(ctx, c, n), C, window=n, lookback=None, min_obs=n + 1,
                               description=f"RSI({n}), Wilder smoothing, 0..100"))
    if macd:
        fast, slow, sign = macd
        line = ctx.helpers_from({"macd_line": ewm(c, span=fast, min_samples=fast)
                                 - ewm(c, span=slow, min_samples=slow)})["macd_line"]
        signal = ctx.helpers_from({"macd_signal": ewm(line, span=sign, min_samples=sign)})["macd_signal"]
        tag = f"{fast}_{slow}"
        out += [
            ctx.feature(f"macd_{tag}", line / c, C, window=slow, lookback=None, min_obs=slow,
                        description=f"MACD line EMA{fast}-EMA{slow}, over close"),
            ctx.feature(f"macd_signal_{tag}_{sign}", signal / c, C, window=slow, lookback=None,
                        min_obs=slow + sign - 1,
                        description=f"MACD signal EMA{sign} of the line, over close"),
            ctx.feature(f"macd_hist_{tag}_{sign}", (line - signal) / c, C, window=slow, lookback=None,
                        min_obs=slow + sign - 1,
                        description="MACD line minus signal, over close"),
        ]
    for n in bollinger:
        x = ctx.helpers_from({f"bb_mid_{n}": rmean(c, n), f"bb_sd_{n}": rstd(c, n, ddof=0)})
        mid, sd = x[f"bb_mid_{n}"], x[f"bb_sd_{n}"]
        hi, lo = mid + bollinger_dev * sd, mid - bollinger_dev * sd
        out += [
            ctx.feature(f"bb_pos_{n}", safe_div(c - lo, hi - lo), C, window=n, lookback=n - 1,
                        description=f"Bollinger %B ({n}, {bollinger_dev} sd)"),
            ctx.feature(f"bb_width_{n}", 100 * (hi - lo) / mid, C, window=n, lookback=n - 1,
                        description=f"Bollinger band width in % of the {n}-session mean"),
        ]
    for n in atr_windows:
        out.append(ctx.feature(f"atr_{n}", wilder(true_range(True), n, first=0) / c, HLC, window=n,
                               lookback=None, description=f"ATR({n}) over close"))
    for n in adx_windows:
        di_plus, di_minus, adx = adx_parts(ctx, n)
        out += [
            ctx.feature(f"adx_{n}", adx, HLC, window=n, lookback=None, description=f"ADX({n})"),
            ctx.feature(f"di_plus_{n}", di_plus, HLC, window=n, lookback=None, description=f"+DI({n})"),
            ctx.feature(f"di_minus_{n}", di_minus, HLC, window=n, lookback=None, description=f"-DI({n})"),
        ]
    for n, smooth in stochastic:
        x = ctx.helpers_from({f"stoch_lo_{n}": rmin(col(LOW), n), f"stoch_hi_{n}": rmax(col(HIGH), n)})
        lo_n, hi_n = x[f"stoch_lo_{n}"], x[f"stoch_hi_{n}"]
        k = ctx.helpers_from({f"stoch_k_{n}": 100 * safe_div(c - lo_n, hi_n - lo_n)})[f"stoch_k_{n}"]
        out += [
            ctx.feature(f"stoch_k_{n}", k, HLC, window=n, lookback=n - 1, description=f"stochastic %K({n})"),
            ctx.feature(f"stoch_d_{n}_{smooth}", rmean(k, smooth), HLC, window=n + smooth - 1,
                        lookback=n + smooth - 2, description=f"stochastic %D: {smooth}-session mean of %K"),
        ]
    for n in ma_gaps:
        out.append(ctx.feature(f"ma_gap_{n}", c / rmean(c, n) - 1, C, window=n, lookback=n - 1,
                               description=f"close / {n}-session mean close - 1"))
    return out
