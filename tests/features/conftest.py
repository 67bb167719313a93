"""Fixtures for the feature tests: one small synthetic market with extras, made messy."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def feat_market():
    """30 stocks, 2019-01 .. 2020-06, with listed, index and all extras tables."""
    from gogooku3.data.synthetic import SyntheticMarketSource

    return SyntheticMarketSource(n_stocks=30, start="2019-01-01", end="2020-06-30", seed=7,
                                 extras=True).load()


@pytest.fixture(scope="session")
def messy_market(feat_market):
    """feat_market plus a late listing, a delisting, missing rows, a suspension and a split."""
    from featurekit import messy

    return messy(feat_market)


@pytest.fixture(scope="session")
def core_groups():
    from featurekit import load_set

    return load_set("core")
