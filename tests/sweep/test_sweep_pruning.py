"""A trial reports its per-step validation metric and stops when the pruner says so."""

from __future__ import annotations

from sweepkit import default_study, mlflow_runs, run_app


def test_pruned_trials_show_as_pruned_in_optuna_and_mlflow(sweep_dir):
    # n_jobs=2 launches trials in pairs, so the hook finds its trial by the job's env var.
    result = run_app(
        sweep_dir, "hparams_search=demo", "hydra.sweeper.n_trials=6", "hydra.sweeper.n_jobs=2",
        "hydra.sweeper.pruner={_target_:optuna.pruners.MedianPruner,n_startup_trials:1,n_warmup_steps:0}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    study = default_study(sweep_dir)
    assert len(study.trials) == 6
    pruned = [t for t in study.trials if t.state.name == "PRUNED"]
    assert pruned, [(t.number, t.state.name, t.value) for t in study.trials]
    for trial in pruned:
        # stopped before the last of the app's 5 steps
        assert max(trial.intermediate_values) < 5
    for trial in study.trials:
        if trial.state.name == "COMPLETE":
            assert sorted(trial.intermediate_values) == [1, 2, 3, 4, 5]
    _, children = mlflow_runs(sweep_dir)
    by_number = {int(c.data.tags["optuna_trial"]): c for c in children}
    for trial in pruned:
        run = by_number[trial.number]
        assert run.info.status == "KILLED"
        assert run.data.tags["trial_state"] == "PRUNED"
        assert "val/score" not in run.data.metrics or run.data.metrics["val/score"] == trial.intermediate_values[max(trial.intermediate_values)]

