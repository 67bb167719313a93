"""Feature pipeline: canonical market data -> leak-free feature panel keyed by Code, Date.

Groups live in :mod:`gogooku3.features.groups` and are selected by name with their
parameters (conf/features/<set>.yaml). See docs/features.md.
"""

from __future__ import annotations

from gogooku3.features.build import build_features
from gogooku3.features.panel import FeaturePanel
from gogooku3.features.registry import register_group
from gogooku3.features.spec import Feature, FeatureSpec

__all__ = ["Feature", "FeaturePanel", "FeatureSpec", "build_features", "register_group"]
