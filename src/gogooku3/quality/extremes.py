"""Share of extreme values per feature: robust cross-sectional z-scores on sampled dates.

The definition is :func:`gogooku3.quality.cleaning.is_extreme` (median and 1.4826 MAD per
date, the scale never below std / 3, judged on the raw scale and, on dates where a
feature is all positive, on the log scale too). Computed here for many features at once
with one sort: the rows are laid out as dense (feature, date, stock) blocks, padded with
+inf and sorted along stocks. On a sorted row everything else is a position found by
binary search: the median; the MAD, as the middle of two sorted runs (the deviations
below and above the median); and the extreme values, a leading and a trailing run. The
logarithm keeps the order, so the log scale needs no second sort either. A Polars
group-by per statistic cost seconds for the 176 standard features; this is a fraction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl

from gogooku3.quality.cleaning import STD_FLOOR_DIVISOR

CHUNK = 8  # features per dense block: 64 dates x 4,000 stocks x 8 x 8 bytes = 16 MB


def sample_dates(frame: pl.DataFrame, n_dates: int) -> pl.Series | None:
    """Mask of the rows on ``n_dates`` evenly spaced dates (first and last included); None (all rows) when 0."""
    if n_dates <= 0:
        return None
    dates = frame.lazy().select(pl.col("Date").unique().sort()).collect().to_series()
    if dates.len() <= n_dates:
        return None
    picks = np.unique(np.linspace(0, dates.len() - 1, n_dates).round().astype(np.int64))
    return frame.select(pl.col("Date").is_in(dates.gather(picks).implode())).to_series()


def extreme_shares(frame: pl.DataFrame, features: list[str], max_abs_z: float,
                   rows: pl.Series | None = None) -> list[float]:
    """Per feature, the share of rows of ``frame`` (those where the mask ``rows`` is true) that
    are extreme on their own date.

    Each worker thread filters its block of features itself and fills one reused buffer:
    fresh memory costs page faults, which were a third of this step's time.
    """
    dates = frame["Date"] if rows is None else frame["Date"].filter(rows)
    if not dates.len() or not features:
        return [0.0] * len(features)
    order = dates.arg_sort(nulls_last=True).to_numpy()
    group = dates.gather(order).rle_id().to_numpy()
    sizes = np.bincount(group)
    shape = (sizes.size, int(sizes.max()))
    cell = np.empty_like(order)  # each row's place in a flattened (date, stock) block
    cell[order] = group * shape[1] + np.arange(order.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    buffers = threading.local()

    def count(chunk: list[str]) -> list[int]:
        block = frame.select(chunk)
        values = (block if rows is None else block.filter(rows)).to_numpy()  # rows x chunk, nulls as NaN
        dense = _buffer(buffers, (len(chunk), shape[0] * shape[1]), np.result_type(values.dtype, np.float32))
        dense.fill(np.inf)
        dense[:, cell] = values.T
        return _extreme_counts(dense.reshape(len(chunk), *shape), max_abs_z, buffers)

    chunks = [features[i:i + CHUNK] for i in range(0, len(features), CHUNK)]
    with ThreadPoolExecutor(max(1, min(pl.thread_pool_size(), len(chunks)))) as pool:  # numpy frees the GIL
        counts = [c for part in pool.map(count, chunks) for c in part]
    return [c / dates.len() for c in counts]


def _buffer(buffers: threading.local, shape: tuple[int, ...], dtype: np.dtype, name: str = "dense") -> np.ndarray:
    """This thread's buffer ``name``, reused while shape and dtype stay the same."""
    held = getattr(buffers, name, None)
    if held is None or held.shape != shape or held.dtype != dtype:
        held = np.empty(shape, dtype)
        setattr(buffers, name, held)
    return held


def _extreme_counts(dense: np.ndarray, max_abs_z: float, buffers: threading.local) -> list[int]:
    """Extreme values per feature of a (feature, date, stock) block; non-finite cells are ignored.

    ``buffers`` holds this thread's reusable arrays (see :func:`_buffer`).
    """
    np.copyto(dense, np.inf, where=~np.isfinite(dense))
    dense.sort(axis=-1)  # finite values first, ascending; +inf padding last (in the input's precision)
    n = (dense < np.inf).sum(axis=-1)
    x = _buffer(buffers, dense.shape, np.dtype(np.float64), "x")
    np.copyto(x, dense)
    positive = (n > 0) & (x[..., 0] > 0)  # the smallest value of the date is > 0
    logged = np.log(x[positive])  # ascending too (before x is shifted in place below)
    lead, trail = _extreme_runs(x, n, max_abs_z)
    count = lead + n - trail
    if positive.any():  # on all-positive dates a value must be extreme on the log scale too
        # Both scales put the same values below their median (the log keeps the order and the
        # middle values are data), so low values pair with low ones and high with high.
        log_lead, log_trail = _extreme_runs(logged, n[positive], max_abs_z)
        count[positive] = (np.minimum(lead[positive], log_lead)
                           + n[positive] - np.maximum(trail[positive], log_trail))
    return count.sum(axis=-1).tolist()


