"""signal_ceiling.py: its observable-data estimators find each planted component, and nothing in noise."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "signal_ceiling.py"


@pytest.fixture(scope="module")
def ceiling():
    spec = importlib.util.spec_from_file_location("signal_ceiling", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _estimates(ceiling, component: str | None, strength: float = 1.0):
    from gogooku3.data.synthetic import COMPONENTS, generate_market

    market = generate_market(n_stocks=200, start="2019-01-01", end="2021-12-31", signal_strength=strength,
                             components={c: float(c == component) for c in COMPONENTS})
    d = ceiling.dense(market)
    est = ceiling.estimators(d, market.listed.get_column("Sector33Code").to_numpy())
    return est, d


@pytest.mark.parametrize("component", ["reversal", "leadlag", "cycle"])
def test_each_estimator_recovers_its_component(ceiling, component):
    est, d = _estimates(ceiling, component)
    assert ceiling.mean_rank_ic(est[component], d["close"]) > 0.01


def test_estimators_find_nothing_without_signal(ceiling):
    est, d = _estimates(ceiling, None, strength=0.0)
    combined = ceiling.combine(list(est.values()), d["close"])
    assert abs(ceiling.mean_rank_ic(combined, d["close"])) < 0.01
