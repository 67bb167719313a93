"""``train.py deploy=true``: refit on the full window, check it on a null market, log the bundle.

After the walk-forward folds have chosen the hyperparameters (LightGBM's rounds, ATFT's
epochs), the model is refitted once on every labelled session. The same config is then
trained and scored on a synthetic market with no signal (the no-signal canary gate 4
reads); the bundle (:mod:`gogooku3.training.deployable`) is logged as the run's
``deploy`` model with the tags the registry copies to each version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from gogooku3.data.market import MarketData
from gogooku3.datasets.panel import Panel
from gogooku3.datasets.split import Fold
from gogooku3.registry import names
from gogooku3.schema import pred_column

log = logging.getLogger(__name__)
REFERENCE_SESSIONS = 120  # the deployed model's last sessions whose prediction spread the gate compares with
UNBOUNDED_HISTORY = 500  # sessions read for features with an unbounded lookback (recursive averages)


def folds_digest(folds: list[Fold]) -> str:
    """sha256 of the fold windows: equal digests mean two runs were scored on the same folds."""
    return hashlib.sha256(json.dumps([f.as_dict() for f in folds], sort_keys=True).encode()).hexdigest()


def history_sessions(feature_schema: list[dict[str, Any]], estimator: Any) -> int:
    """Sessions up to and including the predicted one that a prediction reads.

    Bounded features need their lookback; unbounded ones (recursive averages, as-of joins)
    get :data:`UNBOUNDED_HISTORY`, after which their start no longer shows at 1e-6. ATFT
    adds its input window and its graph's return window.
    """
    lookbacks = [s["lookback"] for s in feature_schema]
    features = max([lb for lb in lookbacks if lb is not None] + ([UNBOUNDED_HISTORY] if None in lookbacks else [0]))
    model = getattr(estimator, "model_config", None)
    extra = 0 if model is None else (int(model["lookback"]) - 1) + (int(model["graph"]["window"]) - 1)
    return int(features + extra + 1)


def validation_stats(predictions: pl.DataFrame, horizons: list[int]) -> dict[str, dict[str, float]]:
    """Per horizon, the out-of-sample predictions' mean daily cross-sectional sd and pooled mean:
    the reference the predictions gate compares a served day with."""
    out = {}
    for h in horizons:
        col = pred_column(h)
        daily = predictions.group_by("Date").agg(pl.col(col).std().alias("sd"))
        out[str(h)] = {"daily_sd": float(daily.get_column("sd").median()), "mean": float(predictions[col].mean()),
                       "sd": float(predictions[col].std())}  # fmt: skip
    return out


def deploy(
    cfg: Any, market: MarketData, panel: Panel, feature_panel: Any, folds: list[Fold],
    fold_results: list[dict[str, float]], predictions: pl.DataFrame, run: Any, run_dir: Path,
) -> dict[str, float]:  # fmt: skip
    """Refit, run the no-signal canary, write and log the bundle; returns the ``deploy/`` and ``canary/`` metrics."""
    from gogooku3.pipeline.experiment import instantiate
    from gogooku3.training.deployable import write_bundle

    horizons = list(panel.horizons)
    dates = panel.frame.get_column("Date")
    window = (dates.min(), dates.max())
    estimator = instantiate(cfg.model, horizons=horizons, seed=int(cfg.seed), trainer=cfg.get("trainer"),
                            output_dir=str(run_dir / "deploy_fit"))  # fmt: skip
    chosen = estimator.refit(panel, window, [{k.removeprefix("val/"): v for k, v in r.items()} for r in fold_results])
    log.info("deploy: refitted %s on %s..%s with %s", cfg.model.name, window[0], window[1],
             ", ".join(f"{k}={v:g}" for k, v in chosen.items()))
    canary = null_market_canary(cfg, market, horizons)
    schema = feature_panel.schema()
    meta = {
        "flavor": str(cfg.model.name), "horizons": horizons, "features": list(panel.features),
        "feature_schema": schema, "feature_schema_hash": feature_panel.schema_hash(),
        "feature_set": {"name": str(cfg.features.name), "groups": _plain(cfg.features.groups)},
        "history_sessions": history_sessions(schema, estimator), "calendar": market.calendar_name,
        "data_digest": market.digest, "train_window": [str(window[0]), str(window[1])], "chosen": chosen,
        "quantiles": list(getattr(estimator, "model_config", {}).get("quantiles", [])),
        "validation": validation_stats(predictions, horizons), "folds_digest": folds_digest(folds),
        # The predictions gate compares a served day's spread with the deployed model's own over its
        # last sessions: the folds' models were fitted with other round/epoch counts.
        "reference": validation_stats(estimator.predict(panel, *_tail(panel, REFERENCE_SESSIONS)), horizons),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="deploy_") as tmp:
        folder = Path(tmp) / "bundle"
        sha = write_bundle(folder, estimator, meta, estimator.canary_inputs(panel, window[1]))
        uri = run.log_deployable(folder)
    passed = canary["canary/max_abs_rank_ic_tstat"] < float(cfg.registry.canary_max_abs_tstat)
    run.set_tags({
        names.DEPLOYABLE_TAG: "true", names.FEATURE_SCHEMA_HASH_TAG: meta["feature_schema_hash"],
        names.ARTIFACT_SHA256_TAG: sha, names.FOLDS_DIGEST_TAG: meta["folds_digest"],
        names.CANARY_PASSED_TAG: str(passed).lower(), names.DEPLOY_MODEL_URI_TAG: uri,
    })  # fmt: skip
    log.info("deploy: logged %s (artifact sha256 %s); null-market canary max |t| %.2f: %s", uri, sha[:12],
             canary["canary/max_abs_rank_ic_tstat"], "passed" if passed else "FAILED")
    return {**{f"deploy/{k}": v for k, v in chosen.items()}, "deploy/history_sessions": meta["history_sessions"],
            **canary}  # fmt: skip


def null_market_canary(cfg: Any, market: MarketData, horizons: list[int]) -> dict[str, float]:
    """Train and score the run's config on a synthetic market of the data's size with no signal.

    Any |t| well above zero there is look-ahead or a bug, not skill.
    """
    from gogooku3.data.sessions import trading_sessions_between
    from gogooku3.data.synthetic import SyntheticMarketSource
    from gogooku3.datasets.split import walk_forward_folds
    from gogooku3.datasets.targets import forward_returns
    from gogooku3.evaluation.metrics import evaluate
    from gogooku3.features import build_features
    from gogooku3.pipeline.experiment import instantiate
    from gogooku3.schema import target_column

    quotes = market.quotes.get_column("Date")
    null = SyntheticMarketSource(
        n_stocks=min(max(len(market.codes), 50), 500), start=str(quotes.min()), end=str(quotes.max()),
        seed=int(cfg.seed) + 7919, signal_strength=0.0, horizons=horizons, extras=bool(market.extras),
    ).load()  # fmt: skip
    features = build_features(null, cfg.features.groups, name=cfg.features.name)
    targets = forward_returns(null.quotes, sorted(set(horizons) | {1}), null.calendar)
    frame = features.frame.join(targets, on=["Code", "Date"], how="left", maintain_order="left")
    panel = Panel(frame=frame, features=tuple(features.names), horizons=tuple(horizons), listed=null.listed)
    sessions = trading_sessions_between(null.calendar, null.quotes.get_column("Date"))
    parts = []
    for fold in walk_forward_folds(sessions, max_horizon=max(horizons), **cfg.split):
        estimator = instantiate(cfg.model, horizons=horizons, seed=int(cfg.seed) + fold.index,
                                trainer=cfg.get("trainer"), output_dir=tempfile.mkdtemp(prefix="canary_"))  # fmt: skip
        estimator.fit(panel, fold)
        parts.append(estimator.predict(panel, *fold.test))
    scored = pl.concat(parts).join(
        panel.frame.select("Code", "Date", *[target_column(h) for h in sorted(set(horizons) | {1})]),
        on=["Code", "Date"], how="left",
    )  # fmt: skip
    scores, _, _ = evaluate(scored, horizons, **dict(cfg.evaluation))
    tstats = {f"canary/rank_ic_tstat_h{h}": float(scores[f"rank_ic_tstat_h{h}"]) for h in horizons}
    finite = [abs(v) for v in tstats.values() if np.isfinite(v)]
    return {**tstats, "canary/max_abs_rank_ic_tstat": max(finite) if finite else float("inf")}


def _tail(panel: Panel, n: int) -> tuple[Any, Any]:
    dates = panel.frame.get_column("Date").unique().sort()
    return dates[max(0, dates.len() - n)], dates[-1]


def _plain(node: Any) -> Any:
    from gogooku3.containers import plain

    return plain(node)
