"""What a feature is: an expression plus the metadata that says what it may read."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl


@dataclass(frozen=True)
class FeatureSpec:
    """Metadata recorded for every feature column.

    Attributes:
        name: column name in the panel.
        group: registry group that produced it.
        sources: input columns/tables it reads (e.g. ``("Close", "Volume")``).
        window: the rolling window in sessions, or None for point-in-time values.
        lookback: how many sessions before t the value may read (t itself is always
            allowed); None means unbounded (recursive averages, as-of joins,
            cumulative counts). It never reads anything after t.
        description: one line for humans.
        min_obs: valid observations the value needs; None means every session of its
            window (``lookback + 1``) for a bounded feature and one for an unbounded one.
    """

    name: str
    group: str
    sources: tuple[str, ...]
    window: int | None = None
    lookback: int | None = None
    description: str = ""
    min_obs: int | None = None

    @property
    def warmup(self) -> int:
        """Sessions from a code's first quote before the value can exist (for the feature gate)."""
        if self.lookback is not None:
            return self.lookback
        return max((self.min_obs or 1) - 1, 0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form; ``earliest`` spells the lookback out relative to t."""
        d = asdict(self)
        d["sources"] = list(self.sources)
        d["earliest"] = "unbounded" if self.lookback is None else f"t-{self.lookback} sessions"
        if self.min_obs is None:
            d["min_obs"] = 1 if self.lookback is None else self.lookback + 1
        return d


@dataclass(frozen=True)
class Feature:
    """One output column: the polars expression computing it and its spec.

    Expressions are evaluated on the prepared frame (see
    :mod:`gogooku3.features.prepare`), sorted by Code then Date, so time-series
    operations must be partitioned with ``.over("Code")`` (see :mod:`.ops`).
    """

    expr: pl.Expr
    spec: FeatureSpec
    dtype: pl.DataType = field(default_factory=lambda: pl.Float32())

    @property
    def name(self) -> str:
        return self.spec.name
