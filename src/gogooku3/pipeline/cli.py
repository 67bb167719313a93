"""Entry-point glue between Hydra and the experiment: errors, overrides, return value."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from omegaconf import DictConfig

from gogooku3.errors import GogookuError

log = logging.getLogger("gogooku3")


def run_task(cfg: DictConfig) -> float | list[float] | None:
    """Run the experiment; return ``cfg.optimized_metric`` (one name or a list) for a sweeper.

    A :class:`GogookuError` (bad input or config) in a single run prints one line and
    exits with code 2; in a multirun it propagates so the sweeper records a failed trial.
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hydra_cfg = HydraConfig.get()
    try:
        from gogooku3.config.check import validate
        from gogooku3.pipeline.experiment import run_experiment

        validate(cfg, deep=True)  # before any data is read (train.py's preflight already checked a single run)
        metrics = run_experiment(cfg, Path(hydra_cfg.runtime.output_dir), list(hydra_cfg.overrides.task))
    except GogookuError as exc:
        if hydra_cfg.mode == RunMode.MULTIRUN:
            raise
        print(f"gogooku3: error: {exc}", file=sys.stderr)
        sys.exit(2)
    wanted = cfg.get("optimized_metric")
    if wanted is None:
        return None
    names = [wanted] if isinstance(wanted, str) else list(wanted)  # a list: multi-objective sweeps
    missing = [n for n in names if n not in metrics]
    if missing:
        raise GogookuError(f"optimized_metric {missing} not among this run's metrics, e.g. {sorted(metrics)[:8]}")
    values = [metrics[n] for n in names]
    return values[0] if isinstance(wanted, str) else values
