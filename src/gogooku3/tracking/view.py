"""The experiment's curated runs-table view: the headline metrics as columns.

MLflow's runs table shows no metric column until one is picked by hand. Its shared views
live in experiment tags ``mlflow.sharedViewState.<key>`` (plain JSON is accepted), opened with
``#/experiments/<id>/runs?viewStateShareKey=<key>``; each finished run writes the ``headline``
view from the metric names it logged, so that link shows RankIC, ICIR and Sharpe per horizon.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

VIEW_KEY = "headline"
VIEW_TAG_PREFIX = "mlflow.sharedViewState."
# Per horizon, in this order; ``_net``/``_gross`` variants join their base metric.
HEADLINE = ("rank_ic", "rank_icir", "sharpe")
OBJECTIVE = "val/rank_ic_h1"  # what a sweep optimizes: its trials are read against it
_PATTERN = re.compile(r"^test/(?P<base>rank_ic|rank_icir|sharpe)(?P<variant>_net|_gross)?_h(?P<h>\d+)$")


def headline_metrics(names: Iterable[str]) -> list[str]:
    """The headline metric names among ``names``, by horizon then :data:`HEADLINE` order."""
    names = set(names)
    found = []
    for name in names:
        if match := _PATTERN.match(name):
            found.append((int(match["h"]), HEADLINE.index(match["base"]), match["variant"] or "", name))
    ordered = [name for *_, name in sorted(found)]
    return ([OBJECTIVE] if OBJECTIVE in names else []) + ordered


NAME_COLUMN = "attributes.`Run Name`"
# The table's leading columns as MLflow names them: selection box, name, created, duration.
LEADING = ("0", NAME_COLUMN, "runDateAndNestInfo", "duration")
NAME_WIDTH = 460  # px: model, data, trial number and the first overrides of a run name
METRIC_WIDTH = 125  # px: a metric's whole header


def view_state(metrics: Iterable[str]) -> dict[str, Any]:
    """The runs-table UI state MLflow loads from a shared view: these metric columns, in this
    order, and a name column wide enough to read the overrides (MLflow applies widths by order)."""
    columns = [f"metrics.`{name}`" for name in metrics]
    return {
        "selectedColumns": columns,
        "columnOrder": [*LEADING, *columns],
        "columnWidths": {NAME_COLUMN: NAME_WIDTH, **{c: METRIC_WIDTH for c in columns}},
    }


def view_url(ui_url: str, experiment_id: str) -> str:
    return f"{ui_url.rstrip('/')}/#/experiments/{experiment_id}/runs?viewStateShareKey={VIEW_KEY}"


def publish_view(client: Any, experiment_id: str, metric_names: Iterable[str]) -> list[str]:
    """Write the headline view of ``experiment_id`` from a run's metric names; returns its columns."""
    metrics = headline_metrics(metric_names)
    if metrics:
        client.set_experiment_tag(experiment_id, VIEW_TAG_PREFIX + VIEW_KEY, json.dumps(view_state(metrics)))
    return metrics
