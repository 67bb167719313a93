"""Feature-store entries on an ObjectStore: round trip on both backends, a tampered entry is recomputed."""

from __future__ import annotations

import polars as pl
import pytest

from gogooku3.features import store
from gogooku3.features.spec import FeatureSpec


@pytest.fixture(params=["local", "s3"])
def objects(request):
    return request.getfixturevalue(f"{request.param}_store")


def test_entry_round_trip_and_tamper(objects, tmp_path):
    frame = pl.DataFrame({"Code": ["1301", "1332"], "ret_1d": [0.01, -0.02]})
    spec = FeatureSpec(name="ret_1d", group="price", sources=("Close",), window=1, lookback=1, description="r")
    path = store.entry_path(tmp_path / "fs", "d" * 64, "c" * 64)
    assert store.load(path, objects) is None
    store.save(path, frame, [spec], {"name": "t"}, objects=objects)
    assert not path.exists()  # went to the object store, not the local directory
    loaded, specs = store.load(path, objects)
    assert loaded.equals(frame) and specs[0].name == "ret_1d"
    key = store.object_key(path)
    assert objects.exists(key) and key.startswith("features/")
    if hasattr(objects, "root"):
        target = objects.root / key
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0xFF
        target.write_bytes(bytes(data))
    else:
        meta = objects.head(key)["Metadata"]
        objects.client.put_object(Bucket=objects.bucket, Key=f"{objects.prefix}/{key}", Body=b"x", Metadata=meta)
    assert store.load(path, objects) is None  # refused, so the caller recomputes
