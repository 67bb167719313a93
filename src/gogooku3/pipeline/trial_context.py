"""The bridge between a running Optuna trial and the training code that feeds it.

Estimators call :func:`report_intermediate` for every validation step; when the
process runs a trial of our sweeper, the value reaches Optuna and the pruner may stop
the trial by raising ``optuna.TrialPruned``. Outside a sweep the call does nothing.

This module is imported by the training loop, so it must stay cheap: Optuna is only
imported once a trial is really active.

How the trial is found, in order:

1. the trial set by :func:`active_trial` in this process (in-process launchers);
2. else, when ``GOGOOKU3_OPTUNA_TRIAL_ID`` is set (the sweeper puts it in each job's
   ``hydra.job.env_set``), the trial registered under that id by the sweeper in this
   process, or, for launchers that run jobs in other processes, the trial reloaded
   from ``GOGOOKU3_OPTUNA_STORAGE`` / ``GOGOOKU3_OPTUNA_STUDY``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

TRIAL_ID_ENV = "GOGOOKU3_OPTUNA_TRIAL_ID"
STORAGE_ENV = "GOGOOKU3_OPTUNA_STORAGE"
STUDY_ENV = "GOGOOKU3_OPTUNA_STUDY"

_lock = threading.Lock()
_active: Any = None  # optuna.Trial of the job running in this process
_registered: dict[int, Any] = {}  # trial_id -> optuna.Trial, for batches launched in-process
_reloaded: dict[int, Any] = {}  # trial_id -> optuna.Trial rebuilt from storage


@contextmanager
def active_trial(trial: Any) -> Iterator[Any]:
    """Make ``trial`` the one :func:`report_intermediate` reports to, for the ``with`` body."""
    global _active
    with _lock:
        previous, _active = _active, trial
    try:
        yield trial
    finally:
        with _lock:
            _active = previous


@contextmanager
def registered_trials(trials: list[Any]) -> Iterator[None]:
    """Register trials by id while an in-process launcher runs their batch."""
    with _lock:
        for trial in trials:
            _registered[trial._trial_id] = trial
    try:
        yield
    finally:
        with _lock:
            for trial in trials:
                _registered.pop(trial._trial_id, None)


def current_trial() -> Any | None:
    """The Optuna trial this process is running now, or None outside a sweep."""
    if _active is not None:
        return _active
    raw = os.environ.get(TRIAL_ID_ENV)
    if not raw:
        return None
    trial_id = int(raw)
    with _lock:
        if trial_id in _registered:
            return _registered[trial_id]
        if trial_id in _reloaded:
            return _reloaded[trial_id]
    storage, study_name = os.environ.get(STORAGE_ENV), os.environ.get(STUDY_ENV)
    if not storage or not study_name:
        return None
    import optuna

    study = optuna.load_study(study_name=study_name, storage=storage)
    trial = optuna.trial.Trial(study, trial_id)
    with _lock:
        _reloaded[trial_id] = trial
    return trial


def current_trial_number() -> int | None:
    """The running trial's number (for tagging the job's MLflow run), or None."""
    trial = current_trial()
    return None if trial is None else int(trial.number)


def current_study_name() -> str | None:
    """The running trial's study name (a natural W&B group for a sweep's runs), or None."""
    trial = current_trial()
    return None if trial is None else str(trial.study.study_name)


def report_intermediate(value: float, step: int) -> None:
    """Report a validation metric at ``step``; raise ``optuna.TrialPruned`` if the pruner says so.

    Does nothing outside a sweep, so estimators may call it unconditionally, and nothing in
    a multi-objective study (Optuna cannot prune those).
    """
    trial = current_trial()
    if trial is None or len(trial.study.directions) > 1:
        return
    trial.report(float(value), int(step))
    if trial.should_prune():
        import optuna

        raise optuna.TrialPruned(f"pruned at step {step} (value {value:.6g})")
