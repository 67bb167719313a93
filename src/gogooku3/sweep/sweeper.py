"""The Optuna sweep loop behind ``hydra/sweeper=optuna`` (loaded only in multirun mode).

Each trial is one Hydra job: the sampled parameters become overrides, the job's return
value is the objective, an ``optuna.TrialPruned`` raised by the job (via
:func:`gogooku3.pipeline.trial_context.report_intermediate`) prunes it, and any other exception
fails that trial only, as long as failures stay within ``max_failure_rate``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from gogooku3.errors import ConfigError, GogookuError
from gogooku3.pipeline import trial_context as context
from gogooku3.sweep.space import SearchSpace, parse_search_space, trial_overrides
from gogooku3.sweep.study import (
    claim_trials,
    counted_trials,
    create_or_load,
    fail_stale,
    heartbeat,
    open_storage,
    wait_for_running,
)
from gogooku3.tools.runs import short_value
from gogooku3.tracking.redact import redact_url

log = logging.getLogger(__name__)


def _shown(overrides: Sequence[str]) -> list[str]:
    """The trial's own overrides, without the sweeper's plumbing (hydra.*, parent run id)."""
    return [o for o in overrides if not o.startswith(("hydra.", "++hydra.", "tracking.parent_run_id="))]


def _trial_overrides(space: SearchSpace, trial: Any) -> dict[str, str]:
    """The sampled overrides a trial ran with (its raw params where the space no longer fits it)."""
    try:
        pairs = [o.split("=", 1) for o in _shown(trial_overrides(space, trial))]
    except (ValueError, KeyError, IndexError):
        pairs = [[k, str(v)] for k, v in trial.params.items()]
    return {k: v for k, v in pairs if k not in space.fixed}


def _short_names(keys: Sequence[str]) -> list[str]:
    """Column names without the dotted prefix every key shares (``model.params.``)."""
    parts = [k.split(".") for k in keys]
    common = 0
    while len(keys) > 1 and all(len(p) > common + 1 and p[common] == parts[0][common] for p in parts):
        common += 1
    return [".".join(p[common:]) for p in parts]


def trial_line(space: SearchSpace, trial: Any) -> str:
    """``key=value ...`` of a trial's sampled parameters, compact."""
    return " ".join(f"{k}={short_value(v)}" for k, v in _trial_overrides(space, trial).items())


def study_summary(study: Any, space: SearchSpace, parent_run_id: str | None = None) -> str:
    """What a multirun ends with: the best trial, its overrides, and every trial in a table."""
    from optuna.trial import TrialState

    from gogooku3.tools.runs import format_table

    trials = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    lines = [f"Study {study.study_name}: {len(trials)} trials"
             + (f" (MLflow parent run {parent_run_id})" if parent_run_id else "")]  # fmt: skip
    try:
        best = study.best_trials if len(study.directions) > 1 else [study.best_trial]
    except ValueError:
        best = []
    for t in best:  # exact values: the overrides reproduce the trial
        shown = " ".join(f"{k}={v}" for k, v in _trial_overrides(space, t).items())
        lines.append(f"Best trial {t.number}: value {', '.join(f'{v:.6g}' for v in t.values)}: {shown}")
    if not best:
        lines.append("Best trial: none completed")
    cells = {t.number: _trial_overrides(space, t) if t.params else {} for t in trials}
    keys = list(dict.fromkeys(k for c in cells.values() for k in c))
    rows = []
    for t in trials:
        value = ", ".join(f"{v:.6g}" for v in t.values) if t.state == TrialState.COMPLETE and t.values else "-"
        rows.append([str(t.number), t.state.name, value, *(short_value(cells[t.number].get(k, "-")) for k in keys)])
    lines.append(format_table(["trial", "state", "value", *_short_names(keys)], rows))
    return "\n".join(lines)


