"""Data quality gates (Great Expectations 1.x) between the pipeline's stages.

Light to import: Great Expectations loads only when a gate actually runs with
``quality.enabled=true``.
"""

from __future__ import annotations

from gogooku3.quality.config import QualityConfig
from gogooku3.quality.errors import QualityGateError
from gogooku3.quality.gates import GATES, QualityGates
from gogooku3.quality.report import Correction, GateReport, RuleResult

__all__ = [
    "GATES", "Correction", "GateReport", "QualityConfig", "QualityGateError", "QualityGates", "RuleResult",
]
