"""Failed trials are recorded and the sweep goes on, up to max_failure_rate; bad spaces fail fast."""

from __future__ import annotations

from sweepkit import default_study, mlflow_runs, run_app


def test_raising_trial_is_failed_and_the_sweep_continues(sweep_dir):
    # TPE(seed=7) samples x > 0.6 for some of the 5 trials; those raise in the app.
    result = run_app(
        sweep_dir, "hparams_search=demo", "fail_above=0.6", "hydra.sweeper.n_trials=5",
        "hydra.sweeper.max_failure_rate=0.8",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    study = default_study(sweep_dir)
    failed = [t for t in study.trials if t.state.name == "FAIL"]
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert failed and complete and len(failed) + len(complete) == 5
    for trial in failed:
        assert trial.params["x"] > 0.6
        assert "fail_above" in trial.user_attrs["error"]
    parents, children = mlflow_runs(sweep_dir)
    states = {int(c.data.tags["optuna_trial"]): (c.info.status, c.data.tags["trial_state"]) for c in children}
    assert {states[t.number] for t in failed} == {("FAILED", "FAIL")}
    assert {states[t.number] for t in complete} == {("FINISHED", "COMPLETE")}
    assert parents[0].info.status == "FINISHED"


def test_too_many_failures_abort_with_one_line(sweep_dir):
    result = run_app(
        sweep_dir, "hparams_search=demo", "fail_above=-1", "hydra.sweeper.n_trials=5",
        "hydra.sweeper.max_failure_rate=0.2",
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(
        "gogooku3: error: hydra.sweeper.max_failure_rate=0.2: 2 of 5 trials failed (trial 1: RuntimeError: x="
    )
    assert "Traceback" not in result.stderr.split("trial 1 failed")[-1]
    study = default_study(sweep_dir)
    assert [t.state.name for t in study.trials] == ["FAIL", "FAIL"]  # stopped once 2/5 > 0.2
    parents, _ = mlflow_runs(sweep_dir)
    assert parents[0].info.status == "FAILED"


def test_empty_interval_is_a_one_line_config_error(sweep_dir):
    result = run_app(sweep_dir, "hparams_search=demo", "hydra.sweeper.params.x='interval(1,0)'")
    assert result.returncode == 2
    assert result.stderr.strip() == "gogooku3: error: hydra.sweeper.params.x: interval(1.0, 0.0) is empty"


def test_space_key_missing_from_the_config_is_a_one_line_error(sweep_dir):
    result = run_app(sweep_dir, "hparams_search=demo", "++hydra.sweeper.params.nope='interval(0,1)'")
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("gogooku3: error: hydra.sweeper: the trial overrides do not compose:")
    assert "nope" in last
    study = default_study(sweep_dir)
    assert [t.state.name for t in study.trials] == ["FAIL"]
