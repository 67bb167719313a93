"""Cross-sectional transforms vs pandas groupby; sector ops degrade without listed."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from featurekit import compare

from gogooku3.errors import ConfigError, DataError
from gogooku3.features import build_features

GROUPS = {"price": {"horizons": [1, 5]},
          "cross_section": {"features": ["ret_1d", "ret_5d"],
                            "ops": ["rank", "zscore", "demean", "sector_demean", "sector_zscore"]}}


def test_transforms_match_pandas(messy_market):
    panel = build_features(messy_market, GROUPS)
    df = panel.frame.to_pandas().astype({"ret_1d": float, "ret_5d": float}).merge(messy_market.listed.to_pandas()[["Code", "Sector33Code"]], on="Code")
    for f in ("ret_1d", "ret_5d"):
        by_date = df.groupby("Date")[f]
        by_sector = df.groupby(["Date", "Sector33Code"])[f]
        df["rank"] = by_date.rank(method="average") / by_date.transform("count")
        df["z"] = (df[f] - by_date.transform("mean")) / by_date.transform("std")
        df["dm"] = df[f] - by_date.transform("mean")
        df["sdm"] = df[f] - by_sector.transform("mean")
        sstd = by_sector.transform("std")
        df["sz"] = ((df[f] - by_sector.transform("mean")) / sstd).where(sstd > 0)
        for col, rc in [("csrank", "rank"), ("csz", "z"), ("mktrel", "dm"), ("secrel", "sdm"), ("secz", "sz")]:
            compare(panel.frame, df, f"{f}_{col}", rc, rtol=1e-5, atol=1e-6)


def test_without_listed_sector_ops_are_skipped_and_logged(messy_market, caplog):
    market = replace(messy_market, listed=None)
    with caplog.at_level(logging.INFO, logger="gogooku3.features"):
        panel = build_features(market, GROUPS)
    assert "ret_1d_csrank" in panel.names and "ret_1d_secrel" not in panel.names
    assert "listed absent" in caplog.text


def test_unknown_source_feature_is_a_config_error(feat_market):
    with pytest.raises(ConfigError, match="cross_section.features: ret_3d"):
        build_features(feat_market, {"price": {"horizons": [1]}, "cross_section": {"features": ["ret_3d"]}})


def test_required_group_without_source_raises(feat_market, monkeypatch):
    from gogooku3.features.registry import GROUPS, GroupDef, get_group

    get_group("price")  # load the built-in groups before patching the registry
    monkeypatch.setitem(GROUPS, "needs_index_probe", GroupDef("needs_index_probe", lambda ctx: [], ("index",)))
    market = replace(feat_market, index=None)
    only_ret = {"horizons": [1], "gap": False, "intraday": False, "range": False, "candle": False, "extremes": []}
    assert build_features(market, {"price": only_ret, "needs_index_probe": {}}).names == ["ret_1d"]
    with pytest.raises(DataError, match="needs_index_probe: required, but market.index absent"):
        build_features(market, {"needs_index_probe": {"required": True}})
