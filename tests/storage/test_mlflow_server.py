"""tracking=server: a real ``mlflow server`` on PostgreSQL with artifacts on S3 (weed mini).

One training run and a registered version go through the server, its artifacts land in the
bucket, and two sweep workers on one Optuna study in PostgreSQL both log to that server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PORT = 18470  # this test's own port (helpers' range 18450-18499)
PG = dict(host="127.0.0.1", port=5432, user="postgres")
TINY = [
    "data.n_stocks=20", "data.start=2020-01-01", "data.end=2021-06-30", "horizons=[1,5]",
    "split.n_folds=1", "split.test_days=40", "split.valid_days=30", "split.embargo_days=5",
    "split.min_train_days=100", "quality.data_docs=false", "model=lightgbm", "model.num_boost_round=15",
    "model.early_stopping_rounds=5", "model.params.num_threads=1",
]  # fmt: skip


def _database(name: str, create: bool) -> None:
    import psycopg2

    admin = psycopg2.connect(dbname="postgres", **PG)  # fails (never skips) without PostgreSQL
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if create:
            cur.execute(f"CREATE DATABASE {name}")
    admin.close()


@pytest.fixture(scope="module")
def server(weed, tmp_path_factory):
    """(tracking URI, bucket, backend db, optuna db) of a running mlflow server, ended by its PID."""
    from gogooku3.storage.objects import S3ObjectStore

    import socket

    with socket.socket() as probe:  # a server left on the port would answer in place of ours
        if probe.connect_ex(("127.0.0.1", PORT)) == 0:
            pytest.fail(f"127.0.0.1:{PORT} is in use; this test's mlflow server needs it")
    tag = uuid.uuid4().hex[:8]
    bucket, mlflow_db, optuna_db = f"mlflow-{tag}", f"g3_test_mlflow_{tag}", f"g3_test_optuna_{tag}"
    S3ObjectStore(bucket, "x", endpoint_url=weed.endpoint).ensure_bucket()
    for db in (mlflow_db, optuna_db):
        _database(db, create=True)
    log = tmp_path_factory.mktemp("mlflow_server") / "mlflow.log"
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_S3_ENDPOINT_URL": weed.endpoint}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(PORT),
             "--workers", "1", "--backend-store-uri", f"postgresql+psycopg2://postgres@127.0.0.1:5432/{mlflow_db}",
             "--artifacts-destination", f"s3://{bucket}/mlflow"],
            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    uri = f"http://127.0.0.1:{PORT}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"mlflow server exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(f"{uri}/health", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"mlflow server on {uri} did not answer in 90 s: {log.read_text()[-2000:]}")
                time.sleep(0.3)
        yield uri, bucket, mlflow_db, optuna_db
    finally:
        proc.send_signal(signal.SIGTERM)  # the CLI ends its uvicorn worker with it
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for db in (mlflow_db, optuna_db):
            _database(db, create=False)


def _train(args: list[str], uri: str, cwd: Path, log: Path) -> subprocess.Popen:
    """train.py with tracking=server; its output goes to ``log`` (two workers never block on a pipe)."""
    # A dead S3 endpoint: the client must never write to S3 itself, only through the server.
    env = {**os.environ, "PROJECT_ROOT": str(REPO), "MLFLOW_TRACKING_URI": uri, "MLFLOW_S3_ENDPOINT_URL": "http://127.0.0.1:9"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):  # a client needs no S3 access: the server proxies
        env.pop(key, None)
    flags = [a for a in args if a.startswith("-")]  # hydra's flags before the overrides
    overrides = [a for a in args if not a.startswith("-")]
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, str(REPO / "train.py"), *flags, "tracking=server", *TINY, *overrides],
                                cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip


def _wait(proc: subprocess.Popen, log: Path) -> None:
    proc.wait(timeout=300)
    assert proc.returncode == 0, log.read_text()[-3000:]


def _artifact_paths(client, run_id: str, path: str | None = None) -> set[str]:
    found: set[str] = set()
    for item in client.list_artifacts(run_id, path):
        found |= _artifact_paths(client, run_id, item.path) if item.is_dir else {item.path}
    return found


def _bucket_keys(weed, bucket: str) -> set[str]:
    import boto3

    s3 = boto3.client("s3", endpoint_url=weed.endpoint)
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="mlflow/"):
        keys |= {o["Key"] for o in page.get("Contents", [])}
    return keys


@pytest.mark.slow
def test_train_and_registry_through_the_server(server, weed, tmp_path):
    from mlflow import MlflowClient

    from gogooku3.registry.versions import Registry

    uri, bucket, _, _ = server
    log = tmp_path.parent / f"{tmp_path.name}.log"
    args = [f"paths.output_dir={tmp_path}", "deploy=true", "tracking.run_name=server-run"]
    _wait(_train(args, uri, tmp_path, log), log)

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("gogooku3")
    assert experiment.artifact_location.startswith("mlflow-artifacts:"), experiment.artifact_location
    (run,) = client.search_runs([experiment.experiment_id], "tags.`mlflow.runName` = 'server-run'")
    assert run.info.status == "FINISHED" and run.data.metrics and run.data.tags["data_digest"]
    paths = _artifact_paths(client, run.info.run_id)
    assert "config/config.yaml" in paths and "lineage/lineage.json" in paths
    keys = _bucket_keys(weed, bucket)
    prefix = f"mlflow/{experiment.experiment_id}/{run.info.run_id}/artifacts/"
    assert {prefix + p for p in paths} <= keys, sorted(keys)[:20]
    assert not (tmp_path / "mlartifacts").exists() and not list(tmp_path.glob("mlflow*"))  # nothing local

    # The registry on a server URI: register checks the deploy manifest downloaded through the server.
    version = Registry(uri).register(run.info.run_id, "gogooku3-server-test", "tracking=server test")
    assert version.run_id == run.info.run_id and version.source.startswith("models:/")
    assert Registry(uri).list("gogooku3-server-test")[0].version == version.version


@pytest.mark.slow
def test_two_sweep_workers_one_study_one_server(server, weed, tmp_path):
    import optuna
    from mlflow import MlflowClient

    uri, bucket, _, optuna_db = server
    storage = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{optuna_db}"
    common = ["-m", "hparams_search=lightgbm_optuna", "hydra.sweeper.n_trials=2", "hydra.sweeper.study_name=team",
              f"hydra.sweeper.storage={storage}", "tracking.log_model=false",
              "hydra.sweeper.sampler.n_startup_trials=2"]  # fmt: skip
    logs = [tmp_path / f"worker{seed}.log" for seed in (1, 2)]
    workers = [
        _train([*common, f"paths.output_dir={tmp_path / f'w{seed}'}", f"hydra.sweeper.sampler.seed={seed}"],
               uri, tmp_path, log)  # fmt: skip
        for seed, log in zip((1, 2), logs)
    ]
    for worker, log in zip(workers, logs):
        _wait(worker, log)

    study = optuna.load_study(study_name="team", storage=storage)
    trials = [t for t in study.trials if t.state.name != "WAITING"]
    assert sorted(t.number for t in trials) == [0, 1]  # both claim one at start
    assert {t.state.name for t in trials} <= {"COMPLETE", "PRUNED"}
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("gogooku3")
    runs = client.search_runs([experiment.experiment_id], "tags.sweep = 'optuna'")
    (parent,) = runs
    children = client.search_runs([experiment.experiment_id], f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")
    assert sorted(c.data.tags["optuna_trial"] for c in children) == ["0", "1"]
    assert {c.data.tags.get("gogooku3.pid") for c in children} == {str(w.pid) for w in workers}  # both workers logged
    keys = _bucket_keys(weed, bucket)
    for child in children:
        assert any(k.startswith(f"mlflow/{experiment.experiment_id}/{child.info.run_id}/artifacts/") for k in keys)
