"""Open, share and budget an Optuna study across processes and restarts.

Accounting rules (the same for one worker, many workers and resumed sweeps):

* Every trial that is not WAITING counts toward ``n_trials``: COMPLETE, PRUNED, FAIL and
  RUNNING ones (RUNNING = being evaluated by some worker right now).
* A slot is claimed by ``study.ask()``; trial numbers are unique per study, so the trial
  numbered ``n`` is inside the budget iff ``n < n_trials``. A worker that loses the race
  for the last slot puts its (still parameter-less) trial back to WAITING, where a later,
  larger sweep of the same study picks it up. Workers together thus evaluate exactly
  ``n_trials`` trials.
* Workers record a heartbeat for their running trials. A trial whose worker died (killed
  process, lost node) stops beating; once ``grace_period`` seconds pass it is marked FAIL
  by the next worker that looks, and it still counts
  toward ``n_trials`` like any other failed trial. A worker that has nothing left to ask
  waits until every RUNNING trial either finishes or is failed as stale, so a resumed
  sweep ends with no trial left RUNNING. Such a trial has no ``error`` user attr (a trial
  whose job raised has one), so it does not count toward ``max_failure_rate``.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gogooku3.errors import ConfigError
from gogooku3.tracking.redact import redact_url

log = logging.getLogger(__name__)

PARENT_RUN_ATTR = "mlflow_parent_run_id"


@contextmanager
def quiet_optuna() -> Iterator[None]:
    """Hide Optuna's warnings about heartbeats being experimental and used outside optimize()."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Hh]eartbeat.*")
        warnings.filterwarnings("ignore", message=".*experimental.*")
        yield


def open_storage(url: str, heartbeat_interval: int | None, grace_period: int | None, attempts: int = 5) -> Any:
    """An Optuna storage for ``url``; SQL URLs get heartbeats so dead workers are detected.

    Workers started together race to create Optuna's tables; the loser retries.
    """
    import optuna

    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    for attempt in range(attempts):
        try:
            if scheme not in {"sqlite", "postgresql", "postgres", "mysql", "oracle", "mssql"}:
                return optuna.storages.get_storage(url)
            with quiet_optuna():
                return optuna.storages.RDBStorage(
                    url,
                    engine_kwargs={"pool_pre_ping": True} if scheme != "sqlite" else None,
                    heartbeat_interval=heartbeat_interval,
                    grace_period=grace_period,
                    heartbeat_stale_trial_callback=_mark_stale,
                )
        except Exception as exc:
            if attempt + 1 == attempts:
                raise ConfigError(
                    f"hydra.sweeper.storage={redact_url(url)!r}: cannot open: {_first_line(exc)}"
                ) from None
            log.info("opening the storage failed (%s); retrying", _first_line(exc))
            time.sleep(1.0 + attempt)
    raise AssertionError("unreachable")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _mark_stale(study: Any, trial: Any) -> None:
    log.warning("trial %d had no heartbeat (its worker died); marked FAIL", trial.number)


def create_or_load(
    storage: Any, study_name: str, directions: list[str], sampler: Any, pruner: Any
) -> tuple[Any, bool]:
    """The study named ``study_name``, created if new; also whether this call created it."""
    import optuna

    try:
        study = optuna.create_study(
            storage=storage, study_name=study_name, directions=directions, sampler=sampler, pruner=pruner
        )
        return study, True
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=study_name, storage=storage, sampler=sampler, pruner=pruner)
        existing = [d.name.lower() for d in study.directions]
        if existing != [d.lower() for d in directions]:
            raise ConfigError(
                f"hydra.sweeper.direction={directions}: study {study_name!r} was created with {existing}; "
                "use another hydra.sweeper.study_name"
            ) from None
        return study, False


def counted_trials(study: Any) -> int:
    """How many trials count toward ``n_trials`` (all but WAITING)."""
    from optuna.trial import TrialState

    return sum(t.state != TrialState.WAITING for t in study.get_trials(deepcopy=False))


def fail_stale(study: Any) -> None:
    """Mark trials of dead workers FAIL (no-op without heartbeats)."""
    import optuna

    with quiet_optuna():
        optuna.storages.fail_stale_trials(study)


def claim_trials(study: Any, n_trials: int, batch: int) -> list[Any]:
    """Ask up to ``batch`` trials that fit the budget; return those this worker may run."""
    from optuna.trial import TrialState

    room = n_trials - counted_trials(study)
    claimed: list[Any] = []
    for _ in range(max(0, min(batch, room))):
        with quiet_optuna():
            trial = study.ask()
        if trial.number >= n_trials:
            # Another worker took the last slot between our count and our ask.
            study._storage.set_trial_state_values(trial._trial_id, TrialState.WAITING)
            break
        claimed.append(trial)
    return claimed


def wait_for_running(study: Any, poll_s: float, timeout_s: float | None = None) -> None:
    """Block until no trial is RUNNING: other workers finish theirs or are failed as stale."""
    from optuna.trial import TrialState

    start = time.monotonic()
    while True:
        fail_stale(study)
        running = [t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))]
        if not running:
            return
        if timeout_s is not None and time.monotonic() - start > timeout_s:
            log.warning("still RUNNING after %.0f s: trials %s; leaving them", timeout_s, running)
            return
        log.info("waiting for running trials %s (other workers or stale)", running)
        time.sleep(poll_s)


@contextmanager
def heartbeat(study: Any, trials: list[Any]) -> Iterator[None]:
    """Record heartbeats for ``trials`` in a background thread while the body runs."""
    storage = study._storage
    interval = storage.get_heartbeat_interval() if hasattr(storage, "get_heartbeat_interval") else None
    if not interval:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        while True:
            for trial in trials:
                try:
                    storage.record_heartbeat(trial._trial_id)
                except Exception as exc:  # a transient DB error must not kill the trial
                    log.warning("heartbeat for trial %d failed: %s", trial.number, _first_line(exc))
            if stop.wait(interval):
                return

    thread = threading.Thread(target=beat, name="optuna-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
