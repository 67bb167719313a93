"""Helpers of the sweep tests: run the tiny app (tests/sweep/app) as a real ``-m`` process, read results."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APP = Path(__file__).resolve().parent / "app" / "app.py"


def app_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("SWEEP_TEST_HANG_AT", None)
    env.update(extra or {})
    return env


def start_app(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(APP), *args], cwd=cwd, env=app_env(env),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def run_app(cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(APP), *args], cwd=cwd, env=app_env(env),
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def only_study(storage: str):
    import optuna

    summaries = optuna.get_all_study_summaries(storage)
    assert len(summaries) == 1, [s.study_name for s in summaries]
    return optuna.load_study(study_name=summaries[0].study_name, storage=storage)


def default_study(cwd: Path):
    """The one study in the app's default storage (``outputs/optuna.db`` under ``cwd``)."""
    return only_study(f"sqlite:///{cwd / 'outputs' / 'optuna.db'}")


def mlflow_runs(cwd: Path, experiment: str = "sweep-test") -> tuple[list, list]:
    """(parent runs, child runs) of the app's experiment."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{cwd / 'mlflow.db'}")
    exp = client.get_experiment_by_name(experiment)
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    parents = [r for r in runs if r.data.tags.get("sweep") == "optuna"]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    return parents, children