def _extreme_runs(x: np.ndarray, n: np.ndarray, max_abs_z: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows sorted ascending (first ``n`` valid): the extreme ones are ``[0, lead)`` and ``[trail, n)``.

    Extreme: |x - median| / max(1.4826 MAD, std / 3) > max_abs_z. Shifts ``x`` in place.
    """
    zero = np.zeros_like(n)
    with np.errstate(invalid="ignore"):
        x -= _median_at(x, n)[..., None]  # deviations from the median, still ascending
        split = _first(lambda i: _at(x, i) >= 0, zero, n)  # deviations below the median come first
        mad = _abs_median(x, split, n)
        np.copyto(x, 0.0, where=np.arange(x.shape[-1]) >= n[..., None])
        total = x.sum(axis=-1)
        var = (np.einsum("...i,...i->...", x, x) - total * total / np.maximum(n, 1)) / np.maximum(n - 1, 1)
        std = np.where(n > 1, np.sqrt(np.maximum(var, 0.0)), np.nan)
        scale = np.fmax(1.4826 * mad, std / STD_FLOOR_DIVISOR)  # fmax ignores a NaN std (n < 2)
        scale[~(scale > 0)] = np.nan  # no scale: nothing is extreme (NaN compares false)
        lead = _first(lambda i: ~(-_at(x, i) / scale > max_abs_z), zero, split)
        trail = _first(lambda i: _at(x, i) / scale > max_abs_z, split, n)
    return lead, trail


def _abs_median(dev: np.ndarray, split: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Median of |dev| over the first ``n`` values of ascending rows whose first ``split`` are < 0.

    |dev| is two ascending runs, -dev leftwards from ``split`` and dev rightwards; the
    k-th smallest of their union takes some ``t`` values from the left run, found by
    binary search (the classic k-th of two sorted arrays).
    """
    def left(t: np.ndarray) -> np.ndarray:  # t-th value of the left run, +inf past its end
        return np.where(t < split, -_at(dev, split - 1 - t), np.inf)

    def right(s: np.ndarray) -> np.ndarray:  # s-th value of the right run, -inf before, +inf past its end
        return np.where(s < 0, -np.inf, np.where(s < n - split, _at(dev, split + s), np.inf))

    k = np.maximum(n - 1, 0) // 2
    t = _first(lambda t: ~(left(t) < right(k - t)),
               np.maximum(k + 1 - (n - split), 0), np.minimum(k + 1, split))
    lower = np.maximum(np.where(t > 0, left(t - 1), -np.inf), right(k - t))
    upper = np.where(n % 2 == 0, np.minimum(left(t), right(k + 1 - t)), lower)
    return np.where(n > 0, lower + (upper - lower) * 0.5, np.nan)


def _median_at(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Median of the first ``n`` values of ascending rows (linear interpolation, as Polars); NaN when n = 0."""
    lower, upper = _at(x, np.maximum(n - 1, 0) // 2), _at(x, n // 2)
    return np.where(n > 0, lower + (upper - lower) * 0.5, np.nan)


def _at(x: np.ndarray, i: np.ndarray) -> np.ndarray:
    """``x[..., i]`` per row, the index clipped into the row."""
    return np.take_along_axis(x, np.clip(i, 0, x.shape[-1] - 1)[..., None], axis=-1)[..., 0]


def _first(test: Callable[[np.ndarray], np.ndarray], lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per row, the first index in [lo, hi) where ``test`` (false, then true) holds; ``hi`` if none."""
    lo, hi = lo.copy(), np.maximum(hi, lo)
    while (open_ := lo < hi).any():
        mid = (lo + hi) // 2
        found = test(mid)
        hi = np.where(open_ & found, mid, hi)
        lo = np.where(open_ & ~found, mid + 1, lo)
    return lo
