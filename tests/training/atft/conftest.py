"""Fixtures for the ATFT training tests: one tiny panel and its fold per module."""

from __future__ import annotations

import pytest
from atft_panels import make_fold, make_panel

from gogooku3.datasets.panel import Panel
from gogooku3.datasets.split import Fold


@pytest.fixture(scope="module")
def panel() -> Panel:
    return make_panel()


@pytest.fixture(scope="module")
def fold(panel: Panel) -> Fold:
    return make_fold(panel)
