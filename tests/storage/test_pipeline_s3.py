"""storage=s3 end to end on the session's weed mini: train (data=jquants_local, deploy=true) puts every
artifact in the bucket; predict reads the model from it and writes its tables there, with the same
values as a local-storage predict; a cache on a Redis of the test's own, then hung, changes nothing."""

from __future__ import annotations

import io
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import polars as pl
import pytest
import redis

from gogooku3.storage.objects import S3ObjectStore
from tests.helpers import ROOT
from tests.inference.deployed import compose

pytestmark = pytest.mark.slow
DATA = ["data=jquants_local", "data.n_stocks=20", "data.start=2021-04-01", "data.end=2022-03-31",
        "data.endpoints=[calendar,master,bars,topix]", "data.progress=false", "data.fsync=false",
        "horizons=[1,5]", "quality.data_docs=false"]  # fmt: skip
TRAIN = ["split.n_folds=1", "split.test_days=30", "split.valid_days=20", "split.embargo_days=5",
         "split.min_train_days=120", "model=lightgbm", "model.num_boost_round=20", "model.early_stopping_rounds=5",
         "model.params.num_threads=1", "tracking.log_model=false", "deploy=true"]  # fmt: skip
PREFIX = f"g3test:storagewire:{uuid.uuid4().hex[:8]}:"
CACHE = ["storage.cache.db=11", f"storage.cache.prefix={PREFIX}"]
PORTS = range(18420, 18450)  # a redis-server of the test's own


@pytest.fixture(scope="module")
def s3_env(weed):
    """The storage endpoint in the environment, as a user sets it; MLFLOW_S3_ENDPOINT_URL comes from it."""
    saved = {k: os.environ.get(k) for k in ("GOGOOKU3_S3_ENDPOINT", "MLFLOW_S3_ENDPOINT_URL", "GOGOOKU3_REDIS_URL")}
    os.environ["GOGOOKU3_S3_ENDPOINT"] = weed.endpoint
    os.environ.pop("MLFLOW_S3_ENDPOINT_URL", None)
    yield weed.endpoint
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="module")
def trained(s3_env, tmp_path_factory):
    """(outputs, bucket, run info) of a storage=s3 train run."""
    from gogooku3.pipeline.experiment import run_experiment

    outputs = tmp_path_factory.mktemp("s3train")
    bucket = f"t-{uuid.uuid4().hex[:12]}"
    overrides = ["storage=s3", f"storage.objects.bucket={bucket}", *CACHE, *DATA, *TRAIN,
                 f"paths.output_dir={outputs}", f"paths.data_dir={outputs / 'data'}", "features.store=true"]  # fmt: skip
    info = run_experiment(compose("train", overrides), outputs / "run", overrides)
    yield outputs, bucket, info
    client = redis.Redis(db=11)
    for key in client.scan_iter(f"{PREFIX}*"):
        client.delete(key)


def _keys(bucket: str, prefix: str = "") -> list[str]:
    return [i.key for i in S3ObjectStore(bucket, "gogooku3").list(prefix)]


def test_train_puts_snapshot_features_and_every_mlflow_artifact_in_the_bucket(trained):
    from mlflow import MlflowClient

    outputs, bucket, info = trained
    keys = _keys(bucket)
    assert "raw/jquants_local/manifest.json" in keys
    assert any(k.startswith("raw/jquants_local/bars/date=") for k in keys)
    assert any(k.startswith("features/") and k.endswith(".parquet") for k in keys)
    run = MlflowClient(info.tracking_uri).get_run(info.run_id)
    assert run.info.artifact_uri.startswith(f"s3://{bucket}/gogooku3/mlflow/")
    run_prefix = run.info.artifact_uri.removeprefix(f"s3://{bucket}/gogooku3/") + "/"
    for artifact in ("evaluation/folds.csv", "predictions/test.parquet", "config/config.yaml", "lineage/lineage.json"):
        assert run_prefix + artifact in keys, artifact
    assert any(k.startswith(run_prefix + "quality/") for k in keys)
    assert any(k.startswith("mlflow/") and k.endswith("manifest.json") and "/models/" in k for k in keys)  # deploy
    # the local run folder is scratch: nothing MLflow logged stays only there
    assert not (outputs / "mlartifacts").exists()


