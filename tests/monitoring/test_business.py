"""Business metrics read at scrape time from a real LocalPredictionStore and a real MLflow registry."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from gogooku3.monitoring import names
from gogooku3.monitoring.business import BusinessCollector
from gogooku3.storage.predictions import REALIZED_SCHEMA, LocalPredictionStore
from tests.serving.conftest import CODES, prediction_frame

MODEL = "gogooku3_biz"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def scrape(collector) -> dict[tuple[str, tuple], float]:
    reg = CollectorRegistry()
    reg.register(collector)
    out = {}
    for fam in text_string_to_metric_families(generate_latest(reg).decode()):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


@pytest.fixture(scope="module")
def registry_uri(tmp_path_factory):
    from mlflow.tracking import MlflowClient

    tmp_path = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    exp = client.create_experiment("biz", artifact_location=str(tmp_path / "art"))
    client.create_registered_model(MODEL)
    for _ in range(2):
        run = client.create_run(exp)
        client.create_model_version(MODEL, source=f"{run.info.artifact_uri}/deploy", run_id=run.info.run_id)
    client.set_model_version_tag(MODEL, "2", "metric.test/rank_ic_h1", "0.05")
    client.set_model_version_tag(MODEL, "2", "metric.test/rank_icir_h1", "0.25")
    client.set_model_version_tag(MODEL, "2", "promoted_at", "2026-12-04T12:00:00+00:00")
    client.set_registered_model_alias(MODEL, "champion", "2")
    return uri


@pytest.fixture
def store(tmp_path):
    store = LocalPredictionStore(tmp_path / "store")
    store.write("predictions", prediction_frame(date(2026, 12, 3), "2", seed=1))
    newest = prediction_frame(date(2026, 12, 4), "2", seed=2).filter(pl.col("Code") != CODES[0])  # one code dropped
    store.write("predictions", newest)
    store.write("predictions", prediction_frame(date(2026, 12, 4), "1", seed=3))  # the previous model shadows
    rng = np.random.default_rng(0)
    days = [date(2026, 11, 1) + timedelta(days=i) for i in range(30)]
    for version, shift in (("2", 0.0), ("1", 1.0)):
        store.write("realized", pl.DataFrame({
            "Date": days, "horizon": [1] * 30, "model_version": [version] * 30,
            "rank_ic": rng.normal(0.03, 0.1, 30) + shift, "hit_rate": [0.5] * 30, "decile_spread": [0.0] * 30,
            "n_stocks": [40] * 30, "matured_on": [d + timedelta(days=1) for d in days],
        }).cast(REALIZED_SCHEMA))  # fmt: skip
    return store


def collector(store, uri, latest=date(2026, 12, 4), model=MODEL, **kw):
    return BusinessCollector(store, uri, model, lambda: latest, k=10, now=NOW.timestamp, **kw)


def test_values_follow_the_store_and_the_champion(store, registry_uri):
    got = scrape(collector(store, registry_uri))
    realized = store.read("realized", horizon=1, model_version="2").sort("Date").get_column("rank_ic")
    assert got[(names.REALIZED_RANK_IC, (("horizon", "1"),))] == pytest.approx(realized[-1])
    assert got[(names.REALIZED_RANK_IC_MEAN, (("horizon", "1"),))] == pytest.approx(realized.tail(10).mean())
    assert got[(names.VALIDATION_RANK_IC_LOWER, (("horizon", "1"),))] == pytest.approx(0.05 - 2 * 0.2 / math.sqrt(10))
    assert (names.VALIDATION_RANK_IC_LOWER, (("horizon", "5"),)) not in got  # no test metrics for h5

    newest = store.read("predictions", date(2026, 12, 4), date(2026, 12, 4), horizon=5, model_version="2")
    finite = newest.get_column("prediction").drop_nans().drop_nulls()
    assert got[(names.PREDICTION_COVERAGE_RATIO, (("horizon", "5"),))] == pytest.approx(finite.len() / len(CODES))
    assert got[(names.PREDICTION_COVERAGE_RATIO, (("horizon", "5"),))] < 1
    assert got[(names.PREDICTION_DISPERSION, (("horizon", "5"),))] == pytest.approx(finite.std())
    assert got[(names.CONFIDENCE_MEAN, (("horizon", "5"),))] == pytest.approx(newest.get_column("confidence").mean())

    close = datetime(2026, 12, 4, 6, 30, tzinfo=UTC)  # 15:30 Tokyo
    assert got[(names.LATEST_PREDICTION_TIMESTAMP_SECONDS, ())] == close.timestamp()
    assert got[(names.PREDICTIONS_READY, ())] == 1
    due = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)  # Monday 2026-12-07 08:30 Tokyo, after the weekend
    assert got[(names.PREDICTIONS_DUE_TIMESTAMP_SECONDS, ())] == due.timestamp()
    assert got[(names.DATA_FRESHNESS_SESSIONS, ())] == 0
    assert got[(names.DAYS_SINCE_PROMOTION, ())] == pytest.approx(3.0)


def test_stale_store_and_no_champion(store, registry_uri):
    got = scrape(collector(store, registry_uri, latest=date(2026, 12, 9), model="not_registered"))  # Wed: Mon, Tue and Wed not predicted
    assert got[(names.PREDICTIONS_READY, ())] == 0
    assert got[(names.DATA_FRESHNESS_SESSIONS, ())] == 3
    assert (names.DAYS_SINCE_PROMOTION, ()) not in got and (names.VALIDATION_RANK_IC_LOWER, (("horizon", "1"),)) not in got
    # without a champion the newest version label is shown (the API's rule): "2"
    realized = store.read("realized", horizon=1, model_version="2").sort("Date").get_column("rank_ic")
    assert got[(names.REALIZED_RANK_IC, (("horizon", "1"),))] == pytest.approx(realized[-1])


def test_a_scrape_reads_again_after_the_cache(store, registry_uri):
    c = collector(store, registry_uri, cache_seconds=0.0)
    assert scrape(c)[(names.PREDICTIONS_READY, ())] == 1
    store.write("predictions", prediction_frame(date(2026, 12, 7), "2", seed=9))
    c.latest_session = lambda: date(2026, 12, 8)
    assert scrape(c)[(names.PREDICTIONS_READY, ())] == 0
    assert scrape(c)[(names.DATA_FRESHNESS_SESSIONS, ())] == 1


def test_from_config_registers_the_collector_on_the_apis_metrics(store, registry_uri, tmp_path, monkeypatch):
    """The serving config's store, registry, calendar and deadline reach the collector."""
    import secrets
    from types import SimpleNamespace as NS

    from fastapi.testclient import TestClient

    from gogooku3.config.serving import ServingSettings
    from gogooku3.serving.app import create_app
    from gogooku3.serving.settings import from_config

    monkeypatch.setenv("GOGOOKU3_API_SECRET", secrets.token_hex(32))
    monkeypatch.setenv("GOGOOKU3_API_KEY_FILE", str(tmp_path / "keys.json"))
    defaults = ServingSettings()
    cfg = NS(**{**vars(defaults), "store_root": str(store.root), "tracking_uri": registry_uri, "model_name": MODEL,
                "audit_log": str(tmp_path / "audit.jsonl"), "security_log": str(tmp_path / "security.jsonl")})
    settings = from_config(cfg, latest_session=lambda: date(2026, 12, 4))
    (business,) = [c for c in settings.collectors if isinstance(c, BusinessCollector)]
    assert business.store is settings.store and business.deadline == defaults.sla.prediction_deadline
    with TestClient(create_app(settings)) as client:
        text = client.get("/metrics").text
    ready = [s for f in text_string_to_metric_families(text) for s in f.samples if s.name == names.PREDICTIONS_READY]
    assert [s.value for s in ready] == [1.0]
    assert f'{names.VALIDATION_RANK_IC_LOWER}{{horizon="1"}}' in text
