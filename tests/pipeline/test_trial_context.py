"""The pruning hook: silent outside a sweep, reports and prunes inside one, imports fast."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from gogooku3.pipeline import trial_context as context

SRC = Path(__file__).resolve().parents[2] / "src"


def test_importing_the_hook_does_not_import_optuna():
    code = "import sys, gogooku3.pipeline.trial_context; print('optuna' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(SRC)},
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert out.stdout.strip() == "False"


def test_outside_a_sweep_nothing_happens(monkeypatch):
    monkeypatch.delenv(context.TRIAL_ID_ENV, raising=False)
    context.report_intermediate(0.1, 1)
    assert context.current_trial() is None and context.current_trial_number() is None


def _study(pruner):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(direction="maximize", pruner=pruner)


def test_active_trial_receives_reports_and_is_pruned_when_worse_than_the_median():
    study = _study(optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0))
    first = study.ask()
    with context.active_trial(first):
        for step in range(3):
            context.report_intermediate(1.0, step)
    study.tell(first, 1.0)
    assert study.trials[0].intermediate_values == {0: 1.0, 1: 1.0, 2: 1.0}

    second = study.ask()
    with context.active_trial(second), pytest.raises(optuna.TrialPruned, match="pruned at step 0"):
        context.report_intermediate(0.5, 0)
    assert context.current_trial() is None  # the context manager cleaned up


def test_trial_registered_for_a_batch_is_found_by_the_job_env(monkeypatch):
    study = _study(optuna.pruners.NopPruner())
    trials = [study.ask(), study.ask()]
    with context.registered_trials(trials):
        monkeypatch.setenv(context.TRIAL_ID_ENV, str(trials[1]._trial_id))
        context.report_intermediate(0.25, 4)
        assert context.current_trial_number() == 1
        assert context.current_study_name() == study.study_name
    assert study.trials[1].intermediate_values == {4: 0.25}
    assert study.trials[0].intermediate_values == {}


def test_trial_of_another_process_is_reloaded_from_storage(monkeypatch, tmp_path):
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    trial = study.ask()
    monkeypatch.setenv(context.STORAGE_ENV, storage)
    monkeypatch.setenv(context.STUDY_ENV, "s")
    monkeypatch.setenv(context.TRIAL_ID_ENV, str(trial._trial_id))
    context.report_intermediate(0.5, 7)
    assert optuna.load_study(study_name="s", storage=storage).trials[0].intermediate_values == {7: 0.5}


def test_multi_objective_trials_are_not_reported():
    study = optuna.create_study(directions=["maximize", "minimize"])
    trial = study.ask()
    with context.active_trial(trial):
        context.report_intermediate(0.5, 1)  # Optuna cannot prune multi-objective trials
    assert study.trials[0].intermediate_values == {}
