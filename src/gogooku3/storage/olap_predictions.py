"""The ``PredictionStore`` on OLAP tables: same rows in, same rows out as ``LocalPredictionStore``.

A write deletes the rows of the frame's keys (``TABLES``) and inserts the frame, so a
re-run of one date replaces it, as the local store does. ClickHouse has no nullable
arrays: a null ``quantiles`` list is stored as an empty array and an empty array is
read back as null. Columns of the sort key cannot be null (a DataError on write).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from gogooku3.errors import DataError
from gogooku3.storage.olap import Olap
from gogooku3.storage.predictions import TABLES, _table, conform

# Columns ClickHouse stores without Nullable (the tables' ORDER BY keys).
NOT_NULL: dict[str, tuple[str, ...]] = {
    "predictions": ("Code", "Date", "horizon", "model_version"),
    "realized": ("Date", "horizon", "model_version"),
    "quality": ("Date", "run_id", "gate"),
}
SORT = ("Date", "horizon", "rank", "Code", "gate")


def _array_literal(values: Sequence[str]) -> str:
    quoted = (v.replace("\\", "\\\\").replace("'", "\\'") for v in values)
    return "[" + ",".join(f"'{v}'" for v in quoted) + "]"


class OlapPredictionStore:
    """Predictions, realized performance and quality results in an ``Olap`` database."""

    def __init__(self, olap: Olap) -> None:
        self.olap = olap

    def write(self, table: str, frame: pl.DataFrame) -> None:
        _, key = _table(table)
        frame = conform(table, frame)
        for col in NOT_NULL[table]:
            if frame[col].null_count():
                raise DataError(f"{table} frame: column {col} has {frame[col].null_count()} null values")
        lists = [c for c, t in frame.schema.items() if isinstance(t, pl.List)]
        stored = frame.with_columns(pl.col(c).fill_null(pl.lit([], dtype=frame.schema[c])) for c in lists)
        db = self.olap.database
        for values in frame.select(key).unique(maintain_order=True).iter_rows():
            types = {c: "Date" if c == "Date" else "Int32" if c == "horizon" else "String" for c in key}
            cond = " AND ".join(f"`{c}` = {{k{i}:{types[c]}}}" for i, c in enumerate(key))
            month = values[key.index("Date")].strftime("%Y%m")  # the tables are partitioned by toYYYYMM(Date)
            self.olap.execute(
                f"DELETE FROM {db}.{table} IN PARTITION {month} WHERE {cond}", {f"k{i}": v for i, v in enumerate(values)}
            )
        self.olap.insert(table, stored)

    def read(
        self, table: str, start: date | None = None, end: date | None = None, *,
        codes: Sequence[str] | None = None, horizon: int | None = None, model_version: str | None = None,
    ) -> pl.DataFrame:  # fmt: skip
        schema, _ = _table(table)
        where, params = ["1"], {}
        if start is not None:
            where.append("Date >= {start:Date}")
            params["start"] = start
        if end is not None:
            where.append("Date <= {end:Date}")
            params["end"] = end
        if codes is not None and "Code" in schema:
            where.append("has({codes:Array(String)}, Code)")
            params["codes"] = _array_literal(list(codes))
        if horizon is not None and "horizon" in schema:
            where.append("horizon = {horizon:Int32}")
            params["horizon"] = horizon
        if model_version is not None and "model_version" in schema:
            where.append("model_version = {mv:String}")
            params["mv"] = model_version
        cols = ", ".join(f"`{c}`" for c in schema)
        sql = f"SELECT {cols} FROM {self.olap.database}.{table} WHERE {' AND '.join(where)}"
        frame = self.olap.query(sql, params)
        if frame.height == 0:
            return pl.DataFrame(schema=schema)
        lists = [c for c, t in schema.items() if isinstance(t, pl.List)]
        frame = frame.with_columns(
            pl.when(pl.col(c).list.len() == 0).then(None).otherwise(pl.col(c)).alias(c) for c in lists
        )
        return conform(table, frame).sort([c for c in SORT if c in schema])

    def dates(self, table: str = "predictions") -> list[date]:
        _table(table)
        frame = self.olap.query(f"SELECT DISTINCT Date FROM {self.olap.database}.{table} ORDER BY Date")
        return frame["Date"].to_list() if frame.height else []


__all__ = ["OlapPredictionStore", "TABLES"]
