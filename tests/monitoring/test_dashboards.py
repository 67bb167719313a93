"""The committed Grafana files are a fresh render, and every panel queries only exported series."""

from __future__ import annotations

import json

import yaml

from gogooku3.monitoring import dashboards as D
from tests.helpers import ROOT

OPS = ROOT / "ops" / "grafana"


def test_committed_files_equal_a_fresh_render():
    rendered = D.render()
    for rel, text in rendered.items():
        path = OPS / rel
        assert path.exists(), f"{path} missing; run python -m gogooku3.monitoring.dashboards"
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale; run python -m gogooku3.monitoring.dashboards"
    committed = {str(p.relative_to(OPS)) for p in OPS.rglob("*") if p.is_file()}
    assert committed == set(rendered), f"files under ops/grafana not rendered by code: {committed - set(rendered)}"


def test_every_expr_names_only_series_in_names_py():
    known = D.exported_names()
    for stem, board in D.dashboards().items():
        exprs = D.panel_exprs(board)
        assert exprs, stem
        for title, expr in exprs:
            used = D.series_in(expr)
            assert used, f"{stem}/{title}: {expr} queries no gogooku3 series"
            assert used <= known, f"{stem}/{title}: {sorted(used - known)} not in monitoring/names.py"


def test_the_name_check_can_fail_and_the_cli_reports_stale_files(tmp_path, capsys):
    assert D.series_in("sum(rate(gogooku3_http_requests_totl[5m]))") - D.exported_names() == {"gogooku3_http_requests_totl"}
    assert D.main(["--out", str(tmp_path), "--check"]) == 1
    assert D.main(["--out", str(tmp_path)]) == 0 and D.main(["--out", str(tmp_path), "--check"]) == 0
    (tmp_path / "dashboards" / "jobs.json").write_text("{}")
    assert D.main(["--out", str(tmp_path), "--check"]) == 1
    assert "jobs.json" in capsys.readouterr().err


def test_grafana_models_and_provisioning_are_well_formed():
    uids = set()
    for path in sorted((OPS / "dashboards").glob("*.json")):
        board = json.loads(path.read_text())
        uids.add(board["uid"])
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)) and all(p["targets"] for p in board["panels"]), path
    assert len(uids) == 5
    providers = yaml.safe_load((OPS / "provisioning/dashboards/gogooku3.yml").read_text())
    assert providers["providers"][0]["type"] == "file"
    sources = yaml.safe_load((OPS / "provisioning/datasources/prometheus.yml").read_text())
    assert sources["datasources"][0]["uid"] == D.DATASOURCE["uid"]
