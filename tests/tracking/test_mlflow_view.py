"""What the MLflow runs table shows after a small sweep, read through MLflow's search API:
trials named by their sampled values, and the headline ``test/*`` metrics on every trial run."""

from __future__ import annotations

import json
import math

import pytest

from tests.helpers import mlflow_runs, run_cli

TINY = [
    "data.n_stocks=20", "data.start=2020-01-01", "data.end=2021-06-30", "horizons=[1,5]",
    "split.n_folds=1", "split.test_days=40", "split.valid_days=30", "split.embargo_days=5",
    "split.min_train_days=100", "tracking.log_model=false", "model.num_boost_round=15",
    "model.early_stopping_rounds=5", "quality=off",
]  # fmt: skip
HEADLINE = ("rank_ic", "rank_icir", "rank_ic_tstat", "sharpe", "annual_return", "turnover")


@pytest.mark.slow
def test_sweep_trials_have_distinct_names_with_their_overrides_and_headline_metrics(tmp_path):
    import mlflow
    import optuna

    outputs = tmp_path / "outputs"
    done = run_cli("train.py", ["-m", "hparams_search=lightgbm_optuna", "hydra.sweeper.n_trials=2", *TINY], outputs)
    assert done.returncode == 0, done.stderr[-3000:]
    study = optuna.load_study(study_name=None, storage=f"sqlite:///{outputs}/optuna.db")

    runs = mlflow_runs(outputs)
    trials = runs[runs["tags.optuna_trial"].notna()]
    assert len(trials) == 2 and set(trials.status) == {"FINISHED"}
    names = list(trials["tags.mlflow.runName"])
    assert len(set(names)) == 2
    for _, run in trials.iterrows():
        trial = study.trials[int(run["tags.optuna_trial"])]
        name = run["tags.mlflow.runName"]
        assert name.startswith(f"lightgbm·synthetic·trial{trial.number}·"), name
        assert f"num_leaves={trial.params['model.params.num_leaves']}" in name
        assert f"min_data_in_leaf={trial.params['model.params.min_data_in_leaf']}" in name
        for h in (1, 5):
            for metric in HEADLINE:
                assert math.isfinite(run[f"metrics.test/{metric}_h{h}"]), (name, metric, h)
    (parent,) = runs[runs["tags.sweep"] == "optuna"]["tags.mlflow.runName"]
    assert parent.startswith("sweep-")

    # the experiment's shared "headline" view: what the runs table shows as columns
    experiment = mlflow.get_experiment_by_name("gogooku3")
    columns = json.loads(experiment.tags["mlflow.sharedViewState.headline"])["selectedColumns"]
    assert columns[:4] == ["metrics.`val/rank_ic_h1`", "metrics.`test/rank_ic_h1`", "metrics.`test/rank_icir_h1`",
                           "metrics.`test/sharpe_h1`"]  # fmt: skip
    for column in columns:
        assert trials[column.replace("metrics.`", "metrics.").rstrip("`")].notna().all(), column
