"""Grafana dashboards as code: plain dicts rendered to ops/grafana (JSON and provisioning YAML).

Every panel's PromQL is built from monitoring/names.py, so a renamed series breaks the
render test rather than a dashboard in production. Render or check the committed files::

    python -m gogooku3.monitoring.dashboards            # writes ops/grafana/
    python -m gogooku3.monitoring.dashboards --check    # exit 1 when the committed files are stale
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from gogooku3.config.serving import Sla
from gogooku3.monitoring import names as N

DATASOURCE = {"type": "prometheus", "uid": "gogooku3-prometheus"}
WINDOW = "5m"
TOKEN = re.compile(rf"\b{N.PREFIX}_[a-z0-9_]+\b")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def exported_names() -> set[str]:
    """Every series name names.py declares (histograms with their _bucket/_sum/_count)."""
    base = {v for k, v in vars(N).items() if k.isupper() and isinstance(v, str) and v.startswith(f"{N.PREFIX}_")}
    return base | {N.HTTP_REQUEST_DURATION_SECONDS + s for s in HISTOGRAM_SUFFIXES}


def series_in(expr: str) -> set[str]:
    """The gogooku3_* series names an expression mentions."""
    return set(TOKEN.findall(expr))


def _panel(title: str, exprs: list[tuple[str, str]], *, kind: str = "timeseries", unit: str = "short",
           description: str = "", thresholds: list[tuple[str, float | None]] | None = None) -> dict[str, Any]:  # fmt: skip
    steps = [{"color": c, "value": v} for c, v in (thresholds or [("green", None)])]
    return {
        "type": kind, "title": title, "description": description, "datasource": DATASOURCE,
        "fieldConfig": {"defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}} if kind == "timeseries" else {},
        "targets": [{"refId": chr(65 + i), "expr": e, "legendFormat": legend, "datasource": DATASOURCE}
                    for i, (e, legend) in enumerate(exprs)],
    }  # fmt: skip


def _dashboard(uid: str, title: str, panels: list[dict[str, Any]], tags: list[str]) -> dict[str, Any]:
    laid = []
    for i, p in enumerate(panels):  # two panels a row, 12 x 8 each
        laid.append({**p, "id": i + 1, "gridPos": {"h": 8, "w": 12, "x": 12 * (i % 2), "y": 8 * (i // 2)}})
    return {
        "uid": uid, "title": title, "tags": ["gogooku3", *tags], "schemaVersion": 39, "version": 1,
        "editable": False, "timezone": "Asia/Tokyo", "refresh": "30s", "time": {"from": "now-24h", "to": "now"},
        "panels": laid, "templating": {"list": []}, "annotations": {"list": []},
    }  # fmt: skip


def service(sla: Sla) -> dict[str, Any]:
    req, dur = N.HTTP_REQUESTS_TOTAL, N.HTTP_REQUEST_DURATION_SECONDS
    return _dashboard("gogooku3-service", "gogooku3 / API: RED and SLA", [
        _panel("Request rate by route", [(f"sum by (route) (rate({req}[{WINDOW}]))", "{{route}}")], unit="reqps"),
        _panel("Error ratio (5xx share)", [(f'1 - sum(rate({req}{{status!~"5.."}}[{WINDOW}])) / sum(rate({req}[{WINDOW}]))',
                                            "5xx ratio")], unit="percentunit",
               description=f"SLA: availability {sla.availability} (error ratio below {1 - sla.availability:.4f}).",
               thresholds=[("green", None), ("red", round(1 - sla.availability, 6))]),
        _panel("p99 latency by route", [(f"histogram_quantile(0.99, sum by (le, route) (rate({dur}_bucket[{WINDOW}])))",
                                         "{{route}}")], unit="s",
               description=f"SLA: p99 below {sla.p99_seconds} s.", thresholds=[("green", None), ("red", sla.p99_seconds)]),
        _panel("Mean latency", [(f"sum(rate({dur}_sum[{WINDOW}])) / sum(rate({dur}_count[{WINDOW}]))", "mean")], unit="s"),
        _panel("Availability (non-5xx share)", [(f'sum(rate({req}{{status!~"5.."}}[{WINDOW}])) / sum(rate({req}[{WINDOW}]))',
                                                 "available")], kind="stat", unit="percentunit",
               thresholds=[("red", None), ("green", sla.availability)]),
        _panel("Requests in flight", [(N.HTTP_REQUESTS_IN_FLIGHT, "in flight")]),
        _panel("Champion loaded", [(N.CHAMPION_LOADED, "champion")], kind="stat",
               thresholds=[("red", None), ("green", 1)]),
    ], ["api", "sla"])  # fmt: skip


def jobs() -> dict[str, Any]:
    return _dashboard("gogooku3-jobs", "gogooku3 / Daily jobs", [
        _panel("Hours since last success", [(f"(time() - {N.JOB_LAST_SUCCESS_TIMESTAMP_SECONDS}) / 3600", "{{job}}")],
               unit="h", description="Pushed by ingest, train, predict and evaluate (GOGOOKU3_PUSHGATEWAY).",
               thresholds=[("green", None), ("red", 26)]),
        _panel("Last failure (hours ago)", [(f"(time() - {N.JOB_LAST_FAILURE_TIMESTAMP_SECONDS}) / 3600", "{{job}}")],
               unit="h"),
        _panel("Duration of the last run", [(N.JOB_DURATION_SECONDS, "{{job}}")], unit="s"),
        _panel("Rows read in by the last run", [(N.JOB_ROWS_INGESTED, "{{job}}")]),
        _panel("Last run failed after its last success",
               [(f"{N.JOB_LAST_FAILURE_TIMESTAMP_SECONDS} > bool on (job) {N.JOB_LAST_SUCCESS_TIMESTAMP_SECONDS}",
                 "{{job}}")], kind="stat", thresholds=[("green", None), ("red", 1)]),
    ], ["jobs"])  # fmt: skip


def model() -> dict[str, Any]:
    return _dashboard("gogooku3-model", "gogooku3 / Model performance", [
        _panel("Realized RankIC vs validation band", [
            (N.REALIZED_RANK_IC_MEAN, "realized mean h{{horizon}}"),
            (N.VALIDATION_RANK_IC_LOWER, "validation lower h{{horizon}}"),
        ], description="Mean of the last k matured dates against the champion's test RankIC minus 2 sd of a k-date mean."),
        _panel("Realized RankIC, latest matured date", [(N.REALIZED_RANK_IC, "h{{horizon}}")]),
        _panel("Realized minus validation lower edge",
               [(f"{N.REALIZED_RANK_IC_MEAN} - on (horizon) {N.VALIDATION_RANK_IC_LOWER}", "h{{horizon}}")],
               thresholds=[("red", None), ("green", 0)]),
        _panel("Prediction dispersion", [(N.PREDICTION_DISPERSION, "h{{horizon}}")]),
        _panel("Confidence mean", [(N.CONFIDENCE_MEAN, "h{{horizon}}")], unit="percentunit"),
        _panel("Days since promotion", [(N.DAYS_SINCE_PROMOTION, "champion")], kind="stat", unit="d"),
    ], ["model"])  # fmt: skip


def quality() -> dict[str, Any]:
    return _dashboard("gogooku3-quality", "gogooku3 / Data quality and freshness", [
        _panel("Rows quarantined per gate", [(N.QUALITY_ROWS_QUARANTINED, "{{job}} {{gate}}")]),
        _panel("Gates failed", [(N.QUALITY_GATE_FAILED, "{{job}} {{gate}}")], kind="stat",
               thresholds=[("green", None), ("red", 1)]),
        _panel("Prediction coverage", [(N.PREDICTION_COVERAGE_RATIO, "h{{horizon}}")], unit="percentunit",
               thresholds=[("red", None), ("green", 0.95)]),
        _panel("Data freshness (sessions behind)", [(N.DATA_FRESHNESS_SESSIONS, "sessions")], kind="stat",
               thresholds=[("green", None), ("red", 1)]),
        _panel("Next session's predictions stored", [(N.PREDICTIONS_READY, "ready")], kind="stat",
               thresholds=[("red", None), ("green", 1)]),
        _panel("Hours to the prediction deadline", [(f"({N.PREDICTIONS_DUE_TIMESTAMP_SECONDS} - time()) / 3600", "due")],
               kind="stat", unit="h"),
        _panel("Age of the newest predictions", [(f"(time() - {N.LATEST_PREDICTION_TIMESTAMP_SECONDS}) / 3600", "age")],
               kind="stat", unit="h"),
    ], ["quality"])  # fmt: skip


def security() -> dict[str, Any]:
    req = N.HTTP_REQUESTS_TOTAL
    return _dashboard("gogooku3-security", "gogooku3 / Security", [
        _panel("Security events by kind", [(f"sum by (kind) (rate({N.SECURITY_EVENTS_TOTAL}[{WINDOW}]))", "{{kind}}")],
               unit="reqps"),
        _panel("Security events, last 24h", [(f"sum by (kind) (increase({N.SECURITY_EVENTS_TOTAL}[1d]))", "{{kind}}")],
               kind="stat"),
        _panel("Denied requests (401/403/429) by status",
               [(f'sum by (status) (rate({req}{{status=~"401|403|429"}}[{WINDOW}]))', "{{status}}")], unit="reqps"),
        _panel("Audit chain valid", [(N.AUDIT_CHAIN_VALID, "audit chain")], kind="stat",
               thresholds=[("red", None), ("green", 1)]),
    ], ["security"])  # fmt: skip


def dashboards(sla: Sla | None = None) -> dict[str, dict[str, Any]]:
    """file stem -> dashboard JSON model."""
    return {"service": service(sla or Sla()), "jobs": jobs(), "model": model(), "quality": quality(),
            "security": security()}  # fmt: skip


def panel_exprs(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, expr) of every target of every panel."""
    return [(p["title"], t["expr"]) for p in dashboard["panels"] for t in p.get("targets", [])]


