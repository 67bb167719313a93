"""Credentials, plans and the rate limiter."""

from __future__ import annotations

import time

import pytest
from jquants_testkit import API_KEY

from gogooku3.data.jquants.client import RateLimiter, plan_rate
from gogooku3.data.jquants.credentials import OFFICIAL_BASE, resolve_api_key, resolve_base_url
from gogooku3.errors import ConfigError


@pytest.fixture
def no_key_env(monkeypatch, tmp_path):
    for name in ("JQUANTS_API_KEY", "JQUANTS_API_CLIENT_CONFIG_FILE", "JQUANTS_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)


def test_key_from_config_file_then_env_wins(no_key_env, monkeypatch, tmp_path):
    config = tmp_path / "jq.toml"
    config.write_text('[jquants-api-client]\napi_key = "from-file"\n')
    monkeypatch.setenv("JQUANTS_API_CLIENT_CONFIG_FILE", str(config))
    assert resolve_api_key().reveal() == "from-file"
    monkeypatch.setenv("JQUANTS_API_KEY", "from-env")
    assert resolve_api_key().reveal() == "from-env"
    assert resolve_api_key("explicit").reveal() == "explicit"


def test_home_config_file_is_read(no_key_env, tmp_path):
    home = tmp_path / "home" / ".jquants-api"
    home.mkdir(parents=True)
    (home / "jquants-api.toml").write_text('[jquants-api-client]\napi_key = "home-key"\n')
    assert resolve_api_key().reveal() == "home-key"


def test_missing_key_is_a_config_error(no_key_env):
    with pytest.raises(ConfigError, match="JQUANTS_API_KEY"):
        resolve_api_key()


def test_the_key_never_shows_in_repr_or_str():
    key = resolve_api_key(API_KEY)
    assert API_KEY not in repr(key) and API_KEY not in str(key) and API_KEY not in f"{key}"


def test_base_url_order(no_key_env, monkeypatch):
    assert resolve_base_url(None) == OFFICIAL_BASE
    monkeypatch.setenv("JQUANTS_API_BASE", "http://127.0.0.1:9/v2/")
    assert resolve_base_url(None) == "http://127.0.0.1:9/v2"
    assert resolve_base_url("http://localhost:1/v2") == "http://localhost:1/v2"
    with pytest.raises(ConfigError, match="data.base_url"):
        resolve_base_url("ftp://x")


def test_plans_set_the_rate():
    assert plan_rate("free", None) == 5 and plan_rate("Light", None) == 60
    assert plan_rate("standard", None) == 120 and plan_rate("premium", None) == 500
    assert plan_rate("premium", 0) is None and plan_rate(None, None) is None
    assert plan_rate("free", 30) == 30
    with pytest.raises(ConfigError, match="data.plan='gold'"):
        plan_rate("gold", None)


def test_rate_limiter_spaces_requests():
    limiter = RateLimiter(per_minute=1200)  # one per 50 ms
    started = time.monotonic()
    for _ in range(6):
        limiter.acquire()
    assert time.monotonic() - started >= 0.25 - 1e-3  # 5 intervals after the first
    free = RateLimiter(None)
    started = time.monotonic()
    for _ in range(1000):
        free.acquire()
    assert time.monotonic() - started < 0.5


def test_the_client_side_limit_keeps_clear_of_the_server_limit(serve, tmp_path):
    from jquants_testkit import make_source

    from gogooku3.data.jquants.server import Faults

    # The server allows 4 requests per second; the client asks for at most 3 per second.
    server = serve(faults=Faults(rate_limit_per_window=4, rate_window_s=1.0), page_size=100)
    source = make_source(server.url, tmp_path, end="2022-01-10", endpoints=("calendar", "bars"),
                         rate_limit_per_minute=180)
    source.load()
    assert sum(source.summary.retried.values()) == 0  # never a 429
    assert sum(source.summary.fetched.values()) >= 5


def test_bars_by_code_with_from_and_to_across_pages(serve, jq_market):
    import polars as pl

    from gogooku3.data.jquants.client import JQuantsClient
    from gogooku3.data.jquants.credentials import ApiKey

    server = serve(page_size=7)
    client = JQuantsClient(server.url, ApiKey(API_KEY))
    code = jq_market.codes[1]
    bars = client.table("bars", code=code, **{"from": "2022-02-01", "to": "2022-03-15"})
    expected = jq_market.quotes.filter((pl.col("Code") == code) & pl.col("Date").is_between(pl.date(2022, 2, 1), pl.date(2022, 3, 15)))
    assert bars.select(expected.columns).equals(expected)
    assert client.table("statements", date="2022-01-01").height == 0  # a holiday: no rows, canonical columns
