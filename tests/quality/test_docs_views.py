"""Data Docs views: the stock pages, with each template compiled once per process."""

from __future__ import annotations

import re
from pathlib import Path

from gogooku3.data.calendar import sessions_series
from gogooku3.quality import QualityGates, docs_views, validator

from .builders import END, START, quality_config
from .test_gates import _run_market_gates

# run timestamps and the random ids of collapsible elements differ between any two builds
STAMPS = re.compile(r"\d{8}T\d{6}\.\d+Z|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}[\d.:+Z]*|'_run_time_sort': [\d.]+"
                    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _site(out: Path, market) -> dict[str, str]:
    """Run the market gates with Data Docs under ``out``; every page by path, ``STAMPS`` blanked."""
    gates = QualityGates.from_config(quality_config("default"), out, calendar=sessions_series(START, END),
                                     expected_end=END)
    _run_market_gates(gates, market)
    gates.metrics()
    docs = out / "data_docs"
    return {STAMPS.sub("T", str(p.relative_to(docs))): STAMPS.sub("T", p.read_text()) for p in docs.rglob("*.html")}


def test_cached_views_render_the_stock_pages(tmp_path, market, monkeypatch):
    ours = _site(tmp_path / "cached", market)
    stock = {"CachedPageView": "DefaultJinjaPageView", "CachedIndexPageView": "DefaultJinjaIndexPageView"}
    monkeypatch.setattr(validator, "_view", lambda name: {"module_name": "great_expectations.render.view",
                                                          "class_name": stock[name]})
    theirs = _site(tmp_path / "stock", market)
    assert len(ours) > 10 and ours == theirs


def test_a_second_site_compiles_no_template_again(tmp_path, market, monkeypatch):
    _site(tmp_path / "first", market)
    compiled: list[str] = []
    dump = docs_views.COMPILED.dump_bytecode
    monkeypatch.setattr(docs_views.COMPILED, "dump_bytecode", lambda b: (compiled.append(b.key), dump(b)))
    assert _site(tmp_path / "second", market) and compiled == []
