"""Leak-proof by construction: features at t computed on data cut at t equal the full run.

The cut points hit the messy market's late listing, delisting, missing rows,
suspension run and split, plus the start and the end of the sample.
"""

from __future__ import annotations

import polars as pl
import pytest
from featurekit import load_set, truncate

from gogooku3.features import build_features


def _cut_dates(market):
    """Dates around the messy cases, plus statement disclosures after and before 15:00
    and flow publication dates."""
    dates = market.quotes.get_column("Date").unique().sort().to_list()
    mid = len(dates) // 2
    cuts = [dates[30], dates[mid - 3], dates[mid - 1], dates[mid], dates[mid + 1], dates[mid + 8], dates[-40]]
    st = market.extras.get("statements")
    if st is not None:
        on_session = st.filter(pl.col("DisclosedDate").is_in(pl.Series(dates).implode())
                               & (pl.col("DisclosedDate") > dates[mid]))
        for late in (True, False):
            pick = on_session.filter((pl.col("DisclosedTime") >= "15:00:00") == late)
            if pick.height:
                cuts.append(pick.get_column("DisclosedDate").min())
    for name in ("investor_types", "margin"):
        table = market.extras.get(name)
        if table is not None:
            pub = table.filter(pl.col("PublishedDate") > dates[mid + 10]).get_column("PublishedDate")
            if pub.len():
                cuts.append(pub.min())
    return sorted(set(cuts))


def leaks(market, groups, cuts) -> list[str]:
    """Features whose value at some date <= t changes when data after t is removed."""
    full = build_features(market, groups).frame
    found = []
    for t in cuts:
        part = build_features(truncate(market, t), groups).frame
        expected = full.filter(pl.col("Date") <= t)
        assert part.columns == expected.columns and part.height == expected.height
        for name in part.columns[2:]:
            a, b = part.get_column(name), expected.get_column(name)
            same = (a == b) | (a.is_null() & b.is_null()) | (a.is_nan() & b.is_nan())
            if not same.fill_null(False).all():
                row = expected.filter(~same.fill_null(False)).row(0)
                found.append(f"{name} at t={t}: {row[:2]}")
    return found


@pytest.mark.parametrize("feature_set", [
    "core", pytest.param("full", marks=pytest.mark.slow),  # full covers every group of standard
])
def test_truncated_equals_full(messy_market, feature_set):
    assert leaks(messy_market, load_set(feature_set), _cut_dates(messy_market)) == []


def test_the_check_catches_a_planted_leak(messy_market, monkeypatch):
    from gogooku3.features.ops import CLOSE, log_return
    from gogooku3.features.registry import GROUPS, GroupDef, get_group

    def peek(ctx):
        future = log_return(pl.col(CLOSE), 1).shift(-1).over("Code")
        return [ctx.feature("next_ret", future, ("Close",))]

    get_group("price")
    monkeypatch.setitem(GROUPS, "peek", GroupDef("peek", peek))
    found = leaks(messy_market, {"price": {"horizons": [1]}, "peek": {}}, _cut_dates(messy_market)[:2])
    assert found and all(f.startswith("next_ret") for f in found)
