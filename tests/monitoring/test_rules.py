"""The alert rules: committed = rendered, valid for promtool, unit-tested per alert, on exported series only."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from gogooku3.config.monitoring import JOBS
from gogooku3.monitoring import names
from gogooku3.monitoring.render import compose, documents, render
from gogooku3.monitoring.rules import API_JOB, PUSHGATEWAY_JOB
from tests.helpers import ROOT

OPS = ROOT / "ops"
RULES = sorted((OPS / "prometheus" / "rules").glob("*.yml"))
TESTS = sorted((OPS / "prometheus" / "tests").glob("*.yml"))


def promtool(*args: str, cwd=None) -> subprocess.CompletedProcess:
    exe = shutil.which("promtool")
    if exe is None:
        pytest.fail("promtool is not installed (apt-get install prometheus)")
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def alerts(paths=RULES) -> list[dict]:
    return [r for p in paths for g in yaml.safe_load(p.read_text())["groups"] for r in g["rules"] if "alert" in r]


def test_committed_files_equal_a_fresh_render():
    docs = documents(compose([]))
    rendered = [p for d in ("prometheus", "alertmanager") for p in (OPS / d).rglob("*.yml")]  # grafana: dashboards.py
    committed = {str(p.relative_to(OPS)) for p in rendered if "tests" not in p.parts}
    assert committed == set(docs), "ops/ differs from `python -m gogooku3.monitoring render` in its files"
    for rel, text in docs.items():
        assert (OPS / rel).read_text() == text, f"ops/{rel} is stale: run python -m gogooku3.monitoring render"


def test_promtool_check_config_and_rules():
    out = promtool("check", "config", str(OPS / "prometheus" / "prometheus.yml"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{len(RULES)} rule files found" in out.stdout
    out = promtool("check", "rules", *map(str, RULES))
    assert out.returncode == 0, out.stdout + out.stderr


def test_promtool_test_rules():
    out = promtool("test", "rules", *(p.name for p in TESTS), cwd=OPS / "prometheus" / "tests")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("SUCCESS") == len(TESTS)


def test_every_alert_has_a_firing_and_a_quiet_case():
    firing, quiet = set(), set()
    for path in TESTS:
        doc = yaml.safe_load(path.read_text())
        assert {f"../rules/{p.name}" for p in RULES} >= set(doc["rule_files"])
        for case in (c for t in doc["tests"] for c in t.get("alert_rule_test", [])):
            (firing if case.get("exp_alerts") else quiet).add(case["alertname"])
    names_ = {a["alert"] for a in alerts()}
    assert len(names_) == len(alerts()), "two rules share an alert name"
    assert not names_ - firing, f"alerts with no firing case: {sorted(names_ - firing)}"
    assert not names_ - quiet, f"alerts with no not-firing case: {sorted(names_ - quiet)}"
    assert not (firing | quiet) - names_, f"cases of unknown alerts: {sorted((firing | quiet) - names_)}"


def test_rules_query_exported_series_of_scraped_jobs_only():
    exported = {v for k, v in vars(names).items() if k.isupper() and k != "PREFIX"}
    exported |= {f"{names.HTTP_REQUEST_DURATION_SECONDS}_{s}" for s in ("bucket", "sum", "count")}
    scrape = yaml.safe_load((OPS / "prometheus" / "prometheus.yml").read_text())["scrape_configs"]
    jobs = {c["job_name"] for c in scrape}
    assert {API_JOB, PUSHGATEWAY_JOB} <= jobs
    assert next(c for c in scrape if c["job_name"] == PUSHGATEWAY_JOB)["honor_labels"] is True
    for rule in alerts():
        series = set(re.findall(r"\bgogooku3_\w+", rule["expr"]))
        assert series or rule["expr"].startswith("up{"), f"{rule['alert']}: queries no project series"
        assert series <= exported, f"{rule['alert']}: {sorted(series - exported)} is not exported"
        for value in re.findall(r'\bjob=~?"([^"]+)"', rule["expr"]):
            assert set(value.split("|")) <= jobs | set(JOBS), f"{rule['alert']}: job {value!r} is never scraped"


def test_every_alert_is_labelled_routed_and_has_a_runbook():
    cfg = compose([])
    teams = set(cfg["monitoring"]["routing"]["teams"])
    doc = (ROOT / "docs" / "monitoring.md").read_text()
    anchors = {"runbook-" + m.lower() for m in re.findall(r"^### Runbook: (\w+)", doc, flags=re.M)}
    for rule in alerts():
        labels, notes = rule["labels"], rule["annotations"]
        assert labels["severity"] in ("critical", "warning", "info") and labels["team"] in teams and labels["service"]
        assert notes["summary"] and notes["runbook"]
        assert notes["runbook_url"].split("#")[1] in anchors, f"{rule['alert']}: no runbook section in docs/monitoring.md"


def test_sla_thresholds_come_from_config_and_the_cases_hold_them(tmp_path):
    """A looser SLA renders other thresholds, and the committed cases then fail: they test the SLA."""
    render(compose(["serving.sla.availability=0.99", "serving.sla.p99_seconds=0.5"]), tmp_path)
    by_name = {a["alert"]: a["expr"] for a in alerts(sorted((tmp_path / "prometheus" / "rules").glob("*.yml")))}
    assert by_name["ApiErrorRatioHigh"].endswith("> 0.01") and by_name["ApiLatencyP99High"].endswith("> 0.5")
    shutil.copytree(OPS / "prometheus" / "tests", tmp_path / "prometheus" / "tests")
    out = promtool("test", "rules", "api.yml", cwd=tmp_path / "prometheus" / "tests")
    assert out.returncode != 0
    assert "ApiErrorRatioHigh" in out.stdout + out.stderr and "ApiLatencyP99High" in out.stdout + out.stderr


def test_each_job_is_held_to_its_own_age(tmp_path):
    render(compose(["monitoring.thresholds.job_max_age_hours.train=200"]), tmp_path)
    rules = tmp_path / "prometheus" / "rules" / "jobs.yml"
    expr = next(a["expr"] for a in alerts([rules]) if a["alert"] == "JobStale")
    assert 'job=~"ingest|predict|evaluate"} > 93600)' in expr and 'job=~"train"} > 720000)' in expr
    assert promtool("check", "rules", str(rules)).returncode == 0


def test_render_cli_writes_the_files(tmp_path):
    import sys

    out = subprocess.run([sys.executable, "-m", "gogooku3.monitoring", "render", "--out", str(tmp_path),
                          "monitoring.thresholds.data_freshness_max_sessions=3"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "gogooku3_data_freshness_sessions{job=\"api\"} > 3" in (tmp_path / "prometheus/rules/model_data.yml").read_text()
    for override, key in (("monitoring.thresholds.nope=1", "nope"),
                          ("+monitoring.thresholds.job_max_age_hours.ingset=20", "job_max_age_hours.ingset")):
        bad = subprocess.run([sys.executable, "-m", "gogooku3.monitoring", "render", "--out", str(tmp_path / "bad"),
                              override], capture_output=True, text=True, timeout=120)  # fmt: skip
        assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and key in bad.stderr, bad.stderr
