"""The baseline finds planted signal, and finds none where none was planted."""

from __future__ import annotations

import pytest

from tests.helpers import mlflow_runs, run_cli

MARKET = [
    "data.n_stocks=150",
    "data.start=2019-01-01",
    "data.end=2022-12-31",
    "split.n_folds=2",
    "split.test_days=120",
    "model.params.num_threads=1",
    "model.num_boost_round=200",
    "model.early_stopping_rounds=30",
    "tracking.log_model=false",
]
HORIZONS = (1, 5, 10, 20)


def _metrics(tmp_path, *overrides):
    result = run_cli("train.py", [*MARKET, *overrides], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    return mlflow_runs(tmp_path).iloc[0]


@pytest.mark.slow
def test_no_signal_market_gives_rank_ic_indistinguishable_from_zero(tmp_path):
    run = _metrics(tmp_path, "data.signal_strength=0")
    for h in HORIZONS:
        # Newey-West t-stat (overlapping h-day targets); |t| < 3 at every horizon.
        assert abs(run[f"metrics.test/rank_ic_tstat_h{h}"]) < 3.0, h
    # The oracle is identically zero: no correlation exists to report.
    assert "metrics.test/oracle_rank_ic_h1" not in run.index


@pytest.mark.slow
def test_default_signal_is_found_and_compared_with_the_oracle(tmp_path):
    run = _metrics(tmp_path)
    assert run["metrics.test/rank_ic_tstat_h1"] > 3.0
    assert 0.25 < run["metrics.test/oracle_capture_h1"] < 1.0
    assert run["metrics.test/oracle_rank_ic_h1"] > run["metrics.test/rank_ic_h1"] > 0.01


@pytest.mark.slow
def test_atft_finds_no_signal_where_none_was_planted(tmp_path):
    """The leak canary for the neural model: same bar, every horizon."""
    market = [o for o in MARKET if not o.startswith("model.")]
    result = run_cli("train.py", [
        *market, "data.signal_strength=0", "model=atft", "data.n_stocks=80", "data.start=2020-01-01",
        "split.n_folds=1", "trainer.max_epochs=2", "trainer.enable_progress_bar=false",
        "model.hidden_size=16", "model.feature_dim=4", "model.lookback=10", "model.graph.window=60",
    ], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    run = mlflow_runs(tmp_path).iloc[0]
    for h in HORIZONS:
        assert abs(run[f"metrics.test/rank_ic_tstat_h{h}"]) < 3.0, h
