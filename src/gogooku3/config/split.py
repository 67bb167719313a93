"""``split`` group: walk-forward folds over trading sessions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass
class WalkForward:
    """The last n_folds * test_days sessions are out of sample; embargo_days (>= the longest
    horizon) separate train, validation and test."""

    n_folds: int = 3
    test_days: int = 120
    valid_days: int = 60
    embargo_days: int = 20
    min_train_days: int = 250
    train_days: Optional[int] = None  # null: expanding training window; an integer: rolling window
