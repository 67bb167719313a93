"""Market group vs pandas; it degrades (or fails when required) without an index."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from featurekit import adjusted_pandas, compare

from gogooku3.errors import DataError
from gogooku3.features import build_features

GROUPS = {"market": {"returns": [1, 5], "vols": [5, 20], "trends": [20], "beta_windows": [20]}}


def test_matches_pandas(messy_market):
    panel = build_features(messy_market, GROUPS)
    idx = messy_market.index.to_pandas().sort_values("Date")
    r1 = np.log(idx["Close"] / idx["Close"].shift(1))
    idx["ret5"] = np.log(idx["Close"] / idx["Close"].shift(5))
    idx["vol20"] = r1.rolling(20, min_periods=20).std()
    idx["trend20"] = np.log(idx["Close"] / idx["Close"].rolling(20, min_periods=20).mean())
    idx["dd20"] = np.log(idx["Close"] / idx["Close"].rolling(20, min_periods=20).max())
    idx["ratio"] = r1.rolling(5, min_periods=5).std() / idx["vol20"]
    idx["rm"] = r1
    ref = adjusted_pandas(messy_market.quotes).merge(idx[["Date", "ret5", "vol20", "trend20", "dd20", "ratio", "rm"]],
                                                     on="Date", how="left")
    ref["ri"] = np.log(ref["aClose"] / ref.groupby("Code")["aClose"].shift(1))
    parts = []
    for _, g in ref.groupby("Code", sort=False):
        both = g[["ri", "rm"]].where(g[["ri", "rm"]].notna().all(axis=1))
        cov = both["ri"].rolling(20, min_periods=20).cov(both["rm"])
        beta = cov / both["rm"].rolling(20, min_periods=20).var()
        alpha = both["ri"].rolling(20, min_periods=20).mean() - beta * both["rm"].rolling(20, min_periods=20).mean()
        parts.append(pd.DataFrame({"beta": beta, "alpha": alpha, "resid": g["ri"] - beta * g["rm"]}, index=g.index))
    ref = ref.join(pd.concat(parts))
    for col, rc in [("mkt_ret_5d", "ret5"), ("mkt_vol_20d", "vol20"), ("mkt_trend_20d", "trend20"),
                    ("mkt_dd_20d", "dd20"), ("mkt_vol_ratio_5_20d", "ratio"), ("beta_mkt_20d", "beta"),
                    ("alpha_mkt_20d", "alpha"), ("resid_ret_1d_20", "resid")]:
        compare(panel.frame, ref, col, rc, rtol=1e-5, atol=1e-7)


def test_without_index(messy_market, caplog):
    market = replace(messy_market, index=None)
    with caplog.at_level(logging.INFO, logger="gogooku3.features"):
        panel = build_features(market, {"price": {"horizons": [1]}, **GROUPS})
    assert not any(n.startswith(("mkt_", "beta_")) for n in panel.names)
    assert "market produces nothing: market.index absent" in caplog.text
    with pytest.raises(DataError, match="features.groups.market: required"):
        build_features(market, {"market": {"required": True}})
