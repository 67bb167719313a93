"""Small numerical primitives shared by training (validation) and evaluation."""

from __future__ import annotations

import warnings

import numpy as np


def rank_rows(x: np.ndarray) -> np.ndarray:
    """Average ranks (0-based) along axis 1; ties share their mean rank, NaN stays NaN.

    One argsort for the whole matrix: this runs once per boosting round in validation.
    """
    n_rows, n_cols = x.shape
    order = np.argsort(x, axis=1, kind="stable")  # NaN sorts last
    ordered = np.take_along_axis(x, order, axis=1)
    starts = np.ones_like(ordered, dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    group = np.cumsum(starts.ravel()) - 1
    position = np.tile(np.arange(n_cols, dtype=float), n_rows)
    mean_position = np.bincount(group, weights=position) / np.bincount(group)
    ranks = np.empty_like(ordered, dtype=float)
    np.put_along_axis(ranks, order, mean_position[group].reshape(n_rows, n_cols), axis=1)
    ranks[np.isnan(x)] = np.nan
    return ranks


def daily_rank_ic(pred: np.ndarray, target: np.ndarray, min_stocks: int = 10) -> np.ndarray:
    """Spearman correlation per row of dense ``[dates, stocks]`` matrices.

    Cells where either value is NaN are left out of that day's correlation; days with
    fewer than ``min_stocks`` valid cells give NaN.
    """
    both = np.isfinite(pred) & np.isfinite(target)
    p = rank_rows(np.where(both, pred, np.nan))
    t = rank_rows(np.where(both, target, np.nan))
    n = both.sum(axis=1)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # days with no valid cell: NaN, by design
        p = p - np.nanmean(p, axis=1, keepdims=True)
        t = t - np.nanmean(t, axis=1, keepdims=True)
        cov = np.nansum(p * t, axis=1)
        corr = cov / np.sqrt(np.nansum(p * p, axis=1) * np.nansum(t * t, axis=1))
    return np.where(n >= min_stocks, corr, np.nan)


def dense_by_date(date_index: np.ndarray, stock_index: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Scatter long-format ``values`` into a NaN-filled ``[dates, stocks]`` matrix."""
    out = np.full(shape, np.nan)
    out[date_index, stock_index] = values
    return out
