"""One MLflow run: config, params, tags, dataset lineage, metrics, artifacts and models.

The artifact and metric names used here are a contract read by outside tools.
"""

from __future__ import annotations

import json
import logging
import platform
import warnings
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from gogooku3.tracking.redact import flatten, redact, redact_overrides
from gogooku3.tracking.store import PARENT_TAG, ensure_experiment, open_store, owner_tags, reap_dead_runs, store_lock

log = logging.getLogger(__name__)

PACKAGES = (
    "gogooku3", "numpy", "pandas", "polars", "pyarrow", "scipy", "lightgbm", "torch", "lightning",
    "torch-geometric", "mlflow", "optuna", "hydra-core", "omegaconf", "great-expectations", "exchange-calendars",
)  # fmt: skip
MAX_PARAM_LENGTH = 6000  # MLflow's limit; longer values are logged whole in config/config.yaml
FLUSH_EVERY = 900
DESCRIPTION_TAG = "mlflow.note.content"  # what the MLflow UI shows as the run's description
FOLD_TAG = "fold"  # set on a run's per-fold child runs only


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


class _MetricBuffer:
    """Buffered metric logging to ``run_id`` through the client (never the fluent active run)."""

    uri: str
    run_id: str | None
    _pending: list[Any]
    _metric_names: set[str]

    def log_metric(self, name: str, value: float, step: int = 0) -> None:
        from mlflow.entities import Metric

        if value is None or value != value:  # skip NaN: "no value" is not a metric
            return
        self._pending.append(Metric(name, float(value), _now_ms(), int(step)))
        self._metric_names.add(name)
        if len(self._pending) >= FLUSH_EVERY:
            self.flush()

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        for name, value in metrics.items():
            self.log_metric(name, value, step)

    def flush(self) -> None:
        if self._pending and self.run_id:
            from mlflow import MlflowClient

            MlflowClient(self.uri).log_batch(self.run_id, metrics=self._pending)
            by_step: dict[int, dict[str, float]] = {}
            for metric in self._pending:
                by_step.setdefault(metric.step, {})[metric.key] = metric.value
            for step, values in sorted(by_step.items()):
                self._mirror_metrics(values, step)
            self._pending = []

    def _mirror_metrics(self, values: dict[str, float], step: int) -> None:
        pass


