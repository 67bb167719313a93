"""Prometheus alert rules, built from the serving SLAs and the monitoring thresholds.

Every expression names series from :mod:`gogooku3.monitoring.names` and the scrape jobs of
the scrape jobs named here (``API_JOB``, used by prometheus.yml too), so a rule cannot query a series or a job
that nothing exports. The rendered files are committed under ``ops/prometheus/rules/`` and a
test compares them with a fresh render, so config and files cannot drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gogooku3.config.monitoring import JOBS
from gogooku3.errors import ConfigError
from gogooku3.monitoring import names as n

API_JOB = "api"  # the scrape job of the prediction API (prometheus.yml and every API rule)
PUSHGATEWAY_JOB = "pushgateway"  # the Pushgateway's own scrape job; pushed series keep their job label
RUNBOOK = "docs/monitoring.md#runbook-{anchor}"


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    for_: str
    severity: str  # critical (pages) | warning (Slack) | info (email)
    team: str  # a key of monitoring.routing.teams
    service: str  # api | jobs | model | data | security; inhibition matches on it
    summary: str
    runbook: str  # what to check first, one or two sentences

    def to_rule(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"alert": self.name, "expr": self.expr}
        if self.for_ != "0m":
            rule["for"] = self.for_
        rule["labels"] = {"severity": self.severity, "team": self.team, "service": self.service}
        rule["annotations"] = {"summary": self.summary, "runbook": self.runbook,
                               "runbook_url": RUNBOOK.format(anchor=self.name.lower())}  # fmt: skip
        return rule


def _num(x: float) -> str:
    """A PromQL literal without float noise (0.0010000000000000009 -> 0.001)."""
    return f"{x:.10g}"


def api_alerts(sla: Mapping[str, Any], th: Mapping[str, Any]) -> list[Alert]:
    w, api = th["rate_window"], f'job="{API_JOB}"'
    budget = _num(1.0 - float(sla["availability"]))
    p99 = _num(float(sla["p99_seconds"]))
    return [
        Alert("ApiDown", f"up{{{api}}} == 0", "1m", "critical", "platform", "api",
              "The prediction API does not answer its /metrics scrape.",
              "Check the process (python -m gogooku3.serve) and its log; /healthz on serving.host:port."),
        Alert("ApiErrorRatioHigh",
              f'sum(rate({n.HTTP_REQUESTS_TOTAL}{{{api},status=~"5.."}}[{w}]))'
              f" / sum(rate({n.HTTP_REQUESTS_TOTAL}{{{api}}}[{w}])) > {budget}",
              "5m", "critical", "platform", "api",
              f"5xx share above {budget} (1 - serving.sla.availability) over {w}.",
              "Look for 5xx routes in the RED dashboard and errors in the API log; /readyz says which dependency failed."),
        Alert("ApiLatencyP99High",
              f"histogram_quantile(0.99, sum by (le, route) (rate({n.HTTP_REQUEST_DURATION_SECONDS}_bucket"
              f'{{{api},route!="/metrics"}}[{w}]))) > {p99}',
              "10m", "warning", "platform", "api",
              f"p99 latency of {{{{ $labels.route }}}} above serving.sla.p99_seconds = {p99} s.",
              "Compare with request rate (load) and the prediction store's read time; a cold cache or a large top-k."),
        Alert("ChampionNotLoaded", f"{n.CHAMPION_LOADED}{{{api}}} == 0", "10m", "warning", "ml", "api",
              "The registry's champion alias does not resolve for the API.",
              "Check the MLflow registry (serving.tracking_uri) and the champion alias of serving.model_name."),
    ]


def job_alerts(th: Mapping[str, Any]) -> list[Alert]:
    ages: dict[str, float] = dict(th["job_max_age_hours"])
    unknown = sorted(set(ages) - set(JOBS))
    if unknown:
        raise ConfigError(f"monitoring.thresholds.job_max_age_hours.{unknown[0]}: unknown job, expected one of {list(JOBS)}")
    jobs = "|".join(ages)
    by_age: dict[float, list[str]] = {}
    for job, hours in ages.items():
        by_age.setdefault(float(hours), []).append(job)
    stale = " or ".join(
        f'(time() - {n.JOB_LAST_SUCCESS_TIMESTAMP_SECONDS}{{job=~"{"|".join(js)}"}} > {_num(h * 3600)})'
        for h, js in sorted(by_age.items()))  # fmt: skip
    missing = " or ".join(f'absent({n.JOB_LAST_SUCCESS_TIMESTAMP_SECONDS}{{job="{j}"}})' for j in ages)
    fail, ok = n.JOB_LAST_FAILURE_TIMESTAMP_SECONDS, n.JOB_LAST_SUCCESS_TIMESTAMP_SECONDS
    return [
        Alert("JobFailed", f'({fail}{{job=~"{jobs}"}} > on (job) {ok}) or ({fail}{{job=~"{jobs}"}} unless on (job) {ok})',
              "0m", "critical", "ml", "jobs", "The last run of the {{ $labels.job }} job failed.",
              "Read the job's log and MLflow run; rerun the job once the cause is fixed (its success clears this)."),
        Alert("JobStale", stale, "0m", "warning", "ml", "jobs",
              "The {{ $labels.job }} job has not succeeded within monitoring.thresholds.job_max_age_hours.",
              "Check the scheduler ran the job and whether it is still running (duration); then the job's log."),
        Alert("JobMissing", missing, "30m", "warning", "ml", "jobs",
              "No success of the {{ $labels.job }} job was ever pushed to the Pushgateway.",
              "The job never succeeded since the Pushgateway started, or pushes to a wrong address or job label."),
        Alert("PushgatewayDown", f'up{{job="{PUSHGATEWAY_JOB}"}} == 0', "5m", "warning", "platform", "jobs",
              "Prometheus cannot scrape the Pushgateway.",
              "Start it (make monitor) and check its port; batch-job alerts are blind while it is down."),
    ]


def model_data_alerts(th: Mapping[str, Any]) -> list[Alert]:
    k, api = int(th["rank_ic_sessions"]), f'job="{API_JOB}"'
    factor, min_rows = _num(float(th["quarantine_spike_factor"])), int(th["quarantine_min_rows"])
    q = n.QUALITY_ROWS_QUARANTINED
    return [
        Alert("PredictionsStale",
              f"({n.PREDICTIONS_READY}{{{api}}} == 0) and on (job, instance) "
              f"(time() > {n.PREDICTIONS_DUE_TIMESTAMP_SECONDS}{{{api}}})",
              "0m", "critical", "ml", "model",
              "The next session's predictions are not stored by serving.sla.prediction_deadline (Tokyo time).",
              "Check the predict job (JobFailed/JobStale) and the ingest before it; rerun predict for the session."),
        Alert("DataStale",
              f"{n.DATA_FRESHNESS_SESSIONS}{{{api}}} > {int(th['data_freshness_max_sessions'])}",
              "30m", "warning", "data", "data",
              "The newest data is {{ $value }} sessions behind the latest completed session.",
              "Check the ingest job and the data source (J-Quants); a missing session in the calendar shows here."),
        Alert("RealizedRankIcBelowValidation",
              f"{n.REALIZED_RANK_IC_MEAN}{{{api}}} < on (job, instance, horizon) {n.VALIDATION_RANK_IC_LOWER}{{{api}}}",
              "1h", "warning", "ml", "model",
              f"Realized RankIC (mean of the last {k} matured sessions) of horizon {{{{ $labels.horizon }}}} "
              "is below the champion's validation band.",
              "Compare with the previous alias and with raw-feature drift; consider rolling back (alias previous)."),
        Alert("QualityGateFailed", f"{n.QUALITY_GATE_FAILED} == 1", "0m", "warning", "data", "data",
              "Quality gate {{ $labels.gate }} failed in the {{ $labels.job }} job.",
              "Read the gate's result (GET /v1/quality/{date}) for the failed expectations and the source rows."),
        Alert("QuarantineSpike",
              f"({q} > {factor} * avg_over_time({q}[7d])) and ({q} >= {min_rows})",
              "0m", "info", "data", "data",
              f"Gate {{{{ $labels.gate }}}} quarantined over {factor}x its 7-day mean of rows (and >= {min_rows}).",
              "Inspect the quarantined rows of the gate; a source change or a new listing often shows here first."),
    ]


_SECURITY_NAMES = {"auth_failed": "AuthFailuresHigh", "scope_denied": "ScopeDenialsHigh",
                   "rate_limited": "RateLimitedHigh"}  # fmt: skip


def security_alerts(th: Mapping[str, Any]) -> list[Alert]:
    w, api, ev = th["rate_window"], f'job="{API_JOB}"', n.SECURITY_EVENTS_TOTAL
    out = []
    for kind, most in dict(th["security_events_max"]).items():
        if kind not in _SECURITY_NAMES:
            raise ConfigError(f"monitoring.thresholds.security_events_max.{kind}: unknown kind, "
                              f"expected one of {sorted(_SECURITY_NAMES)}")  # fmt: skip
        out.append(Alert(_SECURITY_NAMES[kind], f'sum(increase({ev}{{{api},kind="{kind}"}}[{w}])) > {int(most)}',
                         "0m", "warning", "security", "security",
                         f"More than {int(most)} {kind} events in {w}.",
                         "Read the security JSON lines (serving.security_log) for the key ids and clients involved."))
    out.append(Alert("AuditChainBroken",
                     f'({n.AUDIT_CHAIN_VALID}{{{api}}} == 0) or (increase({ev}{{{api},kind="audit_chain_broken"}}[{w}]) > 0)',
                     "0m", "critical", "security", "security",
                     "The audit log's hash chain does not verify: a line was removed or edited.",
                     "Keep the file as is; compare with the copy under the object store's locked audit prefix."))
    return out


def rule_groups(sla: Mapping[str, Any], thresholds: Mapping[str, Any]) -> dict[str, list[Alert]]:
    """Rule file stem -> its alerts."""
    return {"api": api_alerts(sla, thresholds), "jobs": job_alerts(thresholds),
            "model_data": model_data_alerts(thresholds), "security": security_alerts(thresholds)}  # fmt: skip


def rule_file(group: str, alerts: list[Alert]) -> dict[str, Any]:
    return {"groups": [{"name": f"gogooku3-{group}", "rules": [a.to_rule() for a in alerts]}]}
