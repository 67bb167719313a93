"""Entry-point glue between Hydra and the experiment: errors, overrides, return value."""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from gogooku3.errors import ConfigError, GogookuError

log = logging.getLogger("gogooku3")


def run_task(cfg: DictConfig) -> float | list[float] | None:
    """Run the experiment; return ``cfg.optimized_metric`` (one name or a list) for a sweeper.

    A :class:`GogookuError` (bad input or config) in a single run prints one line and
    exits with code 2; in a multirun it propagates so the sweeper records a failed trial.
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from gogooku3.console import quiet_third_party

    quiet_third_party()
    hydra_cfg = HydraConfig.get()
    try:
        from gogooku3.config.check import validate
        from gogooku3.monitoring.jobs import job_metrics
        from gogooku3.pipeline.experiment import run_experiment

        validate(cfg, deep=True)  # before any data is read (train.py's preflight already checked a single run)
        check_optimized_metric(cfg.get("optimized_metric"), [int(h) for h in cfg.horizons])
        with job_metrics("train"):
            outcome = run_experiment(cfg, Path(hydra_cfg.runtime.output_dir), list(hydra_cfg.overrides.task))
        if hydra_cfg.mode != RunMode.MULTIRUN:  # a sweep ends with its own table of trials
            _print_summary(cfg, outcome)
        return _objective(cfg.get("optimized_metric"), outcome.metrics)
    except GogookuError as exc:
        if hydra_cfg.mode == RunMode.MULTIRUN:
            raise
        print(f"gogooku3: error: {exc}", file=sys.stderr)
        sys.exit(2)


def run_predict_task(cfg: DictConfig) -> None:
    """``predict.py``: one line and exit code 2 on bad input, a refused model or a failed gate."""
    from hydra.core.hydra_config import HydraConfig

    from gogooku3.console import quiet_third_party

    quiet_third_party()
    try:
        from gogooku3.config.check import validate
        from gogooku3.pipeline.predict import run_predict

        validate(cfg, deep=True)
        outcome = run_predict(cfg, Path(HydraConfig.get().runtime.output_dir))
    except GogookuError as exc:
        print(f"gogooku3: error: {exc}", file=sys.stderr)
        sys.exit(2)
    from gogooku3.pipeline.predict import summary

    print(summary(outcome), flush=True)


def check_optimized_metric(wanted: str | list[str] | None, horizons: list[int]) -> None:
    """Fail before any data is read when ``optimized_metric`` names a horizon the run has not got."""
    names = [] if wanted is None else [wanted] if isinstance(wanted, str) else list(wanted)
    for name in names:
        match = re.search(r"_h(\d+)$", str(name))
        if match and int(match.group(1)) not in horizons:
            suggestion = re.sub(r"_h\d+$", f"_h{min(horizons)}", str(name))
            raise ConfigError(
                f"optimized_metric={name} names horizon {match.group(1)}, which is not in horizons={horizons}; "
                f"set e.g. optimized_metric={suggestion}"
            )


def _objective(wanted: str | list[str] | None, metrics: dict[str, float]) -> float | list[float] | None:
    """The value(s) of ``optimized_metric`` (one name or a list, for multi-objective sweeps)."""
    if wanted is None:
        return None
    names = [wanted] if isinstance(wanted, str) else list(wanted)
    missing = [n for n in names if n not in metrics]
    if missing:
        raise ConfigError(f"optimized_metric={missing} not among this run's metrics, e.g. {sorted(metrics)[:8]}")
    values = [metrics[n] for n in names]
    return values[0] if isinstance(wanted, str) else values


def _print_summary(cfg: DictConfig, outcome: Any) -> None:
    """The results table, the run's UI address and the command that serves the UI."""
    from gogooku3.tracking.summary import run_summary

    default_db = Path(cfg.paths.root_dir) / "outputs" / "mlflow.db"  # the Makefile's MLFLOW_DB
    horizons = sorted(int(h) for h in cfg.horizons)
    print(run_summary(outcome, horizons, default_db=default_db), flush=True)
