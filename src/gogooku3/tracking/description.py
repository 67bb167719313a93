"""The run's description in the MLflow UI: a markdown table of the headline metrics.

Pure formatting, no MLflow import: :class:`~gogooku3.tracking.mlflow_run.MlflowRun`
stores the text as the tag ``mlflow.note.content``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gogooku3.tracking.summary import markdown_table


def run_description(
    metrics: Mapping[str, float],
    horizons: Sequence[int],
    context: Mapping[str, str] | None = None,
    cost_bps: float | None = None,
) -> str:
    """Markdown: ``context`` (data, model, features, ...) on one line, then one table row per horizon.

    ``metrics`` holds the run's names (``test/rank_ic_h1``, ...). The oracle share column
    appears only when some horizon has ``test/oracle_capture_h{h}`` (synthetic data).
    A missing or NaN value shows as ``-``.
    """
    lines = []
    if context:
        lines.append(" · ".join(f"**{key}** `{value}`" for key, value in context.items()))
        lines.append("")
    lines.append(markdown_table(metrics, horizons))  # the console's table, in markdown
    notes = ["Out-of-sample (`test/*`) over all test windows; ICIR is the daily RankIC's mean / std, "
             "t-stat its Newey-West t-statistic; turnover is the mean daily one-way traded weight."]  # fmt: skip
    if cost_bps is not None:
        notes.append(f"Net = gross - costs at {cost_bps:g} bps per side on sum |Δw|.")
    names = [f"val/rank_ic_h{h}" for h in horizons]
    validation = [f"`{name}` {metrics[name]:.4f}" for name in names if name in metrics]
    if validation:
        notes.append("Validation, mean over folds: " + ", ".join(validation) + ".")
    return "\n".join([*lines, "", *notes]) + "\n"
