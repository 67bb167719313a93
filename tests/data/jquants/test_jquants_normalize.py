"""The one mapping table covers the canonical schema; parsing rejects what does not fit it."""

from __future__ import annotations

import json

import polars as pl
import pytest

from gogooku3.data.jquants.endpoints import ENDPOINTS, endpoint
from gogooku3.data.jquants.normalize import MalformedResponse, parse_page, to_canonical
from gogooku3.errors import ConfigError
from gogooku3.schema import EXTRA_TABLES, INDEX_COLUMNS, LISTED_COLUMNS, QUOTE_COLUMNS

# Canonical columns V2 does not send; the source derives them (documented in source.py).
DERIVED = {("short_ratio", "PublishedDate")}


@pytest.mark.parametrize(
    ("name", "schema"),
    [("bars", QUOTE_COLUMNS), ("master", LISTED_COLUMNS), ("topix", INDEX_COLUMNS)]
    + [(name, schema) for name, schema in EXTRA_TABLES.items()],
)
def test_every_canonical_column_has_a_wire_field(name, schema):
    canonical = {f.canonical for f in ENDPOINTS[name].fields}
    missing = {c for c in schema if c not in canonical and (name, c) not in DERIVED}
    assert not missing


def test_wire_and_canonical_names_are_unique_per_endpoint():
    for ep in ENDPOINTS.values():
        assert len({f.wire for f in ep.fields}) == len(ep.fields), ep.name
        assert len({f.canonical for f in ep.fields}) == len(ep.fields), ep.name


def body(rows, **extra) -> bytes:
    return json.dumps({"data": rows, **extra}).encode()


BAR = {"Date": "2024-01-04", "Code": "86970", "O": 100, "H": 110.5, "L": 99.0, "C": 105.0, "Vo": None,
       "Va": 1.0e6, "AdjFactor": 1.0, "NewV3Field": "kept"}


def test_bars_are_renamed_typed_and_unknown_fields_kept():
    rows, key = parse_page(ENDPOINTS["bars"], body([BAR, {**BAR, "Code": "186A0"}], pagination_key="p2"))
    assert key == "p2"
    frame = to_canonical(ENDPOINTS["bars"], rows)
    assert frame.schema["Date"] == pl.Date and frame.schema["Open"] == pl.Float64
    assert frame.get_column("Code").to_list() == ["86970", "186A0"]
    assert frame.get_column("Volume").null_count() == 2  # null volume stays null, not 0
    assert frame.get_column("NewV3Field").to_list() == ["kept", "kept"]
    assert frame.get_column("AdjustmentClose").null_count() == 2  # absent optional field: typed nulls


def test_fin_summary_strings_become_numbers_and_empty_means_missing():
    row = {"DiscDate": "2024-02-14", "DiscTime": "15:30:00", "Code": "86970", "Sales": "1234000", "EPS": "",
           "CurFYEn": ""}
    frame = to_canonical(ENDPOINTS["statements"], parse_page(ENDPOINTS["statements"], body([row]))[0])
    assert frame.get_column("NetSales").to_list() == [1234000.0]
    assert frame.get_column("EarningsPerShare").to_list() == [None]
    assert frame.get_column("CurrentFiscalYearEndDate").to_list() == [None]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"<html>504</html>", "not a JSON object"),
        (b'{"data": [{"Date": "2024-01-04"', "not valid JSON"),
        (b'{"rows": []}', "no 'data' list"),
        (b'{"data": {"a": 1}}', "not a list"),
        (b'{"data": [1, 2]}', "not objects"),
        (body([{k: v for k, v in BAR.items() if k != "C"}]), r"missing required field\(s\) \['C'\]"),
        (body([{**BAR, "O": "100"}]), "field O has String values"),
        (body([{**BAR, "Date": "04/01/2024"}]), "field Date has a non-date value"),
        (body([{**BAR, "Code": None}]), r"required field\(s\) \['Code'\] are null"),
        (body([BAR], pagination_key=5), "'pagination_key' is"),
    ],
)
def test_malformed_pages_are_rejected_with_the_problem(raw, problem):
    with pytest.raises(MalformedResponse, match=problem):
        parse_page(ENDPOINTS["bars"], raw)


def test_an_empty_page_is_fine():
    rows, key = parse_page(ENDPOINTS["bars"], b'{"data": []}')
    assert rows.height == 0 and key is None


def test_unknown_endpoint_names_the_parameter():
    with pytest.raises(ConfigError, match="data.endpoints: unknown endpoint 'quotes'"):
        endpoint("quotes")


def test_missing_publication_dates_are_derived_from_the_calendar():
    """V2 sends no PubDate for short selling (and none for margin before 2026-09-25)."""
    from datetime import date

    from gogooku3.data.jquants.source import _sessions_later

    days = pl.Series("Date", [date(2024, 4, 26), date(2024, 5, 2)], dtype=pl.Date)  # before Golden Week holidays
    assert _sessions_later(days, 1).to_list() == [date(2024, 4, 30), date(2024, 5, 7)]
    assert _sessions_later(days, 2).to_list() == [date(2024, 5, 1), date(2024, 5, 8)]
