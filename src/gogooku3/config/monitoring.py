"""``monitoring`` group: the local Prometheus stack, alert thresholds that are not SLAs, and routing.

The API's SLAs (p99, availability, prediction deadline) are ``serving.sla``; the rules read them
from there. Receiver secrets (Slack webhook, PagerDuty routing key, SMTP password) come from the
environment variables named here, never from YAML (see docs/monitoring.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

JOBS = ("ingest", "train", "predict", "evaluate")  # the batch jobs pushed to the Pushgateway (label job)


@dataclass
class Stack:
    """Loopback ports of ``make monitor``; the API is scraped at serving.host:serving.port."""

    host: str = "127.0.0.1"
    prometheus_port: int = 9090
    pushgateway_port: int = 9091
    alertmanager_port: int = 9093
    scrape_interval: str = "15s"
    evaluation_interval: str = "15s"


@dataclass
class Thresholds:
    """Alert bounds that are operating choices, not SLAs."""

    rate_window: str = "5m"  # of the error-ratio, latency and security-event rates
    job_max_age_hours: dict[str, float] = field(default_factory=lambda: {j: 26.0 for j in JOBS})
    data_freshness_max_sessions: int = 1  # stale data above this many sessions behind
    # k: realized_rank_ic_mean is the mean over the last k matured sessions (the business collector's window)
    rank_ic_sessions: int = 5
    quarantine_spike_factor: float = 3.0  # rows quarantined now vs their 7-day mean
    quarantine_min_rows: int = 100  # ...and at least this many rows
    # most events per rate_window before the security alert of that kind fires
    security_events_max: dict[str, int] = field(
        default_factory=lambda: {"auth_failed": 20, "scope_denied": 10, "rate_limited": 200})


@dataclass
class Team:
    slack_channel: str = "#gogooku3-alerts"
    email: str = "gogooku3-alerts@example.org"


def _teams() -> dict[str, Team]:
    return {
        "platform": Team("#gogooku3-platform", "platform@example.org"),
        "ml": Team("#gogooku3-ml", "ml@example.org"),
        "data": Team("#gogooku3-data", "data@example.org"),
        "security": Team("#gogooku3-security", "security@example.org"),
    }


@dataclass
class Routing:
    """Alertmanager: critical pages PagerDuty (and goes on to Slack); warnings Slack per team; the rest email."""

    teams: dict[str, Team] = field(default_factory=_teams)
    default_email: str = "gogooku3-ops@example.org"
    email_from: str = "alertmanager@example.org"
    smtp_smarthost: str = "localhost:25"  # host:port; make monitor MONITOR_ARGS=monitoring.routing.smtp_smarthost=...
    smtp_username: str = "alertmanager"
    smtp_require_tls: bool = True
    pagerduty_url: str = "https://events.pagerduty.com/v2/enqueue"
    # environment variables holding the secrets (NAME, or NAME_FILE naming a file that holds it)
    slack_webhook_env: str = "GOGOOKU3_SLACK_WEBHOOK_URL"
    pagerduty_key_env: str = "GOGOOKU3_PAGERDUTY_ROUTING_KEY"
    smtp_password_env: str = "GOGOOKU3_SMTP_PASSWORD"
    group_by: list[str] = field(default_factory=lambda: ["alertname", "service", "team"])
    group_wait: str = "30s"
    group_interval: str = "5m"
    repeat_interval: str = "4h"


@dataclass
class MonitoringSettings:
    stack: Stack = field(default_factory=Stack)
    thresholds: Thresholds = field(default_factory=Thresholds)
    routing: Routing = field(default_factory=Routing)
