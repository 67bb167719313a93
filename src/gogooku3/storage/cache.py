"""A cache that can make a read slower, never wrong.

Keys are built from the caller's content digests and model version (``key_parts``);
each stored value carries the sha256 of its bytes, and a value whose digest does not
match is deleted and recomputed. A miss, a timeout or a dead Redis falls back to
``compute``; an unreachable Redis is logged once per cache instance.
"""

from __future__ import annotations

import hashlib
import io
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import polars as pl

from gogooku3.errors import ConfigError

log = logging.getLogger(__name__)
T = TypeVar("T")


def frame_to_bytes(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_ipc(buf)
    return buf.getvalue()


def frame_from_bytes(data: bytes) -> pl.DataFrame:
    return pl.read_ipc(io.BytesIO(data))


def digest_of(value: bytes | pl.DataFrame) -> str:
    """sha256 of ``value``'s bytes (a frame as Arrow IPC): a key part for content."""
    data = value if isinstance(value, bytes) else frame_to_bytes(value)
    return hashlib.sha256(data).hexdigest()


class Cache(Protocol):
    def get_or_compute(
        self, key_parts: Sequence[str], compute: Callable[[], T], *,
        encode: Callable[[T], bytes] = frame_to_bytes, decode: Callable[[bytes], T] = frame_from_bytes,
    ) -> T: ...  # fmt: skip


class NullCache:
    """No cache (storage=local): always compute."""

    def get_or_compute(
        self, key_parts: Sequence[str], compute: Callable[[], T], *,
        encode: Callable[[T], bytes] = frame_to_bytes, decode: Callable[[bytes], T] = frame_from_bytes,
    ) -> T:  # fmt: skip
        return compute()


class RedisCache:
    """Values in Redis under ``prefix`` + sha256(key parts), expiring after ``ttl_seconds``.

    After a Redis error the cache is bypassed for ``retry_after_s`` so a dead server
    costs one timeout, not one per read.
    """

    def __init__(
        self, url: str, db: int = 0, ttl_seconds: int = 86400, prefix: str = "g3:", timeout_s: float = 0.5,
        retry_after_s: float = 30.0,
    ) -> None:  # fmt: skip
        import redis
        from redis.retry import Retry
        from redis.backoff import NoBackoff

        if ttl_seconds <= 0:
            raise ConfigError(f"cache ttl_seconds: must be positive, got {ttl_seconds}")
        self.prefix, self.ttl_seconds, self.retry_after_s = prefix, ttl_seconds, retry_after_s
        self._client = redis.Redis.from_url(
            url, db=db, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, retry=Retry(NoBackoff(), 0)
        )
        self._errors = (redis.RedisError, OSError)
        self._warned = False
        self._down_until = 0.0
        self._url = url.split("@")[-1]  # never log a password

    def key(self, key_parts: Sequence[str]) -> str:
        if not key_parts or not all(isinstance(p, str) and p for p in key_parts):
            raise ConfigError("cache key_parts: need non-empty strings (content digests and model version)")
        return self.prefix + hashlib.sha256("\x1f".join(key_parts).encode()).hexdigest()

    def get_or_compute(
        self, key_parts: Sequence[str], compute: Callable[[], T], *,
        encode: Callable[[T], bytes] = frame_to_bytes, decode: Callable[[bytes], T] = frame_from_bytes,
    ) -> T:  # fmt: skip
        key = self.key(key_parts)
        raw = self._call(self._client.get, key)
        if raw is not None:
            digest, payload = raw[:64], raw[64:]
            if digest == hashlib.sha256(payload).hexdigest().encode():
                return decode(payload)
            log.warning("cache value %s failed its sha256 check: discarded and recomputed", key)
            self._call(self._client.delete, key)
        value = compute()
        payload = encode(value)
        self._call(self._client.set, key, hashlib.sha256(payload).hexdigest().encode() + payload, ex=self.ttl_seconds)
        return value

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() < self._down_until:
            return None
        try:
            return fn(*args, **kwargs)
        except self._errors as exc:
            self._down_until = time.monotonic() + self.retry_after_s
            if not self._warned:
                self._warned = True
                log.warning("cache at %s unavailable (%s): computing without it", self._url, type(exc).__name__)
            return None


REDIS_URL_ENV = "GOGOOKU3_REDIS_URL"  # an endpoint (and any password): environment only, never YAML
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379"


def open_cache(settings: Any) -> Cache:
    """The cache a ``storage.cache`` node names: ``none`` or ``redis`` (URL from ``GOGOOKU3_REDIS_URL``)."""
    import os

    kind = getattr(settings, "kind", "none")
    if kind == "none":
        return NullCache()
    if kind == "redis":
        url = os.environ.get(REDIS_URL_ENV) or DEFAULT_REDIS_URL
        return RedisCache(url, db=int(settings.db), ttl_seconds=int(settings.ttl_seconds), prefix=str(settings.prefix))
    raise ConfigError(f"storage.cache.kind={kind!r}: expected none or redis")
