"""What a gate hands to the validator: compact evidence tables and the rules they must meet.

Polars reduces the full data (millions of rows) to small tables: one row per check,
per column, per date, per code, per feature or per horizon. Great Expectations then
validates only these tables, so a gate costs milliseconds of GE time whatever the
data size, while every expectation still names the entities (codes, dates,
features) that broke it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

@dataclass(frozen=True)
class Rule:
    """One expectation on one evidence column, with its threshold taken from config.

    kind: ``between`` (``min_value <= value <= max_value``), ``equal`` (``column`` equals
    ``other_column`` row by row) or ``true`` (a boolean column is true).
    ``mostly`` is the share of evidence rows that must comply. ``key`` names the evidence
    column identifying each row (Code, Date, feature...) for messages.
    """

    check: str
    table: str
    column: str
    kind: str
    dimension: str
    description: str
    min_value: float | None = None
    max_value: float | None = None
    other_column: str | None = None
    mostly: float = 1.0
    key: str | None = None

    def threshold_text(self) -> str:
        if self.kind == "equal":
            return f"{self.column} == {self.other_column}"
        if self.kind == "true":
            return f"{self.column} is true"
        parts = []
        if self.min_value is not None:
            parts.append(f">= {self.min_value:g}")
        if self.max_value is not None:
            parts.append(f"<= {self.max_value:g}")
        text = f"{self.column} " + " and ".join(parts)
        return text if self.mostly >= 1.0 else f"{text} for {self.mostly:.0%} of rows"


@dataclass
class Evidence:
    """Evidence tables, the rules over them and sample offending rows from the data."""

    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    samples: dict[str, list[dict]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, table: str, frame: pl.DataFrame, rules: list[Rule]) -> None:
        self.tables[table] = frame
        self.rules.extend(rules)

    def sample(self, check: str, rows: pl.DataFrame, n: int) -> None:
        """Keep the first ``n`` offending data rows of ``check`` (JSON-safe) for messages."""
        have = self.samples.setdefault(check, [])
        if rows.height and len(have) < n:
            have.extend(_json_rows(rows.head(n - len(have))))
        if not have:
            del self.samples[check]


def _json_rows(frame: pl.DataFrame) -> list[dict]:
    return [
        {k: (v if isinstance(v, (int, float, str, bool)) or v is None else str(v)) for k, v in row.items()}
        for row in frame.to_dicts()
    ]
