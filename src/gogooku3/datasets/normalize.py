"""Normalizers fitted on training rows only, and per-date cross-sectional transforms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass
class Standardizer:
    """Robust per-column z-scores: (x - median) / (1.4826 * MAD), clipped, NaN -> 0.

    ``fit`` must see training-window rows only; applying the fitted statistics to later
    windows is what keeps normalization free of look-ahead.
    """

    clip: float = 5.0
    center_: np.ndarray | None = None
    scale_: np.ndarray | None = None

    def fit(self, x: np.ndarray) -> Standardizer:
        with np.errstate(all="ignore"):
            x = np.where(np.isfinite(x), x, np.nan)
            center = np.nanmedian(x, axis=0)
            scale = 1.4826 * np.nanmedian(np.abs(x - center), axis=0)
            fallback = np.nanstd(x, axis=0)
        scale = np.where(scale > 1e-12, scale, np.where(fallback > 1e-12, fallback, 1.0))
        self.center_, self.scale_ = np.nan_to_num(center), np.nan_to_num(scale, nan=1.0)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        if self.center_ is None:
            raise RuntimeError("Standardizer.transform called before fit")
        with np.errstate(all="ignore"):
            z = (x - self.center_) / self.scale_
        return np.clip(np.nan_to_num(z, nan=0.0, posinf=self.clip, neginf=-self.clip), -self.clip, self.clip)


def cross_sectional_rank(frame: pl.DataFrame, columns: Sequence[str], by: str = "Date") -> pl.DataFrame:
    """Replace ``columns`` with per-date ranks scaled to [-0.5, 0.5] (nulls stay null).

    Uses only rows of the same date, so it leaks nothing across time.
    """
    return frame.with_columns(
        [
            ((pl.col(c).rank("average").over(by) - 0.5) / pl.col(c).count().over(by) - 0.5).alias(c)
            for c in columns
        ]
    )
