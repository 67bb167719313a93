"""Structured config of ``hydra/sweeper=optuna`` (registered on import by Hydra's plugin scan)."""

# No ``from __future__ import annotations`` here: Hydra's plugin scan executes this module
# without registering it in sys.modules, where dataclasses would look up string annotations.
from dataclasses import dataclass, field
from typing import Any, Dict, Optional  # noqa: UP035  (OmegaConf needs typing generics here)

from hydra.core.config_store import ConfigStore


@dataclass
class OptunaSweeperConf:
    """Keys under ``hydra.sweeper``; see docs/sweeps.md."""

    _target_: str = "hydra_plugins.gogooku3_optuna_sweeper.optuna_sweeper.OptunaSweeper"
    # any optuna sampler, instantiated by Hydra (e.g. optuna.samplers.RandomSampler)
    sampler: Any = field(default_factory=lambda: {"_target_": "optuna.samplers.TPESampler", "seed": 0})
    # null, or e.g. {_target_: optuna.pruners.MedianPruner, n_warmup_steps: 5}
    pruner: Any = None
    # "maximize", "minimize", or a list of them (multi-objective: the task returns a list)
    direction: Any = "maximize"
    # null: "<job name>-<hash of search space and directions>", so the same command resumes
    study_name: Optional[str] = None
    # any Optuna storage URL; null: sqlite:///<cwd>/outputs/optuna.db
    storage: Optional[str] = None
    n_trials: int = 20
    # trials launched together (useful with a parallel launcher such as joblib)
    n_jobs: int = 1
    # abort once failed trials / n_trials exceeds this; failed trials are recorded either way
    max_failure_rate: float = 0.0
    # search space: key -> interval(a,b) | int(interval(a,b)) | tag(log, interval(a,b)) | choice(...)
    params: Optional[Dict[str, str]] = None
    # seconds between heartbeats of running trials and before a silent trial is failed
    heartbeat_interval: Optional[int] = 10
    grace_period: Optional[int] = 30
    # MLflow parent run; null: tracking.uri / tracking.experiment of the task config
    tracking_uri: Optional[str] = None
    experiment: Optional[str] = None
    # the task config key that receives the parent run id (null: do not pass it)
    parent_run_override: Optional[str] = "tracking.parent_run_id"
    # seconds to wait at the end for other workers' running trials (null: until done/stale)
    wait_timeout: Optional[float] = None


ConfigStore.instance().store(group="hydra/sweeper", name="optuna", node=OptunaSweeperConf, provider="gogooku3")
