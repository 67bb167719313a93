"""Fixtures for the quality tests: a tiny market and a gate factory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from gogooku3.data.calendar import sessions_series
from gogooku3.data.market import MarketData
from gogooku3.quality import QualityGates

from .builders import END, START, make_market, quality_config


@pytest.fixture(scope="session")
def market() -> MarketData:
    return make_market()


@pytest.fixture
def gates_for(tmp_path: Path) -> Callable[..., QualityGates]:
    """``gates_for(profile, *overrides, expected_end=END, docs=False)`` -> QualityGates under tmp_path."""

    def build(profile: str = "default", *overrides: str, expected_end: date | None = END,
              calendar=None, docs: bool = False, **kw) -> QualityGates:
        # Data Docs rendering is slow; only the tests about reports ask for it.
        cfg = quality_config(profile, *overrides, *([] if docs else ["quality.data_docs=false"]))
        calendar = sessions_series(START, END) if calendar is None else calendar
        return QualityGates.from_config(cfg, tmp_path / f"quality_{profile}", calendar=calendar,
                                        expected_end=expected_end, **kw)

    return build
