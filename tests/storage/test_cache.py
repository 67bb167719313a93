"""The Redis cache against real servers: the machine's (db 7, prefix g3test:) and one of our own."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time

import polars as pl
import pytest
import redis

from gogooku3.storage.cache import NullCache, RedisCache, digest_of

URL = "redis://127.0.0.1:6379"
PREFIX = "g3test:cache:"


@pytest.fixture
def machine_redis():
    client = redis.Redis.from_url(URL, db=7)
    client.ping()  # the machine's Redis must be up: fail, not skip
    yield client
    for key in client.scan_iter(f"{PREFIX}*"):
        client.delete(key)


def features(seed: int) -> pl.DataFrame:
    return pl.DataFrame({"Code": ["1301", "7203"], "x": [seed * 1.0, seed * 2.0]})


class Counter:
    def __init__(self, seed: int) -> None:
        self.calls, self.seed = 0, seed

    def __call__(self) -> pl.DataFrame:
        self.calls += 1
        return features(self.seed)


def test_hit_after_miss_and_keys_differ_by_digest_and_version(machine_redis):
    cache = RedisCache(URL, db=7, ttl_seconds=60, prefix=PREFIX)
    parts = ("features", digest_of(features(1)), "v1")
    compute = Counter(1)
    assert cache.get_or_compute(parts, compute).equals(features(1))
    assert cache.get_or_compute(parts, compute).equals(features(1))
    assert compute.calls == 1
    assert 0 < machine_redis.ttl(cache.key(parts)) <= 60
    assert cache.key(parts) != cache.key(("features", parts[1], "v2"))


@pytest.mark.parametrize("poison", ["payload", "digest", "short"])
def test_a_poisoned_value_is_never_served(machine_redis, poison, caplog):
    cache = RedisCache(URL, db=7, ttl_seconds=60, prefix=PREFIX)
    parts = ("predictions", "abc123", "v1")
    cache.get_or_compute(parts, Counter(1))
    raw = machine_redis.get(cache.key(parts))
    bad = {"payload": raw[:64] + raw[64:].replace(b"\x00\x00\x00\x00\x00\x00\xf0?", b"\x00" * 7 + b"@"),
           "digest": b"0" * 64 + raw[64:], "short": b"xx"}[poison]  # fmt: skip
    assert bad != raw
    machine_redis.set(cache.key(parts), bad)
    compute = Counter(1)
    with caplog.at_level(logging.WARNING):
        got = cache.get_or_compute(parts, compute)
    assert got.equals(features(1)) and compute.calls == 1
    assert "sha256" in caplog.text
    assert machine_redis.get(cache.key(parts)) == raw  # healed


def test_null_cache_always_computes():
    compute = Counter(3)
    NullCache().get_or_compute(("a",), compute)
    NullCache().get_or_compute(("a",), compute)
    assert compute.calls == 2


def _free_port() -> int:
    for port in range(18410, 18499):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port in 18410-18498")


@pytest.fixture
def own_redis(tmp_path):
    port = _free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield proc, port
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGCONT)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.mark.parametrize("fault", ["killed", "stopped"])
def test_dead_or_hung_redis_mid_run_gives_the_same_values_and_one_warning(own_redis, fault, caplog):
    proc, port = own_redis
    cache = RedisCache(f"redis://127.0.0.1:{port}", db=0, ttl_seconds=60, prefix=PREFIX, timeout_s=0.2, retry_after_s=0)
    expected = [features(i) for i in range(6)]
    with caplog.at_level(logging.WARNING, logger="gogooku3.storage.cache"):
        got = []
        for i in range(6):
            if i == 3:
                os.kill(proc.pid, signal.SIGKILL if fault == "killed" else signal.SIGSTOP)
                if fault == "killed":
                    proc.wait()
            got.append(cache.get_or_compute((f"day{i}", "v1"), Counter(i)))
            got.append(cache.get_or_compute((f"day{i}", "v1"), Counter(i)))
    assert all(g.equals(expected[i // 2]) for i, g in enumerate(got))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "unavailable" in warnings[0].getMessage()
