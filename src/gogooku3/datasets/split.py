"""Walk-forward splits with an embargo between train, validation and test windows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from gogooku3.errors import ConfigError


@dataclass(frozen=True)
class Fold:
    """One walk-forward fold; every window is an inclusive (first, last) date pair."""

    index: int
    train: tuple[date, date]
    valid: tuple[date, date]
    test: tuple[date, date]

    def as_dict(self) -> dict[str, str]:
        return {
            f"{name}_{edge}": str(value)
            for name, window in (("train", self.train), ("valid", self.valid), ("test", self.test))
            for edge, value in zip(("start", "end"), window)
        }


def walk_forward_folds(
    dates: Sequence[date],
    *,
    n_folds: int,
    test_days: int,
    valid_days: int,
    embargo_days: int,
    max_horizon: int,
    min_train_days: int,
    train_days: int | None = None,
) -> list[Fold]:
    """Split ascending trading ``dates`` into ``n_folds`` consecutive out-of-sample folds.

    Every count is in sessions; the defaults live in the ``split`` config schema only.

    The last ``n_folds * test_days`` sessions are the test windows. Each fold validates on
    the ``valid_days`` sessions before its test window and trains on everything before
    that (or the last ``train_days`` when given), leaving ``embargo_days`` sessions out
    between train and validation and between validation and test. A label at date t
    covers (t, t + h], so ``embargo_days >= max_horizon`` keeps every training label out
    of the following window.
    """
    if embargo_days < max_horizon:
        raise ConfigError(
            f"split.embargo_days={embargo_days} is shorter than the longest horizon "
            f"{max_horizon}: training labels would overlap the next window"
        )
    for name, value in (("n_folds", n_folds), ("test_days", test_days), ("valid_days", valid_days)):
        if value < 1:
            raise ConfigError(f"split.{name}={value} must be at least 1")
    n = len(dates)
    first_test = n - n_folds * test_days
    folds = []
    for k in range(n_folds):
        test_start = first_test + k * test_days
        valid_end = test_start - embargo_days - 1
        valid_start = valid_end - valid_days + 1
        train_end = valid_start - embargo_days - 1
        train_start = 0 if train_days is None else max(0, train_end - train_days + 1)
        if train_end - train_start + 1 < min_train_days:
            raise ConfigError(
                f"split: fold {k} has {max(train_end - train_start + 1, 0)} training sessions, fewer "
                f"than split.min_train_days={min_train_days}; the data has {n} sessions: lengthen "
                f"the data or reduce split.n_folds/test_days/valid_days"
            )
        folds.append(
            Fold(
                index=k,
                train=(dates[train_start], dates[train_end]),
                valid=(dates[valid_start], dates[valid_end]),
                test=(dates[test_start], dates[test_start + test_days - 1]),
            )
        )
    return folds
