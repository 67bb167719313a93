"""The text a multirun ends with: best trial, its overrides, every trial in a table."""

from __future__ import annotations

import optuna

from gogooku3.sweep.space import parse_search_space, trial_overrides
from gogooku3.sweep.sweeper import study_summary


def _study():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = parse_search_space({"model.lr": "interval(0.01, 0.1)", "model.kind": "choice(gbdt, dart)", "seed": "7"})
    study = optuna.create_study(direction="maximize", study_name="demo", sampler=optuna.samplers.RandomSampler(0))
    values = [0.01, None, 0.05]  # None: a failed trial
    for value in values:
        trial = study.ask()
        trial_overrides(space, trial)
        if value is None:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            study.tell(trial, value)
    return study, space


def test_summary_names_the_best_trial_and_its_overrides():
    study, space = _study()
    lines = study_summary(study, space, parent_run_id="p123").splitlines()
    assert lines[0] == "Study demo: 3 trials (MLflow parent run p123)"
    best = study.best_trial
    assert best.number == 2
    # exact values (copy-paste reproduces the trial); fixed overrides are the user's own command
    assert lines[1] == f"Best trial 2: value 0.05: model.lr={best.params['model.lr']} model.kind={best.params['model.kind']}"


def test_summary_table_has_a_row_per_trial():
    study, space = _study()
    lines = study_summary(study, space).splitlines()
    header = lines[2].split()
    assert header == ["trial", "state", "value", "lr", "kind"]  # the shared "model." prefix goes
    rows = [line.split() for line in lines[4:]]
    assert [r[:2] for r in rows] == [["0", "COMPLETE"], ["1", "FAIL"], ["2", "COMPLETE"]]
    assert rows[1][2] == "-" and rows[2][2:] == ["0.05", f"{study.best_trial.params['model.lr']:.4g}", "dart"]


def test_summary_without_completed_trials():
    space = parse_search_space({"model.lr": "interval(0.01, 0.1)"})
    study = optuna.create_study(direction="maximize", study_name="empty")
    assert "Best trial: none completed" in study_summary(study, space)
