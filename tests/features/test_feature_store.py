"""Feature store: same data and config load from parquet; any change recomputes."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import polars as pl
from featurekit import with_quotes

from gogooku3.features import build_features

GROUPS = {"price": {"horizons": [1, 5]}, "volume": {"surprise": [5]}}


def test_rerun_loads_and_changes_recompute(feat_market, tmp_path, caplog):
    store = tmp_path / "feature_store"
    first = build_features(feat_market, GROUPS, name="t", store_dir=store)
    assert not first.from_cache and len(list(store.glob("*.parquet"))) == 1
    with caplog.at_level(logging.INFO, logger="gogooku3.features"):
        again = build_features(feat_market, GROUPS, name="t", store_dir=store)
    assert again.from_cache and "loaded t" in caplog.text
    assert again.frame.equals(first.frame) and again.specs == first.specs
    assert again.config_hash == first.config_hash

    changed_cfg = build_features(feat_market, {**GROUPS, "price": {"horizons": [1, 10]}}, store_dir=store)
    assert not changed_cfg.from_cache and changed_cfg.config_hash != first.config_hash

    q = feat_market.quotes.with_columns(pl.col("Close") * 1.01)
    changed_data = build_features(with_quotes(feat_market, q), GROUPS, store_dir=store)
    assert not changed_data.from_cache
    assert len(list(store.glob("*.parquet"))) == 3


def test_corrupt_entry_is_recomputed(feat_market, tmp_path):
    store = tmp_path / "fs"
    build_features(feat_market, GROUPS, store_dir=store)
    next(store.glob("*.parquet")).write_bytes(b"not parquet")
    assert not build_features(feat_market, GROUPS, store_dir=store).from_cache
    assert build_features(feat_market, GROUPS, store_dir=store).from_cache


def test_no_store_without_digest(feat_market, tmp_path):
    market = replace(feat_market, digest="")
    build_features(market, GROUPS, store_dir=tmp_path / "fs")
    assert not (tmp_path / "fs").exists()


def test_edited_feature_code_recomputes(feat_market, tmp_path, monkeypatch):
    from gogooku3.features import store

    first = build_features(feat_market, GROUPS, name="t", store_dir=tmp_path)
    monkeypatch.setattr(store, "feature_code_digest", lambda: "0" * 64)  # as if a feature had been edited
    edited = build_features(feat_market, GROUPS, name="t", store_dir=tmp_path)
    assert not first.from_cache and not edited.from_cache
    assert len(list(tmp_path.glob("*.parquet"))) == 2


def test_code_digest_covers_the_package_and_the_limit_table():
    from gogooku3.features import store

    assert len(store.feature_code_digest()) == 64
    root = Path(store.__file__).resolve().parents[1]
    assert all((root / s).is_file() for s in store.SHARED_SOURCES)