class MlflowRun(_MetricBuffer):
    """Context manager around ``mlflow.start_run`` with buffered metric logging.

    On an exception the run ends FAILED; on ``optuna.TrialPruned`` it ends KILLED with tag
    ``trial_state=PRUNED`` so sweeps show pruned trials for what they are.
    """

    def __init__(
        self,
        uri: str,
        experiment: str,
        artifact_root: Path | str,
        run_name: str | None = None,
        parent_run_id: str | None = None,
        mirror: Any = None,
        mirror_group: str | None = None,
    ) -> None:
        # A local folder, or a URI such as s3://bucket/prefix/mlflow (gogooku3.storage.artifacts).
        root = str(artifact_root)
        self.uri, self.experiment, self.artifact_root = uri, experiment, root if "://" in root else Path(root)
        self.run_name, self.parent_run_id = run_name, parent_run_id
        # A second logger (W&B) receiving copies of config, tags, metrics and plots.
        self.mirror, self.mirror_group = mirror, mirror_group
        self._pending: list[Any] = []
        self._metric_names: set[str] = set()
        self.run_id: str | None = None
        self.experiment_id: str | None = None
        self.name: str | None = run_name

    def __enter__(self) -> MlflowRun:
        import mlflow

        from gogooku3.console import quiet_third_party

        quiet_third_party()  # MLflow configures its loggers on first import
        self._mlflow = mlflow
        mlflow.set_tracking_uri(self.uri)
        client = open_store(self.uri)  # concurrent first runs on a new SQLite store take turns
        self.experiment_id = experiment_id = ensure_experiment(client, self.uri, self.experiment, self.artifact_root)
        reap_dead_runs(client)  # runs left RUNNING by a killed process end KILLED
        run = mlflow.start_run(
            experiment_id=experiment_id, run_name=self.run_name, parent_run_id=self.parent_run_id, tags=owner_tags()
        )
        self.run_id, self.experiment_id = run.info.run_id, str(experiment_id)
        self.name = run.info.run_name  # the configured name, or the one MLflow made up
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        status = "FINISHED"
        if exc_type is not None:
            status = "KILLED" if exc_type.__name__ == "TrialPruned" else "FAILED"
            self._mlflow.set_tag("trial_state", "PRUNED" if status == "KILLED" else "FAILED")
            self._mlflow.set_tag("error", f"{exc_type.__name__}: {redact(str(exc))}"[:5000])
        try:
            self.flush()
            if status == "FINISHED":
                self._publish_view()
        finally:
            self._mlflow.end_run(status=status)
            if self.mirror is not None:
                self.mirror.finish(failed=status != "FINISHED")

    def _publish_view(self) -> None:
        """The experiment's ``headline`` runs-table view, from the metrics this run logged."""
        from gogooku3.tracking.view import publish_view

        try:
            with store_lock(self.uri):
                publish_view(open_store(self.uri), self.experiment_id, self._metric_names)
        except Exception as exc:  # a view is a convenience: it never fails the run
            log.warning("headline view not written: %s", exc)

    # --- configuration and identity -----------------------------------------------------
    def log_config(self, config: Mapping[str, Any], overrides: list[str]) -> None:
        """``config/config.yaml`` (resolved), ``config/overrides.yaml`` and flattened params."""
        safe = redact(dict(config))
        self._mlflow.log_text(yaml.safe_dump(safe, sort_keys=False), "config/config.yaml")
        self._mlflow.log_text(yaml.safe_dump(redact_overrides(overrides)), "config/overrides.yaml")
        params = {k: _param_value(v) for k, v in flatten(safe).items()}
        items = list(params.items())
        for i in range(0, len(items), 100):
            self._mlflow.log_params(dict(items[i : i + 100]))
        if self.mirror is not None:
            self.mirror.start(safe, group=self.mirror_group, name=self.run_name)
            self.mirror.set_tags({"mlflow_run_id": self.run_id})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        safe = {k: str(redact(v, k)) for k, v in tags.items()}
        self._mlflow.set_tags(safe)
        if self.mirror is not None:
            self.mirror.set_tags(safe)

    def log_dataset(self, name: str, source: str, digest: str, schema: Mapping[str, str], context: str = "training") -> None:
        """Record the input as an MLflow dataset whose digest covers every row.

        MLflow caps a dataset digest at 36 characters, so the dataset carries the first 32
        hex digits of our sha256 and the whole value as its ``sha256`` input tag (and the
        run as its ``data_digest`` tag).
        """
        from mlflow.data.meta_dataset import MetaDataset
        from mlflow.types import ColSpec, Schema

        if "://" in source and not source.startswith("file://"):
            from mlflow.data.code_dataset_source import CodeDatasetSource

            dataset_source = CodeDatasetSource(tags={"uri": redact(source)})
        else:
            from mlflow.data.dataset_source_registry import resolve_dataset_source

            with warnings.catch_warnings():  # MLflow warns that two registered sources both match a path
                warnings.simplefilter("ignore", UserWarning)
                dataset_source = resolve_dataset_source(source)  # a local path: LocalArtifactDatasetSource
        columns = Schema([ColSpec(type=_mlflow_type(dtype), name=col) for col, dtype in schema.items()])
        dataset = MetaDataset(dataset_source, name=name, digest=digest[:32], schema=columns)
        # Runs started together on the same data race to insert the one dataset row.
        with store_lock(self.uri):
            try:
                self._mlflow.log_input(dataset, context=context, tags={"sha256": digest})
            except Exception:  # inserted meanwhile by a store client that does not take the lock
                self._mlflow.log_input(dataset, context=context, tags={"sha256": digest})

    def log_environment(self) -> None:
        versions = package_versions()
        self._mlflow.log_dict(versions, "environment/packages.json")
        self._mlflow.set_tags({"python_version": versions["python"]})

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Params beyond the flattened config (e.g. ``cost_model.*``)."""
        self._mlflow.log_params({k: _param_value(redact(v, k)) for k, v in params.items()})

    def set_description(self, markdown: str) -> None:
        """The run's description in the MLflow UI (tag ``mlflow.note.content``)."""
        self._mlflow.set_tag(DESCRIPTION_TAG, markdown)

    def child(self, name: str, tags: Mapping[str, Any] | None = None, mirror_prefix: str = "") -> ChildRun:
        """A nested run under this one (``with run.child(...) as fold:``); this run stays the active one."""
        return ChildRun(self, name, tags or {}, mirror_prefix)

    # --- metrics -------------------------------------------------------------------------
    def _mirror_metrics(self, values: dict[str, float], step: int) -> None:
        if self.mirror is not None:
            self.mirror.log_metrics(values, step)

    # --- artifacts -----------------------------------------------------------------------
    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None:
        self._mlflow.log_artifact(str(path), artifact_path)
        if self.mirror is not None and Path(path).suffix == ".png":
            self.mirror.log_image(path, f"{artifact_path}/{Path(path).stem}" if artifact_path else None)

    def log_artifacts(self, directory: Path, artifact_path: str | None = None) -> None:
        self._mlflow.log_artifacts(str(directory), artifact_path)

    def _log_npz(self, arrays: Mapping[str, Any], artifact_file: str) -> None:
        import tempfile

        import numpy as np

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / artifact_file
            np.savez(path, **arrays)
            self._mlflow.log_artifact(str(path))

    def log_json(self, obj: Any, artifact_file: str) -> None:
        self._mlflow.log_text(json.dumps(redact(obj), indent=2, default=str), artifact_file)

    def log_deployable(self, folder: Path, name: str = "deploy") -> str:
        """Log a deploy bundle (:mod:`gogooku3.training.deployable`) as a pyfunc model; returns its URI.

        The bundle's own loader serves it (``mlflow.pyfunc.load_model``); the registry
        registers this model, and predict.py reads the bundle's files from it.
        """
        import mlflow.pyfunc

        info = mlflow.pyfunc.log_model(
            name=name, loader_module="gogooku3.training.deployable", data_path=str(folder),
            pip_requirements=[f"{p}=={metadata.version(p)}" for p in ("lightgbm", "polars", "numpy")],
        )  # fmt: skip
        return str(info.model_uri)

    def log_model(self, bundle: Any, name: str = "model") -> None:
        """Log a fitted model in its MLflow flavor, with a signature."""
        from mlflow.models import infer_signature

        if bundle.flavor == "lightgbm":
            import mlflow.lightgbm

            for h, booster in bundle.model.items():
                example = bundle.input_example
                signature = infer_signature(example, booster.predict(example)) if example is not None else None
                mlflow.lightgbm.log_model(
                    booster, name=f"{name}_h{h}", signature=signature, input_example=example,
                    pip_requirements=[f"lightgbm=={metadata.version('lightgbm')}"],
                )  # fmt: skip
        elif bundle.flavor == "pytorch":
            import mlflow.pytorch

            mlflow.pytorch.log_model(
                bundle.model,
                name=name,
                signature=_tensor_signature(bundle.input_example, bundle.output_example),
                serialization_format="pickle",  # set explicitly: 3.14 made pt2 (torch.export) the default
                pip_requirements=[f"torch=={metadata.version('torch').split('+')[0]}"],
            )
            if bundle.input_example is not None:
                # MLflow's pytorch flavor cannot serve (or validate) dict inputs; the keyword
                # inputs of forward() are kept as a run artifact instead.
                self._log_npz(bundle.input_example, f"{name}_input_example.npz")
        else:
            raise ValueError(f"unknown model flavor {bundle.flavor!r}")