def _predict(outputs, tmp_path, name, *extra):
    from gogooku3.pipeline.predict import run_predict

    cfg = compose("predict", [*DATA, f"paths.output_dir={outputs}", f"paths.data_dir={outputs / 'data'}",
                              f"predict.store={tmp_path / name}", *extra])  # fmt: skip
    return run_predict(cfg, tmp_path / f"run_{name}").predictions


def _values(frame: pl.DataFrame) -> pl.DataFrame:
    from gogooku3.storage.predictions import conform

    return conform("predictions", frame).drop("run_id").sort("Date", "horizon", "Code")


def _own_redis(tmp_path) -> tuple[subprocess.Popen, int]:
    port = next(p for p in PORTS if socket.socket().connect_ex(("127.0.0.1", p)) != 0)
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir",
                             str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    for _ in range(100):
        try:
            redis.Redis(port=port).ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    return proc, port


def test_predict_reads_the_model_from_the_bucket_and_writes_there_same_values_as_local(trained, tmp_path, caplog):
    from gogooku3.storage.predictions import ObjectPredictionStore

    from gogooku3.config.registry import RegistrySettings
    from gogooku3.registry.versions import Registry

    outputs, bucket, info = trained
    settings = RegistrySettings(actions_log=str(tmp_path / "registry.jsonl"))
    version = Registry(info.tracking_uri, settings).register(info.run_id, "g3s3", "storage=s3 model", who="test")
    model = [f"predict.model=g3s3/{version.version}"]  # the bundle, from the bucket
    # A local predict first: storage=s3 then gets its own experiment (gogooku3-predict-s3), no override needed.
    local = _predict(outputs, tmp_path, "local", *model)
    assert (tmp_path / "local" / "predictions").is_dir()
    proc, port = _own_redis(tmp_path)
    os.environ["GOGOOKU3_REDIS_URL"] = f"redis://127.0.0.1:{port}"
    try:
        on_s3 = _predict(outputs, tmp_path, "s3", "storage=s3", f"storage.objects.bucket={bucket}", *CACHE, *model)
        assert not (tmp_path / "s3").exists()  # the tables went to the bucket
        keys = _keys(bucket, "predictions/")
        assert any(k.startswith("predictions/predictions/Date=") for k in keys)
        assert any(k.startswith("predictions/quality/Date=") for k in keys)
        stored = ObjectPredictionStore(S3ObjectStore(bucket, "gogooku3")).read("predictions")
        assert _values(stored).equals(_values(on_s3))
        assert redis.Redis(port=port, db=11).dbsize() > 0  # features and predictions were cached
        os.kill(proc.pid, signal.SIGSTOP)  # a hung Redis: one timeout, then computed without it
        with caplog.at_level(logging.WARNING, logger="gogooku3.storage.cache"):
            hung = _predict(outputs, tmp_path, "s3b", "storage=s3", f"storage.objects.bucket={bucket}", *CACHE, *model)
        assert _values(hung).equals(_values(on_s3))
        warnings = [r for r in caplog.records if r.name == "gogooku3.storage.cache"]
        assert len(warnings) == 1 and "unavailable" in warnings[0].getMessage()
    finally:
        os.environ.pop("GOGOOKU3_REDIS_URL", None)
        os.kill(proc.pid, signal.SIGCONT)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert _values(local).equals(_values(on_s3))


def test_wrong_credentials_exit_with_one_line_naming_the_endpoint_and_write_nothing(trained, tmp_path):
    outputs, bucket, _ = trained
    before = _keys(bucket)
    env = {**os.environ, "AWS_SECRET_ACCESS_KEY": "wrong-secret", "PYTHONPATH": str(ROOT / "src")}
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "train.py", "storage=s3", f"storage.objects.bucket={bucket}", *DATA, *TRAIN,
         f"paths.output_dir={out}", f"paths.data_dir={out / 'data'}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and os.environ["GOGOOKU3_S3_ENDPOINT"] in errors[0], proc.stderr[-2000:]
    assert "credentials refused" in errors[0]
    assert _keys(bucket) == before
    assert not (out / "data").exists()  # not even the local snapshot root
