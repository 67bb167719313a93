"""Shared fixtures: small synthetic markets and isolated output folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PROJECT_ROOT", str(ROOT))


@pytest.fixture(scope="session")
def small_market():
    """40 stocks over ~18 months: enough for every data path, fast to build."""
    from gogooku3.data.synthetic import generate_market

    return generate_market(n_stocks=40, start="2021-01-01", end="2022-06-30", seed=3)


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    """An empty output root for one test (MLflow store, runs, feature store)."""
    path = tmp_path / "outputs"
    path.mkdir()
    return path
