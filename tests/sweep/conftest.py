"""Fixtures of the sweep tests: a ready MLflow store per test (helpers live in sweepkit.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated MLflow SQLite store, copied per test (migrations take seconds)."""
    from mlflow.tracking import MlflowClient

    path = tmp_path_factory.mktemp("mlflow_template") / "mlflow.db"
    MlflowClient(f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def sweep_dir(tmp_path: Path, mlflow_template: Path) -> Path:
    """A working directory for the app with a ready MLflow store (tracking.uri points here)."""
    shutil.copy(mlflow_template, tmp_path / "mlflow.db")
    return tmp_path
