"""Every Prometheus series the project exports: a contract read by rules and dashboards.

Prometheus naming: the ``gogooku3_`` prefix, base units, ``_total`` on counters (the
client library appends it to a Counter's name; the names here are the exposed ones).
"""

PREFIX = "gogooku3"

# API (RED per route), exported by the serving process on /metrics.
HTTP_REQUESTS_TOTAL = f"{PREFIX}_http_requests_total"  # counter {route, method, status}
HTTP_REQUEST_DURATION_SECONDS = f"{PREFIX}_http_request_duration_seconds"  # histogram {route, method}
HTTP_REQUESTS_IN_FLIGHT = f"{PREFIX}_http_requests_in_flight"  # gauge
SECURITY_EVENTS_TOTAL = f"{PREFIX}_security_events_total"  # counter {kind}: auth_failed, scope_denied, rate_limited, audit_chain_broken
AUDIT_CHAIN_VALID = f"{PREFIX}_audit_chain_valid"  # gauge 1/0, last verification of the audit log
CHAMPION_LOADED = f"{PREFIX}_champion_loaded"  # gauge 1/0

# Batch jobs (ingest, train, predict, evaluate), pushed to the Pushgateway (job label = the job).
JOB_LAST_SUCCESS_TIMESTAMP_SECONDS = f"{PREFIX}_job_last_success_timestamp_seconds"  # gauge {job}
JOB_LAST_FAILURE_TIMESTAMP_SECONDS = f"{PREFIX}_job_last_failure_timestamp_seconds"  # gauge {job}
JOB_DURATION_SECONDS = f"{PREFIX}_job_duration_seconds"  # gauge {job}: last run's wall time
JOB_ROWS_INGESTED = f"{PREFIX}_job_rows_ingested"  # gauge {job}
QUALITY_ROWS_QUARANTINED = f"{PREFIX}_quality_rows_quarantined"  # gauge {job, gate}
QUALITY_GATE_FAILED = f"{PREFIX}_quality_gate_failed"  # gauge 1/0 {job, gate}

# Business metrics (from the prediction store), exported by the serving process.
REALIZED_RANK_IC = f"{PREFIX}_realized_rank_ic"  # gauge {horizon}: latest matured date
REALIZED_RANK_IC_MEAN = f"{PREFIX}_realized_rank_ic_mean"  # gauge {horizon}: mean over the last k matured dates
VALIDATION_RANK_IC_LOWER = f"{PREFIX}_validation_rank_ic_lower"  # gauge {horizon}: the champion's validation band, lower edge
PREDICTION_COVERAGE_RATIO = f"{PREFIX}_prediction_coverage_ratio"  # gauge {horizon}
PREDICTION_DISPERSION = f"{PREFIX}_prediction_dispersion"  # gauge {horizon}: cross-sectional sd of predictions
CONFIDENCE_MEAN = f"{PREFIX}_confidence_mean"  # gauge {horizon}
LATEST_PREDICTION_TIMESTAMP_SECONDS = f"{PREFIX}_latest_prediction_timestamp_seconds"  # gauge: as-of session of the newest predictions
PREDICTIONS_DUE_TIMESTAMP_SECONDS = f"{PREFIX}_predictions_due_timestamp_seconds"  # gauge: deadline (serving.sla.prediction_deadline) of the next session's predictions
PREDICTIONS_READY = f"{PREFIX}_predictions_ready"  # gauge 1/0: the next session's predictions are stored
DAYS_SINCE_PROMOTION = f"{PREFIX}_days_since_promotion"  # gauge
DATA_FRESHNESS_SESSIONS = f"{PREFIX}_data_freshness_sessions"  # gauge: sessions between the latest completed session and the newest data
