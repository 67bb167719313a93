"""The ``storage`` group wired into a run: one object store, the MLflow artifact root, the cache.

Opened once per train or predict run, before anything is written: S3 credentials refused by
the server, or an MLflow experiment whose artifacts live elsewhere, end the run with one line.
With ``storage.objects.kind=local`` the run keeps its plain local layout (snapshots under
``paths.data_dir``, the feature store under ``paths.output_dir``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from gogooku3.storage.cache import Cache
from gogooku3.storage.objects import ObjectStore


@dataclass
class RunStorage:
    objects: ObjectStore | None  # None: storage=local keeps files where they always were
    artifact_root: str  # a local folder or s3://bucket/prefix/mlflow
    cache: Cache | None  # None: no cache configured (storage.cache.kind=none)


def open_run_storage(cfg: Any, experiment: str) -> RunStorage:
    """The run's storage; checks S3 credentials and the experiment's artifact location first."""
    from gogooku3.storage.artifacts import artifact_location, check_reachable, export_mlflow_endpoint
    from gogooku3.storage.cache import open_cache
    from gogooku3.storage.objects import open_store
    from gogooku3.tracking.store import check_experiment

    export_mlflow_endpoint()  # models trained on S3 are read from there whatever this run's storage
    storage = cfg.get("storage")
    if storage is None:
        return RunStorage(None, str(cfg.tracking.artifact_root), None)
    objects = None
    if storage.objects.kind != "local":
        objects = open_store(storage.objects)
        check_reachable(objects)
    root = artifact_location(storage.objects, str(cfg.tracking.artifact_root))
    check_experiment(cfg.tracking.uri, experiment, root)
    return RunStorage(objects, root, None if storage.cache.kind == "none" else open_cache(storage.cache))


def data_source(cfg: Any, storage: RunStorage) -> Any:
    """``cfg.data`` instantiated; a source with an ``object_store`` field gets the run's object store."""
    from hydra.utils import get_class

    from gogooku3.pipeline.experiment import instantiate

    target = cfg.data.get("_target_")
    if storage.objects is not None and target:
        cls = get_class(str(target))
        if dataclasses.is_dataclass(cls) and "object_store" in {f.name for f in dataclasses.fields(cls)}:
            return instantiate(cfg.data, object_store=storage.objects)
    return instantiate(cfg.data)
