"""The loopback server speaks V2: paths, parameters, pagination, error bodies; the official client reads it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
import requests
from jquants_testkit import API_KEY

ROOT = Path(__file__).resolve().parents[3]


def get(server, path, key=API_KEY, **params):
    return requests.get(server.url + path, params=params, headers={"x-api-key": key} if key else {}, timeout=10)


def test_bad_or_missing_key_is_403_with_the_v2_message(serve):
    server = serve()
    for key in ("wrong", None):
        resp = get(server, "/markets/calendar", key=key)
        assert resp.status_code == 403
        assert resp.json() == {"message": "The incoming api key is invalid or expired."}


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/equities/bars/daily", {}, 400),  # neither code nor date
        ("/equities/bars/daily", {"code": "", "date": ""}, 400),  # empty values count as absent
        ("/equities/bars/daily", {"code": "13010", "from": "20220301", "to": "20220201"}, 400),
        ("/equities/bars/daily", {"date": "2022-13-45"}, 400),
        ("/equities/bars/daily", {"date": "2022-01-04", "pagination_key": "bogus"}, 400),
        ("/indices/bars/daily/topix", {}, 413),  # more rows than the server's max_rows
        ("/no/such/endpoint", {}, 404),
    ],
)
def test_errors_carry_a_message_body(serve, path, params, status):
    server = serve(max_rows=30)
    resp = get(server, path, **params)
    assert resp.status_code == status
    assert set(resp.json()) == {"message"} and resp.json()["message"]


def test_pagination_walks_every_row_once(serve, jq_market):
    server = serve(page_size=4)
    code = jq_market.codes[0]
    rows, params, pages = [], {"code": code, "from": "2022-01-01", "to": "2022-03-31"}, 0
    while True:
        body = get(server, "/equities/bars/daily", **params).json()
        rows += body["data"]
        pages += 1
        if "pagination_key" not in body:
            break
        params = {**params, "pagination_key": body["pagination_key"]}
    expected = jq_market.quotes.filter(pl.col("Code") == code)
    assert pages == -(-expected.height // 4)
    assert [r["Date"] for r in rows] == [d.isoformat() for d in expected.get_column("Date")]
    assert [r["C"] for r in rows] == expected.get_column("Close").to_list()


def test_four_digit_codes_and_date_formats(serve, jq_market):
    server = serve(page_size=1000)
    code = jq_market.quotes.filter(pl.col("Date") == pl.date(2022, 1, 5)).get_column("Code")[0]
    a = get(server, "/equities/bars/daily", code=code[:4], date="20220105").json()["data"]
    b = get(server, "/equities/bars/daily", code=code, date="2022-01-05").json()["data"]
    assert a == b and len(a) == 1


def test_the_official_client_reads_every_endpoint(serve, jq_market):
    from jquantsapi import ClientV2

    server = serve(page_size=50)
    client = ClientV2(api_key=API_KEY)
    client.JQUANTS_API_BASE = server.url
    code, day = jq_market.codes[0], "2022-02-01"
    master = client.get_eq_master()
    assert sorted(master["Code"]) == sorted(jq_market.listed["Code"].to_list())
    by_date = client.get_eq_bars_daily(date_yyyymmdd=day)
    assert len(by_date) == jq_market.quotes.filter(pl.col("Date") == pl.date(2022, 2, 1)).height
    by_code = client.get_eq_bars_daily(code=code, from_yyyymmdd="20220101", to_yyyymmdd="20220331")
    assert len(by_code) == jq_market.quotes.filter(pl.col("Code") == code).height
    assert {"O", "H", "L", "C", "Vo", "Va", "AdjFactor", "AdjC"} <= set(by_code.columns)
    assert len(client.get_idx_bars_daily_topix(from_yyyymmdd="20220101", to_yyyymmdd="20220331")) == jq_market.index.height
    statements = client.get_fin_summary(code=code)
    assert len(statements) == jq_market.extras["statements"].filter(pl.col("Code") == code).height
    assert len(client.get_eq_investor_types(from_yyyymmdd="20220101", to_yyyymmdd="20220331")) > 0
    calendar = client.get_mkt_calendar(from_yyyymmdd="20220101", to_yyyymmdd="20220331")
    assert (calendar["HolDiv"] == "1").sum() == jq_market.calendar.len()
    margin = client.get_mkt_margin_interest(code=code)
    assert len(margin) == jq_market.extras["margin"].filter(pl.col("Code") == code).height
    assert len(client.get_mkt_short_ratio(date_yyyymmdd=day)) > 0


def test_command_line_server_serves_with_the_env_key(tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"PYTHONPATH": str(ROOT / "src"), "JQUANTS_API_KEY": API_KEY, "PROJECT_ROOT": str(ROOT), "PATH": ""}
    cmd = [sys.executable, "-m", "gogooku3.data.jquants.server", "--port", str(port), "--n-stocks", "5",
           "--start", "2022-01-01", "--end", "2022-01-31"]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
    try:
        banner = proc.stderr.readline()
        assert f"http://127.0.0.1:{port}/v2" in banner and API_KEY not in banner
        deadline = time.monotonic() + 20
        while True:
            try:
                resp = requests.get(f"http://127.0.0.1:{port}/v2/markets/calendar", headers={"x-api-key": API_KEY}, timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert resp.status_code == 200 and resp.json()["data"][0]["HolDiv"] in ("0", "1")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
