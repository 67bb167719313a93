"""Column presence and dtype checks against the canonical schema."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import polars as pl

from gogooku3.quality.evidence import Rule

MISSING = "missing"
NUMERIC = "numeric"


def schema_table(
    frame: pl.DataFrame, expected: Mapping[str, pl.DataType | str], required: Iterable[str]
) -> pl.DataFrame:
    """One row per column to check: expected vs actual dtype (``missing`` when absent).

    Required columns are always listed; optional ones only when present, so a
    source may omit them but never deliver them with the wrong type. ``numeric`` as
    the expected type accepts any integer or float dtype.
    """
    required = set(required)
    rows = []
    for column, dtype in expected.items():
        if column not in frame.columns and column not in required:
            continue
        actual = frame.schema.get(column)
        if actual is None:
            actual_text = MISSING
        elif dtype == NUMERIC and actual.is_numeric():
            actual_text = NUMERIC
        else:
            actual_text = str(actual)
        rows.append({"column": column, "expected_dtype": str(dtype), "actual_dtype": actual_text})
    return pl.DataFrame(rows, schema={"column": pl.String, "expected_dtype": pl.String, "actual_dtype": pl.String})


def schema_rule(check: str, table: str, what: str) -> Rule:
    return Rule(
        check=check, table=table, column="actual_dtype", other_column="expected_dtype", kind="equal",
        dimension="consistency", key="column",
        description=f"every canonical column of {what} is present with its canonical dtype",
    )


def schema_ok(table: pl.DataFrame) -> bool:
    return bool((table["actual_dtype"] == table["expected_dtype"]).all())
