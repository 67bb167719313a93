"""A populated prediction store, a real MLflow sqlite registry, a key file and the app over them."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from gogooku3.storage.predictions import PREDICTION_SCHEMA, QUALITY_SCHEMA, LocalPredictionStore

DAYS = [date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3), date(2026, 12, 4)]
HORIZONS = (1, 5)
CODES = [f"{c}0" for c in range(1301, 1341)]
MODEL = "gogooku3_test"
SECRET = secrets.token_hex(32).encode()  # a fresh server secret per test session


def prediction_frame(day: date, version: str, seed: int) -> pl.DataFrame:
    """One as-of day: every code x horizon, ranks by ensemble score, a few NaN predictions."""
    rng = np.random.default_rng(seed)
    n = len(CODES)
    parts = []
    for h in HORIZONS:
        score = rng.standard_normal(n)
        pred = score * 0.01 * np.sqrt(h)
        pred[rng.integers(0, n)] = np.nan  # a member that produced NaN for one stock
        rank = (-score).argsort().argsort() + 1
        parts.append(pl.DataFrame({
            "Code": CODES, "Date": [day] * n, "for_session": [day + timedelta(days=1)] * n,
            "horizon": [h] * n, "prediction": pred,
            "quantile_levels": [[0.1, 0.5, 0.9]] * n,
            "quantiles": [[p - 0.02, p, p + 0.02] for p in pred],
            "ensemble_score": score, "confidence": rng.uniform(0, 1, n), "rank": rank,
            "model_version": [version] * n, "run_id": ["a" * 32] * n,
        }))  # fmt: skip
    return pl.concat(parts).cast(PREDICTION_SCHEMA)


def quality_frame(day: date) -> pl.DataFrame:
    return pl.DataFrame({
        "Date": [day, day], "run_id": ["r" * 32] * 2, "gate": ["raw", "features"], "status": ["passed", "failed"],
        "success_ratio": [1.0, 0.75], "rows_in": [4000, 4000], "rows_quarantined": [0, 12],
        "detail": ['{"failed": []}', '{"failed": [{"expectation": "not_null", "column": "ret_1d"}]}'],
    }).cast(QUALITY_SCHEMA)  # fmt: skip


@pytest.fixture(scope="session")
def store_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("predstore")
    store = LocalPredictionStore(root)
    for i, day in enumerate(DAYS):
        store.write("predictions", prediction_frame(day, "2", seed=i))
        if i >= 2:  # the previous champion shadows the last two days
            store.write("predictions", prediction_frame(day, "1", seed=100 + i))
        store.write("quality", quality_frame(day))
    return root


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory) -> str:
    """A real MLflow sqlite registry: versions 1 and 2 with run metrics, champion=2, previous=1."""
    from mlflow.tracking import MlflowClient

    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root}/mlflow.db"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    exp = client.create_experiment("serving-test", artifact_location=str(root / "artifacts"))
    client.create_registered_model(MODEL)
    for rank_ic in (0.031, 0.042):
        run = client.create_run(exp)
        client.log_metric(run.info.run_id, "val/rank_ic_h1", rank_ic)
        client.set_terminated(run.info.run_id)
        client.create_model_version(MODEL, source=f"{run.info.artifact_uri}/deploy", run_id=run.info.run_id)
    client.set_registered_model_alias(MODEL, "champion", "2")
    client.set_registered_model_alias(MODEL, "previous", "1")
    return uri


class Keys:
    """Plaintext keys made through the real KeyStore (the tests' clients hold them, nothing else)."""

    def __init__(self, store) -> None:
        self.store = store
        _, self.reader = store.create("reader", ["predictions:read"])
        _, self.models = store.create("models-only", ["models:read"])
        _, self.admin = store.create("ops", ["admin"])
        rec, self.revoked = store.create("old", ["predictions:read"])
        store.revoke(rec.key_id)


def make_settings(tmp: Path, store_root: Path, tracking_uri: str, *, latest=DAYS[-1], burst=1000, rate=1000.0):
    from gogooku3.serving.keys import KeyStore
    from gogooku3.serving.models import ModelRegistry
    from gogooku3.serving.settings import AppSettings

    keys = KeyStore(tmp / "keys.json", SECRET)
    settings = AppSettings(
        store=LocalPredictionStore(store_root), keys=keys, registry=ModelRegistry(tracking_uri, MODEL),
        latest_session=lambda: latest, audit_log=tmp / "audit.jsonl", security_log=tmp / "security.jsonl",
        rate_per_second=rate, rate_burst=burst,
    )  # fmt: skip
    return settings, Keys(keys)


@pytest.fixture
def served(tmp_path, store_root, tracking_uri):
    """(TestClient, settings, keys) over fresh key, audit and security files."""
    from fastapi.testclient import TestClient

    from gogooku3.serving.app import create_app

    settings, keys = make_settings(tmp_path, store_root, tracking_uri)
    with TestClient(create_app(settings)) as client:
        yield client, settings, keys
