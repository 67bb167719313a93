"""Find a deployed model by registry alias or run id, fetch its bundle and load it under gate 5.

Gate 5, load side: the bundle's manifest sha256 equals the ``artifact_sha256`` recorded
at training (and copied to the registry version), every file matches the manifest,
weights load strictly, and the canary inputs reproduce their recorded outputs
(:func:`gogooku3.training.deployable.read_bundle`). The feature side of gate 5
(:func:`check_features`) runs once the features are built.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gogooku3.errors import ConfigError
from gogooku3.registry import names
from gogooku3.training.deployable import Deployable, IntegrityError, read_bundle

RUN_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class LoadedModel:
    """A verified deployable and where it came from."""

    deployable: Deployable
    label: str  # the stored ``model_version``: "name@alias=v3", "name/v3" or "run:<id>"
    run_id: str
    version: str | None = None

    @property
    def meta(self) -> dict[str, Any]:
        return self.deployable.meta


def parse_spec(spec: str, default_name: str) -> tuple[str | None, str | None, str | None]:
    """``champion`` | ``name@alias`` | ``name/3`` | a 32-hex run id -> (name, alias or version, run id)."""
    spec = str(spec).strip()
    if RUN_ID.match(spec):
        return None, None, spec
    if "@" in spec:
        name, alias = spec.split("@", 1)
        return name or default_name, alias, None
    if "/" in spec:
        name, version = spec.rsplit("/", 1)
        if not version.isdigit():
            raise ConfigError(f"model={spec}: expected an alias, name@alias, name/<version> or a run id")
        return name, version, None
    if re.match(r"^[A-Za-z][\w-]*$", spec):
        return default_name, spec, None
    raise ConfigError(f"model={spec}: expected an alias, name@alias, name/<version> or a run id")


def load_model(spec: str, tracking_uri: str, registry_name: str = names.DEFAULT_MODEL_NAME) -> LoadedModel:
    """Resolve ``spec`` (see :func:`parse_spec`), download the bundle and verify it (gate 5)."""
    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    name, ref, run_id = parse_spec(spec, registry_name)
    try:
        if run_id is None:
            version = client.get_model_version(name, ref) if ref.isdigit() else client.get_model_version_by_alias(name, ref)
            run_id, tags = version.run_id, dict(version.tags)
            uri, label = f"models:/{name}/{version.version}", f"{name}/v{version.version}"
            if not ref.isdigit():
                label = f"{name}@{ref}=v{version.version}"
            expected = tags.get(names.ARTIFACT_SHA256_TAG) or client.get_run(run_id).data.tags.get(names.ARTIFACT_SHA256_TAG)
            number = str(version.version)
        else:
            tags = client.get_run(run_id).data.tags
            uri, label, number = tags.get(names.DEPLOY_MODEL_URI_TAG), f"run:{run_id}", None
            expected = tags.get(names.ARTIFACT_SHA256_TAG)
            if not uri:
                raise ConfigError(f"model={spec}: run {run_id} has no deployable model (train it with deploy=true)")
    except MlflowException as exc:
        raise ConfigError(f"model={spec}: not found in the registry at {tracking_uri} "
                          f"({str(exc).splitlines()[0][:160]})") from None  # fmt: skip
    if not expected:
        raise IntegrityError(f"gate 5: model={spec} has no {names.ARTIFACT_SHA256_TAG} tag; refusing an unpinned model")
    from gogooku3.storage.artifacts import export_mlflow_endpoint

    export_mlflow_endpoint()  # a bundle logged with storage=s3 lives in the bucket
    with tempfile.TemporaryDirectory(prefix="g3model_") as tmp:
        mlflow.set_tracking_uri(tracking_uri)
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp))
        deployable = read_bundle(local, expected_sha256=expected)  # loaded into memory: the download can go
    return LoadedModel(deployable, label, run_id, number)


def check_features(model: LoadedModel, schema: list[dict[str, Any]], schema_hash: str) -> None:
    """Gate 5, feature side: the features just built are exactly those the model was fitted on."""
    from gogooku3.features.panel import schema_difference

    meta = model.meta
    if schema_hash == meta["feature_schema_hash"]:
        return
    what = schema_difference(meta["feature_schema"], schema) or "the feature schema hash differs"
    raise IntegrityError(f"gate 5: model {model.label}: {what}; predict with the model's feature set "
                         f"(features={meta['feature_set']['name']})")  # fmt: skip
