"""``tracking`` group: MLflow (the system of record) and the optional W&B mirror."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from omegaconf import II


@dataclass
class Wandb:
    """WANDB_MODE=offline (or mode: offline) needs no network; ``wandb sync`` uploads later."""

    enabled: bool = False
    project: str = "gogooku3"
    entity: Optional[str] = None
    mode: Optional[str] = None
    dir: str = II("paths.output_dir")


@dataclass
class MlflowTracking:
    """A SQLite store (MLflow 3.13+ refuses the old ./mlruns file store)."""

    uri: str = "sqlite:///${paths.output_dir}/mlflow.db"
    # storage=s3 appends "-s3": an MLflow experiment keeps one artifact location for life.
    experiment: str = "gogooku3${oc.select:storage.experiment_suffix,''}"
    artifact_root: str = "${paths.output_dir}/mlartifacts"
    # None: named by model, data and the overrides (a sweep trial: its number and sampled
    # values), e.g. lightgbm·synthetic·model.params.num_leaves=31; a string wins.
    run_name: Optional[str] = None
    parent_run_id: Optional[str] = None  # set by the Optuna sweeper so each trial nests under its sweep
    log_model: bool = True
    wandb: Wandb = field(default_factory=Wandb)
