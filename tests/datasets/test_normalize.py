from __future__ import annotations

import numpy as np
import polars as pl

from gogooku3.datasets.normalize import Standardizer, cross_sectional_rank


def test_standardizer_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    train = rng.normal(5.0, 2.0, (2000, 3))
    later = rng.normal(50.0, 2.0, (10, 3))  # a regime the scaler must not have seen
    scaler = Standardizer().fit(train)
    assert np.allclose(scaler.center_, 5.0, atol=0.2) and np.allclose(scaler.scale_, 2.0, atol=0.2)
    assert np.all(scaler.transform(later) == 5.0)  # clipped, not re-centred on later data
    z = scaler.transform(np.array([[np.nan, np.inf, 5.0]]))
    assert z[0, :2].tolist() == [0.0, 5.0] and abs(z[0, 2]) < 0.05


def test_cross_sectional_rank_is_per_date():
    frame = pl.DataFrame({"Date": [1, 1, 1, 2, 2], "y": [3.0, 1.0, 2.0, 100.0, None]})
    ranked = cross_sectional_rank(frame, ["y"])["y"].to_list()
    assert np.allclose(ranked[:4], [1 / 3, -1 / 3, 0.0, 0.0]) and ranked[4] is None
