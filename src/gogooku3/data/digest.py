"""Full content digests (sha256) of frames and files.

MLflow's own dataset digest hashes only the first 10,000 rows; these hash every value,
independently of chunking and of the library version that produced the frame.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import polars as pl


def _update_with_series(digest: "hashlib._Hash", series: pl.Series) -> None:
    digest.update(f"{series.name}\x1f{series.dtype}\x1f{len(series)}\x1e".encode())
    nulls = series.is_null().to_numpy()
    digest.update(np.packbits(nulls).tobytes())
    if series.dtype == pl.String or series.dtype == pl.Categorical:
        import pyarrow as pa
        import pyarrow.compute as pc

        array = series.cast(pl.String).fill_null("").to_arrow()
        array = pc.cast(array, pa.large_string())
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        _, offsets, data = array.buffers()
        digest.update(memoryview(offsets))
        digest.update(memoryview(data))
    else:
        if series.dtype.is_temporal():
            series = series.to_physical()
        values = series.fill_null(0).to_numpy()
        digest.update(np.ascontiguousarray(values).tobytes())


def frame_sha256(frame: pl.DataFrame) -> str:
    digest = hashlib.sha256()
    for series in frame.get_columns():
        _update_with_series(digest, series)
    return digest.hexdigest()


def combine_digests(parts: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
    """One sha256 over named part digests, in the given order."""
    items = parts.items() if isinstance(parts, Mapping) else parts
    digest = hashlib.sha256()
    for name, value in items:
        digest.update(f"{name}={value}\n".encode())
    return digest.hexdigest()


def files_sha256(root: Path, paths: Iterable[Path]) -> str:
    """sha256 over the files' paths (relative to ``root``, sorted) and contents: a code digest.

    One implementation for both code digests: the feature store's key (the feature code)
    and each run's ``code_digest`` tag (all code and config, so a dirty tree is identified).
    """
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
