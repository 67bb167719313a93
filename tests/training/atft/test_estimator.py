"""ATFTEstimator through the pipeline contract: fit, curves, predict, causality, bundle, resume."""

from __future__ import annotations

import polars as pl
import pytest
import torch
from atft_panels import make_estimator, rank_ic

from gogooku3.datasets.panel import Panel
from gogooku3.errors import ConfigError


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, panel, fold):
    out = tmp_path_factory.mktemp("atft")
    logged: list[tuple[str, float, int]] = []
    est = make_estimator(out)
    result = est.fit(panel, fold, lambda name, value, step: logged.append((name, value, step)))
    return est, result, logged, out


def test_fit_reports_a_curve_per_epoch(fitted):
    _, result, logged, _ = fitted
    curve = [(step, v) for name, v, step in logged if name == "val/rank_ic_h1"]
    assert [s for s, _ in curve] == [0, 1, 2]
    assert {"train/loss", "train/pinball", "train/rank_corr", "val/loss"} <= {n for n, _, _ in logged}
    assert set(result) == {"val/rank_ic_h1", "best_epoch"}
    assert result["val/rank_ic_h1"] == pytest.approx(max(v for _, v in curve), abs=1e-6)
    assert curve[result["best_epoch"]][1] == pytest.approx(result["val/rank_ic_h1"], abs=1e-6)


def test_learns_the_planted_signal_out_of_sample(fitted, panel, fold):
    est, result, _, _ = fitted
    assert result["val/rank_ic_h1"] > 0.15
    assert rank_ic(est.predict(panel, *fold.test), panel) > 0.15


def test_predict_covers_every_panel_row_of_the_window(fitted, panel, fold):
    est = fitted[0]
    preds = est.predict(panel, *fold.test)
    assert preds.columns == ["Code", "Date", "pred_h1", "pred_h5", "pred_h10", "pred_h20"]
    expected = panel.between(*fold.test).select("Code", "Date").sort("Code", "Date")
    assert preds.select("Code", "Date").equals(expected)
    assert preds.select(pl.all().exclude("Code", "Date").is_finite().all()).row(0) == (True,) * 4


def test_predictions_ignore_everything_after_their_date(fitted, panel, fold):
    est = fitted[0]
    days = panel.between(*fold.test)["Date"].unique().sort()
    t = days[10]
    after = pl.col("Date") > t
    changed = panel.frame.with_columns(
        [pl.when(after).then(pl.col(c) * -3 + 0.05).otherwise(pl.col(c)).alias(c) for c in (*panel.features, *panel.targets)]
    )
    changed = changed.filter(~(after & (pl.col("Code") == panel.frame["Code"][0])))  # a delisting after t too
    before = est.predict(panel, fold.test[0], t)
    again = est.predict(Panel(changed, panel.features, panel.horizons, panel.listed), fold.test[0], t)
    assert before.equals(again)
    assert not est.predict(panel, t, fold.test[1]).filter(pl.col("Date") > t).equals(
        est.predict(Panel(changed, panel.features, panel.horizons, panel.listed), t, fold.test[1]).filter(pl.col("Date") > t)
    )


def test_bundle_is_a_runnable_pytorch_module(fitted):
    est, _, _, out = fitted
    bundle = est.model_bundle()
    assert bundle.flavor == "pytorch" and isinstance(bundle.model, torch.nn.Module)
    inputs = {k: torch.from_numpy(v) for k, v in bundle.input_example.items()}
    with torch.no_grad():
        y = bundle.model(**inputs)
    assert y.shape[-2:] == (4, 5) and torch.isfinite(y).all()
    assert bundle.extra["features"] == ["ret_1d", "ret_5d", "noise_a", "noise_b"]
    assert (out / "checkpoints" / "best.ckpt").exists() and (out / "checkpoints" / "last.ckpt").exists()


def test_resume_continues_from_the_last_checkpoint(fitted, panel, fold):
    _, _, logged, out = fitted
    more: list[tuple[str, float, int]] = []
    est = make_estimator(out, epochs=4, resume=True)
    result = est.fit(panel, fold, lambda n, v, s: more.append((n, v, s)))
    assert [s for n, _, s in more if n == "val/rank_ic_h1"] == [3]
    first_three = [v for n, v, _ in logged if n == "val/rank_ic_h1"]
    assert result["val/rank_ic_h1"] == pytest.approx(max([*first_three, *(v for n, v, _ in more if n == "val/rank_ic_h1")]), abs=1e-6)


def test_bad_configuration_names_the_key(panel, fold, tmp_path):
    with pytest.raises(ConfigError, match="model.graph.return_feature='ret_1x'"):
        make_estimator(tmp_path, graph={"return_feature": "ret_1x"}).fit(panel, fold)
    with pytest.raises(ConfigError, match="model.quantiles"):
        make_estimator(tmp_path, quantiles=[0.1, 0.9])
    with pytest.raises(ConfigError, match="model.gat.layer is not a known key"):
        make_estimator(tmp_path, gat={"layer": 3})


def test_monitor_names_the_shortest_horizon(panel, tmp_path):
    """Without a 1-day horizon the curve, checkpoint monitor and result are ``val/rank_ic_h5``, not ``_h1``."""
    from atft_panels import SMALL, TRAINER, make_fold

    from gogooku3.training.atft.estimator import ATFTEstimator

    longer = Panel(panel.frame, panel.features, (5, 10), panel.listed)
    logged: list[tuple[str, float, int]] = []
    est = ATFTEstimator(horizons=(5, 10), seed=7, trainer={**TRAINER, "max_epochs": 2}, output_dir=tmp_path, **SMALL)
    result = est.fit(longer, make_fold(longer), lambda name, value, step: logged.append((name, value, step)))
    names = {n for n, _, _ in logged}
    assert "val/rank_ic_h5" in names and not any(n.startswith("val/rank_ic_h1") for n in names)
    assert set(result) == {"val/rank_ic_h5", "best_epoch"}
    best = torch.load(tmp_path / "checkpoints" / "best.ckpt", map_location="cpu", weights_only=False)
    (state,) = [v for k, v in best["callbacks"].items() if k.startswith("ModelCheckpoint") and v.get("monitor")]
    assert state["monitor"] == "val/rank_ic_h5"
