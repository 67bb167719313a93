"""``retention`` group: the design's retention and classification table, one entry per data class.

``where`` says which mechanism enforces it: ``objects`` (our sweep over key ``prefix``),
``registry`` (model versions, never one an alias points to), ``clickhouse`` (table TTL),
``local`` (rotated files). ``locked``: objects are written under S3 Object Lock for ``keep_days``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass
class RetentionClass:
    keep_days: int = 365
    where: str = "objects"  # objects | registry | clickhouse | local
    classification: str = "internal"  # public | internal | sensitive
    prefix: Optional[str] = None  # object-key prefix of the class (where=objects)
    locked: bool = False


def _table() -> dict[str, RetentionClass]:
    return {
        "raw_market_data": RetentionClass(7 * 365 + 2, "objects", "public", "raw/"),
        "processed_features": RetentionClass(2 * 365 + 1, "objects", "internal", "features/"),
        "model_artifacts": RetentionClass(365, "registry", "internal"),
        "training_metrics": RetentionClass(183, "clickhouse", "internal"),
        "prediction_results": RetentionClass(365, "clickhouse", "internal"),
        "audit_logs": RetentionClass(3 * 365 + 1, "objects", "sensitive", "audit/", True),
        "system_logs": RetentionClass(90, "local", "internal"),
    }


@dataclass
class Retention:
    classes: dict[str, RetentionClass] = field(default_factory=_table)
