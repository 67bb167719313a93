"""Batch-job metrics (ingest, train, predict, evaluate) pushed to a Pushgateway at the job's end.

A batch job is gone before Prometheus could scrape it, so ``job_metrics("train")`` pushes
its outcome to the Pushgateway named by ``GOGOOKU3_PUSHGATEWAY`` (e.g.
``http://127.0.0.1:9091``), grouped by ``job=<name>``. It uses POST (pushadd), which
replaces only the series it sends: a failed run sends its failure time and leaves the
last success time of the run before it in place, so "no success for a day" stays alertable.
Unset means no push (a debug line); a failed push logs one warning and never fails the job.
"""

from __future__ import annotations

import contextvars
import logging
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from gogooku3.monitoring import names

log = logging.getLogger(__name__)
PUSHGATEWAY_ENV = "GOGOOKU3_PUSHGATEWAY"
JOBS = ("ingest", "train", "predict", "evaluate")
_CURRENT: contextvars.ContextVar[JobRecord | None] = contextvars.ContextVar("gogooku3_job", default=None)


@dataclass
class JobRecord:
    """What one job run reports; the pipeline fills it through :func:`track_gates` and :func:`set_rows_ingested`."""

    job: str
    rows_ingested: int | None = None
    gates: list[Any] = field(default_factory=list)  # objects with ``reports`` {gate: report}

    def gate_rows(self) -> dict[str, tuple[int, bool]]:
        """gate -> (rows quarantined, failed) over the tracked gates' reports (skipped gates left out)."""
        out: dict[str, tuple[int, bool]] = {}
        for gates in self.gates:
            reports: Mapping[str, Any] = getattr(gates, "reports", {}) or {}
            for gate, report in reports.items():
                status = str(getattr(report, "status", "skipped"))
                if status == "skipped":
                    continue
                out[str(gate)] = (int(getattr(report, "rows_quarantined", 0) or 0), status == "failed")
        return out


def track_gates(gates: Any) -> None:
    """Report the quality gates ``gates`` (their ``reports``) with the running job; no job running: nothing."""
    record = _CURRENT.get()
    if record is not None:
        record.gates.append(gates)


def set_rows_ingested(rows: int) -> None:
    """The rows the running job read in (quote rows delivered); no job running: nothing."""
    record = _CURRENT.get()
    if record is not None:
        record.rows_ingested = int(rows)


def _raw_rows_in(record: JobRecord) -> int | None:
    for gates in record.gates:
        report = (getattr(gates, "reports", {}) or {}).get("raw")
        if report is not None and getattr(report, "status", "skipped") != "skipped":
            return int(report.rows_in)
    return None


def build_registry(record: JobRecord, ok: bool, started: float, finished: float) -> Any:
    """A registry of this run's series only (success *or* failure time, never both)."""
    from prometheus_client import CollectorRegistry, Gauge

    reg = CollectorRegistry()
    stamp = names.JOB_LAST_SUCCESS_TIMESTAMP_SECONDS if ok else names.JOB_LAST_FAILURE_TIMESTAMP_SECONDS
    Gauge(stamp, f"Unix time the last {'successful' if ok else 'failed'} run of the job ended.", registry=reg).set(finished)
    Gauge(names.JOB_DURATION_SECONDS, "Wall seconds of the job's last run.", registry=reg).set(finished - started)
    rows = record.rows_ingested if record.rows_ingested is not None else _raw_rows_in(record)
    if rows is not None:
        Gauge(names.JOB_ROWS_INGESTED, "Quote rows the job's last run read in.", registry=reg).set(rows)
    gate_rows = record.gate_rows()
    if gate_rows:
        quarantined = Gauge(names.QUALITY_ROWS_QUARANTINED, "Rows a quality gate quarantined in the job's last run.",
                            ("gate",), registry=reg)  # fmt: skip
        failed = Gauge(names.QUALITY_GATE_FAILED, "1 when the quality gate failed in the job's last run.",
                       ("gate",), registry=reg)  # fmt: skip
        for gate, (n, bad) in gate_rows.items():
            quarantined.labels(gate).set(n)
            failed.labels(gate).set(1 if bad else 0)
    return reg


def push(record: JobRecord, ok: bool, started: float, finished: float, gateway: str | None = None) -> bool:
    """Push the run's series; True when pushed. Never raises."""
    gateway = gateway if gateway is not None else os.environ.get(PUSHGATEWAY_ENV, "").strip()
    if not gateway:
        log.debug("%s unset: job metrics of %s not pushed", PUSHGATEWAY_ENV, record.job)
        return False
    try:
        from prometheus_client import pushadd_to_gateway

        pushadd_to_gateway(gateway, job=record.job, registry=build_registry(record, ok, started, finished), timeout=5)
    except Exception as exc:  # noqa: BLE001 - monitoring must never fail the job
        log.warning("job metrics of %s not pushed to %s: %s", record.job, gateway, type(exc).__name__)
        return False
    return True


@contextmanager
def job_metrics(job: str) -> Iterator[JobRecord]:
    """Time the block as run of ``job`` and push its outcome; an exception (SystemExit too) is a failure."""
    if job not in JOBS:
        raise ValueError(f"job_metrics: unknown job {job!r}; known: {', '.join(JOBS)}")
    record = JobRecord(job)
    token = _CURRENT.set(record)
    started, ok = time.time(), False
    try:
        yield record
        ok = True
    except SystemExit as exc:
        ok = exc.code in (0, None)
        raise
    finally:
        _CURRENT.reset(token)
        push(record, ok, started, time.time())
