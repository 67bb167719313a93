"""Batch-job metrics reach a real Pushgateway: success keeps its time across a later failure."""

from __future__ import annotations

import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gogooku3.monitoring import names
from gogooku3.monitoring.jobs import PUSHGATEWAY_ENV, job_metrics, track_gates
from gogooku3.quality.report import GateReport
from tests.monitoring.servers import get, pushgateway

PORT = 18551


class Gates:
    """The one attribute job metrics read off QualityGates."""

    def __init__(self, **reports: GateReport) -> None:
        self.reports = reports


def _samples(url: str, job: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for fam in text_string_to_metric_families(get(f"{url}/metrics")):
        for s in fam.samples:
            if s.labels.get("job") == job and s.name.startswith(names.PREFIX):
                out[(s.name, tuple(sorted((k, v) for k, v in s.labels.items() if k not in ("job", "instance"))))] = s.value
    return out


@pytest.fixture
def gateway(tmp_path, monkeypatch):
    server = pushgateway(PORT, tmp_path)
    url = f"http://127.0.0.1:{PORT}"
    monkeypatch.setenv(PUSHGATEWAY_ENV, url)
    yield url
    server.stop()


def test_success_then_failure_keeps_the_success_time(gateway):
    with job_metrics("predict"):
        track_gates(Gates(raw=GateReport("raw", "passed", rows_in=1200, rows_quarantined=3),
                          features=GateReport("features", "skipped")))  # fmt: skip
    first = _samples(gateway, "predict")
    success = first[(names.JOB_LAST_SUCCESS_TIMESTAMP_SECONDS, ())]
    assert (names.JOB_LAST_FAILURE_TIMESTAMP_SECONDS, ()) not in first
    assert first[(names.JOB_ROWS_INGESTED, ())] == 1200  # the raw gate's rows in
    assert first[(names.QUALITY_ROWS_QUARANTINED, (("gate", "raw"),))] == 3
    assert first[(names.QUALITY_GATE_FAILED, (("gate", "raw"),))] == 0
    assert not any(k[1] == (("gate", "features"),) for k in first)  # a skipped gate is not reported

    with pytest.raises(RuntimeError), job_metrics("predict"):
        track_gates(Gates(processed=GateReport("processed", "failed", rows_in=10, rows_quarantined=7)))
        raise RuntimeError("gate 2 failed")
    second = _samples(gateway, "predict")
    assert second[(names.JOB_LAST_SUCCESS_TIMESTAMP_SECONDS, ())] == success
    assert second[(names.JOB_LAST_FAILURE_TIMESTAMP_SECONDS, ())] >= success
    assert second[(names.QUALITY_GATE_FAILED, (("gate", "processed"),))] == 1
    assert second[(names.QUALITY_ROWS_QUARANTINED, (("gate", "processed"),))] == 7
    assert second[(names.JOB_DURATION_SECONDS, ())] >= 0


def test_exit_code_decides_and_jobs_are_grouped(gateway):
    with pytest.raises(SystemExit), job_metrics("train"):
        raise SystemExit(2)
    with job_metrics("ingest") as job:
        job.rows_ingested = 4321
    train, ingest = _samples(gateway, "train"), _samples(gateway, "ingest")
    assert (names.JOB_LAST_FAILURE_TIMESTAMP_SECONDS, ()) in train
    assert (names.JOB_LAST_SUCCESS_TIMESTAMP_SECONDS, ()) not in train
    assert ingest[(names.JOB_ROWS_INGESTED, ())] == 4321


def test_unset_or_unreachable_gateway_never_fails_the_job(monkeypatch, caplog):
    monkeypatch.delenv(PUSHGATEWAY_ENV, raising=False)
    with job_metrics("evaluate"):
        pass
    monkeypatch.setenv(PUSHGATEWAY_ENV, f"http://127.0.0.1:{PORT + 1}")  # nothing listens there
    with caplog.at_level(logging.WARNING, "gogooku3.monitoring.jobs"), job_metrics("evaluate"):
        pass
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "not pushed" in warnings[0].getMessage()
    with pytest.raises(ValueError, match="unknown job"), job_metrics("nightly"):
        pass