class ChildRun(_MetricBuffer):
    """A nested run (tag ``mlflow.parentRunId``), written through the client.

    Made with :meth:`MlflowRun.child`. The fluent API's active run stays the parent, so
    nothing the parent logs meanwhile lands here. Ends FINISHED, or KILLED on
    ``optuna.TrialPruned`` and FAILED on any other exception (the exception propagates).
    Its metrics also reach the parent's mirror, each name prefixed by ``mirror_prefix``
    (W&B has no nested runs).
    """

    def __init__(self, parent: MlflowRun, name: str, tags: Mapping[str, Any], mirror_prefix: str = "") -> None:
        self.parent, self.name, self.mirror_prefix = parent, name, mirror_prefix
        self.uri = parent.uri
        self.tags = {k: str(redact(v, k)) for k, v in tags.items()}
        self._pending: list[Any] = []
        self._metric_names: set[str] = set()
        self.run_id: str | None = None

    def __enter__(self) -> ChildRun:
        from mlflow import MlflowClient

        if self.parent.run_id is None:
            raise RuntimeError("a child run needs its parent run started")
        self._client = MlflowClient(self.uri)
        tags = {PARENT_TAG: self.parent.run_id, **owner_tags(), **self.tags}  # owner: reaped with its parent
        run = self._client.create_run(self.parent.experiment_id, run_name=self.name, tags=tags)
        self.run_id = run.info.run_id
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        status = "FINISHED"
        if exc_type is not None:
            status = "KILLED" if exc_type.__name__ == "TrialPruned" else "FAILED"
            self._client.set_tag(self.run_id, "error", f"{exc_type.__name__}: {redact(str(exc))}"[:5000])
        try:
            self.flush()
        finally:
            self._client.set_terminated(self.run_id, status)

    def log_params(self, params: Mapping[str, Any]) -> None:
        from mlflow.entities import Param

        items = [Param(k, _param_value(redact(v, k))) for k, v in params.items()]
        self._client.log_batch(self.run_id, params=items)

    def _mirror_metrics(self, values: dict[str, float], step: int) -> None:
        if self.parent.mirror is not None:
            self.parent.mirror.log_metrics({self.mirror_prefix + k: v for k, v in values.items()}, step)


def _tensor_signature(inputs: dict[str, Any] | None, output: Any) -> Any:
    """A tensor signature for a multi-input ``forward`` (MLflow cannot infer one from a dict).

    Batch and stock axes are variable (-1); the rest keep the example's shape.
    """
    if not inputs or output is None:
        return None
    from mlflow.models import ModelSignature
    from mlflow.types.schema import Schema, TensorSpec

    def spec(a: Any, name: str | None = None) -> TensorSpec:
        return TensorSpec(a.dtype, (-1, -1, *a.shape[2:]), name)

    return ModelSignature(Schema([spec(v, k) for k, v in inputs.items()]), Schema([spec(output)]))


def _param_value(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    return text if len(text) <= MAX_PARAM_LENGTH else text[: MAX_PARAM_LENGTH - 3] + "..."


def _mlflow_type(dtype: str) -> str:
    dtype = dtype.lower()
    if dtype.startswith(("float", "decimal")):
        return "double"
    if dtype.startswith(("int", "uint")):
        return "long"
    if dtype.startswith(("date", "datetime")):
        return "datetime"
    if dtype.startswith("bool"):
        return "boolean"
    return "string"


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)
