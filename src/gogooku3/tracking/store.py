"""The MLflow tracking store, kept honest under concurrent and killed runs.

Two processes that open a new SQLite store at once both try to create MLflow's tables
(``table experiments already exists``); :func:`open_store` serialises that first open with
an exclusive lock on ``<db>.lock``. A run killed with SIGKILL never ends itself, so each run
records who runs it (host, pid, process start) and :func:`reap_dead_runs` marks runs whose
process is gone KILLED when the next run starts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

HOST_TAG = "gogooku3.host"
PID_TAG = "gogooku3.pid"
PROC_TAG = "gogooku3.proc_start"  # "<boot id>:<start time in ticks>": tells a reused pid apart
PARENT_TAG = "mlflow.parentRunId"

_opened: set[str] = set()


def is_server(uri: str) -> bool:
    """Whether ``uri`` names an MLflow tracking server (``http(s)://``), not a store it opens itself."""
    return uri.split("://", 1)[0].lower() in ("http", "https")


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI, or None for any other store."""
    if not uri.startswith("sqlite:///"):
        return None
    from urllib.parse import unquote

    path = unquote(uri.removeprefix("sqlite:///").split("?", 1)[0])
    return None if path in ("", ":memory:") else Path(path)


@contextlib.contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """Exclusive lock on ``<db>.lock`` for a SQLite store; a no-op for other stores.

    A server or PostgreSQL store serialises its own writes; the races left (two creates of one
    experiment or dataset) are caught where they happen.
    """
    db = sqlite_path(uri)
    if db is None:
        yield
        return
    import fcntl

    db.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{db}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def open_store(uri: str) -> Any:
    """An ``MlflowClient`` on ``uri`` whose tables exist: the first open per process is locked."""
    from mlflow import MlflowClient

    if uri in _opened:
        return MlflowClient(tracking_uri=uri)
    with store_lock(uri):
        client = MlflowClient(tracking_uri=uri)  # builds the store: creates or migrates its tables
    _opened.add(uri)
    return client


def experiment_location(artifact_root: Path | str | None) -> str | None:
    """The artifact location a new experiment gets: a URI (``s3://...``) as given, a path as ``file://``."""
    if artifact_root is None:
        return None
    if "://" in str(artifact_root):
        return str(artifact_root).rstrip("/")
    Path(artifact_root).mkdir(parents=True, exist_ok=True)
    return Path(artifact_root).resolve().as_uri()


def check_location(found: Any, name: str, artifact_root: Path | str | None) -> None:
    """An experiment whose artifacts live elsewhere than a remote ``artifact_root`` is never reused.

    Reusing it would put this run's artifacts on the old location (MLflow keeps an experiment's
    location for life): an S3 run would silently stay local, a local run would land in a bucket.
    Between local folders an experiment is reused as before.
    """
    if artifact_root is None:
        return
    wanted = str(artifact_root).rstrip("/")
    have = (found.artifact_location or "").rstrip("/")
    remote = "://" in wanted
    if (remote and have != wanted) or (not remote and "://" in have and not have.startswith("file://")):
        from gogooku3.errors import ConfigError

        raise ConfigError(f"MLflow experiment {name} keeps its artifacts at {have}, not {wanted}: name a new "
                          f"experiment for this storage (tracking.experiment=, predict.experiment= for predict.py; "
                          f"e.g. {name}-s3)")


def check_experiment(uri: str, name: str, artifact_root: Path | str | None) -> None:
    """Before a run writes anything: an existing experiment ``name`` must keep its artifacts at ``artifact_root``."""
    db = sqlite_path(uri)
    if is_server(uri) or (db is not None and not db.exists()):  # a store not made yet holds no experiment: create nothing now
        return
    found = open_store(uri).get_experiment_by_name(name)
    if found is not None:
        check_location(found, name, artifact_root)


def ensure_experiment(client: Any, uri: str, name: str, artifact_root: Path | str | None) -> str:
    """The id of experiment ``name``, creating it once even when several runs start together.

    On a tracking server ``artifact_root`` is not used: the server's ``--artifacts-destination``
    holds every artifact (proxied, ``mlflow-artifacts:/``), so clients on other machines never
    write a path of their own into the shared experiment.
    """
    if is_server(uri):
        artifact_root = None  # the server's artifacts destination, whatever the config says
    found = client.get_experiment_by_name(name)
    if found is not None:
        check_location(found, name, artifact_root)
        return found.experiment_id
    with store_lock(uri):
        found = client.get_experiment_by_name(name)
        if found is not None:
            check_location(found, name, artifact_root)
            return found.experiment_id
        location = None if is_server(uri) else experiment_location(artifact_root)
        try:
            return client.create_experiment(name, artifact_location=location)
        except Exception:  # created meanwhile by a process that does not take the lock
            found = client.get_experiment_by_name(name)
            if found is None:
                raise
            check_location(found, name, artifact_root)
            return found.experiment_id


def _proc_start(pid: int) -> str | None:
    """``<boot id>:<start ticks>`` of process ``pid`` (Linux), None where /proc does not tell."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()  # the command name may hold spaces and parentheses
    return f"{boot}:{fields[19]}" if len(fields) > 19 else None


def owner_tags() -> dict[str, str]:
    """Tags naming the process that runs this run, for :func:`reap_dead_runs`."""
    tags = {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}
    if (start := _proc_start(os.getpid())) is not None:
        tags[PROC_TAG] = start
    return tags


def process_alive(pid: int, proc_start: str | None) -> bool:
    """Whether the process that ran the run still runs (same pid and, where known, same start)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        pass
    if proc_start is None:
        return True
    current = _proc_start(pid)
    return current is None or current == proc_start


def reap_dead_runs(client: Any) -> list[str]:
    """Mark KILLED every RUNNING run started on this host by a process that no longer runs.

    Their RUNNING child runs (folds, trials) end KILLED with them. Returns the reaped run ids.
    """
    host = socket.gethostname()
    experiments = [e.experiment_id for e in client.search_experiments()]
    if not experiments:
        return []
    running = client.search_runs(
        experiments, filter_string=f"attributes.status = 'RUNNING' and tags.`{HOST_TAG}` = '{host}'", max_results=1000
    )
    reaped = []
    for run in running:
        tags = run.data.tags
        try:
            pid = int(tags[PID_TAG])
        except (KeyError, ValueError):
            continue
        if process_alive(pid, tags.get(PROC_TAG)):
            continue
        if _is_sweep_trial(client, tags):  # as the sweep itself marks a trial whose worker died
            client.set_tag(run.info.run_id, "trial_state", "FAIL")
        for run_id in [run.info.run_id, *_running_children(client, experiments, run.info.run_id)]:
            client.set_tag(run_id, "fail_reason", f"process {pid} on {host} ended without closing the run")
            client.set_terminated(run_id, "KILLED")
            reaped.append(run_id)
        log.warning("run %s (%s) was left RUNNING by process %d, which is gone: marked KILLED",
                    run.info.run_id, run.info.run_name, pid)  # fmt: skip
    return reaped


def _is_sweep_trial(client: Any, tags: dict[str, str]) -> bool:
    parent = tags.get(PARENT_TAG)
    if not parent:
        return False
    try:
        return client.get_run(parent).data.tags.get("sweep") is not None
    except Exception:  # the parent is gone: not ours to judge
        return False


def _running_children(client: Any, experiments: list[str], run_id: str) -> list[str]:
    children = client.search_runs(
        experiments, filter_string=f"attributes.status = 'RUNNING' and tags.`{PARENT_TAG}` = '{run_id}'", max_results=1000
    )
    return [c.info.run_id for c in children]
