"""Deployable models trained in-process on a small synthetic market (shared by the inference tests)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.helpers import ROOT

DATA = ["data.n_stocks=40", "data.start=2020-01-01", "data.end=2022-06-30", "horizons=[1,5]",
        "split.n_folds=2", "split.test_days=40", "split.valid_days=30", "split.embargo_days=5",
        "split.min_train_days=150", "quality.data_docs=false", "tracking.log_model=false"]  # fmt: skip
MODELS = {
    "lightgbm": ["model=lightgbm", "model.num_boost_round=60", "model.early_stopping_rounds=10",
                 "model.params.num_threads=1"],
    "atft": ["model=atft", "trainer.max_epochs=2", "model.lookback=8", "model.hidden_size=8", "model.feature_dim=4",
             "model.graph.window=40", "model.data.train_dates_per_epoch=8", "model.fan.top_k=2",
             "model.attention_heads=2", "model.gat.heads=2"],
}  # fmt: skip


def compose(config: str, overrides: list[str]) -> Any:
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from gogooku3.config import register

    os.environ.setdefault("PROJECT_ROOT", str(ROOT))
    register()
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        return hydra_compose(config, overrides=overrides)


def train_deployable(outputs: Path, family: str, extra: list[str] = ()) -> str:
    """Train ``family`` with deploy=true into ``outputs``' MLflow store; returns the run id."""
    from gogooku3.console import quiet_third_party
    from gogooku3.pipeline.experiment import run_experiment

    overrides = [*DATA, *MODELS[family], *extra, "deploy=true", f"paths.output_dir={outputs}",
                 f"tracking.run_name={family}"]  # fmt: skip
    cfg = compose("train", overrides)
    quiet_third_party()
    return run_experiment(cfg, outputs / f"run_{family}", overrides).run_id


def predict_config(outputs: Path, extra: list[str] = ()) -> Any:
    return compose("predict", [*[d for d in DATA if not d.startswith("split.")], f"paths.output_dir={outputs}", *extra])
