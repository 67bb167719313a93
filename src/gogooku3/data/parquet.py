"""The user's own daily quotes from parquet (``data=parquet data.path=...``).

Schema: see :mod:`gogooku3.schema` and the README. This source reads, checks types and
normalizes only: an unreadable file, a missing required column (Code, Date, Close), a
column of the wrong type or a null key is a one-line error naming the file and column.
Everything about content (duplicates, OHLC order, negative volume, jumps, off-calendar
rows, missing adjustment factors) is left to the quality gates, which correct,
quarantine or stop as ``quality`` says. Normalization: ints become floats, midnight
datetimes dates, rows are sorted by (Code, Date) (stably: duplicates keep file order);
an absent optional column is added as nulls and listed in ``MarketData.absent``, except
an absent ``AdjustmentFactor``, which is 1.0 (no corporate actions) — null factors in a
delivered column are kept for the ``invalid_adjustment`` check.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from gogooku3.data.calendar import parse_config_date, resolve_calendar
from gogooku3.data.digest import combine_digests
from gogooku3.storage.objects import file_sha256
from gogooku3.data.market import MarketData
from gogooku3.errors import DataError
from gogooku3.schema import (
    INDEX_COLUMNS,
    INDEX_REQUIRED,
    LISTED_COLUMNS,
    LISTED_REQUIRED,
    QUOTE_COLUMNS,
    QUOTE_DEFAULTS,
)

# What a file must have; the rest of the canonical quote columns are optional.
PARQUET_REQUIRED = ("Code", "Date", "Close")

NUMERIC = (pl.Float32, pl.Float64, pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)


@dataclass
class ParquetMarketSource:
    """Daily quotes from ``path``; optional listed-info and index companions."""

    path: str
    listed_path: str | None = None
    index_path: str | None = None
    calendar: str = "infer"
    infer_min_share: float = 0.5
    end: str | None = None

    def load(self) -> MarketData:
        quotes_path = _existing(self.path, "data.path")
        quotes = _conform(_read(quotes_path), QUOTE_COLUMNS, PARQUET_REQUIRED, quotes_path)
        absent = tuple(k for k in QUOTE_COLUMNS if k not in quotes.columns and k not in QUOTE_DEFAULTS)
        quotes = quotes.with_columns(
            [pl.lit(QUOTE_DEFAULTS.get(k), dtype=QUOTE_COLUMNS[k]).alias(k) for k in QUOTE_COLUMNS
             if k not in quotes.columns]
        ).select(list(QUOTE_COLUMNS))
        _check_keys(quotes, ("Code", "Date"), quotes_path)
        quotes = quotes.sort("Code", "Date", maintain_order=True)
        end = parse_config_date(self.end, "end") if self.end else None
        calendar = resolve_calendar(self.calendar, quotes, min_share=float(self.infer_min_share), end=end)

        parts = {"quotes": file_sha256(quotes_path)}
        listed = index = None
        if self.listed_path:
            path = _existing(self.listed_path, "data.listed_path")
            listed = _conform(_read(path), LISTED_COLUMNS, LISTED_REQUIRED, path)
            _check_keys(listed, ("Code",), path, unique=True)
            parts["listed"] = file_sha256(path)
        if self.index_path:
            path = _existing(self.index_path, "data.index_path")
            index = _conform(_read(path), INDEX_COLUMNS, INDEX_REQUIRED, path).sort("Date")
            _check_keys(index, ("Date",), path, unique=True)
            parts["index"] = file_sha256(path)

        return MarketData(
            quotes=quotes,
            calendar=calendar.sessions,
            calendar_name=calendar.name,
            absent=absent,
            digest=combine_digests(parts),
            source=str(quotes_path.resolve()),
            listed=listed,
            index=index,
        )


def _existing(path: str, key: str) -> Path:
    resolved = Path(path).expanduser()
    if not resolved.is_file():
        raise DataError(f"{key}: {path} does not exist or is not a file")
    return resolved


def _read(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # polars raises several types for a non-parquet file
        raise DataError(f"{path}: not a readable parquet file ({type(exc).__name__}: {str(exc).splitlines()[0]})") from None
    if frame.height == 0:
        raise DataError(f"{path}: the file has no rows")
    return frame


def _conform(frame: pl.DataFrame, schema: dict, required: tuple[str, ...], path: Path) -> pl.DataFrame:
    """Check presence and types; cast only losslessly-equivalent types (ints to float, datetime at midnight)."""
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing required column(s) {missing}; found {frame.columns}")
    casts = []
    for name, dtype in schema.items():
        if name not in frame.columns:
            continue
        actual = frame.schema[name]
        if actual == dtype:
            continue
        if dtype == pl.Float64 and actual in NUMERIC:
            casts.append(pl.col(name).cast(pl.Float64))
        elif dtype == pl.Date and isinstance(actual, pl.Datetime):
            if (frame.get_column(name).dt.time() != pl.time(0)).any():
                raise DataError(f"{path}: column {name} is {actual} with non-midnight times; expected Date")
            casts.append(pl.col(name).dt.date())
        elif dtype == pl.String and actual == pl.Categorical:
            casts.append(pl.col(name).cast(pl.String))
        else:
            raise DataError(f"{path}: column {name} has type {actual}; expected {dtype}")
    return frame.with_columns(casts) if casts else frame


def _check_keys(frame: pl.DataFrame, keys: tuple[str, ...], path: Path, unique: bool = False) -> None:
    """Null keys are unusable (no row can be placed); duplicate quote keys are the gates' to judge."""
    nulls = [k for k in keys if frame.get_column(k).null_count()]
    if nulls:
        raise DataError(f"{path}: key column(s) {nulls} contain nulls")
    if not unique:
        return
    dupes = frame.filter(pl.struct(list(keys)).is_duplicated())
    if dupes.height:
        example = dupes.row(0, named=True)
        shown = ", ".join(f"{k}={example[k]}" for k in keys)
        n_keys = dupes.select(list(keys)).n_unique()
        raise DataError(
            f"{path}: {n_keys} duplicate ({', '.join(keys)}) key(s) over {dupes.height} rows, e.g. {shown}"
        )
