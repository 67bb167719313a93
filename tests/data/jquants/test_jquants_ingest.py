"""Ingestion over real loopback HTTP: round trip, incremental runs, the snapshot layout."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest

from gogooku3.data.jquants.snapshot import MANIFEST
from gogooku3.errors import DataError

from jquants_testkit import API_KEY, make_source, snapshot_files


def test_round_trip_reproduces_the_served_market(serve, jq_market, tmp_path):
    server = serve(page_size=7)  # small pages: every endpoint paginates
    market = make_source(server.url, tmp_path).load()
    assert market.quotes.equals(jq_market.quotes)
    assert market.listed.equals(jq_market.listed)
    assert market.index.equals(jq_market.index)
    assert market.calendar.equals(jq_market.calendar)
    for name in ("statements", "margin", "short_ratio"):
        expected = jq_market.extras[name]
        got = market.extras[name].select(expected.columns)
        assert got.sort(got.columns).equals(expected.sort(expected.columns)), name
    # Investor types are fetched by publication date: rows published after `end` are not known yet.
    expected = jq_market.extras["investor_types"].filter(pl.col("PublishedDate") <= pl.date(2022, 3, 31))
    got = market.extras["investor_types"].select(expected.columns)
    assert got.sort(got.columns).equals(expected.sort(expected.columns))
    assert len(market.digest) == 64


def test_second_run_fetches_nothing_and_gives_the_same_digest(serve, tmp_path):
    server = serve()
    source = make_source(server.url, tmp_path)
    first = source.load()
    assert sum(source.summary.fetched.values()) > 0
    requests_after_first = server.requests
    second = source.load()
    assert server.requests == requests_after_first
    assert sum(source.summary.fetched.values()) == 0
    assert second.digest == first.digest
    assert second.quotes.equals(first.quotes)


def test_extending_the_range_fetches_only_the_new_partitions(serve, tmp_path):
    server = serve()
    short = make_source(server.url, tmp_path, end="2022-02-15")
    early = short.load()
    longer = make_source(server.url, tmp_path)
    market = longer.load()
    summary = longer.summary
    sessions_added = sum(d > date(2022, 2, 15) for d in market.calendar.to_list())
    assert summary.fetched["bars"] == sessions_added
    assert summary.skipped["bars"] == market.calendar.len() - sessions_added
    # February's month partition was cut at the 15th, so it and March are fetched again.
    assert summary.fetched["topix"] == 2 and summary.skipped["topix"] == 1
    # The master is "as of the last session": a new end date means a new partition.
    assert summary.fetched["master"] == 1
    fresh = make_source(server.url, tmp_path / "fresh").load()
    assert fresh.digest == market.digest
    # No look-ahead: what a run ending on the 15th saw is exactly the later run's past
    # (raw prices, not prices adjusted for splits that happen later).
    assert early.quotes.equals(market.quotes.filter(pl.col("Date") <= date(2022, 2, 15)))
    assert early.extras["investor_types"].get_column("PublishedDate").max() <= date(2022, 2, 15)


def test_snapshot_layout_manifest_and_raw_bodies(serve, jq_market, tmp_path):
    server = serve()
    make_source(server.url, tmp_path).load()
    root = tmp_path / "jquants"
    manifest = json.loads((root / MANIFEST).read_text())["partitions"]
    entry = manifest["bars/date=2022-01-04"]
    assert entry["request"] == {"path": "/equities/bars/daily", "params": {"date": "2022-01-04"}}
    rows = jq_market.quotes.filter(pl.col("Date") == date(2022, 1, 4)).height
    assert entry["rows"] == rows and entry["pages"] == -(-rows // 5)  # pages of 5 rows
    assert set(entry) == {"request", "pages", "rows", "sha256", "fetched_at"}
    stored = pl.read_parquet(root / "raw" / "bars" / "date=2022-01-04.parquet")
    # Bodies exactly as received: the first page is V2 JSON with abbreviated names.
    first = json.loads(stored.get_column("body")[0])
    assert set(first) == {"data", "pagination_key"}
    assert {"Date", "Code", "O", "H", "L", "C", "Vo", "Va", "AdjFactor"} <= set(first["data"][0])
    assert "month=2022-01" in {k.split("/")[1] for k in manifest if k.startswith("topix/")}
    assert API_KEY not in (root / MANIFEST).read_text()


def test_a_corrupted_partition_file_is_reported_by_name(serve, tmp_path):
    server = serve()
    make_source(server.url, tmp_path).load()
    path = tmp_path / "jquants" / "raw" / "bars" / "date=2022-01-05.parquet"
    frame = pl.read_parquet(path)
    frame.with_columns(pl.col("body").bin.slice(0, 10)).write_parquet(path)
    with pytest.raises(DataError, match=r"date=2022-01-05\.parquet.*sha256"):
        make_source(server.url, tmp_path).load()


def test_snapshot_files_are_deterministic(serve, jq_market, tmp_path):
    """Same bytes whatever the concurrency, server instance or key."""
    from gogooku3.data.jquants.server import JQuantsLoopbackServer

    server = serve()
    make_source(server.url, tmp_path / "a", concurrency=1).load()
    with JQuantsLoopbackServer(jq_market, "another-key", page_size=5) as other:
        make_source(other.url, tmp_path / "b", concurrency=4, api_key="another-key").load()
    a, b = snapshot_files(tmp_path / "a" / "jquants"), snapshot_files(tmp_path / "b" / "jquants")
    assert a.keys() == b.keys() and a == b


def test_partitions_fetched_before_they_settle_are_fetched_again(serve, tmp_path):
    """Live data is published late (margin two sessions after its record date): a partition
    fetched too soon must not become a permanent gap."""
    server = serve()
    make_source(server.url, tmp_path).load()
    raw = tmp_path / "jquants" / "raw"
    for record, fetched_at in (
        (raw / "bars" / "date=2022-03-31.json", "2022-03-31T07:00:00+00:00"),  # same day: not final
        (raw / "margin" / "date=2022-03-25.json", "2022-03-29T07:00:00+00:00"),  # 4 days < 7
        (raw / "margin" / "date=2022-03-18.json", "2022-03-28T07:00:00+00:00"),  # 10 days: final
    ):
        entry = json.loads(record.read_text())
        record.write_text(json.dumps({**entry, "fetched_at": fetched_at}))
    source = make_source(server.url, tmp_path)
    source.load()
    assert source.summary.fetched == {"bars": 1, "margin": 1}


def test_publication_dates_never_precede_the_data(serve, tmp_path):
    market = make_source(serve().url, tmp_path).load()
    for name, day in (("margin", "Date"), ("short_ratio", "Date"), ("investor_types", "EndDate")):
        frame = market.extras[name]
        assert frame.get_column("PublishedDate").null_count() == 0, name
        assert (frame.get_column("PublishedDate") > frame.get_column(day)).all(), name


def test_one_ingest_at_a_time_per_snapshot(tmp_path):
    from gogooku3.data.jquants.snapshot import Snapshot

    snapshot = Snapshot(tmp_path / "jquants")
    (tmp_path / "jquants" / "raw").mkdir()
    leftover = tmp_path / "jquants" / "raw" / "x.parquet.123.456.tmp"
    leftover.write_bytes(b"half")
    with snapshot.writing():
        assert not leftover.exists()  # a killed run's temp file is swept
        with pytest.raises(DataError, match="another ingest is writing"):
            with Snapshot(tmp_path / "jquants").writing():
                pass
    with snapshot.writing():  # released
        pass
