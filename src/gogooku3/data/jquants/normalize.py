"""Parse V2 response pages and rename them to the canonical schema.

Parsing doubles as validation: a page that is not JSON, lacks ``data``, misses a required
field or carries a value of the wrong type raises :class:`MalformedResponse`, so it is
quarantined instead of entering a snapshot.
"""

from __future__ import annotations

import io

import polars as pl

from gogooku3.data.jquants.endpoints import Endpoint

_NUMERIC = (pl.Float64, pl.Float32, pl.Int64, pl.Int32, pl.Int16, pl.Int8, pl.UInt64, pl.UInt32, pl.Null)
_STRINGY = (pl.String, pl.Null)


class MalformedResponse(ValueError):
    """A 200 response whose body does not match the endpoint's contract."""


def parse_page(ep: Endpoint, body: bytes) -> tuple[pl.DataFrame, str | None]:
    """Rows of one page under their wire names, and the next ``pagination_key`` (None at the end)."""
    if not body.lstrip().startswith(b"{"):
        raise MalformedResponse(f"body is not a JSON object (starts with {body[:20]!r})")
    try:
        page = pl.read_json(io.BytesIO(body), infer_schema_length=None)
    except Exception as exc:  # polars raises ComputeError and friends for broken JSON
        raise MalformedResponse(f"body is not valid JSON ({str(exc).splitlines()[0][:120]})") from None
    if "data" not in page.columns:
        raise MalformedResponse("body has no 'data' list")
    data_type = page.schema["data"]
    if not isinstance(data_type, pl.List):
        raise MalformedResponse(f"'data' is {data_type}, not a list")
    inner = data_type.inner
    key = page.get_column("pagination_key").item() if "pagination_key" in page.columns else None
    if key is not None and not isinstance(key, str):
        raise MalformedResponse(f"'pagination_key' is {type(key).__name__}, not a string")
    if inner == pl.Null:  # an empty list
        rows = pl.DataFrame()
    elif isinstance(inner, pl.Struct):
        rows = page.select(pl.col("data").explode()).unnest("data")
    else:
        raise MalformedResponse(f"'data' holds {inner}, not objects")
    if rows.height:
        check_fields(ep, rows)
    return rows, key or None


def check_fields(ep: Endpoint, rows: pl.DataFrame) -> None:
    """Required fields present (keys non-null) and every known field of its wire kind."""
    missing = [w for w in ep.required if w not in rows.columns]
    if missing:
        raise MalformedResponse(f"missing required field(s) {missing}")
    for field in ep.fields:
        if field.wire not in rows.columns:
            continue
        dtype = rows.schema[field.wire]
        ok = dtype in _NUMERIC if field.kind == "num" else dtype in _STRINGY
        if not ok:
            raise MalformedResponse(f"field {field.wire} has {dtype} values; expected {field.kind}")
        column = rows.get_column(field.wire)
        if field.kind == "date":
            bad = column.is_not_null() & (column != "") & column.str.to_date("%Y-%m-%d", strict=False).is_null()
            if bad.any():
                raise MalformedResponse(f"field {field.wire} has a non-date value {column.filter(bad)[0]!r}")
        elif field.kind == "numstr":
            bad = (column != "") & column.cast(pl.Float64, strict=False).is_null()
            if bad.any():
                raise MalformedResponse(f"field {field.wire} has a non-numeric value {column.filter(bad)[0]!r}")
    keys = [f.wire for f in ep.fields if f.required and f.kind in ("date", "str")]
    null_keys = [k for k in keys if rows.get_column(k).null_count()]
    if null_keys:
        raise MalformedResponse(f"required field(s) {null_keys} are null in some rows")


def to_canonical(ep: Endpoint, rows: pl.DataFrame) -> pl.DataFrame:
    """Rename known wire fields to canonical names and type them; unknown fields are kept as sent."""
    if rows.height == 0:
        return empty_canonical(ep)
    known = [f for f in ep.fields if f.wire in rows.columns]
    casts = []
    for field in known:
        col = pl.col(field.wire)
        if field.kind == "date":
            col = pl.when(col.cast(pl.String) == "").then(None).otherwise(col).cast(pl.String).str.to_date("%Y-%m-%d")
        elif field.kind == "num":
            col = col.cast(pl.Float64)
        elif field.kind == "numstr":
            col = pl.when(col.cast(pl.String) == "").then(None).otherwise(col).cast(pl.String).cast(pl.Float64)
        else:
            col = col.cast(pl.String)
        casts.append(col.alias(field.canonical))
    known_wire = {f.wire for f in known}
    unknown = [c for c in rows.columns if c not in known_wire]
    # Absent optional fields become typed null columns so that every page has one schema.
    absent = [
        pl.lit(None, dtype=_DTYPE[f.kind]).alias(f.canonical) for f in ep.fields if f.wire not in rows.columns
    ]
    return rows.select([*casts, *absent, *[pl.col(c) for c in unknown]]).select(
        [f.canonical for f in ep.fields] + unknown
    )


_DTYPE: dict[str, pl.DataType] = {"date": pl.Date, "str": pl.String, "num": pl.Float64, "numstr": pl.Float64}


def empty_canonical(ep: Endpoint) -> pl.DataFrame:
    return pl.DataFrame(schema={f.canonical: _DTYPE[f.kind] for f in ep.fields})
