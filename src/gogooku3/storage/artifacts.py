"""Where a run's MLflow artifacts live for a ``storage`` config, and the S3 checks a run makes first.

With ``storage.objects.kind=s3`` the artifact root is ``s3://<bucket>/<prefix>/mlflow``. MLflow
reaches S3 through boto3, which reads the endpoint from ``MLFLOW_S3_ENDPOINT_URL``: that is set
in-process from the storage endpoint (``GOGOOKU3_S3_ENDPOINT`` or ``AWS_ENDPOINT_URL``), never
from YAML, and credentials stay boto3's own (environment or AWS config).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from gogooku3.storage.objects import ObjectStore, S3ObjectStore, s3_endpoint

log = logging.getLogger(__name__)
MLFLOW_PREFIX = "mlflow"


def artifact_location(objects: Any, local_root: str) -> str:
    """The MLflow artifact root: ``s3://bucket/prefix/mlflow`` for an S3 store, else ``local_root``."""
    if getattr(objects, "kind", "local") != "s3":
        return str(local_root)
    export_mlflow_endpoint()
    prefix = str(objects.prefix or "").strip("/")
    return f"s3://{objects.bucket}/{prefix + '/' if prefix else ''}{MLFLOW_PREFIX}"


def export_mlflow_endpoint() -> str | None:
    """Point MLflow's boto3 client at the storage endpoint (``MLFLOW_S3_ENDPOINT_URL``) in this process."""
    endpoint = s3_endpoint()
    if endpoint and not os.environ.get("MLFLOW_S3_ENDPOINT_URL"):
        os.environ["MLFLOW_S3_ENDPOINT_URL"] = endpoint
    return os.environ.get("MLFLOW_S3_ENDPOINT_URL") or endpoint


def check_reachable(store: ObjectStore) -> None:
    """Fail before anything is written when S3 refuses the credentials (one line naming the endpoint).

    A bucket that does not exist yet is created (versioning and Object Lock on), as a first run
    on a fresh server expects; a local store needs no check.
    """
    if not isinstance(store, S3ObjectStore):
        return
    from botocore.exceptions import ClientError

    try:
        store.client.list_objects_v2(Bucket=store.bucket, MaxKeys=1)  # a GET: its error names the cause
        return
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchBucket":
            raise store._error(exc, "/", "list") from None
    except Exception as exc:
        raise store._error(exc, "/", "list") from None
    store.ensure_bucket()
    log.info("storage: created bucket %s at %s (versioning, object lock)", store.bucket, store.endpoint_url)
