"""``create_app(settings)``: the prediction API. It reads stored predictions; it never trains.

Every request passes one ASGI middleware that times it, counts it by route *template*
(``/v1/predictions/{date}``, never the raw path) and appends one audit line; security
events go to the counter and the SIEM log. Routes under /v1 need an API key with a scope.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any

import polars as pl
from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, Security
from fastapi.responses import JSONResponse, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.security import APIKeyHeader
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gogooku3.monitoring.business import pick_version
from gogooku3.serving import keys as K
from gogooku3.serving import schemas as S
from gogooku3.serving.audit import AuditLog, verify
from gogooku3.serving.events import SecurityEvents
from gogooku3.serving.metrics import ServingMetrics
from gogooku3.serving.ratelimit import TokenBuckets
from gogooku3.serving.settings import AppSettings
from gogooku3.storage.predictions import filter_rows

API_KEY_HEADER = "X-API-Key"
METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}
_KEYLIKE = re.compile(r"g3_[0-9A-Za-z_\-]+")
_ERR = {
    401: {"model": S.Error, "description": "no valid API key",
          "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "ApiKey"}}},
    403: {"model": S.Error, "description": "the key lacks the scope"},
    429: {"model": S.Error, "description": "the key's rate limit (serving.rate_limit) is spent",
          "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1},
                                      "description": "whole seconds until the key may send again"}}},
}  # fmt: skip
_NOT_FOUND = {404: {"model": S.Error, "description": "nothing stored for the date"}}
_UNAVAILABLE = {503: {"model": S.Error, "description": "the registry cannot be read"}}


class _TtlCache:
    """Whole-day reads reused ``ttl`` seconds: a day's predictions change once a day, requests come often.

    An expired entry is reloaded by one request while the others keep the old value, so a
    reload (tens of ms) never queues every request behind it.
    """

    def __init__(self, ttl: float, size: int = 64) -> None:
        self.ttl, self.size = ttl, size
        self._items: dict[Any, tuple[float, Any]] = {}
        self._loading: set[Any] = set()
        self._lock = threading.Lock()

    def get(self, key: Any, load: Any) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
            if hit and (now - hit[0] < self.ttl or key in self._loading):
                return hit[1]
            self._loading.add(key)
        try:
            value = load()
        finally:
            with self._lock:
                self._loading.discard(key)
        with self._lock:
            if key not in self._items and len(self._items) >= self.size:
                self._items.pop(min(self._items, key=lambda k: self._items[k][0]))
            self._items[key] = (time.monotonic(), value)
        return value


class _State:
    """The process's long-lived parts, shared by the middleware and the routes."""

    def __init__(self, settings: AppSettings) -> None:
        self.settings = settings
        self.metrics = ServingMetrics()
        for collector in settings.collectors:
            self.metrics.registry.register(collector)
        self.audit = AuditLog(settings.audit_log, fsync=settings.audit_fsync)
        self.events = SecurityEvents(settings.security_log, self.metrics)
        self.buckets = TokenBuckets(settings.rate_per_second, settings.rate_burst)
        self.cache = _TtlCache(settings.store_cache_seconds)
        self.metrics.audit_chain_valid.set(1 if self.audit.startup.ok else 0)
        if not self.audit.startup.ok:
            self.events.emit("audit_chain_broken", reason=self.audit.startup.summary())


def _redact(value: Any) -> Any:
    text = str(value)
    return _KEYLIKE.sub("[redacted]", text[:200])


class _Observe:
    """Pure ASGI middleware: in-flight gauge, RED metrics by route template, one audit line per request."""

    def __init__(self, app: Any, state: _State) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        m, status, t0 = self.state.metrics, 500, time.perf_counter()

        async def send_status(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        m.in_flight.inc()
        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed = time.perf_counter() - t0
            m.in_flight.dec()
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            m.requests.labels(route, method, str(status)).inc()
            m.duration.labels(route, method).observe(elapsed)
            self._audit(scope, route, method, status, elapsed)

    def _audit(self, scope: dict, route: str, method: str, status: int, elapsed: float) -> None:
        from urllib.parse import parse_qsl

        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        params = {_redact(k): _redact(v) for k, v in query}
        params.update({_redact(k): _redact(v) for k, v in (scope.get("path_params") or {}).items()})
        client = scope.get("client")
        self.state.audit.append({
            "time": datetime.now(UTC).isoformat(timespec="microseconds"),
            "key_id": (scope.get("state") or {}).get("key_id"),
            "method": method, "route": route, "params": params, "status": status,
            "latency_seconds": round(elapsed, 6), "client": client[0] if client else None,
        })  # fmt: skip


_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="g3_<keyid>_<secret>")


