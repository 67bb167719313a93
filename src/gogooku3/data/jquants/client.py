"""A thin V2 HTTP layer: rate limiter by plan, retries with backoff, pagination, raw pages.

Why not ``jquantsapi.ClientV2`` for ingestion: it mounts its retries for ``https://`` only
(none against a loopback ``http://`` server), retries without backoff, has no rate limiter
and decodes responses into DataFrames, losing the exact bytes a raw snapshot must keep.
It is used where it serves: the tests read every endpoint of the loopback server with it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import requests

from gogooku3.data.jquants.credentials import ApiKey
from gogooku3.data.jquants.endpoints import Endpoint
from gogooku3.data.jquants.normalize import MalformedResponse, parse_page
from gogooku3.errors import ConfigError, DataError

if TYPE_CHECKING:
    import polars as pl

PLAN_PER_MINUTE = {"free": 5, "light": 60, "standard": 120, "premium": 500}
RETRY_STATUS = {429, 500, 502, 503, 504}
TRANSIENT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


class RequestRejected(DataError):
    """A non-retryable answer (400, 403, 404, 413): retrying or going on would not help."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. A 429 carries no Retry-After; J-Quants wants a minute or more."""

    max_retries: int = 6
    backoff_s: float = 1.0  # first wait after a 5xx/timeout/broken connection; doubles, capped
    backoff_max_s: float = 30.0
    wait_429_s: float = 65.0
    timeout_s: float = 30.0


class RateLimiter:
    """Spaces requests evenly so that no minute holds more than ``per_minute`` of them."""

    def __init__(self, per_minute: float | None) -> None:
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


def plan_rate(plan: str | None, override: float | None) -> float | None:
    """Requests per minute: ``override`` when set (0 = off), else the plan's limit."""
    if override is not None:
        return float(override) or None
    if plan is None:
        return None
    key = str(plan).lower()
    if key not in PLAN_PER_MINUTE:
        raise ConfigError(f"data.plan={plan!r} is not a J-Quants plan; expected one of {sorted(PLAN_PER_MINUTE)}")
    return float(PLAN_PER_MINUTE[key])


@dataclass
class Fetched:
    pages: list[bytes]
    rows: int
    retries: int
    http_s: float = 0.0  # waiting for and receiving responses (incl. rate limiting, backoff)
    parse_s: float = 0.0  # JSON parsing and validation


OnMalformed = Callable[[Endpoint, dict[str, str], bytes, str], object]


class JQuantsClient:
    """GET every page of one query, as raw bytes, validated against the endpoint's fields."""

    def __init__(
        self,
        base_url: str,
        api_key: ApiKey,
        per_minute: float | None = None,
        retry: RetryPolicy | None = None,
        on_malformed: OnMalformed | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self.retry = retry or RetryPolicy()
        self._limiters: dict[str, RateLimiter] = {}
        self._per_minute = per_minute
        self._global = RateLimiter(per_minute)
        self._local = threading.local()
        self._on_malformed = on_malformed

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers["User-Agent"] = "gogooku3-jquants"
        return session

    def _limit(self, ep: Endpoint) -> None:
        self._global.acquire()
        if ep.per_minute_cap and self._per_minute and ep.per_minute_cap < self._per_minute:
            limiter = self._limiters.setdefault(ep.name, RateLimiter(ep.per_minute_cap))
            limiter.acquire()

    def table(self, name: str, **params: str) -> "pl.DataFrame":
        """One query's rows in canonical names, e.g. ``table("bars", code="86970", **{"from": ..., "to": ...})``."""
        import polars as pl

        from gogooku3.data.jquants.endpoints import endpoint
        from gogooku3.data.jquants.normalize import empty_canonical, to_canonical

        ep = endpoint(name)
        frames = [to_canonical(ep, parse_page(ep, body)[0]) for body in self.fetch(ep, params).pages]
        frames = [f for f in frames if f.height]
        return pl.concat(frames, how="diagonal_relaxed") if frames else empty_canonical(ep)

    def fetch(self, ep: Endpoint, params: dict[str, str]) -> Fetched:
        result = Fetched([], 0, 0)
        query = dict(params)
        while True:
            body, page_rows, key = self._get_page(ep, query, params, result)
            result.pages.append(body)
            result.rows += page_rows
            if not key:
                return result
            query = {**params, "pagination_key": key}

    def _get_page(self, ep: Endpoint, query: dict[str, str], params: dict[str, str], tally: Fetched):
        where = f"{ep.path} {params}"
        policy = self.retry
        problem, kept = "", None
        for attempt in range(policy.max_retries + 1):
            if attempt:
                tally.retries += 1
                wait = policy.wait_429_s if problem == "HTTP 429" else min(
                    policy.backoff_s * 2 ** (attempt - 1), policy.backoff_max_s
                )
                time.sleep(wait)
            started = time.perf_counter()
            self._limit(ep)
            try:
                resp = self._session().get(
                    self.base_url + ep.path,
                    params=query,
                    headers={"x-api-key": self._key.reveal()},
                    timeout=policy.timeout_s,
                )
                body = resp.content
            except TRANSIENT as exc:
                problem = type(exc).__name__
                continue
            finally:
                tally.http_s += time.perf_counter() - started
            if resp.status_code in RETRY_STATUS:
                problem = f"HTTP {resp.status_code}"
                continue
            if resp.status_code != 200:
                hint = " (check JQUANTS_API_KEY and the plan's data range)" if resp.status_code == 403 else ""
                raise RequestRejected(f"J-Quants {where}: HTTP {resp.status_code} {_message(body)}{hint}")
            started = time.perf_counter()
            try:
                frame, key = parse_page(ep, body)
            except MalformedResponse as exc:
                tally.parse_s += time.perf_counter() - started
                problem = f"malformed response: {exc}"
                if self._on_malformed is not None:
                    kept = self._on_malformed(ep, params, body, str(exc))
                continue
            tally.parse_s += time.perf_counter() - started
            return body, frame.height, key
        where_kept = f" (raw body kept in {kept})" if kept else ""
        raise DataError(
            f"J-Quants {where}: gave up after {policy.max_retries + 1} tries; last problem: {problem}{where_kept}"
        )


def _message(body: bytes) -> str:
    import json

    try:
        return str(json.loads(body).get("message", ""))[:200]
    except (ValueError, AttributeError):
        return repr(body[:80])
