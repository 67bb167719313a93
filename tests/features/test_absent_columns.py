"""A close-only market: features needing absent columns are skipped (one line per group), the rest equal."""

from __future__ import annotations

import dataclasses
import logging

import polars as pl

from gogooku3.features import build_features

ABSENT = ("Open", "High", "Low", "Volume")


def _close_only(market):
    quotes = market.quotes.with_columns(pl.lit(None, pl.Float64).alias(c) for c in ABSENT)
    return dataclasses.replace(market, quotes=quotes, absent=ABSENT, digest="")


def test_features_needing_absent_columns_are_skipped_and_logged(feat_market, core_groups, caplog):
    full = build_features(feat_market, core_groups)
    with caplog.at_level(logging.INFO, logger="gogooku3.features"):
        close = build_features(_close_only(feat_market), core_groups)
    kept = set(close.names)
    assert kept and kept < set(full.names)
    for spec in full.specs:
        assert (spec.name in kept) == (not set(ABSENT) & set(spec.sources)), spec.name
    for name in kept:  # what does not read the absent columns is unchanged
        assert close.frame[name].equals(full.frame[name], null_equal=True), name
    lines = [r.getMessage() for r in caplog.records if "absent from the data" in r.getMessage()]
    assert lines and all(line.count("features: ") == 1 for line in lines)
    assert any("vol_surprise_20d" in line for line in lines)
