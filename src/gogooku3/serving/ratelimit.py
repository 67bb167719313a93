"""Per-key token buckets: ``burst`` requests at once, refilled at ``per_second``."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class TokenBuckets:
    def __init__(self, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("serving.rate_limit needs per_second > 0 and burst >= 1")
        self.rate, self.burst, self._clock = float(per_second), float(burst), clock
        self._state: dict[str, tuple[float, float]] = {}  # key id -> (tokens, last refill)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when a request of ``key`` may go ahead, else the whole seconds until it may (Retry-After)."""
        now = self._clock()
        with self._lock:
            tokens, last = self._state.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._state[key] = (tokens - 1.0, now)
                return 0.0
            self._state[key] = (tokens, now)
            return float(max(1, math.ceil((1.0 - tokens) / self.rate)))
