"""Which model versions storage retention may delete: old and not pointed to by any alias."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from gogooku3.registry.versions import VersionInfo


def artifact_retention(versions: Sequence[VersionInfo], now: datetime, keep_days: int = 365) -> list[VersionInfo]:
    """Versions created more than ``keep_days`` before ``now`` that hold no alias, oldest first.

    ``champion`` and ``previous`` (and any other alias) are never listed, however old:
    rollback must always find its target. ``now`` must be timezone-aware (UTC).
    """
    if keep_days < 0:
        raise ValueError(f"keep_days={keep_days}: must be >= 0")
    cutoff = now - timedelta(days=keep_days)
    old = [v for v in versions if not v.aliases and v.created < cutoff]
    return sorted(old, key=lambda v: (v.created, int(v.version)))
