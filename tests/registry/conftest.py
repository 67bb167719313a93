"""A real MLflow sqlite store per test (copied from one migrated template) and deployable runs.

A deployable run here is what ``train.py deploy=true`` leaves: a pyfunc LoggedModel named
``deploy`` holding a tiny bundle with its manifest.json, the lineage tags and the test,
validation and canary metrics; the values are the test's own.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

GOOD_METRICS = {"test/rank_ic_h1": 0.04, "test/rank_icir_h1": 0.3, "test/rank_ic_tstat_h1": 4.5,
                "test/oracle_capture_h1": 0.55, "val/rank_ic_h1": 0.05, "canary/max_abs_rank_ic_tstat": 0.8}  # fmt: skip


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    """An empty store with MLflow's tables built once (building them takes seconds)."""
    from mlflow import MlflowClient

    db = tmp_path_factory.mktemp("mlflow_template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{db}").search_experiments()
    return db


class Store:
    """One test's store: ``uri``, an experiment whose artifacts live under the test's tmp_path."""

    def __init__(self, root: Path, template: Path) -> None:
        import mlflow
        from mlflow import MlflowClient

        self.root = root
        db = root / "mlflow.db"
        shutil.copy(template, db)
        self.uri = f"sqlite:///{db}"
        self.client = MlflowClient(tracking_uri=self.uri)
        (root / "mlartifacts").mkdir()
        self.experiment_id = self.client.create_experiment("gogooku3", artifact_location=(root / "mlartifacts").as_uri())
        mlflow.set_tracking_uri(self.uri)
        self._n = 0

    def deployable_run(self, metrics: dict[str, float] | None = None, drop: tuple[str, ...] = (),
                       tamper: bool = False, **tags: str) -> str:  # fmt: skip
        """A finished run with a ``deploy`` LoggedModel; ``tags`` override the lineage tags, ``drop`` removes some."""
        import mlflow

        from tests.registry.tiny_model import TinyModel

        self._n += 1
        bundle = self.root / f"bundle{self._n}"
        bundle.mkdir()
        (bundle / "weights.bin").write_bytes(bytes([self._n]) * 64)
        manifest = json.dumps({"weights.bin": hashlib.sha256((bundle / "weights.bin").read_bytes()).hexdigest()})
        (bundle / "manifest.json").write_text(manifest)
        digest = hashlib.sha256(manifest.encode()).hexdigest()
        base: dict[str, Any] = {"deployable": "true", "data_digest": "d" * 16, "feature_schema_hash": "f" * 16,
                                "artifact_sha256": "0" * 64 if tamper else digest, "git_sha": "a1b2c3d",
                                "folds_digest": "folds-A", "canary_passed": "true"}  # fmt: skip
        base.update(tags)
        with mlflow.start_run(experiment_id=self.experiment_id, run_name=f"deploy{self._n}") as run:
            mlflow.pyfunc.log_model(name="deploy", python_model=TinyModel(self._n), artifacts={"bundle": str(bundle)},
                                    pip_requirements=[])  # fmt: skip
            mlflow.set_tags({k: v for k, v in base.items() if k not in drop})
            mlflow.log_metrics(GOOD_METRICS if metrics is None else metrics)
        return run.info.run_id


@pytest.fixture
def store(tmp_path: Path, template_db: Path):
    import mlflow

    yield Store(tmp_path, template_db)
    mlflow.set_tracking_uri(None)


@pytest.fixture
def registry(store):
    from gogooku3.registry.versions import Registry

    return Registry(store.uri)
