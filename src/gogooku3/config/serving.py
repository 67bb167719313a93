"""``serving`` group: the prediction API's bind address, limits, SLA and where it reads from.

Secrets are not here: the server secret (keyed hash of the API keys) and the key file's
path come from the environment variables named below, or from a 0600 secrets file.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RateLimit:
    """A token bucket per API key: ``burst`` requests at once, refilled at ``per_second``."""

    per_second: float = 20.0
    burst: int = 40


@dataclass
class Sla:
    """What the alert rules and the load test hold the API to."""

    p99_seconds: float = 0.25
    availability: float = 0.999  # share of non-5xx responses over the SLO window
    # The next session's predictions are stored by this time (HH:MM, Asia/Tokyo) of its own day,
    # before the 09:00 open; the stale-predictions alert fires after it.
    prediction_deadline: str = "08:30"


@dataclass
class Freshness:
    """When a session counts as completed for /readyz: its close (Tokyo time) plus a grace."""

    calendar: str = "XTKS"
    close_time: str = "15:30"  # HH:MM, Asia/Tokyo
    grace_minutes: int = 180  # the daily predict job's window after the close


@dataclass
class ServingSettings:
    host: str = "127.0.0.1"
    port: int = 8500
    store_root: str = "${paths.output_dir}/predictions"
    tracking_uri: str = "sqlite:///${paths.output_dir}/mlflow.db"
    model_name: str = "gogooku3"
    audit_log: str = "${paths.output_dir}/serving/audit.jsonl"
    security_log: str = "${paths.output_dir}/serving/security.jsonl"
    # Names of the environment variables holding the secrets (never the secrets themselves).
    key_file_env: str = "GOGOOKU3_API_KEY_FILE"
    secret_env: str = "GOGOOKU3_API_SECRET"
    secrets_file_env: str = "GOGOOKU3_SECRETS_FILE"  # a 0600 JSON file with api_secret / api_key_file
    registry_cache_seconds: float = 30.0
    max_codes: int = 500
    store_cache_seconds: float = 30.0  # a whole day's read is reused this long (a re-run shows after it)
    rate_limit: RateLimit = field(default_factory=RateLimit)
    sla: Sla = field(default_factory=Sla)
    freshness: Freshness = field(default_factory=Freshness)
