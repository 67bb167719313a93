"""Raw snapshots on disk: response bodies exactly as received, one parquet per partition.

Layout under ``<data_dir>/<name>/``::

    raw/<endpoint>/<date=YYYY-MM-DD | month=YYYY-MM>.parquet   columns page (int32), body (binary)
    raw/<endpoint>/<partition>.json   its manifest record: request (path + params, never the
                                      key), pages, rows, sha256 of the bodies, fetch time
    manifest.json                     all records in one file, rewritten at the end of each run
    quarantine/<endpoint>/<params>-<sha>.body (+ .json)   malformed responses, kept for inspection

Every write is a temp file + rename, and a partition's record is written only after its file
is in place, so a kill at any moment leaves either the old state or the new one. A parquet
without a record is ignored (and overwritten on the next fetch). One small record per
partition keeps each update O(1); rewriting one big manifest per partition would be O(n^2).

Given an ``ObjectStore`` (``objects=``), partitions, records and the manifest go to the
store under ``<prefix>/<endpoint>/<partition>.parquet|.json`` and ``<prefix>/manifest.json``
instead (prefix default ``raw/<name>``, the raw-market-data retention class); the write lock
and quarantine stay in the local root. The content sha256 is of the bodies, so a snapshot
moved between backends keeps its digest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import polars as pl

from gogooku3.data.digest import combine_digests
from gogooku3.errors import DataError
from gogooku3.storage.objects import ObjectStore

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Partition:
    endpoint: str
    pid: str  # "date=2024-01-04" or "month=2024-01"
    params: dict[str, str]

    @property
    def key(self) -> str:
        return f"{self.endpoint}/{self.pid}"

    @property
    def last_day(self) -> date:
        return date.fromisoformat(self.params.get("date") or self.params["to"])


def bodies_sha256(pages: list[bytes]) -> str:
    """Content hash of a partition: independent of how parquet encodes it."""
    digest = hashlib.sha256()
    for body in pages:
        digest.update(len(body).to_bytes(8, "big"))
        digest.update(body)
    return digest.hexdigest()


class Snapshot:
    def __init__(self, root: Path, fsync: bool = True, objects: ObjectStore | None = None,
                 prefix: str | None = None) -> None:  # fmt: skip
        self.root = Path(root)
        self.fsync = fsync
        self.objects = objects
        self.prefix = (prefix or f"raw/{self.root.name}").strip("/")
        self._lock = threading.Lock()
        self.root.mkdir(parents=True, exist_ok=True)
        self.entries: dict[str, dict] = self._read_manifest()

    # -- state -----------------------------------------------------------------------
    def _read_manifest(self) -> dict[str, dict]:
        if self.objects is not None:
            return self._read_object_manifest()
        entries = {}
        for record in sorted((self.root / "raw").glob("*/*.json")):
            if not record.with_suffix(".parquet").exists():
                continue
            try:
                entries[f"{record.parent.name}/{record.stem}"] = json.loads(record.read_text())
            except ValueError:
                raise DataError(f"{record}: unreadable partition record; delete it to re-fetch") from None
        return entries

    def _read_object_manifest(self) -> dict[str, dict]:
        infos = self.objects.list(f"{self.prefix}/")
        keys = {i.key for i in infos}
        entries = {}
        for key in sorted(keys):
            rel = key[len(self.prefix) + 1:]
            if rel.count("/") != 1 or not rel.endswith(".json") or f"{key[:-5]}.parquet" not in keys:
                continue
            try:
                entries[rel[:-5]] = json.loads(self.objects.get(key))
            except ValueError:
                raise DataError(f"object {key}: unreadable partition record; delete it to re-fetch") from None
        return entries

    def key(self, part: Partition) -> str:
        """The partition's object key (object-store snapshots)."""
        return f"{self.prefix}/{part.endpoint}/{part.pid}.parquet"

    def write_manifest(self) -> Path:
        """The consolidated manifest (all partition records, sorted); for people and tools."""
        with self._lock:
            text = json.dumps({"version": 1, "partitions": dict(sorted(self.entries.items()))}, indent=1)
        path = self.root / MANIFEST
        if self.objects is not None:
            self.objects.put(f"{self.prefix}/{MANIFEST}", text.encode(), classification="public",
                             content_type="application/json")  # fmt: skip
            return path
        self._atomic_write(path, lambda tmp: tmp.write_text(text))
        return path

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the snapshot's write lock (one ingest at a time); sweep a killed run's temp files.

        An OS file lock: a killed process releases it, so a restart never finds it stale.
        """
        import fcntl

        with open(self.root / ".lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                message = f"{self.root}: another ingest is writing this snapshot; wait for it to finish"
                raise DataError(message) from None
            for tmp in self.root.rglob("*.tmp"):
                tmp.unlink(missing_ok=True)
            yield

    def has(self, part: Partition, path: str, settle_days: int = 0) -> bool:
        """Stored with the same request, and fetched late enough for its content to be final."""
        entry = self.entries.get(part.key)
        if entry is None or entry["request"] != {"path": path, "params": part.params}:
            return False
        fetched = datetime.fromisoformat(entry["fetched_at"]).date()
        return (fetched - part.last_day).days >= settle_days

    def file(self, part: Partition) -> Path:
        return self.root / "raw" / part.endpoint / f"{part.pid}.parquet"

    # -- writes ----------------------------------------------------------------------
    def _atomic_write(self, path: Path, write) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        write(tmp)
        if self.fsync:
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, path)

    def store(self, part: Partition, path: str, pages: list[bytes], rows: int) -> None:
        """Write the partition's file, then record it in the manifest."""
        frame = pl.DataFrame(
            {"page": list(range(len(pages))), "body": pages}, schema={"page": pl.Int32, "body": pl.Binary}
        )
        entry = {
            "request": {"path": path, "params": part.params},
            "pages": len(pages),
            "rows": rows,
            "sha256": bodies_sha256(pages),
            "fetched_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        text = json.dumps(entry, indent=1)
        if self.objects is not None:
            buffer = io.BytesIO()
            frame.write_parquet(buffer, compression="zstd", statistics=False)
            self.objects.put(self.key(part), buffer.getvalue(), classification="public")
            self.objects.put(self.key(part)[: -len(".parquet")] + ".json", text.encode(), classification="public")
        else:
            self._atomic_write(self.file(part), lambda tmp: frame.write_parquet(tmp, compression="zstd", statistics=False))
            self._atomic_write(self.file(part).with_suffix(".json"), lambda tmp: tmp.write_text(text))
        with self._lock:
            self.entries[part.key] = entry

    def quarantine(self, endpoint: str, pid: str, params: dict[str, str], body: bytes, problem: str) -> Path:
        sha = hashlib.sha256(body).hexdigest()[:16]
        path = self.root / "quarantine" / endpoint / f"{pid}-{sha}.body"
        self._atomic_write(path, lambda tmp: tmp.write_bytes(body))
        meta = {"endpoint": endpoint, "params": params, "problem": problem, "bytes": len(body)}
        self._atomic_write(path.with_suffix(".json"), lambda tmp: tmp.write_text(json.dumps(meta, indent=1)))
        return path

    # -- reads -----------------------------------------------------------------------
    def pages(self, part: Partition) -> list[bytes]:
        """The stored bodies, checked against the manifest's sha256."""
        path = self.file(part) if self.objects is None else self.key(part)
        entry = self.entries.get(part.key)
        if entry is None or (not path.exists() if self.objects is None else not self.objects.exists(path)):
            raise DataError(f"{path}: partition {part.key} is not in the snapshot; run the ingest again")
        source = path if self.objects is None else io.BytesIO(self.objects.get(path))
        try:
            pages = pl.read_parquet(source).sort("page").get_column("body").to_list()
        except Exception as exc:
            raise DataError(f"{path}: unreadable partition ({type(exc).__name__}); delete it to re-fetch") from None
        if bodies_sha256(pages) != entry["sha256"]:
            raise DataError(f"{path}: content does not match the manifest's sha256; delete it to re-fetch")
        return pages

    def digest(self, parts: list[Partition]) -> str:
        """One sha256 over the planned partitions' content hashes (fetch times excluded)."""
        return combine_digests((p.key, self.entries[p.key]["sha256"]) for p in sorted(parts, key=lambda p: p.key))


def export_snapshot(snapshot: Snapshot, objects: ObjectStore, prefix: str | None = None) -> Snapshot:
    """Copy a snapshot's partitions and records into ``objects``; the copy has the same digest."""
    target = Snapshot(snapshot.root, snapshot.fsync, objects, prefix or snapshot.prefix)
    for key, entry in sorted(snapshot.entries.items()):
        endpoint, pid = key.split("/", 1)
        part = Partition(endpoint, pid, entry["request"]["params"])
        if snapshot.objects is None:
            data = snapshot.file(part).read_bytes()
        else:
            data = snapshot.objects.get(snapshot.key(part))
        objects.put(target.key(part), data, classification="public")
        objects.put(target.key(part)[: -len(".parquet")] + ".json", json.dumps(entry, indent=1).encode(),
                    classification="public")  # fmt: skip
        target.entries[key] = entry
    target.write_manifest()
    return target
