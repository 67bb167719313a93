"""What the pipeline expects of every estimator (LightGBM, ATFT-GAT-FAN, ...)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

import polars as pl

from gogooku3.datasets.panel import Panel
from gogooku3.datasets.split import Fold

# (name, value, step). Validation curves use the contract names, e.g. "val/rank_ic_h1".
MetricLogger = Callable[[str, float, int], None]


@dataclass
class ModelBundle:
    """A fitted model handed to the tracking layer, which picks the MLflow flavor and builds its signature.

    Plain data only (models, arrays, frames, names): training knows nothing of MLflow.
    """

    flavor: str  # "lightgbm" | "pytorch"
    model: Any
    input_example: Any = None  # a frame (tabular) or a dict of arrays (forward's keyword inputs)
    output_example: Any = None  # the model's output for input_example, when tracking cannot infer it
    extra: dict[str, Any] = field(default_factory=dict)


class Estimator(Protocol):
    """Fits on one fold and predicts every horizon of the panel.

    ``fit`` may read targets only of rows inside ``fold.train`` and ``fold.valid``;
    features of any date up to the predicted one are fair game (they are past data).
    It returns scalar validation results such as ``{"val/rank_ic_h1": 0.05}``.
    """

    def fit(self, panel: Panel, fold: Fold, log_metric: MetricLogger | None = None) -> dict[str, float]: ...

    def predict(self, panel: Panel, start: date, end: date) -> pl.DataFrame:
        """``Code``, ``Date`` and ``pred_h{h}`` for every panel row with start <= Date <= end."""
        ...

    def model_bundle(self) -> ModelBundle | None: ...