def _guard(scope: str):  # noqa: ANN202 - a FastAPI dependency
    async def check(request: Request, key: Annotated[str | None, Security(_header)]) -> K.Identity:
        state: _State = request.app.state.g3
        route = getattr(request.scope.get("route"), "path", None)
        client = request.client.host if request.client else None
        try:
            identity = state.settings.keys.verify(key)
        except K.AuthFailure as exc:
            request.state.key_id = exc.key_id
            state.events.emit("auth_failed", key_id=exc.key_id, route=route, client=client, reason=exc.reason)
            raise HTTPException(401, "missing or invalid API key", headers={"WWW-Authenticate": "ApiKey"}) from None
        request.state.key_id = identity.key_id
        wait = state.buckets.take(identity.key_id)
        if wait:
            state.events.emit("rate_limited", key_id=identity.key_id, route=route, client=client)
            raise HTTPException(429, "rate limit exceeded", headers={"Retry-After": str(int(wait))})
        if not identity.allows(scope):
            state.events.emit("scope_denied", key_id=identity.key_id, route=route, client=client, reason=scope)
            raise HTTPException(403, f"the key lacks scope {scope}")
        return identity

    return check


DayPath = Annotated[S.IsoDate, Path(description="as-of session, YYYY-MM-DD")]
Filters = Annotated[S.PredictionQuery, Query()]


def _fill_nan(frame: pl.DataFrame) -> pl.DataFrame:
    """NaN -> null, since JSON has no NaN."""
    exprs = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Float64:
            exprs.append(pl.col(name).fill_nan(None))
        elif dtype == pl.List(pl.Float64):
            exprs.append(pl.col(name).list.eval(pl.element().fill_nan(None)))
    return frame.with_columns(exprs) if exprs else frame


def _warm(state: _State) -> None:
    s = state.settings
    try:
        state.metrics.champion_loaded.set(1 if s.registry.champion() else 0)
    except Exception:  # noqa: BLE001 - /readyz reports it
        state.metrics.champion_loaded.set(0)
    try:
        days = state.cache.get("dates", lambda: s.store.dates("predictions"))
        for day in days[-5:]:  # the dates clients ask for most
            state.cache.get(("predictions", day), lambda day=day: s.store.read("predictions", day, day))
    except Exception:  # noqa: BLE001
        pass


