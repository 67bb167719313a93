"""``predict`` group: what ``python predict.py`` combines and where its results go."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class PredictSettings:
    # `python predict.py model=...`: an alias of registry_name (champion, previous), name@alias,
    # name/<version> or a training run id (deploy=true).
    model: str = "champion"
    # Registered model name that a bare alias (model=champion) refers to.
    registry_name: str = "gogooku3"
    # Members by alias, name@alias, name/<version> or run id, with weights, e.g.
    # [{model: gogooku3-atft@champion, weight: 0.5}, {model: gogooku3-lightgbm@champion, weight: 0.5}].
    # Empty: the one model of the root key ``model``.
    ensemble: list[Any] = field(default_factory=list)
    # Root of the local PredictionStore (predictions, realized, quality tables).
    store: str = "${paths.output_dir}/predictions"
    # MLflow experiment of predict and evaluate runs.
    experiment: str = "gogooku3-predict${oc.select:storage.experiment_suffix,''}"
