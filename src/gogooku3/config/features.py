"""``features`` group: a named feature set = registry groups and their parameters (docs/features.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING


@dataclass
class FeatureSet:
    name: str = MISSING
    store: bool = True  # cache built features under ${paths.output_dir}/feature_store
    # group name -> its parameters; the features registry checks names and parameters.
    groups: dict[str, Any] = field(default_factory=dict)
