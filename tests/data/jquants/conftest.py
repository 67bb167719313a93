"""Fixtures for the J-Quants tests: a tiny synthetic market served over real loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from jquants_testkit import API_KEY, END, START

from gogooku3.data.jquants.server import Faults, JQuantsLoopbackServer


@pytest.fixture(scope="session")
def jq_market():
    """12 stocks over one quarter, with the extra tables (statements, margin, ...)."""
    from gogooku3.data.synthetic import SyntheticMarketSource

    return SyntheticMarketSource(n_stocks=12, start=START, end=END, seed=5, extras=True).load()


@pytest.fixture
def serve(jq_market) -> Iterator:
    """serve(faults=..., page_size=...) starts a loopback server; all stop at teardown."""
    servers: list[JQuantsLoopbackServer] = []

    def start(market=None, faults: Faults | None = None, page_size: int = 5, **kwargs) -> JQuantsLoopbackServer:
        server = JQuantsLoopbackServer(market or jq_market, API_KEY, page_size=page_size, faults=faults, **kwargs)
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        server.stop()
