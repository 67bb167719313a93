"""A prediction run: market -> window -> gates -> features -> gate 5 -> members -> ensemble -> gate -> store.

The window is the sessions the deployed models read (their bundles' ``history_sessions``)
ending at the predicted session, so a prediction for a past date equals what the same
model gives for that date from the full history (tests/pipeline/test_serving_equals_backtest.py).
``evaluate=true`` then scores stored predictions whose labels have matured.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from gogooku3.data.market import MarketData
from gogooku3.datasets.panel import Panel
from gogooku3.errors import ConfigError, DataError
from gogooku3.schema import target_column

log = logging.getLogger(__name__)


@dataclass
class PredictOutcome:
    """What a predict run produced, for the console summary and tests."""

    run_id: str
    dates: list[date]
    predictions: pl.DataFrame
    realized: pl.DataFrame | None = None
    calibration: pl.DataFrame | None = None


def members_of(cfg: Any) -> list[tuple[str, float]]:
    """(model spec, weight) of every ensemble member; ``predict.model`` when ``predict.ensemble`` is empty."""
    from gogooku3.containers import plain

    entries = plain(cfg.predict.ensemble) or [{"model": str(cfg.predict.model), "weight": 1.0}]
    out = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or "model" not in entry:
            raise ConfigError(f"predict.ensemble[{i}]={entry!r}: expected {{model: <alias or run id>, weight: <number>}}")
        weight = float(entry.get("weight", 1.0))
        if not weight > 0:
            raise ConfigError(f"predict.ensemble[{i}].weight={weight}: must be positive")
        out.append((str(entry["model"]), weight))
    return out


def target_dates(cfg: Any, calendar: pl.Series, last: date) -> list[date]:
    """The sessions to predict: ``date_range`` (inclusive), a session ``date``, or the latest with data."""
    sessions = calendar.filter(calendar <= last)
    if cfg.get("date_range"):
        bounds = list(cfg.date_range)
        if len(bounds) != 2:
            raise ConfigError(f"date_range={bounds}: expected [first, last] session dates")
        first, end = (_parse(b, "date_range") for b in bounds)
        picked = sessions.filter((sessions >= first) & (sessions <= end)).to_list()
        if not picked:
            raise ConfigError(f"date_range={bounds}: no session with data in that range (data ends {last})")
        return picked
    if str(cfg.date) == "latest":
        return [last]
    day = _parse(cfg.date, "date")
    if day > last:
        raise ConfigError(f"date={day}: after the data's last session {last}")
    if day not in set(sessions.to_list()):
        raise ConfigError(f"date={day}: not a session of the data's calendar")
    return [day]


def _parse(value: Any, key: str) -> date:
    try:
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{key}={value}: expected a session date YYYY-MM-DD or latest") from None


def run_predict(cfg: Any, run_dir: Path) -> PredictOutcome:
    """Predict, validate and store; with ``evaluate=true`` also score matured predictions."""
    from gogooku3.monitoring.jobs import job_metrics

    with job_metrics("predict"):  # pushed to the Pushgateway when GOGOOKU3_PUSHGATEWAY is set
        return _run_predict(cfg, run_dir)


def _run_predict(cfg: Any, run_dir: Path) -> PredictOutcome:
    from gogooku3.inference.loading import load_model
    from gogooku3.monitoring.jobs import job_metrics
    from gogooku3.pipeline.storage import data_source, open_run_storage
    from gogooku3.storage.predictions import open_prediction_store
    from gogooku3.tracking.mlflow_run import MlflowRun

    run_dir.mkdir(parents=True, exist_ok=True)
    specs = members_of(cfg)
    storage = open_run_storage(cfg, cfg.predict.experiment)  # S3 credentials checked before anything is read
    models = [load_model(spec, cfg.tracking.uri, cfg.predict.registry_name) for spec, _ in specs]
    for model in models:
        log.info("model %s: %s, %d features, reads %d sessions (gate 5: files, weights and canary verified)",
                 model.label, model.meta["flavor"], len(model.meta["features"]), model.meta["history_sessions"])
    market = data_source(cfg, storage).load()
    last = market.quotes.get_column("Date").max()
    days = target_dates(cfg, market.calendar, last)
    settings = cfg.get("storage")
    store = open_prediction_store(settings.predictions if settings is not None else None, cfg.predict.store,
                                  storage.objects, settings.olap if settings is not None else None)  # fmt: skip
    where = getattr(store, "root", cfg.predict.store)

    with MlflowRun(cfg.tracking.uri, cfg.predict.experiment, storage.artifact_root,
                   f"predict {days[0]}" + (f"..{days[-1]}" if len(days) > 1 else ""), None) as run:  # fmt: skip
        run.set_tags({"model_version": "+".join(m.label for m in models),
                      "model_run_id": ",".join(m.run_id for m in models), "data_digest": market.digest,
                      "feature_schema_hash": models[0].meta["feature_schema_hash"], "data": cfg.data.name,
                      "features": cfg.features.name, "calendar": market.calendar_name})  # fmt: skip
        timings: dict[str, float] = {}
        predictions, gates, window = predict_sessions(cfg, market, models, [w for _, w in specs], days, run_dir,
                                                      timings, cache=storage.cache)  # fmt: skip
        run.log_metrics({f"predict/seconds_{k}": v for k, v in timings.items()})
        predictions = predictions.with_columns(run_id=pl.lit(run.run_id))
        store.write("predictions", predictions)
        store.write("quality", _quality_rows(gates, days, run.run_id))
        run.set_tags({"window_data_digest": window.digest})
        run.log_metrics(_summary_metrics(predictions))
        log.info("stored %d predictions for %s in %s", predictions.height,
                 days[0] if len(days) == 1 else f"{len(days)} sessions", where)
        outcome = PredictOutcome(run.run_id, days, predictions)
        if cfg.get("evaluate", False):
            with job_metrics("evaluate"):
                outcome.realized, outcome.calibration = evaluate_stored(store, market, run, run_dir)
        return outcome


def predict_sessions(
    cfg: Any, market: MarketData, models: list[Any], weights: list[float], days: list[date], run_dir: Path,
    timings: dict[str, float] | None = None, cache: Any = None,
) -> tuple[pl.DataFrame, Any, MarketData]:  # fmt: skip
    """The stored-schema predictions of ``days`` from the window the models read (no store, no MLflow).

    ``timings`` receives the wall seconds of each stage (window and gates, features, inference).
    With ``cache`` (storage.cache) the window's features and each member's predictions are
    cached by content digest (the window's tables; the features frame) and model run id; the
    gates run on cached values exactly as on computed ones.
    """
    import time

    timings = {} if timings is None else timings
    started = time.perf_counter()
    from gogooku3.data.window import market_window
    from gogooku3.features import build_features
    from gogooku3.inference.ensemble import Member, combine
    from gogooku3.inference.loading import check_features
    from gogooku3.monitoring.jobs import track_gates
    from gogooku3.quality import QualityGates

    history = max(int(m.meta["history_sessions"]) for m in models)
    sessions = market.calendar.filter(market.calendar <= days[0])
    if sessions.len() < history:
        raise DataError(f"data: {sessions.len()} sessions up to {days[0]}; the model reads {history}")
    window = market_window(market, sessions[-history], days[-1])
    gates = QualityGates.from_config(cfg.quality, run_dir / "quality", window.calendar, days[-1])
    track_gates(gates)  # their quarantine counts and failures go with the job's pushed metrics
    window, _ = gates.raw(window)
    window, _ = gates.processed(window)
    timings["window_and_gates"] = time.perf_counter() - started
    started = time.perf_counter()
    features = build_features(window, cfg.features.groups, name=cfg.features.name, cache=cache)
    for model in models:
        check_features(model, features.schema(), features.schema_hash())
    frame, _ = gates.features(features.frame, list(features.names), {s.name: s.warmup for s in features.specs})
    timings["features"] = time.perf_counter() - started
    started = time.perf_counter()
    horizons = sorted({int(h) for m in models for h in m.meta["horizons"]})
    members = []
    universe = frame.filter(pl.col("Date").is_in(pl.Series(days).implode())).select("Code", "Date")
    for model, weight in zip(models, weights):
        model_h = tuple(int(h) for h in model.meta["horizons"])
        targets = [pl.lit(None, pl.Float64).alias(target_column(h)) for h in model_h]
        panel = Panel(frame.with_columns(targets), tuple(features.names), model_h, listed=window.listed)
        estimator, quantiles = model.deployable.estimator, tuple(model.meta.get("quantiles") or ())
        kwargs = {"quantiles": True} if quantiles else {}
        predict = lambda: estimator.predict(panel, days[0], days[-1], **kwargs)  # noqa: E731 (called at once)
        preds = _member_predictions(cache, frame, model, days, predict)
        gates.predictions(preds.select("Code", "Date", *[f"pred_h{h}" for h in model_h]), list(model_h),
                          universe=universe, reference=model.meta.get("reference"))  # fmt: skip
        members.append(Member(model.label, weight, preds, quantiles))
    missing = [h for h in horizons if any(h not in m.meta["horizons"] for m in models)]
    if missing:
        raise ConfigError(f"predict.ensemble: members differ in horizons (h={missing[0]} is not in all of them)")
    combined = combine(members, horizons)
    timings["inference"] = time.perf_counter() - started
    sessions_all = market.calendar.sort()
    nxt = {d: _next_session(sessions_all, d) for d in days}
    combined = combined.with_columns(
        for_session=pl.col("Date").replace_strict(list(nxt), list(nxt.values()), return_dtype=pl.Date, default=None))
    return combined, gates, window


def _member_predictions(cache: Any, frame: pl.DataFrame, model: Any, days: list[date], compute: Any) -> pl.DataFrame:
    """One member's predictions, through the cache keyed by the features' digest and the model's run."""
    if cache is None:
        return compute()
    from gogooku3.storage.cache import digest_of

    parts = ("predictions", digest_of(frame), model.run_id, model.meta["feature_schema_hash"], model.label,
             days[0].isoformat(), days[-1].isoformat())  # fmt: skip
    return cache.get_or_compute(parts, compute)


def _next_session(calendar: pl.Series, day: date) -> date | None:
    """The first session after ``day``: from the calendar when it reaches that far, else the exchange's."""
    later = calendar.filter(calendar > day)
    if later.len():
        return later[0]
    try:
        import exchange_calendars as xcals
        import pandas as pd

        return xcals.get_calendar("XTKS").next_session(pd.Timestamp(day)).date()
    except Exception:  # a calendar that ends at ``day`` (infer/none): the next session is unknown
        return None


def _quality_rows(gates: Any, days: list[date], run_id: str) -> pl.DataFrame:
    rows = []
    for gate, report in gates.reports.items():
        failed = [r for r in getattr(report, "results", []) or [] if not getattr(r, "success", True)]
        for day in days:
            rows.append({"Date": day, "run_id": run_id, "gate": gate, "status": report.status,
                         "success_ratio": float(report.success_ratio), "rows_in": int(report.rows_in),
                         "rows_quarantined": int(report.rows_quarantined),
                         "detail": json.dumps([str(r) for r in failed][:20])})  # fmt: skip
    return pl.DataFrame(rows)


def _summary_metrics(predictions: pl.DataFrame) -> dict[str, float]:
    out = {"predict/rows": float(predictions.height)}
    for (h,), part in predictions.group_by(["horizon"]):
        daily = part.group_by("Date").agg(pl.col("prediction").std().alias("sd"))
        out[f"predict/confidence_mean_h{h}"] = float(part.get_column("confidence").mean())
        out[f"predict/dispersion_h{h}"] = float(daily.get_column("sd").mean())
    return out


def evaluate_stored(store: Any, market: MarketData, run: Any, run_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Realized performance of every stored prediction whose label has matured, and the calibration tables."""
    from gogooku3.datasets.targets import forward_returns
    from gogooku3.inference.realized import calibration_table, interval_coverage, realized_performance

    stored = store.read("predictions")
    if stored.is_empty():
        raise DataError(f"evaluate=true: no stored predictions in {getattr(store, 'root', store)}")
    horizons = stored.get_column("horizon").unique().sort().to_list()
    targets = forward_returns(market.quotes, sorted(set(horizons) | {1}), market.calendar)
    realized = realized_performance(stored, targets, market.calendar)
    if not realized.is_empty():
        store.write("realized", realized)
    calibration = calibration_table(stored, targets)
    coverage = interval_coverage(stored, targets)
    for name, table in (("calibration", calibration), ("interval_coverage", coverage), ("realized", realized)):
        table.write_csv(run_dir / f"{name}.csv")
        run.log_artifact(run_dir / f"{name}.csv", "evaluation")
    metrics = {}
    for (h,), part in realized.group_by(["horizon"]):
        metrics[f"realized/rank_ic_h{h}"] = float(part.get_column("rank_ic").mean())
        metrics[f"realized/hit_rate_h{h}"] = float(part.get_column("hit_rate").mean())
        metrics[f"realized/dates_h{h}"] = float(part.height)
    for row in coverage.iter_rows(named=True):
        metrics[f"coverage/h{row['horizon']}_nominal{row['nominal']:.2f}"] = float(row["coverage"])
    run.log_metrics(metrics)
    log.info("evaluate: %d matured (date, horizon) pairs scored; calibration in evaluation/calibration.csv",
             realized.height)
    return realized, calibration


def summary(outcome: PredictOutcome) -> str:
    """The console's closing lines: per horizon the top stocks of the last predicted session."""
    last = outcome.dates[-1]
    day = outcome.predictions.filter(pl.col("Date") == last)
    lines = [f"Predictions for the session after {last} (run {outcome.run_id}):",
             "horizon  stocks  top 5 (ensemble rank)                     confidence mean"]
    for (h,), part in sorted(day.group_by(["horizon"]), key=lambda kv: kv[0][0]):
        top = ", ".join(part.sort("rank").head(5).get_column("Code").to_list())
        lines.append(f"h{h:<7} {part.height:>6}  {top:<40}  {part.get_column('confidence').mean():.3f}")
    if len(outcome.dates) > 1:
        lines.append(f"{len(outcome.dates)} sessions predicted, {outcome.dates[0]}..{last}")
    if outcome.realized is not None and not outcome.realized.is_empty():
        for (h,), part in sorted(outcome.realized.group_by(["horizon"]), key=lambda kv: kv[0][0]):
            lines.append(f"realized h{h}: RankIC {part.get_column('rank_ic').mean():.4f}, "
                         f"hit rate {part.get_column('hit_rate').mean():.3f} over {part.height} dates")
    return "\n".join(lines)
