"""The run's description in the MLflow UI: a markdown table of the headline metrics.

Pure formatting, no MLflow import: :class:`~gogooku3.tracking.mlflow_run.MlflowRun`
stores the text as the tag ``mlflow.note.content``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

# (header, metric name without "test/" and "_h{h}", format)
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("RankIC", "rank_ic", "{:.4f}"),
    ("ICIR", "rank_icir", "{:.3f}"),
    ("t-stat", "rank_ic_tstat", "{:.2f}"),
    ("gross Sharpe", "gross_sharpe", "{:.2f}"),
    ("net Sharpe", "sharpe", "{:.2f}"),
    ("gross ann. return", "gross_annual_return", "{:.1%}"),
    ("net ann. return", "annual_return", "{:.1%}"),
    ("turnover / day", "turnover", "{:.1%}"),
)
ORACLE = ("oracle share", "oracle_capture", "{:.1%}")


def run_description(
    metrics: Mapping[str, float],
    horizons: Sequence[int],
    context: Mapping[str, str] | None = None,
    cost_bps: float | None = None,
) -> str:
    """Markdown: ``context`` (data, model, features, ...) on one line, then one table row per horizon.

    ``metrics`` holds the run's names (``test/rank_ic_h1``, ...). The oracle share column
    appears only when some horizon has ``test/oracle_capture_h{h}`` (synthetic data).
    A missing or NaN value shows as an en dash.
    """
    columns = list(COLUMNS)
    if any(f"test/{ORACLE[1]}_h{h}" in metrics for h in horizons):
        columns.append(ORACLE)
    lines = []
    if context:
        lines.append(" · ".join(f"**{key}** `{value}`" for key, value in context.items()))
        lines.append("")
    lines.append("| horizon | " + " | ".join(header for header, _, _ in columns) + " |")
    lines.append("|---:|" + "---:|" * len(columns))
    for h in horizons:
        cells = [_cell(metrics.get(f"test/{name}_h{h}"), fmt) for _, name, fmt in columns]
        lines.append(f"| {h}d | " + " | ".join(cells) + " |")
    notes = ["Out-of-sample (`test/*`) over all test windows; ICIR is the daily RankIC's mean / std, "
             "t-stat its Newey-West t-statistic."]  # fmt: skip
    if cost_bps is not None:
        notes.append(f"Net = gross - costs at {cost_bps:g} bps per side on sum |Δw|; turnover is one-way.")
    names = [f"val/rank_ic_h{h}" for h in horizons]
    validation = [f"`{name}` {metrics[name]:.4f}" for name in names if name in metrics]
    if validation:
        notes.append("Validation, mean over folds: " + ", ".join(validation) + ".")
    return "\n".join([*lines, "", *notes]) + "\n"


def _cell(value: float | None, fmt: str) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return fmt.format(value)
