"""Gradient-boosted trees (LightGBM) early-stopped on a score we choose."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

# score(predictions for the validation rows) -> value to maximize, e.g. mean daily RankIC
ValidScore = Callable[[np.ndarray], float]
# on_iteration(iteration, score), called after every boosting round
IterationHook = Callable[[int, float], None]


def binned_dataset(x: np.ndarray, feature_names: list[str] | None = None) -> Any:
    """Bin features once; several boosters (one per horizon) can then share the bins."""
    import lightgbm as lgb

    data = lgb.Dataset(x, np.zeros(len(x)), feature_name=feature_names or "auto", free_raw_data=False)
    return data.construct()


class LightGBMRegressor:
    """One LightGBM booster whose early stopping maximizes ``score`` on validation rows.

    The score is a plain function of validation predictions, so the model is selected on
    the metric we report (mean daily RankIC), not on the training loss.
    """

    def __init__(self, params: dict[str, Any], num_boost_round: int = 1000, early_stopping_rounds: int = 50) -> None:
        self.params = {"verbosity": -1, **params, "metric": "None"}
        self.num_boost_round = num_boost_round
        self.early_stopping_rounds = early_stopping_rounds
        self.booster: Any = None
        self.best_iteration = 0
        self.best_score = float("nan")

    def fit(
        self,
        train: Any,
        y: np.ndarray,
        x_valid: np.ndarray,
        score: ValidScore,
        on_iteration: IterationHook | None = None,
        score_name: str = "score",
    ) -> LightGBMRegressor:
        """Fit on a :func:`binned_dataset`; rows whose label ``y`` is NaN get zero weight.

        ``score_name`` is the early-stopping metric's name inside LightGBM (e.g. ``rank_ic_h5``).
        """
        import lightgbm as lgb

        known = np.isfinite(y)
        train.set_label(np.where(known, y, 0.0))
        train.set_weight(known.astype(np.float64))
        valid = lgb.Dataset(x_valid, np.zeros(len(x_valid)), reference=train)

        def feval(preds: np.ndarray, _: Any) -> tuple[str, float, bool]:
            return score_name, score(preds), True

        def report(env: Any) -> None:
            if on_iteration is not None:
                on_iteration(env.iteration + 1, env.evaluation_result_list[0][2])

        self.booster = lgb.train(
            self.params,
            train,
            num_boost_round=self.num_boost_round,
            valid_sets=[valid],
            valid_names=["valid"],
            feval=feval,
            callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False), report],
        )
        self.best_iteration = self.booster.best_iteration or self.booster.current_iteration()
        self.best_score = float(self.booster.best_score["valid"][score_name])
        return self

    def fit_rounds(self, train: Any, y: np.ndarray, rounds: int) -> LightGBMRegressor:
        """Fit exactly ``rounds`` boosting rounds, no validation: the refit of a deployed model,
        whose round count the walk-forward folds chose."""
        import lightgbm as lgb

        known = np.isfinite(y)
        train.set_label(np.where(known, y, 0.0))
        train.set_weight(known.astype(np.float64))
        self.booster = lgb.train(self.params, train, num_boost_round=int(rounds))
        self.best_iteration = int(rounds)
        return self

    @classmethod
    def from_text(cls, text: str, best_iteration: int) -> LightGBMRegressor:
        """A fitted regressor from its booster's saved model text."""
        import lightgbm as lgb

        model = cls({})
        model.booster = lgb.Booster(model_str=text)
        model.best_iteration = int(best_iteration)
        return model

    def predict(self, x: np.ndarray) -> np.ndarray:
        if self.booster is None:
            raise RuntimeError("LightGBMRegressor.predict called before fit")
        return self.booster.predict(x, num_iteration=self.best_iteration)
