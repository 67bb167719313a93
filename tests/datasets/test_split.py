from __future__ import annotations

from datetime import date, timedelta

import pytest

from gogooku3.datasets.split import walk_forward_folds
from gogooku3.errors import ConfigError

DATES = [date(2020, 1, 1) + timedelta(days=i) for i in range(1000)]


def test_folds_tile_the_test_period_with_embargoes():
    folds = walk_forward_folds(DATES, n_folds=3, test_days=100, valid_days=50, embargo_days=20, max_horizon=20,
                               min_train_days=120)
    index = {d: i for i, d in enumerate(DATES)}
    assert index[folds[0].test[0]] == 700 and index[folds[-1].test[1]] == 999
    for a, b in zip(folds, folds[1:]):
        assert index[b.test[0]] == index[a.test[1]] + 1
    for f in folds:
        # A training label at t covers (t, t+20]: it must end before validation starts.
        assert index[f.valid[0]] - index[f.train[1]] - 1 == 20
        assert index[f.test[0]] - index[f.valid[1]] - 1 == 20
        assert index[f.train[0]] == 0


def test_rolling_window_and_errors():
    folds = walk_forward_folds(DATES, n_folds=2, test_days=100, valid_days=50, embargo_days=20, max_horizon=20,
                               train_days=300, min_train_days=120)
    assert all((f.train[1] - f.train[0]).days == 299 for f in folds)
    with pytest.raises(ConfigError, match="split.embargo_days=5 is shorter than the longest horizon 20"):
        walk_forward_folds(DATES, n_folds=2, test_days=100, valid_days=50, embargo_days=5, max_horizon=20,
                               min_train_days=120)
    with pytest.raises(ConfigError, match="min_train_days"):
        walk_forward_folds(DATES, n_folds=9, test_days=100, valid_days=50, embargo_days=20, max_horizon=20,
                               min_train_days=120)
