"""Price group vs a plain-pandas reference on a market with splits, gaps and suspensions."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from featurekit import adjusted_pandas, compare, with_quotes

from gogooku3.features import build_features

GROUPS = {"price": {"horizons": [1, 5, 20], "extremes": [5, 20]}}


@pytest.fixture(scope="module")
def built(messy_market):
    panel = build_features(messy_market, GROUPS)
    ref = adjusted_pandas(messy_market.quotes)
    g = ref.groupby("Code", sort=False)
    for k in (1, 5, 20):
        ref[f"r{k}"] = np.log(ref["aClose"] / g["aClose"].shift(k))
    ref["gap"] = np.log(ref["aOpen"] / g["aClose"].shift(1))
    ref["intra"] = np.log(ref["aClose"] / ref["aOpen"])
    ref["hl"] = np.log(ref["aHigh"] / ref["aLow"])
    rng = ref["aHigh"] - ref["aLow"]
    ref["pos"] = ((ref["aClose"] - ref["aLow"]) / rng).where(rng != 0)
    top = np.maximum(ref["aOpen"], ref["aClose"])
    ref["upper"] = (ref["aHigh"] - top) / ref["aOpen"]
    for w in (5, 20):
        hi = g["aHigh"].rolling(w, min_periods=w).max().reset_index(level=0, drop=True)
        lo = g["aLow"].rolling(w, min_periods=w).min().reset_index(level=0, drop=True)
        ref[f"dh{w}"] = np.log(ref["aClose"] / hi)
        ref[f"dl{w}"] = np.log(ref["aClose"] / lo)
    return panel, ref


@pytest.mark.parametrize("column,ref_column", [
    ("ret_1d", "r1"), ("ret_5d", "r5"), ("ret_20d", "r20"), ("gap_1d", "gap"),
    ("intraday_1d", "intra"), ("hl_range_1d", "hl"), ("close_pos_1d", "pos"),
    ("candle_upper", "upper"), ("dist_high_5d", "dh5"), ("dist_low_20d", "dl20"),
])
def test_matches_pandas_reference(built, column, ref_column):
    panel, ref = built
    compare(panel.frame, ref, column, ref_column)


def test_split_is_continuous_and_gaps_are_not_jumped(feat_market):
    """A 1:2 split leaves returns unchanged; a missing row or suspension nulls returns across it."""
    code = feat_market.quotes.get_column("Code")[0]
    q = feat_market.quotes.filter(pl.col("Code") == code).head(30)
    d = q.get_column("Date").to_list()
    base = build_features(with_quotes(feat_market, q), {"price": {"horizons": [1, 5]}}).frame
    after = pl.col("Date") >= d[10]
    split = q.with_columns(
        [pl.when(after).then(pl.col(c) / 2).otherwise(pl.col(c)).alias(c) for c in ("Open", "High", "Low", "Close")]
        + [pl.when(pl.col("Date") == d[10]).then(0.5).otherwise(pl.col("AdjustmentFactor")).alias("AdjustmentFactor")])
    got = build_features(with_quotes(feat_market, split), {"price": {"horizons": [1, 5]}}).frame
    np.testing.assert_allclose(got["ret_1d"].to_numpy()[1:], base["ret_1d"].to_numpy()[1:], rtol=1e-6)

    holey = q.filter(pl.col("Date") != d[15])
    got = build_features(with_quotes(feat_market, holey), {"price": {"horizons": [1, 5]}}).frame
    assert got.height == holey.height
    row = got.filter(pl.col("Date") == d[16])
    assert row["ret_1d"].is_null().all() and row["gap_1d"].is_null().all()
    # k-session returns need both ends: null when the end k sessions back is missing.
    assert got.filter(pl.col("Date") == d[20])["ret_5d"].is_null().all()
    assert got.filter(pl.col("Date").is_between(d[16], d[19]))["ret_5d"].is_not_null().all()
