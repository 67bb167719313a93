"""Parquet feature store keyed by the input data digest and the feature-config hash."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from gogooku3.data.digest import files_sha256
from gogooku3.features.spec import FeatureSpec
from gogooku3.storage.objects import ObjectStore

log = logging.getLogger("gogooku3.features")

# The code a panel depends on besides this package: a change to any of it recomputes.
SHARED_SOURCES = ("data/price_limits.py", "schema.py")


@functools.cache
def feature_code_digest() -> str:
    """sha256 of the feature code (this package and :data:`SHARED_SOURCES`).

    Part of every store key, so editing a feature never serves a panel computed by the
    old code (a hand-bumped version number is too easy to forget).
    """
    package = Path(__file__).resolve().parent
    root = package.parent
    return files_sha256(root, [*package.rglob("*.py"), *(root / s for s in SHARED_SOURCES)])


def config_hash(groups: Mapping[str, Any]) -> str:
    """sha256 over the canonical JSON of the groups (the feature configuration)."""
    payload = json.dumps({"groups": groups},
                         sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def entry_path(store_dir: Path, digest: str, cfg_hash: str) -> Path:
    """``<data digest>-<config hash>-<code digest>.parquet`` (prefixes) under ``store_dir``."""
    return Path(store_dir) / f"{digest[:24]}-{cfg_hash[:24]}-{feature_code_digest()[:12]}.parquet"


def object_key(path: Path) -> str:
    """An entry's key on an ObjectStore: ``features/<entry name>`` (the processed-features class)."""
    return f"features/{Path(path).name}"


def load(path: Path, objects: ObjectStore | None = None) -> tuple[pl.DataFrame, list[FeatureSpec]] | None:
    """The stored frame and specs, or None if the entry is absent or unreadable.

    With ``objects``, the entry is read from that store (sha256-checked) instead of ``path``.
    """
    if objects is not None:
        key = object_key(path)
        meta_key = key[: -len(".parquet")] + ".json"
        if not (objects.exists(key) and objects.exists(meta_key)):
            return None
        try:
            specs = [FeatureSpec(**{**d, "sources": tuple(d["sources"])})
                     for d in json.loads(objects.get(meta_key))["specs"]]
            frame = pl.read_parquet(io.BytesIO(objects.get(key)))
        except Exception as exc:  # a corrupt or tampered entry is recomputed, not fatal
            log.warning("features: store entry %s unreadable (%s); recomputing", key, exc)
            return None
        return frame, specs
    meta = path.with_suffix(".json")
    if not (path.exists() and meta.exists()):
        return None
    try:
        specs = [FeatureSpec(**{**d, "sources": tuple(d["sources"])})
                 for d in json.loads(meta.read_text())["specs"]]
        frame = pl.read_parquet(path)
    except Exception as exc:  # a corrupt entry is recomputed, not fatal
        log.warning("features: store entry %s unreadable (%s); recomputing", path, exc)
        return None
    return frame, specs


SPEC_FIELDS = ("name", "group", "sources", "window", "lookback", "description")


def entry_bytes(frame: pl.DataFrame, specs: list[FeatureSpec]) -> bytes:
    """One entry as bytes (a cache value): 8-byte length, the specs' JSON, then the frame as Arrow IPC."""
    meta = json.dumps([{k: s.to_dict()[k] for k in SPEC_FIELDS} for s in specs]).encode()
    buffer = io.BytesIO()
    frame.write_ipc(buffer)
    return len(meta).to_bytes(8, "big") + meta + buffer.getvalue()


def entry_from_bytes(data: bytes) -> tuple[pl.DataFrame, list[FeatureSpec]]:
    size = int.from_bytes(data[:8], "big")
    specs = [FeatureSpec(**{**d, "sources": tuple(d["sources"])}) for d in json.loads(data[8 : 8 + size])]
    return pl.read_ipc(io.BytesIO(data[8 + size :])), specs


def save(path: Path, frame: pl.DataFrame, specs: list[FeatureSpec],
         info: Mapping[str, Any], objects: ObjectStore | None = None) -> None:
    """Write atomically (temp file + rename) so a crash never leaves half an entry.

    With ``objects``, the entry goes to that store (metadata after the frame, as on disk).
    """
    fields = ("name", "group", "sources", "window", "lookback", "description")
    if objects is not None:
        buffer = io.BytesIO()
        frame.write_parquet(buffer)
        meta = json.dumps({**info, "specs": [{k: s.to_dict()[k] for k in fields} for s in specs]}, indent=1)
        key = object_key(path)
        objects.put(key, buffer.getvalue())
        objects.put(key[: -len(".parquet")] + ".json", meta.encode(), content_type="application/json")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    frame.write_parquet(tmp)
    meta_tmp = path.with_suffix(f".jsontmp{os.getpid()}")
    meta_tmp.write_text(json.dumps(
        {**info, "specs": [{k: s.to_dict()[k] for k in fields} for s in specs]}, indent=1))
    os.replace(meta_tmp, path.with_suffix(".json"))
    os.replace(tmp, path)
