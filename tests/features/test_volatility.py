"""Volatility estimators vs plain pandas."""

from __future__ import annotations

import numpy as np
import pytest
from featurekit import adjusted_pandas, compare

from gogooku3.errors import ConfigError
from gogooku3.features import build_features


def test_estimators_match_pandas(messy_market):
    panel = build_features(messy_market, {"volatility": {"windows": [5, 20]}})
    ref = adjusted_pandas(messy_market.quotes)
    g = ref.groupby("Code", sort=False)
    ref["r1"] = np.log(ref["aClose"] / g["aClose"].shift(1))
    ref["hl2"] = np.log(ref["aHigh"] / ref["aLow"]) ** 2
    ref["gkd"] = 0.5 * ref["hl2"] - (2 * np.log(2) - 1) * np.log(ref["aClose"] / ref["aOpen"]) ** 2
    g = ref.groupby("Code", sort=False)
    for w in (5, 20):
        roll = lambda c: g[c].rolling(w, min_periods=w)  # noqa: E731
        ref[f"cc{w}"] = roll("r1").std().reset_index(level=0, drop=True)
        ref[f"pk{w}"] = np.sqrt(roll("hl2").mean().reset_index(level=0, drop=True) / (4 * np.log(2)))
        ref[f"gk{w}"] = np.sqrt(roll("gkd").mean().reset_index(level=0, drop=True).clip(lower=0))
        compare(panel.frame, ref, f"vol_cc_{w}d", f"cc{w}")
        compare(panel.frame, ref, f"vol_pk_{w}d", f"pk{w}")
        compare(panel.frame, ref, f"vol_gk_{w}d", f"gk{w}")


def test_unknown_estimator_is_named(feat_market):
    with pytest.raises(ConfigError, match="volatility.estimators"):
        build_features(feat_market, {"volatility": {"estimators": ["yang"]}})
