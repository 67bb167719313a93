from __future__ import annotations

import numpy as np
from scipy.stats import rankdata, spearmanr

from gogooku3.stats import daily_rank_ic, rank_rows


def test_rank_rows_matches_scipy_with_ties_and_nans():
    rng = np.random.default_rng(0)
    x = np.round(rng.normal(size=(20, 40)), 1)  # many ties
    x[rng.random(x.shape) < 0.1] = np.nan
    expected = rankdata(x, axis=1, nan_policy="omit") - 1.0
    assert np.allclose(rank_rows(x), expected, equal_nan=True)


def test_daily_rank_ic_matches_spearman_per_row():
    rng = np.random.default_rng(1)
    p = np.round(rng.normal(size=(6, 50)), 1)
    t = p + rng.normal(size=(6, 50))
    t[0, :5] = np.nan
    ic = daily_rank_ic(p, t, min_stocks=10)
    for row in range(6):
        ok = np.isfinite(t[row])
        assert np.isclose(ic[row], spearmanr(p[row, ok], t[row, ok])[0])
    assert np.isnan(daily_rank_ic(p[:, :5], t[:, :5], min_stocks=10)).all()
