"""prometheus.yml: scrape the API and the Pushgateway, load the rule files, alert the local Alertmanager."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gogooku3.monitoring.rules import API_JOB, PUSHGATEWAY_JOB


def prometheus_config(serving: Mapping[str, Any], stack: Mapping[str, Any]) -> dict[str, Any]:
    """The config for ``serving`` (the API's host and port) and ``stack`` (monitoring.stack)."""
    host = stack["host"]
    return {
        "global": {"scrape_interval": stack["scrape_interval"], "evaluation_interval": stack["evaluation_interval"]},
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"{host}:{stack['alertmanager_port']}"]}]}]},
        "rule_files": ["rules/*.yml"],  # relative to this file
        "scrape_configs": [
            {"job_name": API_JOB, "metrics_path": "/metrics",
             "static_configs": [{"targets": [f"{serving['host']}:{serving['port']}"]}]},
            # honor_labels: a pushed series keeps its own job label (ingest, train, predict, evaluate)
            {"job_name": PUSHGATEWAY_JOB, "honor_labels": True,
             "static_configs": [{"targets": [f"{host}:{stack['pushgateway_port']}"]}]},
        ],
    }  # fmt: skip
