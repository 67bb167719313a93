"""A sweep of N trials: N child MLflow runs under one parent, best trial and plots on the parent."""

from __future__ import annotations

import json

from sweepkit import default_study, mlflow_runs, run_app


def test_six_trials_are_six_child_runs_of_one_parent(sweep_dir):
    result = run_app(sweep_dir, "hparams_search=demo", "hydra.sweeper.n_trials=6")
    assert result.returncode == 0, result.stderr[-3000:]

    study = default_study(sweep_dir)
    assert sorted(t.number for t in study.trials) == list(range(6))
    assert {t.state.name for t in study.trials} == {"COMPLETE"}

    parents, children = mlflow_runs(sweep_dir)
    assert len(parents) == 1 and len(children) == 6
    parent = parents[0]
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parent.info.run_id}
    assert sorted(int(c.data.tags["optuna_trial"]) for c in children) == list(range(6))
    # each child logged exactly the value Optuna got for its trial
    by_number = {t.number: t.value for t in study.trials}
    for child in children:
        assert child.data.metrics["val/score"] == by_number[int(child.data.tags["optuna_trial"])]
        assert child.data.tags["trial_state"] == "COMPLETE"

    best = study.best_trial
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["optuna_study"] == study.study_name
    assert parent.data.tags["best_trial"] == str(best.number)
    assert float(parent.data.tags["best_value"]) == best.value
    assert parent.data.tags["best_param.x"] == str(best.params["x"])
    assert parent.data.params["n_trials"] == "6"

    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{sweep_dir / 'mlflow.db'}")
    plots = {a.path for a in client.list_artifacts(parent.info.run_id, "plots")}
    assert plots == {"plots/optimization_history.png", "plots/param_importances.png"}
    summary = json.loads(open(client.download_artifacts(parent.info.run_id, "sweep/best_trials.json", str(sweep_dir))).read())
    assert summary["best_trials"][0]["number"] == best.number
    assert summary["states"]["COMPLETE"] == 6


def test_multi_objective_sweep_keeps_the_pareto_front(sweep_dir):
    result = run_app(
        sweep_dir, "hparams_search=demo", "multi=true", "hydra.sweeper.n_trials=3",
        "hydra.sweeper.direction=[maximize,minimize]",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    study = default_study(sweep_dir)
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert [len(t.values) for t in study.trials] == [2, 2, 2]
    for trial in study.trials:
        assert trial.values[1] == trial.params["x"]
    parents, _ = mlflow_runs(sweep_dir)
    assert parents[0].data.tags["best_trial"] in {str(t.number) for t in study.best_trials}
