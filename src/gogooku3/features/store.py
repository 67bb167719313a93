"""Parquet feature store keyed by the input data digest and the feature-config hash."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from gogooku3.data.digest import files_sha256
from gogooku3.features.spec import FeatureSpec

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


def load(path: Path) -> tuple[pl.DataFrame, list[FeatureSpec]] | None:
    """The stored frame and specs, or None if the entry is absent or unreadable."""
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


def save(path: Path, frame: pl.DataFrame, specs: list[FeatureSpec],
         info: Mapping[str, Any]) -> None:
    """Write atomically (temp file + rename) so a crash never leaves half an entry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    frame.write_parquet(tmp)
    meta_tmp = path.with_suffix(f".jsontmp{os.getpid()}")
    fields = ("name", "group", "sources", "window", "lookback", "description")
    meta_tmp.write_text(json.dumps(
        {**info, "specs": [{k: s.to_dict()[k] for k in fields} for s in specs]}, indent=1))
    os.replace(meta_tmp, path.with_suffix(".json"))
    os.replace(tmp, path)
