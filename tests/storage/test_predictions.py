"""ObjectPredictionStore (on disk and on S3) answers exactly as the local parquet store, and a
tampered object is refused by the ObjectStore's sha256 check instead of being served."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from gogooku3.errors import DataError
from gogooku3.storage.predictions import PREDICTION_SCHEMA, LocalPredictionStore, ObjectPredictionStore
from tests.storage.test_olap_predictions import D0, predictions


@pytest.fixture(params=["local_objects", "s3"])
def objects(request, local_store, s3_store):
    return local_store if request.param == "local_objects" else s3_store


def test_objects_store_agrees_with_local_parquet(objects, tmp_path):
    stores = LocalPredictionStore(tmp_path / "parquet"), ObjectPredictionStore(objects)
    frames = [predictions(D0, "v1", ["1301", "1332", "7203"]), predictions(D0 + timedelta(days=1), "v1", ["1301"]),
              predictions(D0, "v2", ["1301"], seed=5.0), predictions(D0, "v1", ["6758"], seed=9.0)]  # fmt: skip
    for store in stores:
        for frame in frames:
            store.write("predictions", frame)
    for read in (lambda s: s.read("predictions"), lambda s: s.read("predictions", D0, D0, codes=["1301"], horizon=5),
                 lambda s: s.read("predictions", model_version="v1")):  # fmt: skip
        a, b = (read(s) for s in stores)
        assert a.schema == b.schema and a.equals(b, null_equal=True)
    v1 = stores[1].read("predictions", D0, D0, model_version="v1")
    assert set(v1["Code"]) == {"6758"}  # the rewrite replaced (D0, v1) whole
    assert stores[0].dates() == stores[1].dates() == [D0, D0 + timedelta(days=1)]
    assert all(k.key.startswith("predictions/predictions/Date=") for k in objects.list("predictions/"))


def test_empty_store_reads_have_the_schema(local_store):
    store = ObjectPredictionStore(local_store)
    assert store.read("predictions").schema == pl.Schema(PREDICTION_SCHEMA)
    assert store.dates("quality") == []


def test_a_tampered_object_is_refused(local_store):
    store = ObjectPredictionStore(local_store)
    store.write("predictions", predictions(D0, "v1", ["1301"]))
    (info,) = local_store.list("predictions/")
    path = local_store.root / info.key
    path.write_bytes(path.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(DataError, match="sha256"):
        store.read("predictions")
