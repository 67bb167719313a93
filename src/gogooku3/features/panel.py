"""The result of a feature build."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from gogooku3.features.spec import FeatureSpec


@dataclass(frozen=True)
class FeaturePanel:
    """Features for exactly the rows of ``market.quotes``, sorted by Code then Date.

    ``frame`` holds Code, Date and the feature columns (Float32/Float64, null where
    history is insufficient). ``config_hash`` identifies the feature configuration;
    ``from_cache`` says whether the frame was loaded from the feature store;
    ``timings`` holds the wall seconds each group took (empty when loaded).
    """

    frame: pl.DataFrame
    specs: list[FeatureSpec]
    config_hash: str
    from_cache: bool = False
    name: str = "custom"
    timings: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.specs]

    def metadata(self) -> list[dict[str, Any]]:
        """JSON-able description of every feature (logged as features/metadata.json)."""
        return [s.to_dict() for s in self.specs]
