"""The build_features contract: rows, order, dtypes, metadata, config and input errors."""

from __future__ import annotations

import json
from dataclasses import replace

import polars as pl
import pytest
from featurekit import with_quotes
from omegaconf import OmegaConf

from gogooku3.errors import ConfigError, DataError
from gogooku3.features import FeaturePanel, FeatureSpec, build_features


def test_core_panel_contract(messy_market, core_groups):
    panel = build_features(messy_market, OmegaConf.create(core_groups), name="core")
    assert isinstance(panel, FeaturePanel) and not panel.from_cache
    q = messy_market.quotes.sort("Code", "Date")
    assert panel.frame.select("Code", "Date").equals(q.select("Code", "Date"))
    assert panel.frame.columns == ["Code", "Date", *panel.names]
    assert 20 <= len(panel.names) <= 60
    assert all(panel.frame.schema[n] in (pl.Float32, pl.Float64) for n in panel.names)
    assert all(isinstance(s, FeatureSpec) for s in panel.specs)
    meta = json.loads(json.dumps(panel.metadata()))
    assert [m["name"] for m in meta] == panel.names
    assert {"name", "group", "sources", "window", "lookback", "earliest"} <= set(meta[0])
    assert len(panel.config_hash) == 64
    # every feature carries information: mostly non-null and not constant
    stats = panel.frame.select([pl.col(n).is_not_null().mean().alias(n) for n in panel.names]).row(0)
    assert min(stats) > 0.8
    assert all(panel.frame[n].drop_nulls().std() > 0 for n in panel.names)
    # core exposes what the synthetic market plants: relative returns, volume surprise
    for name in ("ret_1d", "ret_1d_mktrel", "ret_1d_secrel", "vol_surprise_20d", "vol_cc_20d"):
        assert name in panel.names


def test_no_infinities(messy_market, core_groups):
    frame = build_features(messy_market, core_groups).frame
    n_inf = frame.select(pl.sum_horizontal([pl.col(c).is_infinite().sum() for c in frame.columns[2:]])).item()
    assert n_inf == 0


def test_targets_and_unknown_columns_never_enter(feat_market):
    q = feat_market.quotes.with_columns(pl.col("Close").shift(-1).over("Code").alias("target_h1"))
    panel = build_features(with_quotes(feat_market, q), {"price": {"horizons": [1]}})
    assert "target_h1" not in panel.frame.columns


@pytest.mark.parametrize("groups,match", [
    ({"nope": {}}, "features.groups.nope: unknown feature group"),
    ({"price": {"windows": [3]}}, "features.groups.price: unknown parameter"),
    ({}, "features.groups"),
    ({"price": {"horizons": [1]}, "volume": {"surprise": [5]}, "cross_section": {"features": ["ret_1d"]},
      "volatility": {"windows": [5], "estimators": ["cc"]}, "price2": None}, "price2"),
])
def test_config_errors_name_the_parameter(feat_market, groups, match):
    with pytest.raises(ConfigError, match=match):
        build_features(feat_market, groups)


def test_bad_quotes_are_named(feat_market):
    q = feat_market.quotes
    with pytest.raises(DataError, match="quotes: missing required column.*Volume"):
        build_features(replace(feat_market, quotes=q.drop("Volume")), {"price": {}})
    with pytest.raises(DataError, match="duplicate"):
        build_features(replace(feat_market, quotes=pl.concat([q, q.head(1)])), {"price": {}})
    bad = q.with_columns(pl.when(pl.int_range(pl.len()) == 5).then(0.0)
                         .otherwise(pl.col("AdjustmentFactor")).alias("AdjustmentFactor"))
    with pytest.raises(DataError, match="AdjustmentFactor"):
        build_features(replace(feat_market, quotes=bad), {"price": {}})
    with pytest.raises(DataError, match="column Close"):
        build_features(replace(feat_market, quotes=q.with_columns(pl.lit("x").alias("Close"))), {"price": {}})


def test_optional_quote_columns_get_defaults(feat_market):
    q = feat_market.quotes.drop("TurnoverValue", "AdjustmentFactor")
    panel = build_features(replace(feat_market, quotes=q), {"volume": {"surprise": [], "ratios": [], "amihud": []}})
    assert panel.frame["turnover_log"].null_count() == q["Close"].null_count()


def test_code_slices_and_date_blocks_do_not_change_results(messy_market, monkeypatch):
    """Per-code groups run on slices of codes, per-date groups on blocks of dates;
    any cut gives the same panel."""
    from featurekit import load_set

    from gogooku3.features import execute

    groups = load_set("full")
    whole = build_features(messy_market, groups).frame
    monkeypatch.setattr(execute, "CHUNK_ROWS", 2500)  # about seven codes per slice
    monkeypatch.setattr(execute, "DATE_BLOCK_ROWS", 1000)  # about thirty dates per block
    sliced = build_features(messy_market, groups).frame
    assert sliced.n_chunks() > 1  # several slices
    assert sliced.equals(whole)


def test_cumulative_groups():
    from gogooku3.features.execute import cumulative_groups

    assert cumulative_groups([3, 3, 3, 10, 1], 6) == [6, 3, 10, 1]
    assert sum(cumulative_groups([5] * 7, 12)) == 35


def test_unsorted_quotes_give_the_sorted_panel(feat_market):
    groups = {"price": {"horizons": [1, 5]}, "cross_section": {"features": ["ret_1d"], "ops": ["rank"]}}
    shuffled = replace(feat_market, quotes=feat_market.quotes.sample(fraction=1.0, shuffle=True, seed=1))
    assert build_features(shuffled, groups).frame.equals(build_features(feat_market, groups).frame)
