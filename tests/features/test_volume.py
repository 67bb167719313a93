"""Volume/liquidity features vs plain pandas."""

from __future__ import annotations

import numpy as np
from featurekit import adjusted_pandas, compare

from gogooku3.features import build_features


def test_volume_features_match_pandas(messy_market):
    panel = build_features(messy_market, {"volume": {"surprise": [10], "ratios": [[5, 20]], "amihud": [10]}})
    ref = adjusted_pandas(messy_market.quotes)
    g = ref.groupby("Code", sort=False)
    lv = np.log1p(ref["aVolume"])
    ref["lv"], ref["lv_prev"] = lv, g["aVolume"].shift(1).pipe(np.log1p)
    g = ref.groupby("Code", sort=False)
    ref["surp"] = ref["lv"] - g["lv_prev"].rolling(10, min_periods=10).mean().reset_index(level=0, drop=True)
    m5 = g["aVolume"].rolling(5, min_periods=5).mean().reset_index(level=0, drop=True)
    m20 = g["aVolume"].rolling(20, min_periods=20).mean().reset_index(level=0, drop=True)
    ref["ratio"] = np.log(m5 / m20)
    tv = ref["TurnoverValue"]
    ref["tlog"] = np.log1p(tv)
    ref["share"] = np.log(tv / ref.loc[ref.present].groupby("Date")["TurnoverValue"].transform("sum"))
    r1 = np.log(ref["aClose"] / g["aClose"].shift(1))
    ref["illiq"] = r1.abs() / tv * 1e9
    ref["amihud"] = ref.groupby("Code", sort=False)["illiq"].rolling(10, min_periods=10).mean() \
        .reset_index(level=0, drop=True)
    for col, rc in [("vol_surprise_10d", "surp"), ("vol_ratio_5_20d", "ratio"), ("turnover_log", "tlog"),
                    ("turnover_share_log", "share"), ("amihud_10d", "amihud")]:
        compare(panel.frame, ref, col, rc, rtol=1e-5, atol=1e-6)
