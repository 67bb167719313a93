"""Per-stock time-series building blocks on the prepared frame.

The prepared frame is sorted by Code then Date and has one row per session
between a code's first and last quote (see :mod:`.prepare`), so a shift of k rows
is k sessions. Every operator here looks only backwards.

Execution styles, chosen per operator for speed without giving up exactness:
* shifts, order statistics (max, min, quantile, rank) and elementwise maths run on
  the whole column and are masked where they would reach into the previous code
  (``_i < k``); they are exact, so a code's values never depend on another code's;
* variances and recursive averages run inside ``.over("Code")``: their incremental
  float state then never carries over from the previous code, which keeps results
  bit-identical when later rows (or other codes' rows) are removed;
* many window sums of one series share a per-code cumulative sum
  (:class:`WindowSums`): one ``over`` per series instead of one per window.
"""

from __future__ import annotations

import polars as pl

from gogooku3.schema import CODE

# Columns created by prepare: row position within the code, adjusted OHLCV, etc.
POS = "_i"
OPEN, HIGH, LOW, CLOSE, VOLUME = "_open", "_high", "_low", "_close", "_volume"
PRESENT, FACTOR = "_present", "_factor"


def col(name: str) -> pl.Expr:
    return pl.col(name)


def per_code(e: pl.Expr) -> pl.Expr:
    """Evaluate ``e`` separately for every code."""
    return e.over(CODE)


def lag(e: pl.Expr, k: int) -> pl.Expr:
    """Value ``k`` sessions ago (null within the first k sessions of a code)."""
    return pl.when(pl.col(POS) >= k).then(e.shift(k))


def log_return(e: pl.Expr, k: int) -> pl.Expr:
    """ln(e_t / e_{t-k}); null when either end is null (no jumping over suspensions)."""
    return (e / lag(e, k)).log()


def _mask(e: pl.Expr, window: int) -> pl.Expr:
    return pl.when(pl.col(POS) >= window - 1).then(e)


def rsum(e: pl.Expr, w: int) -> pl.Expr:
    return e.rolling_sum(w, min_samples=w).over(CODE)


def rmean(e: pl.Expr, w: int) -> pl.Expr:
    return e.rolling_mean(w, min_samples=w).over(CODE)


def rstd(e: pl.Expr, w: int, ddof: int = 1) -> pl.Expr:
    return e.rolling_std(w, min_samples=w, ddof=ddof).over(CODE)


def rvar(e: pl.Expr, w: int, ddof: int = 1) -> pl.Expr:
    return e.rolling_var(w, min_samples=w, ddof=ddof).over(CODE)


def rmax(e: pl.Expr, w: int) -> pl.Expr:
    return _mask(e.rolling_max(w, min_samples=w), w)


def rmin(e: pl.Expr, w: int) -> pl.Expr:
    return _mask(e.rolling_min(w, min_samples=w), w)


def rquantile(e: pl.Expr, q: float, w: int) -> pl.Expr:
    return _mask(e.rolling_quantile(q, "linear", window_size=w, min_samples=w), w)


def rrank_pct(e: pl.Expr, w: int) -> pl.Expr:
    """Percentile (0..1] of the latest value among the last ``w`` (average ties)."""
    if w > 20:
        return _mask(e.rolling_rank(w, method="average", min_samples=w), w) / w
    # Short windows: counting smaller (and half the equal) earlier values is faster.
    complete = _mask(e.is_null().cast(pl.UInt8).rolling_max(w, min_samples=w), w) == 0
    earlier = [e.shift(k) for k in range(1, w)]
    count = pl.sum_horizontal([(p < e).cast(pl.Float64) + 0.5 * (p == e).cast(pl.Float64) for p in earlier])
    return pl.when(complete).then((count + 1.0) / w)


def ewm(e: pl.Expr, *, span: float | None = None, alpha: float | None = None,
        min_samples: int = 1) -> pl.Expr:
    """Recursive (adjust=False) exponential mean, as technical analysis defines it."""
    return e.ewm_mean(span=span, alpha=alpha, adjust=False, min_samples=min_samples,
                      ignore_nulls=True).over(CODE)


def safe_div(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """a / b, null where b is zero (a zero denominator carries no information)."""
    return pl.when(b != 0).then(a / b)


class WindowSums:
    """Window sums of one series from its per-code cumulative sum.

    ``total`` is the cumulative sum within the code (nulls and non-finite values
    count as 0) and ``missing`` flags those values; a window sum is null unless all
    of its values are present. Cumulative sums restart at every code, so a code's
    results never depend on rows of other codes or on later rows.
    """

    def __init__(self, total: pl.Expr, missing: pl.Expr) -> None:
        self.total, self.missing = total, missing

    @staticmethod
    def columns(e: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        """(cumulative sum, missing flag) expressions to materialize for ``e``."""
        ok = e.is_not_null() & e.is_finite()
        return pl.when(ok).then(e).otherwise(0.0).cum_sum().over(CODE), (~ok).cast(pl.UInt8)

    def sum(self, w: int) -> pl.Expr:
        complete = _mask(self.missing.rolling_max(w, min_samples=w), w) == 0
        before = pl.when(pl.col(POS) >= w).then(self.total.shift(w)).otherwise(0.0)
        return pl.when(complete).then(self.total - before)

    def mean(self, w: int) -> pl.Expr:
        return self.sum(w) / w
