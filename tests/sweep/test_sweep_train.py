"""The real train.py under the Optuna sweeper: trials are child runs with full lineage, and the
pipeline's per-iteration validation RankIC reaches Optuna as intermediate values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sweepkit import only_study

REPO = Path(__file__).resolve().parents[2]
TINY = [
    "data.n_stocks=20", "data.start=2020-01-01", "data.end=2021-06-30", "horizons=[1,5]",
    "split.n_folds=1", "split.test_days=40", "split.valid_days=30", "split.embargo_days=5",
    "split.min_train_days=100", "tracking.log_model=false", "model.num_boost_round=15",
    "model.early_stopping_rounds=5",
]  # fmt: skip


@pytest.mark.slow
def test_lightgbm_sweep_with_train_py(tmp_path):
    from mlflow.tracking import MlflowClient

    env = {**os.environ, "PROJECT_ROOT": str(REPO)}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    done = subprocess.run(
        [sys.executable, str(REPO / "train.py"), "-m", "hparams_search=lightgbm_optuna", f"paths.output_dir={tmp_path}",
         *TINY, "hydra.sweeper.n_trials=2"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]

    study = only_study(f"sqlite:///{tmp_path / 'optuna.db'}")
    assert len(study.trials) == 2 and {t.state.name for t in study.trials} <= {"COMPLETE", "PRUNED"}
    first = study.trials[0]
    assert first.state.name == "COMPLETE" and len(first.intermediate_values) >= 5  # one per boosting iteration

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("gogooku3").experiment_id])
    (parent,) = [r for r in runs if r.data.tags.get("sweep") == "optuna"]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert sorted(c.data.tags["optuna_trial"] for c in children) == ["0", "1"]
    child = next(c for c in children if c.data.tags["optuna_trial"] == "0")
    assert child.data.metrics["val/rank_ic_h1"] == first.value  # the objective is the logged metric
    assert child.data.params["model.params.num_leaves"] == str(first.params["model.params.num_leaves"])
    artifacts = {a.path for a in client.list_artifacts(child.info.run_id, "lineage")}
    assert "lineage/lineage.json" in artifacts
    assert child.data.tags["data_digest"] and child.data.tags["git_sha"]
