"""Security events: counted on /metrics and written as JSON lines a SIEM can ingest.

A line names the kind, the key id when the key was well formed (never the key), the
route template, the client address and a short reason.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

from gogooku3.serving.metrics import SECURITY_KINDS, ServingMetrics


class SecurityEvents:
    def __init__(self, path: str | Path, metrics: ServingMetrics) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._metrics = metrics
        self._lock = threading.Lock()

    def emit(self, kind: str, *, key_id: str | None = None, route: str | None = None,
             client: str | None = None, reason: str = "") -> None:  # fmt: skip
        if kind not in SECURITY_KINDS:
            raise ValueError(f"unknown security event kind {kind!r}")
        self._metrics.security.labels(kind).inc()
        line = {"time": datetime.now(UTC).isoformat(timespec="microseconds"), "event": "security", "kind": kind,
                "key_id": key_id, "route": route, "client": client, "reason": reason, "service": "gogooku3-api"}
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, sort_keys=True) + "\n")
