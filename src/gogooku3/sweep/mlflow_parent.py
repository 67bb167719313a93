"""The sweep's parent MLflow run: one per study, shared by workers and resumed sweeps.

The parent's id lives in the study's user attrs, so a restarted or second worker finds
it. Each trial's job opens its own child run (tag ``mlflow.parentRunId``) through the
project tracker; here we only tag the child with its trial number and final state and
keep the parent's summary (best value, best params, plots) current.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
import time
from pathlib import Path
from typing import Any

from gogooku3.tracking.redact import redact
from gogooku3.tracking.store import PARENT_TAG, ensure_experiment, open_store
from gogooku3.sweep.study import PARENT_RUN_ATTR

log = logging.getLogger(__name__)

TRIAL_TAG = "optuna_trial"
STATE_TAG = "trial_state"


class SweepParent:
    """Owns the parent run of one study in one MLflow tracking store."""

    def __init__(self, client: Any, run_id: str, experiment_id: str) -> None:
        self.client = client
        self.run_id = run_id
        self.experiment_id = experiment_id

    @classmethod
    def open(
        cls,
        tracking_uri: str,
        experiment: str,
        study: Any,
        created_study: bool,
        sweep_info: dict[str, Any],
        artifact_root: str | None = None,
        wait_s: float = 30.0,
    ) -> SweepParent:
        """Reuse the study's parent run, or create it (the study's creator does; others wait)."""
        client = open_store(tracking_uri)  # a new SQLite store is created once, under a lock
        experiment_id = ensure_experiment(client, tracking_uri, experiment, artifact_root)
        run_id = cls._known_parent(client, study, wait_s=0.0 if created_study else wait_s)
        if run_id is None:
            info = redact(sweep_info)
            run = client.create_run(
                experiment_id,
                run_name=f"sweep-{study.study_name}",
                tags={"sweep": "optuna", "optuna_study": study.study_name, "optuna_storage": str(info["storage"])},
            )
            run_id = run.info.run_id
            study.set_user_attr(PARENT_RUN_ATTR, run_id)
            params = {k: v for k, v in _flatten(info).items()}
            from mlflow.entities import Param

            items = [Param(k[:250], str(v)[:6000]) for k, v in params.items()]
            for start in range(0, len(items), 100):
                client.log_batch(run_id, params=items[start : start + 100])
            log.info("MLflow parent run %s for study %s", run_id, study.study_name)
        else:
            client.update_run(run_id, status="RUNNING")
            log.info("resuming MLflow parent run %s of study %s", run_id, study.study_name)
        parent = cls(client, run_id, experiment_id)
        parent._log_dict(redact(sweep_info), "sweep/sweep_config.json")
        return parent

    @staticmethod
    def _known_parent(client: Any, study: Any, wait_s: float) -> str | None:
        import optuna

        deadline = time.monotonic() + wait_s
        while True:
            attrs = optuna.load_study(study_name=study.study_name, storage=study._storage).user_attrs
            run_id = attrs.get(PARENT_RUN_ATTR)
            if run_id:
                try:
                    client.get_run(run_id)
                    return run_id
                except Exception:
                    log.warning("parent run %s of the study is not in this tracking store; creating one", run_id)
                    return None
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.5)

    def _log_dict(self, value: Any, artifact_file: str) -> None:
        self.client.log_dict(self.run_id, value, artifact_file)

    # -- per trial ---------------------------------------------------------------------------
    def child_run_id(self, trial_number: int) -> str | None:
        """The child run of ``trial_number``: tagged by the tracker, or this process's last run."""
        found = self.client.search_runs(
            [self.experiment_id],
            filter_string=f"tags.`{PARENT_TAG}` = '{self.run_id}' and tags.`{TRIAL_TAG}` = '{trial_number}'",
            max_results=1,
        )
        if found:
            return found[0].info.run_id
        import mlflow

        last = mlflow.last_active_run()
        if last is not None and last.data.tags.get(PARENT_TAG) == self.run_id and TRIAL_TAG not in last.data.tags:
            return last.info.run_id
        return None

    def record_trial(self, trial: Any, best_values: list[float] | None) -> None:
        """Tag the trial's child run and log the trial's value and the best so far on the parent."""
        state = trial.state.name
        child = self.child_run_id(trial.number)
        if child is not None:
            self.client.set_tag(child, TRIAL_TAG, str(trial.number))
            self.client.set_tag(child, STATE_TAG, state)
            status = self.client.get_run(child).info.status
            if status == "RUNNING":
                self.client.set_terminated(child, "FINISHED" if state == "COMPLETE" else ("KILLED" if state == "PRUNED" else "FAILED"))
            self.client.set_tag(self.run_id, f"trial_{trial.number}_run", child)
        else:
            log.warning("no MLflow child run found for trial %d", trial.number)
        step = int(trial.number)
        metrics = {}
        if trial.values:
            for i, value in enumerate(trial.values):
                metrics["trial_value" if i == 0 else f"trial_value_{i}"] = value
        for i, value in enumerate(best_values or []):
            metrics["best_value" if i == 0 else f"best_value_{i}"] = value
        for key, value in metrics.items():
            if value is not None and math.isfinite(value):
                self.client.log_metric(self.run_id, key, float(value), step=step)

    # -- end of sweep ------------------------------------------------------------------------
    def finalize(self, study: Any, status: str = "FINISHED") -> None:
        """Best trial(s), trial table and plots on the parent; stale child runs marked KILLED."""
        from optuna.trial import TrialState

        from gogooku3.sweep.plots import save_study_plots

        if not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            self._close_orphans()
        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        summary: dict[str, Any] = {
            "study_name": study.study_name,
            "directions": [d.name.lower() for d in study.directions],
            "n_trials": len(study.get_trials(deepcopy=False)),
            "states": {s.name: len(study.get_trials(deepcopy=False, states=(s,))) for s in TrialState},
        }
        if complete:
            best = study.best_trials if len(study.directions) > 1 else [study.best_trial]
            summary["best_trials"] = [
                {"number": t.number, "values": t.values, "params": t.params, "run_id": self._trial_run(t.number)}
                for t in best
            ]
            top = best[0]
            tags = {"best_trial": str(top.number), "best_value": ",".join(repr(v) for v in top.values)}
            tags.update({f"best_param.{k}"[:250]: str(v) for k, v in top.params.items()})
            for key, value in tags.items():
                self.client.set_tag(self.run_id, key, value)
        self._log_dict(summary, "sweep/best_trials.json")
        with tempfile.TemporaryDirectory() as tmp:
            frame = study.trials_dataframe()
            table = Path(tmp) / "trials.csv"
            frame.to_csv(table, index=False)
            self.client.log_artifact(self.run_id, str(table), "sweep")
            for png in save_study_plots(study, Path(tmp) / "plots"):
                self.client.log_artifact(self.run_id, str(png), "plots")
        self.client.set_terminated(self.run_id, status)

    def _trial_run(self, number: int) -> str | None:
        return self.client.get_run(self.run_id).data.tags.get(f"trial_{number}_run")

    def _close_orphans(self) -> None:
        """Child runs still RUNNING once no trial runs belong to killed workers: mark them KILLED."""
        orphans = self.client.search_runs(
            [self.experiment_id],
            filter_string=f"tags.`{PARENT_TAG}` = '{self.run_id}' and attributes.status = 'RUNNING'",
        )
        for run in orphans:
            self.client.set_tag(run.info.run_id, STATE_TAG, "FAIL")
            self.client.set_tag(run.info.run_id, "fail_reason", "worker died")
            self.client.set_terminated(run.info.run_id, "KILLED")
            folds = self.client.search_runs(  # the trial's per-fold child runs died with it
                [self.experiment_id],
                filter_string=f"tags.`{PARENT_TAG}` = '{run.info.run_id}' and attributes.status = 'RUNNING'",
            )
            for fold in folds:
                self.client.set_tag(fold.info.run_id, "fail_reason", "worker died")
                self.client.set_terminated(fold.info.run_id, "KILLED")


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}{key}."))
        return out
    if isinstance(value, list):
        return {prefix[:-1]: json.dumps(value)}
    return {prefix[:-1]: value}
