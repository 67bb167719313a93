"""LightGBM fits show one progress bar per fold: a step per horizon, rounds beside it."""

from __future__ import annotations

from gogooku3.console import Progress
from gogooku3.training import lightgbm
from tests.training.test_lightgbm import HORIZONS, _fit_predict, panel_and_fold  # noqa: F401


class Recorder(Progress):
    seen: list[Recorder] = []
    postfixes: list[str] = []

    def update(self, n: int = 1, postfix: str | None = None) -> None:
        Recorder.postfixes.append(postfix)
        super().update(n, postfix)

    def close(self) -> None:
        Recorder.seen.append(self)
        super().close()


def test_one_bar_per_fold_with_rounds(panel_and_fold, monkeypatch):  # noqa: F811
    monkeypatch.setattr(lightgbm, "Progress", Recorder)
    monkeypatch.setenv("GOGOOKU3_PROGRESS", "log")
    Recorder.seen.clear()
    Recorder.postfixes.clear()
    panel, fold = panel_and_fold
    results, _ = _fit_predict(panel, fold)
    (bar,) = Recorder.seen
    assert bar.desc == f"LightGBM fold {fold.index}" and bar.total == bar.n == len(HORIZONS)
    assert "h1 round 1, val RankIC" in Recorder.postfixes[0]
    best = int(results[f"best_iteration_h{HORIZONS[-1]}"])
    assert bar.postfix.startswith(f"h{HORIZONS[-1]} best round {best}, val RankIC")
