"""Malformed 200 responses: quarantined with the raw body, a clear error, never in the snapshot."""

from __future__ import annotations

import json

import pytest
from jquants_testkit import make_source

from gogooku3.data.jquants.server import Faults
from gogooku3.errors import DataError


@pytest.mark.parametrize(
    ("path", "kind", "problem"),
    [
        ("/fins/summary", "missing_field", r"missing required field\(s\) \[.*'Code'\]"),
        ("/equities/bars/daily", "wrong_type", r"field [OC] has String values; expected num"),
        ("/markets/margin-interest", "not_json", r"not a JSON object"),
        ("/markets/short-ratio", "wrong_type", r"field SellExShortVa has String values"),
    ],
)
def test_malformed_responses_are_quarantined(serve, tmp_path, path, kind, problem):
    server = serve(faults=Faults(malformed={path: kind}))
    source = make_source(server.url, tmp_path, max_retries=1)
    with pytest.raises(DataError, match=rf"J-Quants {path} \{{'date': '2022-\d\d-\d\d'\}}: .*{problem}") as info:
        source.load()
    assert len(str(info.value).splitlines()) == 1
    root = tmp_path / "jquants"
    endpoint = {"/fins/summary": "statements", "/equities/bars/daily": "bars",
                "/markets/margin-interest": "margin", "/markets/short-ratio": "short_ratio"}[path]
    # Nothing of the bad endpoint entered the snapshot; the good endpoints did.
    assert not list((root / "raw" / endpoint).glob("*.parquet"))
    assert list((root / "raw" / "topix").glob("*.parquet"))
    kept = sorted((root / "quarantine" / endpoint).glob("*.body"))
    assert kept
    meta = json.loads(kept[0].with_suffix(".json").read_text())
    assert meta["endpoint"] == endpoint and "date" in meta["params"]
    body = kept[0].read_bytes()
    if kind == "not_json":
        assert body.startswith(b"<html>")
    else:
        assert json.loads(body)["data"]  # the raw body, as sent


def test_good_data_is_resumed_after_the_server_is_fixed(serve, tmp_path):
    bad = serve(faults=Faults(malformed={"/fins/summary": "missing_field"}))
    with pytest.raises(DataError):
        make_source(bad.url, tmp_path, max_retries=0).load()
    good = serve()
    source = make_source(good.url, tmp_path)
    market = source.load()
    assert source.summary.fetched["statements"] > 0 and source.summary.fetched["bars"] == 0
    assert market.extras["statements"].height > 0
