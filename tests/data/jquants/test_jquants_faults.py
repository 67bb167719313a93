"""Recovery from injected faults: the snapshot must equal a clean run's, byte for byte."""

from __future__ import annotations

import json

import pytest
from jquants_testkit import API_KEY, make_source, snapshot_files

from gogooku3.data.jquants.endpoints import CORE
from gogooku3.data.jquants.server import Faults, JQuantsLoopbackServer
from gogooku3.errors import DataError


def core_source(url, data_dir, **overrides):
    """The core endpoints only: enough requests for faults to bite, few enough to be quick."""
    return make_source(url, data_dir, endpoints=CORE, **overrides)


@pytest.fixture(scope="module")
def clean(jq_market, tmp_path_factory):
    root = tmp_path_factory.mktemp("clean")
    with JQuantsLoopbackServer(jq_market, API_KEY, page_size=5) as server:
        market = core_source(server.url, root).load()
    return market.digest, snapshot_files(root / "jquants")


@pytest.mark.parametrize(
    "faults",
    [
        Faults(error_share=0.3, seed=1),
        Faults(drop_share=0.25, seed=2),
        Faults(truncate_share=0.25, seed=3),
        Faults(slow_share=0.1, slow_s=0.6, seed=4),
        Faults(error_share=0.1, drop_share=0.1, truncate_share=0.1, slow_share=0.05, slow_s=0.6, seed=5),
    ],
    ids=["500s", "dropped", "truncated", "timeouts", "mixed"],
)
def test_faults_leave_the_snapshot_identical(serve, tmp_path, clean, faults):
    digest, files = clean
    server = serve(faults=faults)
    source = core_source(server.url, tmp_path / "faulty", timeout_s=0.3)
    market = source.load()
    assert sum(source.summary.retried.values()) > 0  # the faults did happen
    assert market.digest == digest
    assert snapshot_files(tmp_path / "faulty" / "jquants") == files


def test_rate_limit_429_waits_and_recovers(serve, tmp_path, clean):
    digest, _ = clean
    server = serve(faults=Faults(rate_limit_per_window=20, rate_window_s=0.25))
    source = core_source(server.url, tmp_path / "limited", wait_429_s=0.1, max_retries=20)
    assert source.load().digest == digest
    assert sum(source.summary.retried.values()) > 0


def test_truncated_bodies_are_quarantined_and_retried(serve, tmp_path, clean):
    server = serve(faults=Faults(truncate_share=0.3, seed=7))
    core_source(server.url, tmp_path / "t").load()
    kept = list((tmp_path / "t" / "jquants" / "quarantine").rglob("*.json"))
    assert kept
    meta = json.loads(kept[0].read_text())
    assert "not valid JSON" in meta["problem"] and meta["params"]
    assert kept[0].with_suffix(".body").stat().st_size == meta["bytes"]


def test_giving_up_names_endpoint_parameters_and_problem(serve, tmp_path):
    server = serve(faults=Faults(error_share=1.0))
    source = core_source(server.url, tmp_path, max_retries=2)
    with pytest.raises(DataError, match=r"/markets/calendar \{'from': '2022-0\d-\d\d', 'to': .*HTTP 500"):
        source.load()
    assert not list((tmp_path / "jquants").rglob("raw/*/*.parquet"))
