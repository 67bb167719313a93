"""LightGBM baseline: one booster per horizon on the tabular (Code, Date) panel."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from gogooku3.console import Progress
from gogooku3.containers import plain
from gogooku3.datasets.normalize import cross_sectional_rank
from gogooku3.datasets.panel import Panel
from gogooku3.datasets.split import Fold
from gogooku3.errors import ConfigError
from gogooku3.models.gbdt import LightGBMRegressor, binned_dataset
from gogooku3.schema import pred_column, target_column
from gogooku3.stats import daily_rank_ic, dense_by_date
from gogooku3.training.base import MetricLogger, ModelBundle
from gogooku3.training.lightgbm_config import LightGBMSettings


class LightGBMEstimator:
    """Fits one :class:`LightGBMRegressor` per horizon, early-stopped on validation RankIC.

    Labels are per-date cross-sectional ranks of the forward return (``target_transform:
    rank``): the task is ranking stocks within a day, and ranks tame fat tails. Trees need
    no feature normalization, so nothing is fitted on the features.
    """

    def __init__(self, horizons: list[int], seed: int = 0, trainer: Any = None, output_dir: str | None = None,
                 **settings: Any) -> None:  # fmt: skip
        """``settings``: keys of ``model=lightgbm`` (:class:`LightGBMSettings`); those left out take its defaults.

        ``trainer`` and ``output_dir`` are accepted for a uniform interface (trees need no Lightning trainer).
        """
        base = asdict(LightGBMSettings())
        given = {k: v for k, v in plain(settings).items() if k not in ("_target_", "name")}
        if unknown := sorted(set(given) - set(base)):
            raise ConfigError(f"model.{unknown[0]} is not a known key; known: {', '.join(sorted(base))}")
        s = {**base, **given}
        if s["target_transform"] not in ("rank", "raw"):
            raise ConfigError(f"model.target_transform={s['target_transform']!r} must be 'rank' or 'raw'")
        self.horizons = list(horizons)
        self.params = {**s["params"], "seed": seed}
        self.num_boost_round = int(s["num_boost_round"])
        self.early_stopping_rounds = int(s["early_stopping_rounds"])
        self.target_transform = s["target_transform"]
        self.models: dict[int, LightGBMRegressor] = {}
        self.features: list[str] = []

    def fit(self, panel: Panel, fold: Fold, log_metric: MetricLogger | None = None) -> dict[str, float]:
        self.features = list(panel.features)
        train, valid = panel.between(*fold.train), panel.between(*fold.valid)
        if self.target_transform == "rank":
            train = cross_sectional_rank(train, list(panel.targets))
        binned, x_valid = binned_dataset(self._x(train), self.features), self._x(valid)
        results: dict[str, float] = {}
        # One bar per fold, a step per horizon; the rounds of the current one show beside it.
        with Progress(len(self.horizons), f"LightGBM fold {fold.index}", unit="horizon") as bar:
            for h in self.horizons:
                target = target_column(h)
                labels = train.get_column(target).cast(pl.Float64).fill_null(float("nan")).to_numpy()

                def hook(it: int, value: float, h: int = h) -> None:
                    bar.update(0, f"h{h} round {it}, val RankIC {value:.4f}")
                    if log_metric is not None:
                        log_metric(f"val/rank_ic_h{h}", value, it)

                model = LightGBMRegressor(self.params, self.num_boost_round, self.early_stopping_rounds)
                model.fit(binned, labels, x_valid, _rank_ic_scorer(valid, target), hook, score_name=f"rank_ic_h{h}")
                bar.update(1, f"h{h} best round {model.best_iteration}, val RankIC {model.best_score:.4f}")
                self.models[h] = model
                results[f"val/rank_ic_h{h}"] = model.best_score
                results[f"best_iteration_h{h}"] = float(model.best_iteration)
        return results

    def predict(self, panel: Panel, start: date, end: date) -> pl.DataFrame:
        rows = panel.between(start, end)
        x = self._x(rows)
        return rows.select("Code", "Date").with_columns(
            [pl.Series(pred_column(h), self.models[h].predict(x)) for h in self.horizons]
        )

    def refit(self, panel: Panel, window: tuple[date, date], folds: list[dict[str, float]]) -> dict[str, float]:
        """Fit on every labelled row of ``window`` with each horizon's mean best round over ``folds``."""
        self.features = list(panel.features)
        train = panel.between(*window)
        if self.target_transform == "rank":
            train = cross_sectional_rank(train, list(panel.targets))
        binned, chosen = binned_dataset(self._x(train), self.features), {}
        with Progress(len(self.horizons), "LightGBM refit", unit="horizon") as bar:
            for h in self.horizons:
                rounds = [f[f"best_iteration_h{h}"] for f in folds if f"best_iteration_h{h}" in f]
                chosen[f"rounds_h{h}"] = float(max(1, round(sum(rounds) / len(rounds))) if rounds else 1)
                labels = train.get_column(target_column(h)).cast(pl.Float64).fill_null(float("nan")).to_numpy()
                model = LightGBMRegressor(self.params, self.num_boost_round, self.early_stopping_rounds)
                self.models[h] = model.fit_rounds(binned, labels, int(chosen[f"rounds_h{h}"]))
                bar.update(1, f"h{h} {int(chosen[f'rounds_h{h}'])} rounds")
        return chosen

    def canary_inputs(self, panel: Panel, day: date) -> dict[str, np.ndarray]:
        """Up to 64 feature rows of ``day``: replayed after loading, they must give the same predictions."""
        return {"x": self._x(panel.between(day, day).head(64))}

    def replay(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """Predictions (rows, horizons) for raw model inputs (see :meth:`canary_inputs`)."""
        return np.stack([self.models[h].predict(inputs["x"]) for h in self.horizons], axis=1)

    def save(self, folder: Path) -> None:
        """Boosters as LightGBM model text, one per horizon, plus what predict needs."""
        folder.mkdir(parents=True, exist_ok=True)
        for h, model in self.models.items():
            (folder / f"booster_h{h}.txt").write_text(model.booster.model_to_string(num_iteration=model.best_iteration))
        state = {"horizons": self.horizons, "features": self.features,
                 "best_iteration": {str(h): m.best_iteration for h, m in self.models.items()}}  # fmt: skip
        (folder / "estimator.json").write_text(json.dumps(state, indent=1))

    @classmethod
    def load(cls, folder: Path) -> LightGBMEstimator:
        state = json.loads((folder / "estimator.json").read_text())
        estimator = cls(state["horizons"])
        estimator.features = list(state["features"])
        estimator.models = {
            int(h): LightGBMRegressor.from_text((folder / f"booster_h{h}.txt").read_text(), it)
            for h, it in state["best_iteration"].items()
        }
        return estimator

    def model_bundle(self) -> ModelBundle | None:
        if not self.models:
            return None
        return ModelBundle(
            flavor="lightgbm",
            model={h: m.booster for h, m in self.models.items()},
            extra={"features": self.features, "best_iteration": {h: m.best_iteration for h, m in self.models.items()}},
        )

    def _x(self, rows: pl.DataFrame) -> np.ndarray:
        return rows.select(self.features).to_numpy().astype(np.float32)


def _rank_ic_scorer(rows: pl.DataFrame, target: str):
    """Mean daily Spearman correlation of predictions with ``target`` over ``rows``' dates."""
    date_idx = rows.get_column("Date").rank("dense").cast(pl.Int64).to_numpy() - 1
    stock_idx = rows.get_column("Code").rank("dense").cast(pl.Int64).to_numpy() - 1
    shape = (int(date_idx.max()) + 1, int(stock_idx.max()) + 1) if len(rows) else (0, 0)
    truth = dense_by_date(date_idx, stock_idx, rows.get_column(target).to_numpy(), shape)

    def score(preds: np.ndarray) -> float:
        ic = daily_rank_ic(dense_by_date(date_idx, stock_idx, preds, shape), truth)
        return float(np.nanmean(ic)) if np.isfinite(ic).any() else float("nan")

    return score
