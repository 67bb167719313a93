"""The tracking store under concurrent and killed runs: real train.py processes, real SQLite stores."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gogooku3.tracking.store import (
    HOST_TAG,
    PARENT_TAG,
    PID_TAG,
    PROC_TAG,
    ensure_experiment,
    is_server,
    open_store,
    owner_tags,
    process_alive,
    reap_dead_runs,
    sqlite_path,
)
from tests.helpers import ROOT, mlflow_runs

TINY = [
    "data.n_stocks=30", "data.start=2022-01-01", "data.end=2022-12-31", "split.n_folds=1", "split.test_days=30",
    "split.valid_days=20", "split.min_train_days=60", "model.num_boost_round=10", "model.params.num_threads=1",
    "quality=off", "tracking.log_model=false",
]  # fmt: skip


def _train(outputs: Path, name: str, *extra: str) -> subprocess.Popen:
    command = [sys.executable, str(ROOT / "train.py"), *TINY, *extra,
               f"paths.output_dir={outputs}", f"hydra.run.dir={outputs}/{name}"]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _wait_for_running(db: Path, process: subprocess.Popen, timeout_s: float) -> str | None:
    """The id of the first RUNNING run in ``db``, read without creating or migrating anything."""
    import sqlite3

    deadline = time.monotonic() + timeout_s
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
                row = con.execute("select run_uuid from runs where status = 'RUNNING'").fetchone()
        except sqlite3.Error:  # no store or no table yet
            continue
        if row:
            return row[0]
    return None


def test_sqlite_path():
    assert sqlite_path("sqlite:////tmp/x/mlflow.db") == Path("/tmp/x/mlflow.db")
    assert sqlite_path("sqlite:///:memory:") is None and sqlite_path("http://127.0.0.1:5000") is None


def test_process_alive_tells_a_dead_or_reused_pid():
    me = owner_tags()
    assert me[HOST_TAG] == socket.gethostname() and me[PID_TAG] == str(os.getpid())
    assert process_alive(os.getpid(), me.get(PROC_TAG))
    assert not process_alive(_dead_pid(), None)
    if PROC_TAG in me:  # Linux: same pid, another process start -> a reused pid, the run's process is gone
        assert not process_alive(os.getpid(), me[PROC_TAG] + "0")


@pytest.mark.slow
def test_store_opened_by_three_processes_at_once(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    code = (
        "import sys; from gogooku3.tracking.store import open_store, ensure_experiment\n"
        "c = open_store(sys.argv[1]); print(ensure_experiment(c, sys.argv[1], 'gogooku3', sys.argv[2]))"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, uri, str(tmp_path / "art")], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]  # fmt: skip
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err[-2000:] for _, err in results]
    assert len({out.strip() for out, _ in results}) == 1  # one experiment, the same id for all


def test_reap_marks_runs_of_gone_processes_killed(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    client = open_store(uri)
    experiment = ensure_experiment(client, uri, "gogooku3", tmp_path / "art")
    host = socket.gethostname()
    dead = client.create_run(experiment, tags={HOST_TAG: host, PID_TAG: str(_dead_pid())}).info.run_id
    child = client.create_run(experiment, tags={PARENT_TAG: dead}).info.run_id
    alive = client.create_run(experiment, tags={**owner_tags()}).info.run_id
    elsewhere = client.create_run(experiment, tags={HOST_TAG: "another-host", PID_TAG: str(_dead_pid())}).info.run_id
    untagged = client.create_run(experiment).info.run_id
    sweep = client.create_run(experiment, tags={"sweep": "optuna"}).info.run_id
    trial = client.create_run(experiment, tags={HOST_TAG: host, PID_TAG: str(_dead_pid()), PARENT_TAG: sweep}).info.run_id

    assert sorted(reap_dead_runs(client)) == sorted([dead, child, trial])
    assert client.get_run(trial).data.tags["trial_state"] == "FAIL" and "trial_state" not in client.get_run(dead).data.tags
    assert client.get_run(sweep).info.status == "RUNNING"  # the sweep's parent has no owner tags: the sweep closes it
    status = {r: client.get_run(r).info.status for r in (dead, child, alive, elsewhere, untagged)}
    assert status == {dead: "KILLED", child: "KILLED", alive: "RUNNING", elsewhere: "RUNNING", untagged: "RUNNING"}
    assert "ended without closing the run" in client.get_run(dead).data.tags["fail_reason"]
    assert reap_dead_runs(client) == []


@pytest.mark.slow
def test_three_runs_started_at_once_on_a_new_store_all_finish(tmp_path):
    outputs = tmp_path / "outputs"
    procs = [_train(outputs, f"run{i}") for i in range(3)]
    logs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [log[-3000:] for log in logs]
    runs = mlflow_runs(outputs)
    assert len(runs) == 3 and set(runs.status) == {"FINISHED"}
    assert len(set(runs["tags.gogooku3.pid"])) == 3


@pytest.mark.slow
def test_sigkilled_run_is_marked_killed_by_the_next_run(tmp_path):
    import mlflow

    outputs = tmp_path / "outputs"
    mlflow.set_tracking_uri(f"sqlite:///{outputs}/mlflow.db")
    victim = _train(outputs, "victim", "model.num_boost_round=5000", "model.early_stopping_rounds=5000")
    run_id = _wait_for_running(outputs / "mlflow.db", victim, timeout_s=300)
    assert run_id is not None, f"the run never showed RUNNING: {victim.poll()} {victim.stdout.read()[-2000:]}"
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    assert mlflow.get_run(run_id).info.status == "RUNNING"  # nothing closed it

    follower = _train(outputs, "follower")
    log = follower.communicate(timeout=600)[0]
    assert follower.returncode == 0, log[-3000:]
    assert mlflow.get_run(run_id).info.status == "KILLED"
    assert f"run {run_id}" in log and "marked KILLED" in log


def test_is_server_tells_a_tracking_server_from_a_store_opened_in_process(tmp_path):
    """A server owns its artifact root (tests/storage/test_mlflow_server.py runs a real one)."""
    assert is_server("http://127.0.0.1:18310") and is_server("HTTPS://mlflow.example")
    assert not is_server(f"sqlite:///{tmp_path}/mlflow.db") and not is_server("postgresql://h/db")


def test_an_experiment_elsewhere_is_never_reused_for_a_bucket_root(tmp_path):
    from gogooku3.errors import ConfigError
    from gogooku3.tracking.store import check_experiment, ensure_experiment, open_store

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    check_experiment(uri, "g3", "s3://b/p/mlflow")  # no store yet: nothing to clash with, nothing created
    assert not (tmp_path / "mlflow.db").exists()
    client = open_store(uri)
    local = ensure_experiment(client, uri, "g3", tmp_path / "art")
    assert ensure_experiment(client, uri, "g3", tmp_path / "elsewhere") == local  # local folders: reused as before
    with pytest.raises(ConfigError) as err:
        ensure_experiment(client, uri, "g3", "s3://b/p/mlflow")
    assert "s3://b/p/mlflow" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ConfigError):
        check_experiment(uri, "g3", "s3://b/p/mlflow")
    remote = ensure_experiment(client, uri, "g3-s3", "s3://b/p/mlflow")
    assert client.get_experiment(remote).artifact_location == "s3://b/p/mlflow"
    assert ensure_experiment(client, uri, "g3-s3", "s3://b/p/mlflow/") == remote
    with pytest.raises(ConfigError, match="g3-s3 keeps its artifacts at s3://"):
        ensure_experiment(client, uri, "g3-s3", tmp_path / "art")  # nor a bucket's experiment for a local run
