"""The ``model=lightgbm`` schema: every key, its type and its one default (pure dataclass, light).

Hydra registers it as the group's base schema (:mod:`gogooku3.config`);
:class:`~gogooku3.training.lightgbm.LightGBMEstimator` fills what a caller leaves out from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class LightGBMSettings:
    """One booster per horizon, early-stopped on validation mean daily RankIC."""

    _target_: str = "gogooku3.training.lightgbm.LightGBMEstimator"
    name: str = "lightgbm"
    target_transform: str = "rank"  # rank | raw: labels are per-date ranks of the forward return, or raw
    num_boost_round: int = 1000
    early_stopping_rounds: int = 50
    # LightGBM parameters, passed through (another LightGBM key: +model.params.<key>=...);
    # given as a whole (e.g. by a caller), they replace these.
    params: dict[str, Any] = field(
        default_factory=lambda: {
            "objective": "regression", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 200,
            "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
            "num_threads": 2, "deterministic": True, "force_row_wise": True,
        }  # fmt: skip
    )
