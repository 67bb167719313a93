"""The model-facing table: features and targets keyed by (Code, Date)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from gogooku3.schema import target_column


@dataclass(frozen=True)
class Panel:
    """Features and forward-return targets for every (Code, Date) row of the market.

    ``frame`` is sorted by Code then Date and holds ``Code``, ``Date``, the feature
    columns and ``target_h{h}`` for each horizon. Features at a date use only what was
    known at that close; targets look forward and may be used only inside training
    and validation windows that a :class:`~gogooku3.datasets.split.Fold` allows.
    """

    frame: pl.DataFrame
    features: tuple[str, ...]
    horizons: tuple[int, ...]
    listed: pl.DataFrame | None = None

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(target_column(h) for h in self.horizons)

    def between(self, start: date, end: date) -> pl.DataFrame:
        """Rows with ``start <= Date <= end`` (both inclusive)."""
        return self.frame.filter(pl.col("Date").is_between(start, end))
