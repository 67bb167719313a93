"""ATFTEstimator runs of their own: no-signal market, pruning, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from atft_panels import make_estimator, make_fold, make_panel, rank_ic

from gogooku3.tracking.mlflow_run import MlflowRun


def test_no_signal_gives_no_skill(tmp_path):
    panel = make_panel(reversal=0.0, seed=1)
    fold = make_fold(panel)
    est = make_estimator(tmp_path, epochs=2)
    est.fit(panel, fold)
    assert abs(rank_ic(est.predict(panel, *fold.test), panel)) < 0.08


def test_pruning_raised_by_the_logger_propagates(tmp_path, panel, fold):
    import optuna

    def prune(name: str, value: float, step: int) -> None:
        if name == "val/rank_ic_h1":
            raise optuna.TrialPruned(f"pruned at {step}")

    with pytest.raises(optuna.TrialPruned):
        make_estimator(tmp_path, epochs=3).fit(panel, fold, prune)


def test_same_seed_same_predictions(tmp_path):
    panel = make_panel(n_stocks=12, n_days=120)
    fold = make_fold(panel, valid_days=15, test_days=10)
    runs = [make_estimator(tmp_path / str(k), epochs=1) for k in range(2)]
    preds = [(est.fit(panel, fold), est.predict(panel, *fold.test))[1] for est in runs]
    assert preds[0].equals(preds[1])


def test_bundle_logs_to_and_loads_from_a_real_mlflow_store(tmp_path):
    import mlflow
    import torch

    panel = make_panel(n_stocks=12, n_days=120)
    fold = make_fold(panel, valid_days=15, test_days=10)
    est = make_estimator(tmp_path / "fit", epochs=1)
    est.fit(panel, fold)
    bundle = est.model_bundle()
    with MlflowRun(f"sqlite:///{tmp_path / 'mlflow.db'}", "atft", tmp_path / "artifacts") as run:
        run.log_model(bundle)
    model_uri = mlflow.last_logged_model().model_uri
    signature = mlflow.models.get_model_info(model_uri).signature
    assert [i.name for i in signature.inputs.inputs] == ["x", "mask", "returns", "groups"]
    loaded = mlflow.pytorch.load_model(model_uri)
    example = mlflow.artifacts.download_artifacts(run_id=run.run_id, artifact_path="model_input_example.npz",
                                                  dst_path=str(tmp_path / "dl"))  # fmt: skip
    with np.load(example) as saved:
        inputs = {k: torch.from_numpy(saved[k]) for k in ("x", "mask", "returns", "groups")}
    with torch.no_grad():
        torch.testing.assert_close(loaded(**inputs), bundle.model(**inputs))
