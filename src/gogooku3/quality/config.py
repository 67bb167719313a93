"""Quality thresholds and policies, read from the flat ``quality`` config group.

Every key is flat so that a researcher overrides it like any Hydra value
(``quality.max_missing_ratio=0.02``). Unknown keys and out-of-range values are
rejected with a one-line :class:`~gogooku3.errors.ConfigError` naming the key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gogooku3.errors import ConfigError

MISSING_POLICIES = ("keep", "zero", "ffill", "median")
SUSPENDED_POLICIES = ("keep", "quarantine")
LISTING_POLICIES = ("keep", "trim")


@dataclass(frozen=True)
class QualityConfig:
    """Thresholds (ratios are shares of rows, codes, dates or values, in [0, 1])."""

    enabled: bool = True
    # timeliness
    max_lag_days: int = 1
    # gate 1: raw quotes
    max_duplicate_ratio: float = 0.0
    max_off_calendar_ratio: float = 0.0
    max_bad_bar_ratio: float = 0.0
    max_negative_volume_ratio: float = 0.0
    max_null_price_trade_ratio: float = 0.0
    max_invalid_adjustment_ratio: float = 0.0
    # A bigger close-to-close move needs a split or a limit move; TSE limits reach ~30% of the
    # price in some bands, so strict keeps this too (below it, legal moves fail).
    max_abs_daily_return: float = 0.3
    price_limit_multiplier: float = 2.0  # limit moves up to this multiple of the TSE daily limit
    limit_move_tolerance: float = 0.05  # a move within 5% below the daily limit counts as a limit move
    max_unexplained_jump_ratio: float = 0.0001  # tolerates the synthetic market's rare moves beyond limits
    max_stale_ratio: float = 0.01  # traded rows repeating the previous bar exactly
    max_unlisted_code_ratio: float = 0.0
    require_listed: bool = False
    # gate 2: processed market
    max_missing_ratio: float = 0.05
    completeness_columns: tuple[str, ...] = ("Open", "High", "Low", "Close", "Volume")
    max_adjustment_inconsistent_ratio: float = 0.0
    # gate 3: features
    max_feature_missing_ratio: float = 0.5
    max_inf_ratio: float = 0.0
    min_feature_std: float = 1e-12
    max_abs_zscore: float = 10.0  # robust (median/MAD) cross-sectional z-score
    max_outlier_share: float = 0.01
    zscore_sample_dates: int = 64  # dates (evenly spaced) the extreme check uses; 0 = all dates
    # Features whose rare values are events, not errors (the calendar group's ages, counts, flags):
    # the extreme check skips them; missing, infinite and constant checks still apply.
    extreme_check_exempt: tuple[str, ...] = (
        "sessions_listed_log", "suspended*", "limit_*", "day_of_week", "month_first_session",
    )
    # gates 4 and 5: model output
    min_finite_prediction_ratio: float = 1.0
    min_prediction_std: float = 1e-12
    max_collapsed_date_ratio: float = 0.0
    max_abs_prediction: float = 1.0
    min_prediction_coverage: float = 0.99  # served predictions: share of the universe's rows predicted
    max_dispersion_factor: float = 5.0  # served daily spread vs the model's validation spread, either way
    required_metrics: tuple[str, ...] = ()  # metric names or globs that must be reported
    # corrections (each off = the defect fails the gate instead)
    correct_duplicates: bool = False  # drop repeated (Code, Date) rows (first kept) into quarantine
    quarantine_bad_rows: bool = False  # impossible bars, negative volume, off-calendar rows -> quarantine
    drop_incomplete_stocks: bool = False  # quarantine codes present on too few of their sessions
    inf_to_null: bool = False
    winsorize_features: bool = False  # clip features to median +- max_abs_zscore robust std per date
    fill_null_adjustment: bool = False  # read a null AdjustmentFactor as 1.0, recorded as a correction
    max_quarantine_ratio: float = 0.01  # never quarantine more than this share of rows: fail instead
    # cleaning policies
    suspended_days: str = "keep"  # keep | quarantine (days without price and trading)
    listing_boundaries: str = "keep"  # keep | trim (untraded rows before the first / after the last trade)
    feature_missing_policy: str = "keep"  # keep | zero | ffill | median (same-date cross-section)
    # glob -> policy; CLI: ++quality.feature_missing_groups={ret_*: zero}
    feature_missing_groups: dict[str, str] = field(default_factory=dict)
    # reporting and alerts
    data_docs: bool = True
    sample_rows: int = 3
    alert_webhook_url: str | None = None  # POSTed JSON on failure; prefer the env variant for secret URLs
    alert_webhook_url_env: str | None = None  # name of an environment variable holding the webhook URL
    alert_timeout_s: float = 5.0

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> QualityConfig:
        """Build from a plain dict (``OmegaConf.to_container(cfg.quality)``), validating every key."""
        values = dict(values or {})
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(f"quality.{unknown[0]} is not a known quality setting")
        kwargs: dict[str, Any] = {}
        for name, value in values.items():
            kwargs[name] = _coerce(name, known[name], value)
        config = cls(**kwargs)
        config._validate()
        return config

    def _validate(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name.startswith(("max_", "min_")) and f.name.endswith(("_ratio", "_share")):
                if not 0.0 <= value <= 1.0:
                    raise ConfigError(f"quality.{f.name}={value} must lie in [0, 1]")
        positive = ("max_abs_daily_return", "price_limit_multiplier", "max_abs_zscore",
                    "max_abs_prediction", "max_dispersion_factor", "alert_timeout_s")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"quality.{name}={getattr(self, name)} must be positive")
        for name in ("max_lag_days", "sample_rows", "zscore_sample_dates"):
            if getattr(self, name) < 0:
                raise ConfigError(f"quality.{name}={getattr(self, name)} must be >= 0")
        _check_choice("feature_missing_policy", self.feature_missing_policy, MISSING_POLICIES)
        _check_choice("suspended_days", self.suspended_days, SUSPENDED_POLICIES)
        _check_choice("listing_boundaries", self.listing_boundaries, LISTING_POLICIES)
        for pattern, policy in self.feature_missing_groups.items():
            _check_choice(f"feature_missing_groups.{pattern}", policy, MISSING_POLICIES)


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"quality.{name}={value!r} must be one of {', '.join(choices)}")


def _coerce(name: str, f: dataclasses.Field, value: Any) -> Any:
    """Turn YAML/CLI values into the field's type; reject what cannot be one."""
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
    if value is None:
        if f.name in ("alert_webhook_url", "alert_webhook_url_env"):
            return None
        if isinstance(default, (tuple, dict)):
            return type(default)()
        raise ConfigError(f"quality.{name} must not be null")
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"quality.{name}={value!r} must be true or false")
        return value
    if isinstance(default, int) and not isinstance(default, bool):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"quality.{name}={value!r} must be an integer")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"quality.{name}={value!r} must be a number")
        return float(value)
    if isinstance(default, tuple):
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise ConfigError(f"quality.{name}={value!r} must be a list")
        return tuple(str(v) for v in value)
    if isinstance(default, dict):
        if not isinstance(value, Mapping):
            raise ConfigError(f"quality.{name}={value!r} must be a mapping")
        return {str(k): str(v) for k, v in value.items()}
    if not isinstance(value, str):
        raise ConfigError(f"quality.{name}={value!r} must be a string")
    return value
