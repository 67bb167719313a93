"""The error a failed quality gate raises."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gogooku3.errors import GogookuError

if TYPE_CHECKING:
    from gogooku3.quality.report import GateReport


class QualityGateError(GogookuError):
    """A quality gate stopped the run; ``report`` holds every expectation's outcome."""

    def __init__(self, message: str, report: GateReport) -> None:
        super().__init__(message)
        self.report = report
        self.gate = report.gate
