"""What one API process needs, built from the ``serving`` config and the secrets."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from gogooku3.serving.keys import KeyStore
from gogooku3.serving.models import ModelRegistry
from gogooku3.storage.predictions import LocalPredictionStore, PredictionStore


@dataclass
class AppSettings:
    store: PredictionStore
    keys: KeyStore
    registry: ModelRegistry
    latest_session: Callable[[], date]  # the session whose predictions /readyz expects
    audit_log: Path
    security_log: Path
    rate_per_second: float = 20.0
    rate_burst: int = 40
    max_codes: int = 500
    store_cache_seconds: float = 30.0
    audit_fsync: bool = False
    collectors: Sequence[Any] = field(default_factory=tuple)  # extra prometheus collectors (business metrics)


def from_config(
    cfg: Any, *, latest_session: Callable[[], date] | None = None, storage: Any = None, monitoring: Any = None,
) -> AppSettings:  # fmt: skip
    """AppSettings from a composed ``serving`` node (attribute access) and the environment's secrets.

    ``storage`` (a ``storage`` group node) picks the prediction store predict.py writes:
    ``storage.predictions.kind=objects`` reads the object store; without it, parquet under ``store_root``.
    ``monitoring`` (the ``monitoring`` group) gives the business metrics the window its alert rules name.
    """
    from gogooku3.monitoring.business import BusinessCollector
    from gogooku3.serving.secrets import load_secrets
    from gogooku3.serving.sessions import latest_session_fn

    secrets = load_secrets(cfg.secret_env, cfg.key_file_env, cfg.secrets_file_env)
    fresh = cfg.freshness
    store = _store(cfg, storage)
    latest = latest_session or latest_session_fn(fresh.calendar, fresh.close_time, fresh.grace_minutes)
    business = BusinessCollector(store, cfg.tracking_uri, cfg.model_name, latest, calendar=fresh.calendar,
                                 close_time=fresh.close_time, deadline=cfg.sla.prediction_deadline,
                                 k=None if monitoring is None else monitoring.thresholds.rank_ic_sessions)  # fmt: skip
    return AppSettings(
        store=store,
        keys=KeyStore(secrets.key_file, secrets.api_secret),
        registry=ModelRegistry(cfg.tracking_uri, cfg.model_name, ttl=cfg.registry_cache_seconds),
        latest_session=latest,
        audit_log=Path(cfg.audit_log), security_log=Path(cfg.security_log),
        rate_per_second=cfg.rate_limit.per_second, rate_burst=cfg.rate_limit.burst, max_codes=cfg.max_codes,
        store_cache_seconds=cfg.store_cache_seconds, collectors=(business,),
    )  # fmt: skip


def _store(cfg: Any, storage: Any) -> PredictionStore:
    if storage is None or storage.predictions.kind == "local":
        return LocalPredictionStore(cfg.store_root)
    from gogooku3.storage.objects import open_store
    from gogooku3.storage.predictions import open_prediction_store

    objects = open_store(storage.objects) if storage.predictions.kind == "objects" else None
    return open_prediction_store(storage.predictions, cfg.store_root, objects, storage.olap)
