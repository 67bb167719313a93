"""Alert hooks called when a gate fails: a log line by default, a JSON webhook when configured.

The webhook URL may embed a token (Slack, Teams...), so it is never logged or written
to reports; prefer ``quality.alert_webhook_url_env`` (the name of an environment
variable holding the URL) over putting the URL in config.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from gogooku3.quality.config import QualityConfig
from gogooku3.quality.report import GateReport

log = logging.getLogger("gogooku3.quality")

AlertHook = Callable[[GateReport], None]


def log_alert(report: GateReport) -> None:
    """The default hook: one error line in the run log."""
    log.error(report.message())


def alert_payload(report: GateReport) -> dict[str, Any]:
    """The JSON body a webhook receives: gate, message and the failed expectations."""
    return {
        "source": "gogooku3.quality",
        "gate": report.gate,
        "status": report.status,
        "message": report.message(),
        "failed_expectations": [
            {"check": r.check, "dimension": r.dimension, "threshold": r.threshold,
             "observed": r.observed, "offending": r.offending}
            for r in report.failed
        ],
        "samples": report.samples,
    }


class WebhookAlert:
    """POST the alert as JSON; delivery problems are logged (without the URL), never raised."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self._url = url
        self.timeout_s = timeout_s

    def __repr__(self) -> str:  # keep the URL (and any token in it) out of logs
        return "WebhookAlert(url=<redacted>)"

    def __call__(self, report: GateReport) -> None:
        body = json.dumps(alert_payload(report), default=str).encode()
        request = urllib.request.Request(
            self._url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                response.read()
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or type(exc).__name__
            log.warning("quality alert webhook failed for gate %s: %s", report.gate, reason)


def build_alert_hooks(cfg: QualityConfig) -> list[AlertHook]:
    """The log hook always; a webhook when a URL (or the env var naming one) is configured."""
    hooks: list[AlertHook] = [log_alert]
    url = cfg.alert_webhook_url
    if cfg.alert_webhook_url_env:
        url = os.environ.get(cfg.alert_webhook_url_env) or url
    if url:
        hooks.append(WebhookAlert(url, cfg.alert_timeout_s))
    return hooks
