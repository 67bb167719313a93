"""The text a run ends with: a per-horizon results table, where the run is, how to open it.

Pure functions of the run's logged metrics (``test/*`` contract names) and its identity,
so the console, the run's MLflow description and tests all format the same thing. A
metric a run did not log shows as ``-``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from gogooku3.tracking.store import sqlite_path

UI_HOST = "http://127.0.0.1:5000"  # where `make mlflow-ui` serves


@dataclass(frozen=True)
class Column:
    header: str
    metric: str  # name with {h}
    kind: str  # "ic" (4 decimals), "ratio" (2 decimals), "pct" (percent, 1 decimal)


COLUMNS = (
    Column("RankIC", "test/rank_ic_h{h}", "ic"),
    Column("ICIR", "test/rank_icir_h{h}", "ratio"),
    Column("t-stat", "test/rank_ic_tstat_h{h}", "ratio"),
    Column("Sharpe gross", "test/gross_sharpe_h{h}", "ratio"),
    Column("Sharpe net", "test/sharpe_h{h}", "ratio"),
    Column("Return gross", "test/gross_annual_return_h{h}", "pct"),
    Column("Return net", "test/annual_return_h{h}", "pct"),
    Column("Turnover", "test/turnover_h{h}", "ratio"),  # mean daily one-way traded weight
)
ORACLE = Column("Oracle share", "test/oracle_capture_h{h}", "pct")


@dataclass(frozen=True)
class RunInfo:
    """Where a run lives: enough to print its id, its UI address and the command to open it."""

    run_id: str
    experiment_id: str
    tracking_uri: str
    metrics: Mapping[str, float] = field(default_factory=dict)


def horizons_of(metrics: Mapping[str, float]) -> list[int]:
    """Horizons that have a test RankIC, ascending."""
    found = {int(m.group(1)) for name in metrics if (m := re.fullmatch(r"test/rank_ic_h(\d+)", name))}
    return sorted(found)


def format_value(value: float | None, kind: str) -> str:
    if value is None or not isinstance(value, int | float) or math.isnan(value):
        return "-"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if kind == "ic":
        return f"{value:.4f}"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    return f"{value:.2f}"


def table_cells(metrics: Mapping[str, float], horizons: Sequence[int] | None = None) -> tuple[list[str], list[list[str]]]:
    """Header and one row per horizon; the oracle column only where the run logged it."""
    horizons = list(horizons) if horizons is not None else horizons_of(metrics)
    columns = list(COLUMNS)
    if any(ORACLE.metric.format(h=h) in metrics for h in horizons):
        columns.append(ORACLE)
    header = ["horizon", *(c.header for c in columns)]
    rows = [[f"h{h}", *(format_value(metrics.get(c.metric.format(h=h)), c.kind) for c in columns)] for h in horizons]
    return header, rows


def results_table(metrics: Mapping[str, float], horizons: Sequence[int] | None = None) -> str:
    """Fixed-width text table: horizons left, numbers right-aligned."""
    header, rows = table_cells(metrics, horizons)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def ui_url(info: RunInfo) -> str:
    """The run's page in the MLflow UI (the tracking server itself for an http store)."""
    base = UI_HOST
    if urlparse(info.tracking_uri).scheme in ("http", "https"):
        base = info.tracking_uri.rstrip("/")
    return f"{base}/#/experiments/{info.experiment_id}/runs/{info.run_id}"


def ui_command(tracking_uri: str, default_db: Path | None = None) -> str | None:
    """The command that serves this store's UI; None when the store is a server already."""
    scheme = urlparse(tracking_uri).scheme
    if scheme in ("http", "https"):
        return None
    db = sqlite_path(tracking_uri)
    if db is not None:
        if default_db is not None and db.resolve() == Path(default_db).resolve():
            return "make mlflow-ui"
        return f"make mlflow-ui MLFLOW_DB={db}"
    from gogooku3.tracking.redact import redact_url

    return f"mlflow ui --backend-store-uri '{redact_url(tracking_uri)}' --host 127.0.0.1 --port 5000"


def run_summary(info: RunInfo, horizons: Sequence[int] | None = None, default_db: Path | None = None) -> str:
    """Table, run id, UI address and the UI command, as printed at the end of a run."""
    lines = [f"Test results (run {info.run_id}):", results_table(info.metrics, horizons)]
    lines.append(f"Run in the MLflow UI: {ui_url(info)}")
    command = ui_command(info.tracking_uri, default_db)
    if command:
        lines.append(f"Open the UI with:    {command}")
    return "\n".join(lines)


def markdown_table(metrics: Mapping[str, float], horizons: Sequence[int] | None = None) -> str:
    """The same table in markdown (for an MLflow run description)."""
    header, rows = table_cells(metrics, horizons)
    rule = "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"
    return "\n".join(["| " + " | ".join(header) + " |", rule, *("| " + " | ".join(r) + " |" for r in rows)])
