"""Data Docs open offline: every page's styles, scripts and images are files stored with the report."""

from __future__ import annotations

import re
from pathlib import Path

from gogooku3.data.calendar import sessions_series
from gogooku3.quality import QualityGates
from gogooku3.quality.offline_docs import remote_assets, rewrite_page

from .builders import END, START, quality_config
from .test_gates import _run_market_gates

ASSET = re.compile(r"""<(?:script|img)\b[^>]*\bsrc\s*=\s*["']([^"']+)["']|<link\b[^>]*\bhref\s*=\s*["']([^"']+)["']""", re.I)


def test_written_pages_reference_only_stored_assets(tmp_path, market):
    gates = QualityGates.from_config(quality_config("default"), tmp_path, calendar=sessions_series(START, END),
                                     expected_end=END)
    _run_market_gates(gates, market)
    gates.metrics()
    docs = tmp_path / "data_docs"
    pages = list(docs.rglob("*.html"))
    assert (docs / "index.html") in pages and len(pages) > 5
    for page in pages:
        html = page.read_text()
        assert remote_assets(html) == [], page
        assert "http://" not in "".join(a or b for a, b in ASSET.findall(html))
        refs = [a or b for a, b in ASSET.findall(html)]
        assert any(r.endswith("static/offline/offline.js") for r in refs), page
        for ref in refs:
            assert not ref.startswith(("http:", "https:", "//")), (page, ref)
            if ref:
                assert (page.parent / ref.split("?")[0]).resolve().is_file(), (page, ref)
    index = (docs / "index.html").read_text()
    assert "bootstrapTable(" in index  # the table data offline.js renders are still on the page


def test_rewrite_keeps_links_and_replaces_each_kind_of_asset_once(tmp_path):
    (tmp_path / "static" / "images").mkdir(parents=True)
    (tmp_path / "static" / "images" / "logo-long.png").write_bytes(b"png")
    html = (
        '<link rel="stylesheet" href="https://cdn.example/a.css"/><link href="//cdn.example/b.css" rel="stylesheet">'
        '<script src="https://code.example/jquery.min.js"></script><script src="https://x.example/t.js"></script>'
        '<img src="https://assets.example/logo-long.png?d=1"><img src="https://assets.example/other.png">'
        '<a href="https://docs.example/guide">guide</a><script>$("#t").bootstrapTable({})</script>'
        '<link rel="shortcut icon" href="../static/images/favicon.ico"/>'
    )
    out = rewrite_page(html, "../../", tmp_path)
    assert remote_assets(out) == []
    assert out.count("../../static/offline/offline.css") == 1 and out.count("../../static/offline/offline.js") == 1
    assert '<img src="../../static/images/logo-long.png">' in out and '<img src="">' in out
    assert '<link rel="shortcut icon" href="../../static/images/favicon.ico"/>' in out  # GE's depth slip, re-rooted
    assert '<a href="https://docs.example/guide">' in out and '$("#t").bootstrapTable({})' in out
