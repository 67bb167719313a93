"""Kill a sweep mid-trial, rerun the same command: the same study and parent run finish the rest."""

from __future__ import annotations

import signal
import time

import pytest
from sweepkit import mlflow_runs, only_study, run_app, start_app

COMMAND = ("hparams_search=demo", "hydra.sweeper.n_trials=6")


@pytest.mark.slow
def test_rerun_after_kill_finishes_the_same_study(sweep_dir):
    process = start_app(sweep_dir, *COMMAND, env={"SWEEP_TEST_HANG_AT": "3"})
    marker = sweep_dir / "hang.marker"
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None, process.stdout.read()[-3000:]
        assert time.monotonic() < deadline, "trial 3 never started"
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)

    storage = f"sqlite:///{sweep_dir / 'outputs' / 'optuna.db'}"
    study = only_study(storage)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 3 + ["RUNNING"]
    parents_before, _ = mlflow_runs(sweep_dir)
    assert [p.info.status for p in parents_before] == ["RUNNING"]

    result = run_app(sweep_dir, *COMMAND)  # same command: same study name, same storage
    assert result.returncode == 0, result.stderr[-3000:]

    study = only_study(storage)
    assert sorted(t.number for t in study.trials) == list(range(6))
    states = {t.number: t.state.name for t in study.trials}
    # the killed trial stopped beating, was failed on resume and counts toward n_trials
    assert states == {0: "COMPLETE", 1: "COMPLETE", 2: "COMPLETE", 3: "FAIL", 4: "COMPLETE", 5: "COMPLETE"}
    assert "error" not in study.trials[3].user_attrs  # a dead worker, not a failing job

    parents, children = mlflow_runs(sweep_dir)
    assert [p.info.run_id for p in parents] == [parents_before[0].info.run_id]
    assert parents[0].info.status == "FINISHED"
    assert sorted(int(c.data.tags["optuna_trial"]) for c in children) == list(range(6))
    killed = [c for c in children if c.data.tags["optuna_trial"] == "3"][0]
    assert (killed.info.status, killed.data.tags["trial_state"]) == ("KILLED", "FAIL")

    # a third run of the same command has nothing left to do
    again = run_app(sweep_dir, *COMMAND)
    assert again.returncode == 0, again.stderr[-3000:]
    assert len(only_study(storage).trials) == 6
