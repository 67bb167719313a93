"""Per-stock time-series building blocks on the prepared frame.

The prepared frame is sorted by Code then Date and has one row per session
between a code's first and last quote (see :mod:`gogooku3.data.sessions`), so a shift of k rows
is k sessions. Every operator here looks only backwards.

Execution styles, chosen per operator for speed without giving up exactness:
* shifts, order statistics (max, min, quantile, rank) and elementwise maths run on
  the whole column and are masked where they would reach into the previous code
  (``_i < k``); they are exact, so a code's values never depend on another code's;
* variances and recursive averages run inside ``.over("Code")``: their incremental
  float state then never carries over from the previous code, which keeps results
  bit-identical when later rows (or other codes' rows) are removed (Code is flagged
  sorted, so ``over`` works on contiguous slices);
* many window sums of one series share a per-code cumulative sum
  (:class:`WindowSums`): one ``over`` per series instead of one per window.
"""

from __future__ import annotations

import polars as pl

from gogooku3.data import sessions
from gogooku3.schema import CODE

# Columns created by prepare: row position within the code, adjusted OHLCV, etc.
POS = "_i"
OPEN, HIGH, LOW, CLOSE, VOLUME = "_open", "_high", "_low", "_close", "_volume"
FACTOR = "_factor"
PRESENT = sessions.PRESENT


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


def rmax(e: pl.Expr, w: int) -> pl.Expr:
    return _mask(e.rolling_max(w, min_samples=w), w)


def rmin(e: pl.Expr, w: int) -> pl.Expr:
    return _mask(e.rolling_min(w, min_samples=w), w)


def complete(e: pl.Expr, w: int) -> pl.Expr:
    """True where the last ``w`` values of ``e`` lie in the code and none is null."""
    return _mask(e.is_null().cast(pl.UInt8).rolling_max(w, min_samples=w), w) == 0


def rquantile(e: pl.Expr, q: float, w: int, full: pl.Expr | None = None) -> pl.Expr:
    """Rolling quantile (linear interpolation); ``full`` may pass ``complete(e, w)`` in."""
    # Order statistics run several times faster on a column without nulls; a window
    # holding a null is null anyway, so what fills the nulls never shows.
    filled = e.fill_null(0.0).rolling_quantile(q, "linear", window_size=w, min_samples=w)
    return pl.when(complete(e, w) if full is None else full).then(filled)


def rrank_pct(e: pl.Expr, w: int, full: pl.Expr | None = None) -> pl.Expr:
    """Percentile (0..1] of the latest value among the last ``w`` (average ties).

    ``full`` may pass a materialized ``complete(e, w)`` in.
    """
    full = complete(e, w) if full is None else full
    if w > 64:
        return pl.when(full).then(e.fill_null(0.0).rolling_rank(w, method="average", min_samples=w) / w)
    # Counting the earlier values below (twice) and equal (once) in integers is faster
    # than rolling_rank; half the count is then the exact average-tie rank minus one.
    earlier = [e.shift(k) for k in range(1, w)]
    twice = pl.sum_horizontal([(p < e).cast(pl.UInt16) + (p <= e).cast(pl.UInt16) for p in earlier])
    return pl.when(full).then((twice.cast(pl.Float64) * 0.5 + 1.0) / w)


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
    count as 0); a window sum is null unless the window lies in the code and none of
    its values is missing. The float sums restart at every code, so a code's results
    never depend on rows of other codes or on later rows. ``missing`` counts missing
    values cumulatively over the whole frame: a difference of integer counts is
    exact wherever it starts, and it replaces a rolling max of a flag per window.
    """

    def __init__(self, total: pl.Expr, missing: pl.Expr) -> None:
        self.total, self.missing = total, missing

    @staticmethod
    def columns(e: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        """(cumulative sum, cumulative missing count) expressions to materialize for ``e``."""
        ok = e.is_finite()  # null where e is null: counts as missing too
        return (pl.when(ok).then(e).otherwise(0.0).cum_sum().over(CODE),
                ok.not_().fill_null(True).cast(pl.UInt32).cum_sum())

    def complete(self, w: int) -> pl.Expr:
        """True where the last ``w`` values lie in the code and none is missing."""
        return (pl.col(POS) >= w - 1) & (self.missing == self.missing.shift(w, fill_value=0))

    def sum(self, w: int) -> pl.Expr:
        before = pl.when(pl.col(POS) >= w).then(self.total.shift(w)).otherwise(0.0)
        return pl.when(self.complete(w)).then(self.total - before)

    def mean(self, w: int) -> pl.Expr:
        return self.sum(w) / w
