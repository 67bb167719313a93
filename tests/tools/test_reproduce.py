"""reproduce.py replays real train.py runs: every metric equal on CPU; code/data drift stops it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "reproduce.py"

# A tiny walk-forward experiment: 20 stocks, 1.5 years, one fold, horizons 1 and 5.
TINY = [
    "data.n_stocks=20", "data.start=2020-01-01", "data.end=2021-06-30", "horizons=[1,5]",
    "split.n_folds=1", "split.test_days=40", "split.valid_days=30", "split.embargo_days=5",
    "split.min_train_days=100", "tracking.log_model=false",
]  # fmt: skip
LIGHTGBM = ["model.num_boost_round=20", "model.early_stopping_rounds=5"]
ATFT = [
    "model=atft", "trainer.max_epochs=1", "trainer.enable_progress_bar=false",
    "model.hidden_size=8", "model.feature_dim=4", "model.lookback=10", "model.fan.hidden_size=8",
    "model.graph.window=20", "model.graph.min_periods=10",
]  # fmt: skip
CONTRACT = ("val/rank_ic_h1", "test/rank_ic_h1", "test/rank_ic_h5")


def _env() -> dict[str, str]:
    env = {**os.environ, "PROJECT_ROOT": str(REPO)}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("GOGOOKU3_OPTUNA_TRIAL_ID", None)
    return env


def train(output_dir: Path, *overrides: str) -> str:
    """Run train.py into ``output_dir``; return the new MLflow run id."""
    from mlflow.tracking import MlflowClient

    done = subprocess.run(
        [sys.executable, str(REPO / "train.py"), f"paths.output_dir={output_dir}", *TINY, *overrides],
        cwd=REPO, env=_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    client = MlflowClient(f"sqlite:///{output_dir / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("gogooku3").experiment_id])
    (run,) = [r for r in runs if "fold" not in r.data.tags]  # not its per-fold child runs
    return run.info.run_id


def reproduce(output_dir: Path, run_id: str, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), run_id, "--tracking-uri", f"sqlite:///{output_dir / 'mlflow.db'}", *flags],
        cwd=REPO, env=_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def _runs(output_dir: Path):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{output_dir / 'mlflow.db'}")
    return client, client.search_runs([client.get_experiment_by_name("gogooku3").experiment_id])


def _assert_exact(output_dir: Path, run_id: str, result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "all metrics match exactly" in result.stdout
    client, runs = _runs(output_dir)
    (new,) = [r for r in runs if r.data.tags.get("reproduces") == run_id]
    original = client.get_run(run_id)
    assert set(new.data.metrics) == set(original.data.metrics)
    for name in CONTRACT:
        assert new.data.metrics[name] == original.data.metrics[name], name
        rows = [line.split() for line in result.stdout.splitlines()]
        assert any(row[:1] == [name] and row[-1] == "==" for row in rows if row)
    assert new.data.tags["data_digest"] == original.data.tags["data_digest"]


@pytest.fixture(scope="module")
def lightgbm_run(tmp_path_factory):
    output_dir = tmp_path_factory.mktemp("reproduce_lgbm")
    return output_dir, train(output_dir, *LIGHTGBM)


@pytest.mark.slow
def test_lightgbm_run_reproduces_every_metric_exactly(lightgbm_run):
    output_dir, run_id = lightgbm_run
    _assert_exact(output_dir, run_id, reproduce(output_dir, run_id))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("tag", "value", "message"),
    [
        ("git_sha", "0" * 40, "MISMATCH: code differs: the run used git sha " + "0" * 40),
        ("data_digest", "f" * 64, "MISMATCH: data differs: the run's data digest is ffffffffffffffff..."),
    ],
)
def test_code_or_data_drift_stops_before_running(lightgbm_run, tag, value, message):
    output_dir, run_id = lightgbm_run
    client, before = _runs(output_dir)
    original = client.get_run(run_id).data.tags[tag]
    client.set_tag(run_id, tag, value)
    try:
        result = reproduce(output_dir, run_id)
    finally:
        client.set_tag(run_id, tag, original)
    assert result.returncode == 3
    assert message in result.stdout
    assert "nothing was run; pass --force to run anyway" in result.stderr
    assert len(_runs(output_dir)[1]) == len(before)  # no run was started


@pytest.mark.slow
def test_short_atft_run_reproduces_every_metric_exactly(tmp_path):
    run_id = train(tmp_path, *ATFT)
    _assert_exact(tmp_path, run_id, reproduce(tmp_path, run_id))


def test_unknown_run_is_one_line_and_exit_2(tmp_path):
    from mlflow.tracking import MlflowClient

    MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}").search_experiments()
    result = reproduce(tmp_path, "0" * 32)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("reproduce: error: run '" + "0" * 32 + "': not found in")
