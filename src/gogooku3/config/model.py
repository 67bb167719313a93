"""``model`` group: each model's schema lives with its estimator in ``gogooku3.training``."""

from __future__ import annotations

from gogooku3.training.atft.config import ATFTSettings
from gogooku3.training.lightgbm_config import LightGBMSettings

__all__ = ["ATFTSettings", "LightGBMSettings"]
