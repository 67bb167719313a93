"""Gate 5 refuses a tampered artifact, a feature set that lost a feature and a checkpoint of another
config, each with one line; the predictions gate stops collapsed and NaN predictions, and nothing is stored."""

from __future__ import annotations

import json
import shutil

import mlflow
import polars as pl
import pytest
import torch

from gogooku3.errors import GogookuError
from gogooku3.inference.loading import load_model
from gogooku3.pipeline.experiment import instantiate
from gogooku3.pipeline.predict import predict_sessions, run_predict
from gogooku3.quality import QualityGates
from gogooku3.quality.errors import QualityGateError
from gogooku3.registry import names
from gogooku3.storage.predictions import LocalPredictionStore
from gogooku3.training.deployable import IntegrityError, find_bundle, read_bundle, sha256_file
from tests.inference.deployed import predict_config

pytestmark = pytest.mark.slow


def _download(outputs, run_id, dst):
    client = mlflow.tracking.MlflowClient(f"sqlite:///{outputs}/mlflow.db")
    tags = client.get_run(run_id).data.tags
    mlflow.set_tracking_uri(f"sqlite:///{outputs}/mlflow.db")
    folder = mlflow.artifacts.download_artifacts(artifact_uri=tags[names.DEPLOY_MODEL_URI_TAG], dst_path=str(dst))
    return find_bundle(__import__("pathlib").Path(folder)), tags[names.ARTIFACT_SHA256_TAG]


def test_an_untouched_bundle_loads_and_one_changed_byte_is_refused(deployed, tmp_path):
    outputs, runs = deployed
    folder, sha = _download(outputs, runs["lightgbm"], tmp_path)
    read_bundle(folder, sha)
    booster = folder / "model" / "booster_h1.txt"
    data = bytearray(booster.read_bytes())
    data[len(data) // 2] ^= 0x01
    booster.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=r"gate 5: .*booster_h1\.txt sha256 .* differs") as err:
        read_bundle(folder, sha)
    assert "\n" not in str(err.value)


def test_a_resigned_manifest_is_refused_against_the_recorded_sha(deployed, tmp_path):
    outputs, runs = deployed
    folder, sha = _download(outputs, runs["lightgbm"], tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))  # same content, other bytes
    with pytest.raises(IntegrityError, match="differs from the recorded artifact_sha256"):
        read_bundle(folder, sha)


def test_a_checkpoint_of_another_config_does_not_load(deployed, tmp_path):
    outputs, runs = deployed
    folder, _ = _download(outputs, runs["atft"], tmp_path)
    state = torch.load(folder / "model" / "state_dict.pt", weights_only=True)
    name = next(k for k, v in state.items() if v.ndim == 2)
    state[name] = torch.zeros(state[name].shape[0] + 3, state[name].shape[1])  # a wider layer: another hidden size
    torch.save(state, folder / "model" / "state_dict.pt")
    # Re-sign everything, as a registry tag pointing at a mismatched bundle would.
    files = {p.relative_to(folder).as_posix(): sha256_file(p) for p in folder.rglob("*")
             if p.is_file() and p.name != "manifest.json"}  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps({"files": files}))
    with pytest.raises(IntegrityError, match="does not load strictly") as err:
        read_bundle(folder, sha256_file(folder / "manifest.json"))
    assert "\n" not in str(err.value)


def test_a_feature_set_missing_a_feature_is_refused_naming_it(deployed, tmp_path):
    outputs, runs = deployed
    cfg = predict_config(outputs, ["features.groups.volume.amihud=[]"])
    model = load_model(runs["lightgbm"], cfg.tracking.uri)
    market = instantiate(cfg.data).load()
    with pytest.raises(IntegrityError, match=r"gate 5: model run:\w+: feature amihud_20d is missing"):
        predict_sessions(cfg, market, [model], [1.0], [market.quotes["Date"].max()], tmp_path)


def test_a_broken_model_bundle_copy_is_refused_when_listed_files_are_missing(deployed, tmp_path):
    outputs, runs = deployed
    folder, sha = _download(outputs, runs["lightgbm"], tmp_path)
    (folder / "canary.npz").unlink()
    with pytest.raises(IntegrityError, match="canary.npz is listed in manifest.json but missing"):
        read_bundle(folder, sha)


def _gates(tmp_path):
    return QualityGates.from_config({"data_docs": False}, tmp_path / "q")


@pytest.mark.parametrize("bad", ["collapsed", "nan"])
def test_the_predictions_gate_stops_collapsed_and_nan_predictions(tmp_path, bad):
    codes = [f"{1000 + i}" for i in range(30)]
    day = pl.date(2022, 6, 30)
    values = [0.01 * i for i in range(30)]
    if bad == "collapsed":
        values = [0.003] * 30
    else:
        values[7] = float("nan")
    frame = pl.DataFrame({"Code": codes, "Date": [None] * 30, "pred_h1": values}).with_columns(Date=day)
    universe = frame.select("Code", "Date")
    with pytest.raises(QualityGateError, match="predictions"):
        _gates(tmp_path).predictions(frame, [1], universe=universe, reference={"1": {"daily_sd": 0.09}})


def test_a_failing_predictions_gate_stores_nothing(deployed, tmp_path):
    outputs, runs = deployed
    store = tmp_path / "store"
    cfg = predict_config(outputs, [f"predict.model={runs['lightgbm']}", f"predict.store={store}",
                                   "quality.max_abs_prediction=1e-9"])  # fmt: skip
    with pytest.raises(GogookuError, match="predictions"):
        run_predict(cfg, tmp_path / "run")
    assert LocalPredictionStore(store).dates() == []
    alerts = list((tmp_path / "run" / "quality").glob("*.json"))
    assert any("predictions" in p.name for p in alerts)


def test_a_passing_run_stores_every_code_once_per_horizon(deployed, tmp_path):
    outputs, runs = deployed
    store = tmp_path / "store"
    cfg = predict_config(outputs, [f"predict.model={runs['atft']}", f"predict.store={store}"])
    outcome = run_predict(cfg, tmp_path / "run")
    stored = LocalPredictionStore(store).read("predictions")
    assert stored.height == outcome.predictions.height > 0
    assert stored.select(pl.struct("Code", "Date", "horizon").is_unique().all()).item()
    assert stored.get_column("quantiles").list.len().min() == 5
    assert set(stored.get_column("horizon").unique()) == {1, 5}
    shutil.rmtree(store)
