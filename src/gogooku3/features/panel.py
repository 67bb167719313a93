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

    def schema(self) -> list[dict[str, Any]]:
        """Each feature's spec and column type, in model-input order: what a deployed model was fitted on."""
        return [{**s.to_dict(), "dtype": str(self.frame.schema[s.name])} for s in self.specs]

    def schema_hash(self) -> str:
        """sha256 of :meth:`schema`: equal exactly when a model may read these features."""
        return schema_hash(self.schema())


def schema_hash(schema: list[dict[str, Any]]) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(schema, sort_keys=True, default=str).encode()).hexdigest()


def schema_difference(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> str | None:
    """One line naming the first feature that differs between two :meth:`FeaturePanel.schema` lists."""
    want, have = {s["name"]: s for s in expected}, {s["name"]: s for s in actual}
    for name in want:
        if name not in have:
            return f"feature {name} is missing (the model was trained with it)"
    for name in have:
        if name not in want:
            return f"feature {name} is not one the model was trained with"
    for name, spec in want.items():
        if (other := have[name]) != spec:
            key = next(k for k in sorted(set(spec) | set(other)) if spec.get(k) != other.get(k))
            return f"feature {name} differs in {key}: model {spec.get(key)!r}, built {other.get(key)!r}"
    if [s["name"] for s in expected] != [s["name"] for s in actual]:
        return "features are in a different order than the model's"
    return None
