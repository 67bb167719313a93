"""Gate outcomes: per-expectation results, corrections, JSON and the one-line failure message."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RuleResult:
    """The outcome of one expectation on its evidence table."""

    check: str
    dimension: str
    table: str
    expectation: str
    success: bool
    threshold: str
    element_count: int
    unexpected_count: int
    observed: Any = None
    offending: list[Any] = field(default_factory=list)
    description: str = ""


@dataclass(frozen=True)
class Correction:
    """Rows (or values) a gate changed or moved to quarantine, and why."""

    check: str
    action: str
    count: int
    reason: str


@dataclass
class GateReport:
    """Everything one gate did; written as ``<out_dir>/<gate>.json``."""

    gate: str
    status: str = "skipped"  # passed | corrected | failed | skipped
    results: list[RuleResult] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)
    samples: dict[str, list[dict]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    rows_in: int = 0
    rows_out: int = 0
    rows_quarantined: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # checks / validate / docs seconds
    data_docs: str | None = None
    quarantine_file: str | None = None
    hints: dict[str, str] = field(default_factory=dict)  # check -> the setting that would change the decision
    report_file: str | None = None

    @property
    def failed(self) -> list[RuleResult]:
        return [r for r in self.results if not r.success]

    @property
    def success_ratio(self) -> float:
        return (len(self.results) - len(self.failed)) / len(self.results) if self.results else 1.0

    def message(self, max_samples: int = 3) -> str:
        """One line: the gate; per failed check the expectation, the observed figure, a few
        offending rows and the setting that would change the decision; the quarantine file
        and the reports."""
        parts = []
        for r in self.failed:
            text = f"{r.check} [{r.dimension}] failed: expected {r.threshold}"
            if r.observed is not None:
                text += f", observed {_short(r.observed)}"
            elif r.unexpected_count:
                text += f", {r.unexpected_count} of {r.element_count} {r.table} rows off"
            if r.offending and r.observed is None:
                text += f" ({', '.join(_short(v) for v in r.offending[:max_samples])})"
            rows = self.samples.get(r.check)
            if rows:
                text += " e.g. " + " | ".join(_row_text(row) for row in rows[:max_samples])
            if self.hints.get(r.check):
                text += " " + self.hints[r.check]
            parts.append(text)
        where = f"; quarantine {self.quarantine_file or 'none (nothing moved)'}"
        if self.report_file:
            where += f"; report {self.report_file}"
        if self.data_docs:
            where += f"; docs {self.data_docs}"
        return (
            f"quality gate '{self.gate}' failed {len(self.failed)} of {len(self.results)} "
            f"expectations: " + "; ".join(parts) + where
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["success_ratio"] = self.success_ratio
        out["failed_expectations"] = len(self.failed)
        return out

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, default=str))
        return path


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _row_text(row: dict) -> str:
    return " ".join(f"{k}={_short(v)}" for k, v in row.items())
