"""Date batches: strided views of one dense array, masks, train-only normalization."""

from __future__ import annotations

import numpy as np
import polars as pl
import torch
from atft_panels import make_fold, make_panel

from gogooku3.datasets.normalize import Standardizer
from gogooku3.datasets.panel import Panel
from gogooku3.training.atft.data import DateBatcher, build_tensors

L, W = 10, 15


def tensors_of(panel: Panel, fold):
    return build_tensors(panel, lookback=L, graph_window=W, return_feature="ret_1d", train_window=fold.train,
                         target_windows=(fold.train, fold.valid))  # fmt: skip


def test_windows_are_views_of_one_dense_array(panel, fold):
    tensors, _, _ = tensors_of(panel, fold)
    N, T, F = len(tensors.codes), len(tensors.dates), len(panel.features)
    assert tensors.features.shape == (N, T + L - 1, F)
    batcher = DateBatcher(tensors, L)
    base = tensors.features.untyped_storage().data_ptr()
    assert batcher.x_windows.untyped_storage().data_ptr() == base
    assert batcher.x_windows.shape == (N, T, F, L)
    assert batcher.return_windows.untyped_storage().data_ptr() == tensors.returns.untyped_storage().data_ptr()


def test_batch_holds_the_normalized_history_of_each_stock(panel, fold):
    tensors, scaler, _ = tensors_of(panel, fold)
    t = 40
    batch = DateBatcher(tensors, L)([t, t + 3])
    assert batch["x"].shape == (2, len(tensors.codes), L, len(panel.features))
    code, n = tensors.codes[5], 5
    rows = panel.frame.filter((pl.col("Code") == code) & pl.col("Date").is_in(tensors.dates[t - L + 1 : t + 1]))
    expected = scaler.transform(rows.select(panel.features).to_numpy().astype(np.float64))
    np.testing.assert_allclose(batch["x"][0, n].numpy(), expected, atol=1e-6)
    ret = panel.frame.filter((pl.col("Code") == code) & pl.col("Date").is_in(tensors.dates[t + 3 - W + 1 : t + 4]))
    np.testing.assert_allclose(batch["returns"][1, n].numpy(), ret.get_column("ret_1d").to_numpy(), rtol=1e-6)


def test_stocks_without_history_or_target_are_masked():
    panel = make_panel(n_stocks=6, n_days=120)
    listed_late = panel.frame.filter(~((pl.col("Code") == "13010") & (pl.col("Date") < panel.frame["Date"].unique().sort()[50])))
    panel = Panel(listed_late, panel.features, panel.horizons, panel.listed)
    fold = make_fold(panel, valid_days=10, test_days=10)
    tensors, _, _ = tensors_of(panel, fold)
    batch = DateBatcher(tensors, L)([45, 52, 50 + L - 1])
    assert batch["mask"][:, 1].tolist() == [False, True, True]
    assert batch["target_mask"][:, 1, 0].tolist() == [False, False, True]  # needs L days of history
    assert batch["target_mask"][:, 0].all()
    last = DateBatcher(tensors, L)([len(tensors.dates) - 1])
    assert not last["target_mask"].any(), "no target beyond the validation window"


def test_targets_exist_only_inside_the_fold_windows(panel, fold):
    tensors, _, scale = tensors_of(panel, fold)
    day = np.array(tensors.dates, dtype="datetime64[D]")
    inside = np.zeros(len(day), dtype=bool)
    for start, end in (fold.train, fold.valid):
        inside |= (day >= np.datetime64(start)) & (day <= np.datetime64(end))
    has = torch.isfinite(tensors.targets).any(-1).any(0).numpy()
    assert not has[~inside].any()
    assert has[inside].mean() > 0.9
    daily_mean = np.nanmean(tensors.targets.numpy()[:, has], axis=0)
    np.testing.assert_allclose(daily_mean, 0.0, atol=1e-5)  # demeaned per date
    assert (scale > 0).all()


def test_normalizer_sees_training_rows_only(panel, fold):
    _, scaler, scale = tensors_of(panel, fold)
    later = pl.col("Date") > fold.train[1]
    shocked = panel.frame.with_columns([pl.when(later).then(pl.col(c) * 100 + 7).otherwise(pl.col(c)).alias(c)
                                        for c in (*panel.features, *panel.targets)])  # fmt: skip
    _, scaler2, scale2 = tensors_of(Panel(shocked, panel.features, panel.horizons, panel.listed), fold)
    np.testing.assert_array_equal(scaler.center_, scaler2.center_)
    np.testing.assert_array_equal(scaler.scale_, scaler2.scale_)
    np.testing.assert_array_equal(scale, scale2)
    train = panel.between(*fold.train).select(panel.features).to_numpy()
    np.testing.assert_allclose(scaler.center_, Standardizer().fit(train).center_)