PROVIDERS = """\
# Grafana file provider: mount ops/grafana/dashboards at this path (e.g. a container volume).
apiVersion: 1
providers:
  - name: gogooku3
    orgId: 1
    folder: gogooku3
    type: file
    disableDeletion: true
    allowUiUpdates: false
    updateIntervalSeconds: 60
    options:
      path: /etc/grafana/dashboards/gogooku3
      foldersFromFilesStructure: false
"""
DATASOURCES = f"""\
# The Prometheus of `make monitor`; GOGOOKU3_PROMETHEUS_URL is expanded by Grafana at start-up.
apiVersion: 1
datasources:
  - name: gogooku3 Prometheus
    uid: {DATASOURCE["uid"]}
    type: prometheus
    access: proxy
    url: ${{GOGOOKU3_PROMETHEUS_URL}}
    isDefault: true
    jsonData:
      timeInterval: 15s
"""


def render() -> dict[str, str]:
    """Relative path under ops/grafana -> file text."""
    files = {f"dashboards/{stem}.json": json.dumps(d, indent=2, sort_keys=True) + "\n" for stem, d in dashboards().items()}
    files["provisioning/dashboards/gogooku3.yml"] = PROVIDERS
    files["provisioning/datasources/prometheus.yml"] = DATASOURCES
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gogooku3.monitoring.dashboards", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("ops/grafana"), help="folder to write (default ops/grafana)")
    parser.add_argument("--check", action="store_true", help="compare with the files there instead of writing")
    args = parser.parse_args(argv)
    stale = []
    for rel, text in render().items():
        path = args.out / rel
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if stale:
        print(f"dashboards: stale {', '.join(stale)}; run python -m gogooku3.monitoring.dashboards", file=sys.stderr)
        return 1
    print(f"dashboards: {'up to date' if args.check else 'written to'} {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
