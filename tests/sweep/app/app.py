"""A tiny Hydra app with train.py's sweep contract, for testing the sweeper in seconds.

It opens its MLflow run with the project's tracker (child of ``tracking.parent_run_id``),
reports a per-step validation curve through the pruning hook and returns the objective
``-(x - 0.3)^2 - (y - 3)^2 / 100`` (plus ``x`` as a second objective when ``multi``).
``SWEEP_TEST_HANG_AT=<n>`` makes trial n write ``hang.marker`` and sleep, to be killed.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from gogooku3.pipeline.trial_context import current_trial_number, report_intermediate
from gogooku3.tracking.mlflow_run import MlflowRun


@hydra.main(config_path="conf", config_name="config", version_base=None)
def main(cfg: DictConfig) -> float | list[float]:
    overrides = list(HydraConfig.get().overrides.task)
    t = cfg.tracking
    with MlflowRun(t.uri, t.experiment, Path(t.artifact_root), None, t.parent_run_id) as run:
        number = current_trial_number()
        if number is not None:
            run.set_tags({"optuna_trial": number})
        run.log_config(OmegaConf.to_container(cfg, resolve=True), overrides)
        hang = os.environ.get("SWEEP_TEST_HANG_AT")
        if hang is not None and number == int(hang):
            Path("hang.marker").write_text(str(number))
            time.sleep(300)
        if cfg.fail_above is not None and cfg.x > cfg.fail_above:
            raise RuntimeError(f"x={cfg.x} is above fail_above={cfg.fail_above}")
        time.sleep(cfg.sleep_s)
        score = -((cfg.x - 0.3) ** 2) - (cfg.y - 3) ** 2 / 100
        for step in range(1, cfg.n_steps + 1):
            value = score - 0.05 * (cfg.n_steps - step)
            run.log_metric("val/score", value, step)
            report_intermediate(value, step)
        run.log_metrics({"val/score": score, "test/score": score / 2})
    return [score, float(cfg.x)] if cfg.multi else score


if __name__ == "__main__":
    main()
