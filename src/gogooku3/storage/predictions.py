"""Where predict runs put their results: one interface, a local parquet backend by default.

Three tables, each a contract read by the API, monitoring and outside tools:

* ``predictions``: one row per (Code, Date, horizon, model_version). ``Date`` is the
  as-of session (features use closes up to it); ``for_session`` is the first session
  the forecast covers. ``prediction`` is the primary member's forecast in target units,
  ``ensemble_score`` the weighted mean of the members' per-day z-scores, ``rank`` 1 for
  the highest ``ensemble_score`` of the (Date, horizon), ``confidence`` in [0, 1].
* ``realized``: per (Date, horizon, model_version), once labels mature: RankIC, hit rate,
  top-minus-bottom decile spread and the number of stocks scored.
* ``quality``: per (Date, run_id, gate): the gate results of a predict run.

Writes replace the rows of the same key (a re-run of one date), never anything else.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from gogooku3.errors import DataError
from gogooku3.storage.objects import ObjectStore

PREDICTION_SCHEMA: dict[str, pl.DataType] = {
    "Code": pl.String,
    "Date": pl.Date,
    "for_session": pl.Date,
    "horizon": pl.Int32,
    "prediction": pl.Float64,
    "quantile_levels": pl.List(pl.Float64),
    "quantiles": pl.List(pl.Float64),
    "ensemble_score": pl.Float64,
    "confidence": pl.Float64,
    "rank": pl.Int32,
    "model_version": pl.String,
    "run_id": pl.String,
}
REALIZED_SCHEMA: dict[str, pl.DataType] = {
    "Date": pl.Date,
    "horizon": pl.Int32,
    "model_version": pl.String,
    "rank_ic": pl.Float64,
    "hit_rate": pl.Float64,
    "decile_spread": pl.Float64,
    "n_stocks": pl.Int32,
    "matured_on": pl.Date,
}
QUALITY_SCHEMA: dict[str, pl.DataType] = {
    "Date": pl.Date,
    "run_id": pl.String,
    "gate": pl.String,
    "status": pl.String,
    "success_ratio": pl.Float64,
    "rows_in": pl.Int64,
    "rows_quarantined": pl.Int64,
    "detail": pl.String,  # JSON: the gate's failed expectations and observed values
}
TABLES: dict[str, tuple[dict[str, pl.DataType], tuple[str, ...]]] = {
    # table -> (schema, the key a write replaces)
    "predictions": (PREDICTION_SCHEMA, ("Date", "model_version")),
    "realized": (REALIZED_SCHEMA, ("Date", "horizon", "model_version")),
    "quality": (QUALITY_SCHEMA, ("Date", "run_id")),
}


class PredictionStore(Protocol):
    """Stored predictions, realized performance and predict-run gate results."""

    def write(self, table: str, frame: pl.DataFrame) -> None:
        """Replace the rows of ``frame``'s keys in ``table`` (see ``TABLES``) by ``frame``."""
        ...

    def read(
        self, table: str, start: date | None = None, end: date | None = None, *,
        codes: Sequence[str] | None = None, horizon: int | None = None, model_version: str | None = None,
    ) -> pl.DataFrame:  # fmt: skip
        """Rows of ``table`` with start <= Date <= end and the given filters, in the table's schema."""
        ...

    def dates(self, table: str = "predictions") -> list[date]:
        """The distinct ``Date`` values stored in ``table``, ascending."""
        ...


