"""alertmanager.yml: routes by severity and team to PagerDuty, Slack and email, with inhibition.

critical pages PagerDuty and goes on (``continue``) to the team's Slack channel; warning goes to
Slack; info to the team's mailbox; anything else to the default mailbox. Secrets are read by
Alertmanager from files (``*_file`` fields, relative to the config's folder), so the config
itself never holds a secret; ``make monitor`` writes those files from the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SECRETS_DIR = "secrets"
SECRET_FILES = {"slack": "slack_webhook_url", "pagerduty": "pagerduty_routing_key", "smtp": "smtp_password"}
# API down makes its error and latency alerts noise; a Pushgateway down makes every job alert noise.
INHIBIT = [
    ("ApiDown", ["ApiErrorRatioHigh", "ApiLatencyP99High", "ChampionNotLoaded"]),
    ("PushgatewayDown", ["JobFailed", "JobStale", "JobMissing"]),
]


def secret_path(kind: str, secret_dir: str = SECRETS_DIR) -> str:
    return f"{secret_dir}/{SECRET_FILES[kind]}"


def routes(routing: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The child routes, in matching order (a test gives each one an ``amtool config routes test`` case)."""
    out: list[dict[str, Any]] = [{"receiver": "pagerduty", "matchers": ['severity="critical"'], "continue": True}]
    for team in routing["teams"]:
        out.append({"receiver": f"slack-{team}", "matchers": [f'team="{team}"', 'severity=~"critical|warning"']})
        out.append({"receiver": f"email-{team}", "matchers": [f'team="{team}"', 'severity="info"']})
    return out


def alertmanager_config(routing: Mapping[str, Any], secrets: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The config; ``secrets`` maps slack/pagerduty/smtp to the files holding them (default: secrets/...)."""
    files = {k: (secrets or {}).get(k) or secret_path(k) for k in SECRET_FILES}
    smtp: dict[str, Any] = {"smtp_smarthost": routing["smtp_smarthost"], "smtp_from": routing["email_from"],
                            "smtp_require_tls": bool(routing["smtp_require_tls"])}  # fmt: skip
    if routing["smtp_username"]:
        smtp |= {"smtp_auth_username": routing["smtp_username"], "smtp_auth_password_file": files["smtp"]}
    text = ("{{ range .Alerts }}{{ .Annotations.summary }}\nRunbook: {{ .Annotations.runbook }} "
            "({{ .Annotations.runbook_url }})\n{{ end }}")  # fmt: skip
    receivers: list[dict[str, Any]] = [
        {"name": "email-default", "email_configs": [{"to": routing["default_email"], "send_resolved": True}]},
        {"name": "pagerduty", "pagerduty_configs": [{
            "routing_key_file": files["pagerduty"], "url": routing["pagerduty_url"], "send_resolved": True,
            "description": "{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}",
            "details": {"runbook": "{{ .CommonAnnotations.runbook }}", "team": "{{ .CommonLabels.team }}",
                        "service": "{{ .CommonLabels.service }}"}}]},
    ]  # fmt: skip
    for team, t in routing["teams"].items():
        receivers.append({"name": f"slack-{team}", "slack_configs": [{
            "api_url_file": files["slack"], "channel": t["slack_channel"], "send_resolved": True,
            "title": "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.service }})",
            "text": text}]})  # fmt: skip
        receivers.append({"name": f"email-{team}", "email_configs": [{"to": t["email"], "send_resolved": True}]})
    return {
        "global": smtp,
        "route": {"receiver": "email-default", "group_by": list(routing["group_by"]),
                  "group_wait": routing["group_wait"], "group_interval": routing["group_interval"],
                  "repeat_interval": routing["repeat_interval"], "routes": routes(routing)},
        "inhibit_rules": [{"source_matchers": [f'alertname="{src}"'],
                           "target_matchers": [f'alertname=~"{"|".join(targets)}"'], "equal": ["service"]}
                          for src, targets in INHIBIT],
        "receivers": receivers,
    }  # fmt: skip
