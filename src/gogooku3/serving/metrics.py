"""The serving process's Prometheus series, in a registry of its own (names: monitoring/names.py)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from gogooku3.monitoring import names

# A ~1-50 ms service with a tail up to seconds; 0.25 s is the default p99 SLA (conf/serving).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
SECURITY_KINDS = ("auth_failed", "scope_denied", "rate_limited", "audit_chain_broken")


class ServingMetrics:
    """RED per route template, in-flight requests, security events, audit-chain and champion state."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(names.HTTP_REQUESTS_TOTAL, "HTTP requests by route template, method and status.",
                                ("route", "method", "status"), registry=r)
        self.duration = Histogram(names.HTTP_REQUEST_DURATION_SECONDS, "HTTP request latency by route template.",
                                  ("route", "method"), buckets=LATENCY_BUCKETS, registry=r)
        self.in_flight = Gauge(names.HTTP_REQUESTS_IN_FLIGHT, "HTTP requests being served now.", registry=r)
        self.security = Counter(names.SECURITY_EVENTS_TOTAL, "Security events by kind.", ("kind",), registry=r)
        self.audit_chain_valid = Gauge(names.AUDIT_CHAIN_VALID, "1 when the audit log's hash chain verified last time.",
                                       registry=r)
        self.champion_loaded = Gauge(names.CHAMPION_LOADED, "1 when the registry's champion alias resolves.", registry=r)
        for kind in SECURITY_KINDS:  # every kind exists from the start, so rate() and alerts see 0, not nothing
            self.security.labels(kind)
