"""Technical indicators agree with the ``ta`` package to 1e-6 relative."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
import ta

from gogooku3.features import build_features

GROUPS = {"technical": {"rsi_windows": [14, 6], "macd": [12, 26, 9], "bollinger": [20],
                        "atr_windows": [14], "adx_windows": [14], "stochastic": [[14, 3]],
                        "ma_gaps": [5]}}


@pytest.fixture(scope="module")
def both(feat_market):
    """Three complete (no suspension, no split) codes: ta has no notion of either."""
    q = feat_market.quotes
    bad = q.filter(pl.col("Close").is_null() | (pl.col("AdjustmentFactor") != 1)).get_column("Code").unique()
    codes = q.filter(~pl.col("Code").is_in(bad.implode())).get_column("Code").unique().sort().head(3)
    market_q = q.filter(pl.col("Code").is_in(codes.implode()))
    from featurekit import with_quotes

    panel = build_features(with_quotes(feat_market, market_q), GROUPS).frame
    refs = []
    for code, g in market_q.to_pandas().groupby("Code"):
        h, lo, c = g["High"].reset_index(drop=True), g["Low"].reset_index(drop=True), g["Close"].reset_index(drop=True)
        adx = ta.trend.ADXIndicator(h, lo, c, 14)
        macd = ta.trend.MACD(c, 26, 12, 9)
        bb = ta.volatility.BollingerBands(c, 20, 2)
        st = ta.momentum.StochasticOscillator(h, lo, c, 14, 3)
        n = len(c)
        pos = np.arange(n)
        refs.append(pd.DataFrame({
            "rsi_14": ta.momentum.RSIIndicator(c, 14).rsi(), "rsi_6": ta.momentum.RSIIndicator(c, 6).rsi(),
            "macd_12_26": macd.macd() / c, "macd_signal_12_26_9": macd.macd_signal() / c,
            "macd_hist_12_26_9": macd.macd_diff() / c,
            "bb_pos_20": bb.bollinger_pband(), "bb_width_20": bb.bollinger_wband(),
            # ta fills the first window-1 rows with 0 rather than NaN
            "atr_14": (ta.volatility.AverageTrueRange(h, lo, c, 14).average_true_range() / c).where(pos >= 13),
            "adx_14": adx.adx().where(pos >= 27),
            # ta leaves +/-DI at 0 on the first row it could compute (row 14); compare from row 15
            "di_plus_14": adx.adx_pos().where(pos >= 15), "di_minus_14": adx.adx_neg().where(pos >= 15),
            "first_di": pos == 14,
            "stoch_k_14": st.stoch(), "stoch_d_14_3": st.stoch_signal(),
            "ma_gap_5": c / ta.trend.SMAIndicator(c, 5).sma_indicator() - 1,
        }))
    return panel, pd.concat(refs, ignore_index=True)


@pytest.mark.parametrize("name", ["rsi_14", "rsi_6", "macd_12_26", "macd_signal_12_26_9", "macd_hist_12_26_9",
                                  "bb_pos_20", "bb_width_20", "atr_14", "adx_14", "di_plus_14", "di_minus_14",
                                  "stoch_k_14", "stoch_d_14_3", "ma_gap_5"])
def test_agrees_with_ta(both, name):
    panel, ref = both
    got = panel.get_column(name).cast(pl.Float64).to_numpy()
    want = ref[name].to_numpy(dtype=float)
    assert len(got) == len(want)
    ok = ~np.isnan(want)
    assert ok.sum() > 0.8 * len(want)
    absent = ~ok & ~(ref["first_di"].to_numpy() if name.startswith("di_") else False)
    assert np.isnan(got[absent]).all(), f"{name}: values where ta has none"
    np.testing.assert_allclose(got[ok], want[ok], rtol=1e-6, atol=1e-9)
