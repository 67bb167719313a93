"""The one place that wires data -> quality -> features -> datasets -> training -> evaluation -> tracking."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from gogooku3.data.market import MarketData
from gogooku3.data.sessions import trading_sessions_between
from gogooku3.datasets.panel import Panel
from gogooku3.datasets.split import Fold, walk_forward_folds
from gogooku3.datasets.targets import forward_returns
from gogooku3.evaluation.metrics import cost_model, evaluate
from gogooku3.pipeline.provenance import code_digest, git_state
from gogooku3.pipeline.trial_context import current_study_name, current_trial, current_trial_number, report_intermediate
from gogooku3.schema import pred_column, target_column
from gogooku3.tracking.lineage import Lineage, describe_frame
from gogooku3.tracking.redact import redact_overrides
from gogooku3.tracking.summary import RunInfo

log = logging.getLogger(__name__)
MIN_ORACLE_TSTAT = 2.0  # oracle_capture is reported where the oracle's RankIC t-stat reaches this


def instantiate(node: Any, **kwargs: Any) -> Any:
    """Hydra-instantiate a config node, leaving out its display-only ``name`` key."""
    from hydra.utils import instantiate as hydra_instantiate
    from omegaconf import OmegaConf

    config = OmegaConf.to_container(node, resolve=True)
    config.pop("name", None)
    return hydra_instantiate(config, **kwargs)


def run_experiment(cfg: Any, run_dir: Path, overrides: list[str]) -> RunInfo:
    """Train, evaluate and log one experiment; returns its logged summary metrics and where the run is."""
    from omegaconf import OmegaConf

    from gogooku3.monitoring.jobs import track_gates
    from gogooku3.tracking.description import run_description
    from gogooku3.tracking.lineage_plot import render_lineage
    from gogooku3.tracking.mlflow_run import MlflowRun

    config = OmegaConf.to_container(cfg, resolve=True)
    horizons = sorted(int(h) for h in cfg.horizons)
    run_dir.mkdir(parents=True, exist_ok=True)
    tracking = cfg.tracking
    sha, dirty = git_state(Path(cfg.paths.root_dir))
    lineage = Lineage(run={"git_sha": sha, "git_dirty": dirty, "overrides": redact_overrides(overrides)})

    # Storage, input, quality and split errors surface before anything is logged.
    from gogooku3.pipeline.storage import open_run_storage

    storage = open_run_storage(cfg, tracking.experiment)
    market = _load_market(cfg, lineage, storage)
    gates = _quality_gates(cfg, market, run_dir)
    track_gates(gates)  # reported with the train job's pushed metrics (monitoring/jobs.py)
    market = _check_market(gates, market, lineage)
    folds = _split(cfg, market, horizons, lineage)

    with MlflowRun(
        tracking.uri, tracking.experiment, storage.artifact_root, _run_name(cfg, overrides), tracking.parent_run_id,
        mirror=_wandb(tracking), mirror_group=current_study_name() or tracking.parent_run_id,
    ) as run:  # fmt: skip
        run.log_config(config, overrides)
        run.set_tags({"git_sha": sha, "git_dirty": str(dirty).lower(), "data_digest": market.digest,
                      "code_digest": code_digest(Path(cfg.paths.root_dir)),
                      "data": cfg.data.name, "model": cfg.model.name, "features": cfg.features.name,
                      "calendar": market.calendar_name})  # fmt: skip
        if (trial := current_trial_number()) is not None:
            run.set_tags({"optuna_trial": trial})
        run.log_environment()
        run.log_dataset(cfg.data.name, market.source, market.digest, {k: str(v) for k, v in market.quotes.schema.items()})

        try:
            panel, feature_panel = _build_panel(cfg, market, horizons, gates, lineage, storage)
            run.log_json(feature_panel.metadata(), "features/metadata.json")
            predictions, val = _train_folds(cfg, panel, folds, run, run_dir, lineage)

            metrics = _evaluate(cfg, market, panel, predictions, horizons, gates, run, run_dir, lineage)
            metrics.update({k: sum(v) / len(v) for k, v in val.items()})
            if cfg.get("deploy", False):
                from gogooku3.pipeline.deploy import deploy

                with lineage.step("deploy", inputs=["evaluate"]) as step:
                    per_fold = [{k: v[i] for k, v in val.items()} for i in range(len(folds))]
                    metrics.update(deploy(cfg, market, panel, feature_panel, folds, per_fold, predictions, run, run_dir))
                    step["outputs"]["deploy"] = {k: v for k, v in metrics.items() if k.startswith(("deploy/", "canary/"))}
            with lineage.step("validate_outputs", inputs=["evaluate"]) as step:
                gates.training_output(predictions, metrics, horizons)
                step["outputs"]["quality"] = _gate_summary(gates, "training_output")
        except BaseException:
            run.log_metrics(_quality_reports(run, gates))  # a failed run still shows its gates
            raise
        metrics.update(_quality_reports(run, gates))
        run.log_metrics(metrics)
        context = {"data": cfg.data.name, "model": cfg.model.name, "features": cfg.features.name, "run": run.name}
        run.set_description(run_description(metrics, horizons, context, cfg.evaluation.cost_bps))

        record = lineage.to_dict()
        run.log_json(record, "lineage/lineage.json")
        run.log_artifact(render_lineage(record, run_dir / "lineage.png"), "lineage")
        return RunInfo(run.run_id, run.experiment_id, tracking.uri, metrics)


def _run_name(cfg: Any, overrides: list[str]) -> str:
    """``tracking.run_name`` if set, else model, data and the overrides (a trial's sampled ones first)."""
    if cfg.tracking.get("run_name"):
        return str(cfg.tracking.run_name)
    from gogooku3.tracking.naming import run_name

    trial = current_trial()
    keys = trial.params if trial is not None else ()
    return run_name(cfg.model.name, cfg.data.name, overrides, trial=None if trial is None else trial.number, trial_keys=keys)


def _quality_reports(run: Any, gates: Any) -> dict[str, float]:
    """Log the gates' reports (JSON, Data Docs, quarantine) under ``quality/``; return their summary metrics."""
    if not gates.enabled:
        return {}
    try:
        metrics = gates.metrics()
        run.log_artifacts(gates.out_dir, "quality")
    except Exception as exc:  # reporting must not mask the error that ended the run
        log.warning("quality reports not logged: %s", exc)
        return {}
    return metrics


def _wandb(tracking: Any) -> Any:
    """The optional W&B mirror (``tracking.wandb.enabled=true``); MLflow stays the record."""
    options = dict(tracking.get("wandb") or {})
    if not options.pop("enabled", False):
        return None
    from gogooku3.tracking.wandb_logger import WandbLogger

    return WandbLogger(**options)


def _load_market(cfg: Any, lineage: Lineage, storage: Any) -> MarketData:
    from gogooku3.pipeline.storage import data_source

    with lineage.step("ingest", params={"source": cfg.data.name}) as step:
        market = data_source(cfg, storage).load()
        step["outputs"]["quotes"] = {**describe_frame(market.quotes, digest=False), "data_digest": market.digest}
        step["outputs"]["calendar"] = {"name": market.calendar_name, "sessions": market.calendar.len()}
    log.info("data: %d rows, %d codes, calendar %s, digest %s", market.quotes.height, len(market.codes),
             market.calendar_name, market.digest[:12])
    return market


def _quality_gates(cfg: Any, market: MarketData, run_dir: Path) -> Any:
    """Gates for this run; timeliness is judged against ``data.end`` when the source has one."""
    from datetime import date

    from gogooku3.quality import QualityGates

    end = cfg.data.get("end")
    expected_end = date.fromisoformat(str(end)) if end else market.quotes.get_column("Date").max()
    return QualityGates.from_config(cfg.quality, run_dir / "quality", market.calendar, expected_end)


def _check_market(gates: Any, market: MarketData, lineage: Lineage) -> MarketData:
    with lineage.step("validate", inputs=["ingest"]) as step:
        market, _ = gates.raw(market)
        market, _ = gates.processed(market)
        step["outputs"]["quality"] = {g: _gate_summary(gates, g) for g in ("raw", "processed")}
    return market


def _gate_summary(gates: Any, gate: str) -> dict[str, Any]:
    report = gates.reports.get(gate)
    if report is None:
        return {"status": "skipped"}
    return {"status": report.status, "success_ratio": report.success_ratio, "rows_quarantined": report.rows_quarantined}


def _build_panel(
    cfg: Any, market: MarketData, horizons: list[int], gates: Any, lineage: Lineage, storage: Any
) -> tuple[Panel, Any]:
    from gogooku3.features import build_features

    store = Path(cfg.paths.output_dir) / "feature_store" if cfg.features.get("store", False) else None
    with lineage.step("features", inputs=["ingest"], params={"set": cfg.features.name}) as step:
        features = build_features(market, cfg.features.groups, name=cfg.features.name, store_dir=store,
                                  objects=storage.objects if store else None, cache=storage.cache)  # fmt: skip
        step["outputs"]["features"] = {**describe_frame(features.frame, digest=False), "from_cache": features.from_cache,
                                       "config_hash": features.config_hash, "count": len(features.names)}  # fmt: skip
    with lineage.step("validate_features", inputs=["features"]) as step:
        warmup = {s.name: s.warmup for s in features.specs}
        feature_frame, _ = gates.features(features.frame, list(features.names), warmup)
        step["outputs"]["quality"] = _gate_summary(gates, "features")
    with lineage.step("targets", inputs=["ingest"], params={"horizons": horizons}) as step:
        targets = forward_returns(market.quotes, sorted(set(horizons) | {1}), market.calendar)
        step["outputs"]["targets"] = describe_frame(targets, digest=False)
    frame = feature_frame.join(targets, on=["Code", "Date"], how="left", maintain_order="left")
    return Panel(frame=frame, features=tuple(features.names), horizons=tuple(horizons), listed=market.listed), features


def _split(cfg: Any, market: MarketData, horizons: list[int], lineage: Lineage) -> list[Fold]:
    # Windows and the embargo count the calendar's sessions, as targets do.
    dates = trading_sessions_between(market.calendar, market.quotes.get_column("Date"))
    with lineage.step("split", inputs=["ingest"], params=dict(cfg.split)) as step:
        folds = walk_forward_folds(dates, max_horizon=max(horizons), **cfg.split)
        step["outputs"]["folds"] = [f.as_dict() for f in folds]
    return folds


def _train_folds(
    cfg: Any, panel: Panel, folds: list[Fold], run: Any, run_dir: Path, lineage: Lineage
) -> tuple[pl.DataFrame, dict[str, list[float]]]:
    """Fit each fold in its own child run; the parent gets the fold table ``evaluation/folds.csv``.

    A fold's child run (tag ``fold=k``) holds its training curves under the estimator's
    names (``val/rank_ic_h1`` per step) and, one step after the last, the fold's final
    values, so its latest ``val/*`` are what the fold line prints and the parent averages.
    """
    from gogooku3.tracking.mlflow_run import FOLD_TAG

    predictions, val, table = [], {}, []
    for fold in folds:
        tags = {FOLD_TAG: fold.index, "data": cfg.data.name, "model": cfg.model.name, "features": cfg.features.name}
        with run.child(f"{run.name}/fold{fold.index}", tags, mirror_prefix=f"fold{fold.index}/") as child:
            child.log_params(fold.as_dict())
            last_step = [-1]

            def log_metric(name: str, value: float, step: int, k: int = fold.index, child: Any = child) -> None:
                child.log_metric(name, value, step)
                last_step[0] = max(last_step[0], int(step))
                if name == cfg.optimized_metric and k == len(folds) - 1:
                    report_intermediate(value, step)  # may raise optuna.TrialPruned in a sweep

            with lineage.step(f"train_fold{fold.index}", inputs=["split"], params=fold.as_dict()) as step:
                estimator = instantiate(
                    cfg.model, horizons=list(panel.horizons), seed=int(cfg.seed) + fold.index,
                    trainer=cfg.get("trainer"), output_dir=str(run_dir / f"fold{fold.index}"),
                )  # fmt: skip
                # One scheme: every validation result is a val/* name (best_iteration_h1 -> val/best_iteration_h1).
                results = {k if "/" in k else f"val/{k}": v for k, v in estimator.fit(panel, fold, log_metric).items()}
                step["outputs"]["validation"] = results
            child.log_metrics(results, step=last_step[0] + 1)
        with lineage.step(f"predict_fold{fold.index}", inputs=[f"train_fold{fold.index}"]) as step:
            preds = estimator.predict(panel, *fold.test).with_columns(fold=pl.lit(fold.index, pl.Int32))
            step["outputs"]["predictions"] = describe_frame(preds, digest=False)
        predictions.append(preds)
        for name, value in results.items():
            val.setdefault(name, []).append(value)
            table.append({"fold": fold.index, "metric": name, "value": float(value), "run_id": child.run_id})
        log.info("%s", _fold_line(fold.index, child.run_id, results))
    schema = {"fold": pl.Int32, "metric": pl.String, "value": pl.Float64, "run_id": pl.String}
    pl.DataFrame(table, schema=schema).write_csv(run_dir / "folds.csv")
    run.log_artifact(run_dir / "folds.csv", "evaluation")
    if cfg.tracking.get("log_model", True) and (bundle := estimator.model_bundle()) is not None:
        if bundle.input_example is None:
            bundle.input_example = panel.between(*folds[-1].test).select(panel.features).head(5).to_pandas()
        run.log_model(bundle)
    return pl.concat(predictions), val


def _fold_line(index: int, run_id: str | None, results: Mapping[str, float]) -> str:
    """``fold 0 [run 1a2b3c4d]: val/rank_ic_h1=0.0123457 ...``: the fold's logged values, 6 significant digits."""
    values = " ".join(f"{name}={value:.6g}" for name, value in results.items())
    return f"fold {index} [run {(run_id or '')[:8]}]: {values}"


def _evaluate(
    cfg: Any, market: MarketData, panel: Panel, predictions: pl.DataFrame, horizons: list[int],
    gates: Any, run: Any, run_dir: Path, lineage: Lineage,
) -> dict[str, float]:  # fmt: skip
    from gogooku3.tracking.plots import plot_cumulative_long_short, plot_daily_rank_ic

    targets = [target_column(h) for h in sorted(set(horizons) | {1})]
    frame = predictions.join(panel.frame.select("Code", "Date", *targets), on=["Code", "Date"], how="left")
    options = dict(cfg.evaluation)
    run.log_params(cost_model(options["cost_bps"]))
    with lineage.step("evaluate", inputs=[s["name"] for s in lineage.steps if s["name"].startswith("predict")]) as step:
        scores, ics, books = evaluate(frame, horizons, **options)
        metrics = {f"test/{k}": v for k, v in scores.items()}
        if market.oracle is not None:
            oracle = frame.join(market.oracle, on=["Code", "Date"], how="left")
            oracle_scores, _, _ = evaluate(oracle, horizons, pred_template="oracle_h{h}", **options)
            # With no planted signal the oracle is constant: its correlations are undefined, not 0.
            metrics.update({f"test/oracle_{k}": v for k, v in oracle_scores.items() if v == v})
            for h in horizons:
                attainable, t = oracle_scores[f"rank_ic_h{h}"], oracle_scores[f"rank_ic_tstat_h{h}"]
                # A share of an oracle indistinguishable from zero (short test window) is noise.
                if attainable == attainable and attainable > 0 and abs(t) >= MIN_ORACLE_TSTAT:
                    metrics[f"test/oracle_capture_h{h}"] = scores[f"rank_ic_h{h}"] / attainable
        step["outputs"]["metrics"] = {k: v for k, v in metrics.items() if "rank_ic_h" in k}

    columns = ["Code", "Date", *[c for h in horizons for c in (pred_column(h), target_column(h))], "fold"]
    stored = frame.select(columns).sort("Date", "Code")
    gates.predictions(stored, horizons)  # gate 5: nothing malformed is stored
    stored.write_parquet(run_dir / "test.parquet")
    run.log_artifact(run_dir / "test.parquet", "predictions")
    plots = [
        plot_cumulative_long_short({h: b.daily for h, b in books.items()}, run_dir / "cumulative_long_short.png"),
        plot_daily_rank_ic(ics[horizons[0]], run_dir / "daily_rank_ic.png", horizons[0]),
    ]
    for path in plots:
        run.log_artifact(path, "plots")
    daily = pl.concat([ic.with_columns(horizon=pl.lit(h)) for h, ic in ics.items()])
    daily.write_parquet(run_dir / "daily_ic.parquet")
    run.log_artifact(run_dir / "daily_ic.parquet", "evaluation")
    return metrics