class SweepFailed(GogookuError):
    """Too many trials failed (``max_failure_rate`` exceeded)."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def _directions(direction: Any) -> list[str]:
    values = [direction] if isinstance(direction, str) else list(direction or [])
    values = [str(v).lower() for v in values]
    if not values or any(v not in {"maximize", "minimize"} for v in values):
        raise ConfigError(f"hydra.sweeper.direction={direction!r}: use maximize, minimize or a list of them")
    return values


def _objective_values(value: Any, n: int) -> list[float]:
    """The job's return value as ``n`` finite floats, or raise ValueError saying why not."""
    items = list(value) if isinstance(value, list | tuple) else [value]
    if len(items) != n:
        raise ValueError(f"task returned {value!r}; the study has {n} objective(s)")
    out = []
    for item in items:
        try:
            number = float(item)
        except (TypeError, ValueError):
            raise ValueError(f"task returned {item!r}, not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"task returned {number}, not a finite number")
        out.append(number)
    return out


class OptunaSweeperImpl:
    """All the work of the Hydra plugin; the plugin class only forwards to it."""

    def __init__(
        self,
        *,
        sampler: Any,
        pruner: Any,
        direction: Any,
        study_name: str | None,
        storage: str | None,
        n_trials: int,
        n_jobs: int,
        max_failure_rate: float,
        params: dict[str, str] | None,
        heartbeat_interval: int | None,
        grace_period: int | None,
        tracking_uri: str | None,
        experiment: str | None,
        parent_run_override: str | None,
        wait_timeout: float | None,
    ) -> None:
        if n_trials < 1:
            raise ConfigError(f"hydra.sweeper.n_trials={n_trials} must be at least 1")
        if n_jobs < 1:
            raise ConfigError(f"hydra.sweeper.n_jobs={n_jobs} must be at least 1")
        if not 0.0 <= max_failure_rate <= 1.0:
            raise ConfigError(f"hydra.sweeper.max_failure_rate={max_failure_rate} must be within [0, 1]")
        self.sampler_cfg = sampler
        self.pruner_cfg = pruner
        self.directions = _directions(direction)
        self.study_name = study_name
        self.storage_url = storage
        self.n_trials = int(n_trials)
        self.n_jobs = int(n_jobs)
        self.max_failure_rate = float(max_failure_rate)
        self.params = dict(params or {})
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.parent_run_override = parent_run_override
        self.wait_timeout = wait_timeout
        self.config: DictConfig | None = None
        self.launcher: Any = None
        self.hydra_context: Any = None
        self.validate: Any = None

    # -- set up ------------------------------------------------------------------------------
    def setup(self, *, hydra_context: Any, task_function: Any, config: DictConfig, validate: Any) -> None:
        from hydra.core.hydra_config import HydraConfig
        from hydra.core.plugins import Plugins

        # Lets ``${hydra:...}`` interpolations of the task config (e.g. in tracking.uri) resolve here.
        HydraConfig.instance().set_config(config)
        self.hydra_context = hydra_context
        self.config = config
        self.validate = validate
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def _instantiate(self, node: Any, name: str) -> Any:
        """Hydra instantiates nested ``_target_`` nodes of the sweeper already; others we do."""
        if node is None or not isinstance(node, dict | DictConfig):
            return node
        from hydra.utils import instantiate

        try:
            return instantiate(node)
        except Exception as exc:
            raise ConfigError(f"hydra.sweeper.{name}: cannot instantiate: {_first_line(exc)}") from None

    def _node_config(self, name: str) -> Any:
        """The sweeper's ``name`` node as configured (before Hydra instantiated it), for logging."""
        node = OmegaConf.select(self.config, f"hydra.sweeper.{name}", default=None) if self.config else None
        return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node

    def _root(self) -> Path:
        cwd = OmegaConf.select(self.config, "hydra.runtime.cwd", default=None) if self.config else None
        return Path(cwd or os.getcwd())

    def _resolved_storage(self) -> str:
        if self.storage_url:
            return str(self.storage_url)
        return f"sqlite:///{(self._root() / 'outputs' / 'optuna.db').resolve()}"

    def _resolved_study_name(self, space: SearchSpace) -> str:
        if self.study_name:
            return str(self.study_name)
        job = OmegaConf.select(self.config, "hydra.job.name", default=None) or "sweep"
        key = json.dumps({"space": space.describe(), "directions": self.directions}, sort_keys=True)
        return f"{job}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"

    def _tracking(self) -> tuple[str | None, str | None, str | None]:
        uri = self.tracking_uri or OmegaConf.select(self.config, "tracking.uri", default=None)
        experiment = self.experiment or OmegaConf.select(self.config, "tracking.experiment", default=None)
        artifact_root = OmegaConf.select(self.config, "tracking.artifact_root", default=None)
        objects = OmegaConf.select(self.config, "storage.objects", default=None)
        if objects is not None and artifact_root is not None:  # storage=s3: the trials' bucket root
            from gogooku3.storage.artifacts import artifact_location

            artifact_root = artifact_location(objects, str(artifact_root))
        return uri, experiment, artifact_root

    # -- the loop ----------------------------------------------------------------------------
    def sweep(self, arguments: list[str]) -> list[Any]:
        import optuna  # noqa: F401  (configures its logger on import; quieted next)

        from gogooku3.console import quiet_third_party
        from gogooku3.sweep.mlflow_parent import SweepParent

        quiet_third_party()  # before Optuna and MLflow speak (the sweep process has its own logging)
        # Hydra's launcher logs two lines per job; the sweeper's line per finished trial says more.
        logging.getLogger("hydra._internal.core_plugins.basic_launcher").setLevel(logging.WARNING)

        space = parse_search_space(self.params, arguments)
        storage_url = self._resolved_storage()
        study_name = self._resolved_study_name(space)
        storage = open_storage(storage_url, self.heartbeat_interval, self.grace_period)
        sampler = self._instantiate(self.sampler_cfg, "sampler")
        pruner = self._instantiate(self.pruner_cfg, "pruner")
        if pruner is None:  # Optuna's own default would be a MedianPruner
            import optuna

            pruner = optuna.pruners.NopPruner()
        study, created = create_or_load(storage, study_name, self.directions, sampler, pruner)
        # Launchers that run jobs in other processes rebuild the trial from these.
        os.environ[context.STORAGE_ENV] = storage_url
        os.environ[context.STUDY_ENV] = study_name

        fail_stale(study)
        done = counted_trials(study)
        log.info(
            "study %r in %s: %d of %d trials already counted%s",
            study_name, redact_url(storage_url), done, self.n_trials,
            "" if created else " (resuming)",
        )
        parent = None
        uri, experiment, artifact_root = self._tracking()
        if uri and experiment:
            info = {
                "study_name": study_name,
                "storage": redact_url(storage_url),
                "n_trials": self.n_trials,
                "directions": self.directions,
                "sampler": self._node_config("sampler"),
                "pruner": self._node_config("pruner"),
                "max_failure_rate": self.max_failure_rate,
                "space": space.describe(),
            }
            parent = SweepParent.open(uri, experiment, study, created, info, artifact_root)
        else:
            log.warning("no tracking.uri/tracking.experiment in the config: no MLflow parent run")

        results: list[Any] = []
        status = "FINISHED"
        try:
            while True:
                fail_stale(study)
                self._check_failure_rate(study)
                trials = claim_trials(study, self.n_trials, self.n_jobs)
                if not trials:
                    break
                returns = self._run_batch(study, space, trials, parent)
                results.append(returns)
            wait_for_running(study, poll_s=float(self.heartbeat_interval or 5), timeout_s=self.wait_timeout)
            self._check_failure_rate(study)
            print(study_summary(study, space, parent.run_id if parent is not None else None), flush=True)
            if parent is not None:
                print(self._where(parent, uri), flush=True)
        except BaseException:
            status = "FAILED"
            raise
        finally:
            if parent is not None:
                try:
                    parent.finalize(study, status)
                except Exception as exc:  # never hide the sweep's own error behind a logging one
                    log.error("could not finalize the MLflow parent run: %s", _first_line(exc))
            self._write_results(study)
        return results

    def _where(self, parent: Any, uri: str) -> str:
        """The parent run's UI address and the command that serves the UI."""
        from gogooku3.tracking.summary import RunInfo, ui_command, ui_url

        lines = [f"Sweep in the MLflow UI: {ui_url(RunInfo(parent.run_id, str(parent.experiment_id), uri))}"]
        if command := ui_command(uri, self._root() / "outputs" / "mlflow.db"):
            lines.append(f"Open the UI with:      {command}")
        return "\n".join(lines)

    def _check_failure_rate(self, study: Any) -> None:
        from optuna.trial import TrialState

        failed = [t for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)) if "error" in t.user_attrs]
        if len(failed) / self.n_trials > self.max_failure_rate:
            last = failed[-1]
            raise SweepFailed(
                f"hydra.sweeper.max_failure_rate={self.max_failure_rate}: {len(failed)} of "
                f"{self.n_trials} trials failed (trial {last.number}: {last.user_attrs['error']})"
            )

    def _job_overrides(self, space: SearchSpace, trial: Any, parent: Any) -> list[str]:
        overrides = trial_overrides(space, trial)
        if parent is not None and self.parent_run_override:
            overrides.append(f"{self.parent_run_override}={parent.run_id}")
        overrides.append(f"++hydra.job.env_set.{context.TRIAL_ID_ENV}={trial._trial_id}")
        return overrides

    def _run_batch(self, study: Any, space: SearchSpace, trials: list[Any], parent: Any) -> Sequence[Any]:
        import optuna

        batch = [self._job_overrides(space, trial, parent) for trial in trials]
        try:
            self.validate(batch)
        except Exception as exc:  # an override the config rejects: every trial would fail alike
            for trial in trials:
                trial.set_user_attr("error", _first_line(exc)[:500])
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise ConfigError(f"hydra.sweeper: the trial overrides do not compose: {_first_line(exc)}") from None
        for trial, overrides in zip(trials, batch):
            log.debug("trial %d: %s", trial.number, " ".join(_shown(overrides)))
        try:
            with context.registered_trials(trials), heartbeat(study, trials):
                if len(trials) == 1:
                    with context.active_trial(trials[0]):
                        returns = self.launcher.launch(batch, initial_job_idx=trials[0].number)
                else:
                    returns = self.launcher.launch(batch, initial_job_idx=trials[0].number)
        except BaseException as exc:  # SystemExit from a job, Ctrl-C: close the trials, then stop
            key = "interrupted" if isinstance(exc, KeyboardInterrupt) else "error"
            for trial in trials:
                trial.set_user_attr(key, _first_line(exc)[:500])
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise
        for trial, ret in zip(trials, returns):
            frozen = self._tell(study, trial, ret, trial_line(space, trial))
            if parent is not None:
                parent.record_trial(frozen, self._best_values(study))
        return returns

    def _tell(self, study: Any, trial: Any, ret: Any, shown: str = "") -> Any:
        """Record the job's outcome; one line per finished trial (value, best so far, overrides)."""
        import optuna
        from hydra.core.utils import JobStatus

        state = optuna.trial.TrialState
        of = f"{trial.number + 1}/{self.n_trials}"
        if ret.status == JobStatus.COMPLETED:
            try:
                values = _objective_values(ret.return_value, len(self.directions))
            except ValueError as exc:
                trial.set_user_attr("error", str(exc)[:500])
                log.error("trial %d failed: %s", trial.number, exc)
                return study.tell(trial, state=state.FAIL)
            frozen = study.tell(trial, values if len(values) > 1 else values[0])
            best = self._best_values(study)
            best_text = f", best {best[0]:.6g} (trial {study.best_trial.number})" if best else ""
            log.info("trial %d (%s) value %s%s: %s", trial.number, of,
                     ", ".join(f"{v:.6g}" for v in values), best_text, shown)  # fmt: skip
            return frozen
        exc = ret._return_value
        if isinstance(exc, optuna.TrialPruned):
            log.info("trial %d (%s) pruned: %s: %s", trial.number, of, exc, shown)
            return study.tell(trial, state=state.PRUNED)
        trial.set_user_attr("error", _first_line(exc)[:500])
        log.error("trial %d failed: %s", trial.number, _first_line(exc), exc_info=exc)
        return study.tell(trial, state=state.FAIL)

    @staticmethod
    def _best_values(study: Any) -> list[float] | None:
        if len(study.directions) > 1:
            return None
        try:
            return [study.best_value]
        except ValueError:
            return None

    def _write_results(self, study: Any) -> None:
        """``optuna_results.yaml`` in the sweep dir: the best trial(s) for a quick look."""
        sweep_dir = OmegaConf.select(self.config, "hydra.sweep.dir", default=None)
        if not sweep_dir:
            return
        try:
            best = study.best_trials if len(study.directions) > 1 else [study.best_trial]
        except ValueError:
            best = []
        out = {
            "study_name": study.study_name,
            "best_trials": [{"number": t.number, "values": t.values, "params": t.params} for t in best],
        }
        path = Path(sweep_dir) / "optuna_results.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(OmegaConf.create(out), path)
