"""J-Quants raw snapshots on an ObjectStore: same pages, same digest on every backend."""

from __future__ import annotations

import pytest

from gogooku3.data.jquants.snapshot import Partition, Snapshot, export_snapshot
from gogooku3.errors import DataError

PARTS = [
    Partition("bars", "date=2024-01-04", {"date": "2024-01-04"}),
    Partition("bars", "date=2024-01-05", {"date": "2024-01-05"}),
    Partition("calendar", "month=2024-01", {"from": "2024-01-01", "to": "2024-01-31"}),
]


def _fill(snapshot: Snapshot) -> None:
    for i, part in enumerate(PARTS):
        pages = [f'{{"data": [{i}]}}'.encode(), f'{{"data": [{i + 1}]}}'.encode()]
        snapshot.store(part, f"/{part.endpoint}", pages, rows=2)
    snapshot.write_manifest()


def test_local_files_to_local_objects_to_s3_keep_digest(tmp_path, local_store, s3_store):
    files = Snapshot(tmp_path / "files" / "jquants", fsync=False)
    _fill(files)
    digest = files.digest(PARTS)
    on_local = export_snapshot(files, local_store)
    on_s3 = export_snapshot(on_local, s3_store)
    for snap in (on_local, on_s3):
        reopened = Snapshot(tmp_path / "lock", objects=snap.objects, prefix=snap.prefix)  # manifest read back from the store
        assert reopened.digest(PARTS) == digest
        assert [reopened.pages(p) for p in PARTS] == [files.pages(p) for p in PARTS]
    assert {i.key for i in s3_store.list("raw/jquants/")} >= {
        "raw/jquants/bars/date=2024-01-04.parquet", "raw/jquants/bars/date=2024-01-04.json",
        "raw/jquants/manifest.json"}  # fmt: skip


def test_snapshot_written_straight_to_s3(tmp_path, s3_store):
    direct = Snapshot(tmp_path / "jquants", objects=s3_store)
    _fill(direct)
    files = Snapshot(tmp_path / "files" / "jquants", fsync=False)
    _fill(files)
    assert Snapshot(tmp_path / "jquants", objects=s3_store).digest(PARTS) == files.digest(PARTS)
    assert not (tmp_path / "jquants" / "raw").exists()  # nothing went to local files
    # a partition overwritten behind the store's back is refused on read
    meta = s3_store.head(direct.key(PARTS[0]))["Metadata"]
    s3_store.client.put_object(Bucket=s3_store.bucket, Key=f"gg3/{direct.key(PARTS[0])}", Body=b"PAR1", Metadata=meta)
    with pytest.raises(DataError, match="date=2024-01-04"):
        direct.pages(PARTS[0])
