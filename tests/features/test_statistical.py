"""Alpha158-style rolling operators vs a plain pandas implementation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from featurekit import adjusted_pandas, compare
from scipy.stats import rankdata

from gogooku3.errors import ConfigError
from gogooku3.features import build_features
from gogooku3.features.groups.statistical import OPERATORS

WINDOWS = (5, 20)


def _reference(quotes) -> pd.DataFrame:
    df = adjusted_pandas(quotes)
    c, h, lo, o, v = df["aClose"], df["aHigh"], df["aLow"], df["aOpen"], df["aVolume"]
    g = df.groupby("Code", sort=False)
    prev_c, prev_v = g["aClose"].shift(1), g["aVolume"].shift(1)
    rng = (h - lo).where(h != lo)
    out = {"kbar_mid": (c - o) / o, "kbar_sft2": (2 * c - h - lo) / rng, "kbar_up2": (h - np.maximum(o, c)) / rng,
           "open0": o / c, "vwap0": df["TurnoverValue"] / df["Volume"] / df["Close"]}
    d1, dv = c - prev_c, v - prev_v
    helpers = pd.DataFrame({"Code": df.Code, "c": c, "h": h, "lo": lo, "lv": np.log1p(v), "v": v,
                            "r": c / prev_c, "lvr": np.log1p(v / prev_v), "d1": d1, "dv": dv,
                            "up": (d1 > 0).astype(float).where(d1.notna()),
                            "dn": (d1 < 0).astype(float).where(d1.notna()),
                            "wv": (c / prev_c - 1).abs() * v})
    hg = helpers.groupby("Code", sort=False)

    def roll(col, w, fn, *args, **kw):
        r = hg[col].rolling(w, min_periods=w)
        res = getattr(r, fn)(*args, **kw) if isinstance(fn, str) else r.apply(fn, raw=True)
        return res.reset_index(level=0, drop=True).sort_index()

    def corr(a, b, w):
        parts = [grp[a].rolling(w, min_periods=w).corr(grp[b]) for _, grp in hg]
        return pd.concat(parts).sort_index()

    def slope(a):
        x = np.arange(len(a))
        return np.polyfit(x, a, 1)[0]

    def rsqr(a):
        return np.corrcoef(np.arange(len(a)), a)[0, 1] ** 2

    def resid(a):
        x = np.arange(len(a))
        k, b = np.polyfit(x, a, 1)
        return a[-1] - (k * x[-1] + b)

    for w in WINDOWS:
        ssum = lambda col: roll(col, w, "sum")  # noqa: E731
        out.update({
            f"roc_{w}d": g["aClose"].shift(w) / c,
            f"ma_{w}d": roll("c", w, "mean") / c,
            f"std_{w}d": roll("c", w, "std") / c,
            f"beta_{w}d": roll("c", w, slope) / c,
            f"rsqr_{w}d": roll("c", w, rsqr),
            f"resi_{w}d": roll("c", w, resid) / c,
            f"max_{w}d": roll("h", w, "max") / c,
            f"min_{w}d": roll("lo", w, "min") / c,
            f"qtlu_{w}d": roll("c", w, "quantile", 0.8) / c,
            f"qtld_{w}d": roll("c", w, "quantile", 0.2) / c,
            f"rank_{w}d": roll("c", w, lambda a: rankdata(a)[-1] / len(a)),
            f"rsv_{w}d": (c - roll("lo", w, "min")) / (roll("h", w, "max") - roll("lo", w, "min")),
            f"imax_{w}d": roll("h", w, lambda a: np.argmax(a[::-1])) / w,
            f"imin_{w}d": roll("lo", w, lambda a: np.argmin(a[::-1])) / w,
            f"imxd_{w}d": (roll("h", w, lambda a: np.argmax(a[::-1])) - roll("lo", w, lambda a: np.argmin(a[::-1]))) / w,
            f"corr_{w}d": corr("c", "lv", w),
            f"cord_{w}d": corr("r", "lvr", w),
            f"cntp_{w}d": roll("up", w, "mean"),
            f"cntn_{w}d": roll("dn", w, "mean"),
            f"cntd_{w}d": roll("up", w, "mean") - roll("dn", w, "mean"),
            f"sump_{w}d": hg["d1"].rolling(w, min_periods=w).apply(lambda a: np.clip(a, 0, None).sum() / np.abs(a).sum(), raw=True).reset_index(level=0, drop=True).sort_index(),
            f"sumd_{w}d": ssum("d1") / hg["d1"].rolling(w, min_periods=w).apply(lambda a: np.abs(a).sum(), raw=True).reset_index(level=0, drop=True).sort_index(),
            f"vma_{w}d": roll("v", w, "mean") / v,
            f"vstd_{w}d": roll("v", w, "std") / v,
            f"wvma_{w}d": roll("wv", w, "std") / roll("wv", w, "mean"),
            f"vsumn_{w}d": hg["dv"].rolling(w, min_periods=w).apply(lambda a: np.clip(-a, 0, None).sum() / np.abs(a).sum(), raw=True).reset_index(level=0, drop=True).sort_index(),
        })
    ref = pd.DataFrame(out)
    ref["Code"], ref["Date"] = df["Code"], df["Date"]
    return ref


@pytest.fixture(scope="module")
def built(messy_market):
    panel = build_features(messy_market, {"statistical": {"windows": list(WINDOWS)}})
    # The first five codes carry every awkward case of the messy market; a few more for breadth.
    codes = messy_market.quotes.get_column("Code").unique().sort().head(9).implode()
    return panel, _reference(messy_market.quotes.filter(pl.col("Code").is_in(codes)))


def test_every_operator_at_every_window(built):
    panel, _ = built
    assert len(panel.names) == 9 + 4 + len(OPERATORS) * len(WINDOWS)
    assert len(OPERATORS) == 29


@pytest.mark.parametrize("w", WINDOWS)
@pytest.mark.parametrize("op", ["roc", "ma", "std", "beta", "rsqr", "resi", "max", "min", "qtlu", "qtld", "rank",
                                "rsv", "imax", "imin", "imxd", "corr", "cord", "cntp", "cntn", "cntd", "sump", "sumd",
                                "vma", "vstd", "wvma", "vsumn"])
def test_operator_matches_pandas(built, op, w):
    panel, ref = built
    compare(panel.frame, ref, f"{op}_{w}d", f"{op}_{w}d", rtol=1e-5, atol=1e-6, codes_of_ref_only=True)


@pytest.mark.parametrize("name", ["kbar_mid", "kbar_sft2", "kbar_up2", "open0", "vwap0"])
def test_bar_shapes(built, name):
    panel, ref = built
    compare(panel.frame, ref, name, name, codes_of_ref_only=True)


def test_unknown_operator(feat_market):
    with pytest.raises(ConfigError, match="statistical.operators"):
        build_features(feat_market, {"statistical": {"operators": ["kurt"]}})


def test_correlation_without_variance_is_null_not_infinite():
    from featurekit import tiny_market, with_quotes

    market = tiny_market()
    flat = market.quotes.with_columns(  # code 1000 trades at one price and volume for a while
        pl.when((pl.col("Code") == "1000") & (pl.col("Date").dt.month() == 5)).then(pl.lit(1500.0))
        .otherwise(pl.col(c)).alias(c) for c in ("Open", "High", "Low", "Close", "Volume"))
    panel = build_features(with_quotes(market, flat), {"statistical": {"windows": [5], "operators": ["corr", "cord"]}})
    frame = panel.frame
    for name in ("corr_5d", "cord_5d"):
        values = frame.get_column(name)
        assert not values.is_infinite().any() and values.drop_nulls().abs().max() <= 1.0
        late_may = frame.filter((pl.col("Code") == "1000") & (pl.col("Date").dt.day() > 15)
                                & (pl.col("Date").dt.month() == 5))
        assert late_may.get_column(name).null_count() == late_may.height  # a flat window has no correlation
