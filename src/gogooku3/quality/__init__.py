"""Data quality gates (Great Expectations 1.x) between the pipeline's stages.

Light to import: names load on first use (so the config schema can read
:class:`QualityConfig` without polars), and Great Expectations loads only when a gate
actually runs with ``quality.enabled=true``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "GATES": "gogooku3.quality.gates", "QualityGates": "gogooku3.quality.gates",
    "QualityConfig": "gogooku3.quality.config", "QualityGateError": "gogooku3.quality.errors",
    "Correction": "gogooku3.quality.report", "GateReport": "gogooku3.quality.report",
    "RuleResult": "gogooku3.quality.report",
}  # fmt: skip

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gogooku3.quality' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
