"""Run the real CLI in a subprocess, with small data and an isolated output folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A small market and short training: every code path, in seconds.
SMALL = [
    "data.n_stocks=60",
    "data.start=2021-01-01",
    "data.end=2022-12-31",
    "split.n_folds=2",
    "split.test_days=60",
    "split.valid_days=40",
    "split.min_train_days=100",
    "model.params.num_threads=1",
    "model.num_boost_round=100",
    "model.early_stopping_rounds=20",
]


def run_cli(script: str, overrides: list[str], outputs: Path, timeout: int = 600, **env: str) -> subprocess.CompletedProcess:
    """``python <script> <overrides>`` writing everything under ``outputs``."""
    command = [sys.executable, str(ROOT / script), *overrides, f"paths.output_dir={outputs}"]
    if not any(o.startswith(("hydra.run.dir", "-m", "--multirun")) for o in overrides):
        command.append(f"hydra.run.dir={outputs}/run")
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env={**os.environ, **env}
    )


def mlflow_runs(outputs: Path, experiment: str = "gogooku3", folds: bool = False):
    """Runs of ``experiment`` in the test's MLflow store, newest first (a pandas frame).

    Per-fold child runs (tag ``fold``) are left out unless ``folds``.
    """
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{outputs}/mlflow.db")
    runs = mlflow.search_runs(experiment_names=[experiment], order_by=["start_time DESC"])
    if folds or "tags.fold" not in runs.columns:
        return runs
    return runs[runs["tags.fold"].isna()].reset_index(drop=True)