def create_app(settings: AppSettings) -> FastAPI:
    """One API process over ``settings.store`` and the registry; see the module docstring."""
    state = _State(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Warm up before the socket opens: MLflow's import and the newest day's read take
        # seconds and tens of ms; the first requests must not queue behind them.
        await run_in_threadpool(_warm, state)
        yield
        state.audit.close()

    app = FastAPI(title="gogooku3 prediction API", version="1", lifespan=lifespan,
                  description="Stored daily predictions, model registry and quality gates of gogooku3.")  # fmt: skip
    app.state.g3 = state
    app.add_middleware(_Observe, state=state)
    read_predictions = [Depends(_guard(K.PREDICTIONS_READ))]

    def champion() -> str | None:
        try:
            version = settings.registry.champion()
        except Exception:  # noqa: BLE001 - a registry outage must not fail a prediction read
            version = None
        state.metrics.champion_loaded.set(1 if version else 0)
        return version

    def predictions_of(day: date, q: S.PredictionQuery) -> dict[str, Any]:
        codes = q.codes.split(",") if q.codes else None
        if codes and len(codes) > settings.max_codes:
            # The documented 422 body (FastAPI's validation errors), naming the field like any other.
            raise RequestValidationError([{"type": "too_long", "loc": ("query", "codes"), "input": q.codes,
                                           "msg": f"at most {settings.max_codes} codes per request"}])  # fmt: skip
        whole = state.cache.get(("predictions", day), lambda: settings.store.read("predictions", day, day))
        stored = whole.get_column("model_version").unique().sort().to_list()
        frame = filter_rows(whole, None, None, codes, q.horizon, None)
        if not stored:
            raise HTTPException(404, f"no predictions stored for {day}")
        champ = champion()
        version = q.model_version or pick_version(stored, champ)
        if version not in stored:
            raise HTTPException(404, f"no predictions of model_version {version} for {day}")
        frame = frame.filter(pl.col("model_version") == version)
        if q.top_k is not None:
            frame = frame.filter(pl.col("rank") <= q.top_k)
        rows = _fill_nan(frame).rename({"Code": "code", "Date": "date"}).to_dicts()
        return {"date": day, "model_version": version, "is_champion": version == champ,
                "available_versions": stored, "count": len(rows), "predictions": rows}  # fmt: skip

    @app.get("/v1/predictions/latest", response_model=S.PredictionsResponse, dependencies=read_predictions,
             responses={**_ERR, **_NOT_FOUND}, tags=["predictions"])  # fmt: skip
    def latest_predictions(q: Filters) -> dict[str, Any]:
        """The newest stored as-of session's predictions."""
        days = state.cache.get("dates", lambda: settings.store.dates("predictions"))
        if not days:
            raise HTTPException(404, "no predictions stored")
        return predictions_of(days[-1], q)

    @app.get("/v1/predictions/{date}", response_model=S.PredictionsResponse, dependencies=read_predictions,
             responses={**_ERR, **_NOT_FOUND}, tags=["predictions"])  # fmt: skip
    def predictions(date: DayPath, q: Filters) -> dict[str, Any]:
        """Predictions made as of session ``date`` (features up to its close)."""
        return predictions_of(date, q)

    @app.get("/v1/quality/{date}", response_model=S.QualityResponse, dependencies=read_predictions,
             responses={**_ERR, **_NOT_FOUND}, tags=["quality"])  # fmt: skip
    def quality(date: DayPath) -> dict[str, Any]:
        """The gate results of the predict runs of ``date``."""
        frame = _fill_nan(state.cache.get(("quality", date), lambda: settings.store.read("quality", date, date)))
        if frame.height == 0:
            raise HTTPException(404, f"no quality results stored for {date}")
        rows = frame.rename({"Date": "date"}).to_dicts()
        for row in rows:
            try:
                row["detail"] = json.loads(row["detail"]) if row["detail"] else None
            except ValueError:
                pass  # kept as the stored string
        return {"date": date, "passed": all(r["status"] != "failed" for r in rows), "gates": rows}

    @app.get("/v1/models", response_model=S.ModelsResponse, dependencies=[Depends(_guard(K.MODELS_READ))],
             responses={**_ERR, **_UNAVAILABLE}, tags=["models"])  # fmt: skip
    def models() -> dict[str, Any]:
        """The registered model's aliases (champion, previous) and versions with their run metrics."""
        try:
            view = settings.registry.view()
        except Exception as exc:  # noqa: BLE001 - reported as 503, the API stays up
            raise HTTPException(503, f"model registry unavailable ({type(exc).__name__})") from None
        state.metrics.champion_loaded.set(1 if view.aliases.get("champion") else 0)
        versions = [{
            "version": v.version, "run_id": v.run_id, "status": v.status,
            "created_at": datetime.fromtimestamp(v.created_at_ms / 1000, UTC) if v.created_at_ms else None,
            "aliases": list(v.aliases), "tags": v.tags,
            "metrics": {k: x for k, x in v.metrics.items() if math.isfinite(x)},
        } for v in view.versions]  # fmt: skip
        return {"name": view.name, "aliases": view.aliases, "versions": versions}

    @app.get("/v1/admin/audit", response_model=S.Check, dependencies=[Depends(_guard(K.ADMIN))],
             responses=_ERR, tags=["admin"])  # fmt: skip
    def audit_check() -> dict[str, Any]:
        """Verify the audit log's hash chain now (sets the chain gauge; a break is a security event)."""
        result = verify(settings.audit_log)
        state.metrics.audit_chain_valid.set(1 if result.ok else 0)
        if not result.ok:
            state.events.emit("audit_chain_broken", route="/v1/admin/audit", reason=result.summary())
        return {"ok": result.ok, "detail": result.summary()}

    @app.get("/healthz", response_model=S.Health, tags=["health"])
    def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz", response_model=S.Readiness, responses={503: {"model": S.Readiness}}, tags=["health"])
    def readyz() -> JSONResponse:
        """Store reachable, champion resolvable, predictions stored for the latest completed session."""
        checks: dict[str, dict[str, Any]] = {}
        newest = None
        try:
            days = settings.store.dates("predictions")
            newest = days[-1] if days else None
            checks["store"] = {"ok": True, "detail": f"{len(days)} dates stored"}
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            checks["store"] = {"ok": False, "detail": f"unreadable ({type(exc).__name__})"}
        champ = champion()
        checks["champion"] = {"ok": champ is not None, "detail": f"version {champ}" if champ else "no champion alias"}
        try:
            expected = settings.latest_session()
            ok = newest is not None and newest >= expected
            checks["fresh"] = {"ok": ok, "detail": f"newest {newest}, latest completed session {expected}"}
        except Exception as exc:  # noqa: BLE001
            checks["fresh"] = {"ok": False, "detail": f"calendar failed ({type(exc).__name__})"}
        body = S.Readiness.model_validate({"ready": all(c["ok"] for c in checks.values()), "checks": checks})
        return JSONResponse(body.model_dump(mode="json"), status_code=200 if body.ready else 503)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