def conform(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` in ``table``'s column order and types; a missing or extra column is a DataError."""
    schema, _ = _table(table)
    missing = [c for c in schema if c not in frame.columns]
    extra = [c for c in frame.columns if c not in schema]
    if missing or extra:
        what = f"lacks column {missing[0]}" if missing else f"has unknown column {extra[0]}"
        raise DataError(f"{table} frame {what}; expected columns {', '.join(schema)}")
    return frame.select([pl.col(c).cast(t) for c, t in schema.items()])


def _table(table: str) -> tuple[dict[str, pl.DataType], tuple[str, ...]]:
    if table not in TABLES:
        raise DataError(f"unknown prediction-store table {table!r}; known: {', '.join(TABLES)}")
    return TABLES[table]


def filter_rows(
    frame: pl.DataFrame, start: date | None, end: date | None, codes: Sequence[str] | None,
    horizon: int | None, model_version: str | None,
) -> pl.DataFrame:  # fmt: skip
    """The read filters every backend applies, as one polars expression."""
    cond = pl.lit(True)
    if start is not None:
        cond &= pl.col("Date") >= start
    if end is not None:
        cond &= pl.col("Date") <= end
    if codes is not None and "Code" in frame.columns:
        cond &= pl.col("Code").is_in(pl.Series(list(codes), dtype=pl.String).implode())
    if horizon is not None and "horizon" in frame.columns:
        cond &= pl.col("horizon") == horizon
    if model_version is not None and "model_version" in frame.columns:
        cond &= pl.col("model_version") == model_version
    return frame.filter(cond)


def _parts(table: str, frame: pl.DataFrame) -> Iterator[tuple[str, pl.DataFrame]]:
    """(``<table>/Date=YYYY-MM-DD/<key digest>.parquet``, rows) per write key: one file or object each."""
    _, key = _table(table)
    for values, part in conform(table, frame).group_by(list(key), maintain_order=True):
        day = values[key.index("Date")]
        name = hashlib.sha256(repr(tuple(str(v) for v in values)).encode()).hexdigest()[:16]
        yield f"{table}/Date={day.isoformat()}/{name}.parquet", part


def _combine(
    table: str, frames: list[pl.DataFrame], start: date | None, end: date | None,
    codes: Sequence[str] | None, horizon: int | None, model_version: str | None,
) -> pl.DataFrame:  # fmt: skip
    """The stored parts of ``table`` as one conformed, filtered and sorted frame (empty: the schema)."""
    schema, _ = _table(table)
    if not frames:
        return pl.DataFrame(schema=schema)
    frame = conform(table, pl.concat(frames, how="vertical"))
    sort = [c for c in ("Date", "horizon", "rank", "Code", "gate") if c in schema]
    return filter_rows(frame, start, end, codes, horizon, model_version).sort(sort)


class LocalPredictionStore:
    """Parquet files under ``root/<table>/Date=YYYY-MM-DD/<key digest>.parquet``.

    One file per write key, written to a temporary name and renamed, so a crash leaves
    the previous file whole and a reader never sees half a write.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def write(self, table: str, frame: pl.DataFrame) -> None:
        for key, part in _parts(table, frame):
            path = self.root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            part.write_parquet(tmp)
            os.replace(tmp, path)

    def read(
        self, table: str, start: date | None = None, end: date | None = None, *,
        codes: Sequence[str] | None = None, horizon: int | None = None, model_version: str | None = None,
    ) -> pl.DataFrame:  # fmt: skip
        files = [f for d in self._date_dirs(table, start, end) for f in sorted(d.glob("*.parquet"))]
        return _combine(table, [pl.read_parquet(f) for f in files], start, end, codes, horizon, model_version)

    def dates(self, table: str = "predictions") -> list[date]:
        return sorted(date.fromisoformat(d.name.removeprefix("Date=")) for d in self._date_dirs(table, None, None))

    def _date_dirs(self, table: str, start: date | None, end: date | None) -> list[Path]:
        _table(table)
        folder = self.root / table
        if not folder.is_dir():
            return []
        out = []
        for d in folder.glob("Date=*"):
            if not any(d.glob("*.parquet")):
                continue
            day = date.fromisoformat(d.name.removeprefix("Date="))
            if (start is None or day >= start) and (end is None or day <= end):
                out.append(d)
        return sorted(out)


class ObjectPredictionStore:
    """The local store's layout on an ObjectStore: ``<prefix>/<table>/Date=YYYY-MM-DD/<key digest>.parquet``.

    One object per write key, replaced whole by a put, and sha256-checked by the store on
    every read, so a reader gets the previous object or the new one, never a torn write.
    """

    def __init__(self, objects: ObjectStore, prefix: str = "predictions") -> None:
        self.objects, self.prefix = objects, prefix.strip("/")

    @property
    def root(self) -> str:
        return f"{getattr(self.objects, 'where', getattr(self.objects, 'root', 'objects'))}:{self.prefix}/"

    def write(self, table: str, frame: pl.DataFrame) -> None:
        import io

        for key, part in _parts(table, frame):
            buffer = io.BytesIO()
            part.write_parquet(buffer)
            self.objects.put(f"{self.prefix}/{key}", buffer.getvalue())

    def read(
        self, table: str, start: date | None = None, end: date | None = None, *,
        codes: Sequence[str] | None = None, horizon: int | None = None, model_version: str | None = None,
    ) -> pl.DataFrame:  # fmt: skip
        import io

        keys = [k for day, k in self._keys(table) if (start is None or day >= start) and (end is None or day <= end)]
        frames = [pl.read_parquet(io.BytesIO(self.objects.get(k))) for k in keys]
        return _combine(table, frames, start, end, codes, horizon, model_version)

    def dates(self, table: str = "predictions") -> list[date]:
        return sorted({day for day, _ in self._keys(table)})

    def _keys(self, table: str) -> list[tuple[date, str]]:
        _table(table)
        out = []
        for info in self.objects.list(f"{self.prefix}/{table}/"):
            folder, _, name = info.key[len(self.prefix) + len(table) + 2 :].partition("/")
            if folder.startswith("Date=") and name.endswith(".parquet") and "/" not in name:
                out.append((date.fromisoformat(folder.removeprefix("Date=")), info.key))
        return sorted(out)


def open_prediction_store(
    settings: Any, local_root: str | Path, objects: ObjectStore | None = None, olap: Any = None,
) -> PredictionStore:  # fmt: skip
    """The store ``storage.predictions.kind`` names: local (parquet under ``local_root``), objects or olap.

    ``olap`` is the ``storage.olap`` node (kind chdb: a directory; clickhouse: a server URL).
    """
    from gogooku3.errors import ConfigError

    kind = getattr(settings, "kind", "local")
    if kind == "local":
        return LocalPredictionStore(local_root)
    if kind == "objects":
        if objects is None:
            raise ConfigError("storage.predictions.kind=objects needs an object store (storage.objects)")
        return ObjectPredictionStore(objects)
    if kind == "olap":
        from gogooku3.storage.olap import ChdbOlap, ClickHouseOlap
        from gogooku3.storage.olap_predictions import OlapPredictionStore

        olap_kind = getattr(olap, "kind", None)
        if olap_kind not in ("chdb", "clickhouse"):
            raise ConfigError(f"storage.olap.kind={olap_kind!r}: expected chdb or clickhouse")
        db = ChdbOlap(olap.path) if olap_kind == "chdb" else ClickHouseOlap(str(olap.url))
        db.apply_schema()
        return OlapPredictionStore(db)
    raise ConfigError(f"storage.predictions.kind={kind!r}: expected local, objects or olap")
