"""``storage`` group: where objects, OLAP tables, the cache and stored predictions live.

Endpoints and credentials are never keys here: the S3 endpoint comes from
``GOGOOKU3_S3_ENDPOINT`` or ``AWS_ENDPOINT_URL``, credentials and region from the
environment or the standard AWS config (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass
class ObjectsSettings:
    kind: str = "local"  # local | s3
    root: str = "${paths.data_dir}/objects"  # local backend
    bucket: Optional[str] = None  # s3 backend
    prefix: str = "gogooku3"


@dataclass
class OlapSettings:
    kind: str = "chdb"  # chdb (embedded, a directory) | clickhouse (a server via clickhouse-connect)
    path: str = "${paths.data_dir}/olap"
    url: Optional[str] = None  # clickhouse server, without credentials (those come from the environment)


@dataclass
class CacheSettings:
    kind: str = "none"  # none | redis
    db: int = 0
    ttl_seconds: int = 86400
    prefix: str = "gogooku3:"


@dataclass
class PredictionsSettings:
    kind: str = "local"  # local (parquet under predict.store) | objects (parquet in storage.objects) | olap
    root: str = "${paths.output_dir}/predictions"


@dataclass
class StorageSettings:
    name: str = "local"
    # Appended to the MLflow experiment names (tracking.experiment, predict.experiment), so runs
    # whose artifacts live in a bucket never share an experiment with local runs.
    experiment_suffix: str = ""
    objects: ObjectsSettings = field(default_factory=ObjectsSettings)
    olap: OlapSettings = field(default_factory=OlapSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    predictions: PredictionsSettings = field(default_factory=PredictionsSettings)
