"""Shared helpers of the run tools (compare_runs.py, reproduce.py): store, lookup, tables."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gogooku3.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]


def default_tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else the project store ``outputs/mlflow.db``."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{REPO / 'outputs' / 'mlflow.db'}"


def client_for(uri: str) -> Any:
    from mlflow.tracking import MlflowClient

    if uri.startswith("sqlite:///") and not Path(uri[len("sqlite:///") :]).exists():
        raise ConfigError(f"--tracking-uri {uri}: no such MLflow store")
    return MlflowClient(tracking_uri=uri)


def get_run(client: Any, run_id: str) -> Any:
    try:
        return client.get_run(run_id)
    except Exception:
        raise ConfigError(f"run {run_id!r}: not found in {client.tracking_uri}") from None


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain fixed-width text table (header, rule, rows)."""
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h)) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def short_value(value: str) -> str:
    """A param or sampled value for reading: floats to 4 significant digits, the rest as is."""
    if "." not in value:
        return value
    try:
        return f"{float(value):.4g}"
    except ValueError:
        return value


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
