"""The quality config group: four profiles, flat overridable thresholds, one-line errors."""

from __future__ import annotations

import pytest

from gogooku3.errors import ConfigError
from gogooku3.quality import QualityConfig, QualityGates

from .builders import quality_config


@pytest.mark.parametrize("profile", ["strict", "default", "lenient", "off"])
def test_every_profile_loads_and_is_complete(profile):
    values = quality_config(profile)
    config = QualityConfig.from_mapping(values)
    assert config.enabled is (profile != "off")
    assert set(values) == set(QualityConfig.__dataclass_fields__)


def test_profiles_are_ordered_by_strictness():
    strict, default, lenient = (QualityConfig.from_mapping(quality_config(p)) for p in ("strict", "default", "lenient"))
    assert strict.max_missing_ratio < default.max_missing_ratio < lenient.max_missing_ratio
    assert strict.max_lag_days < default.max_lag_days < lenient.max_lag_days
    assert not default.correct_duplicates and lenient.correct_duplicates


def test_override_a_threshold_like_any_hydra_value():
    config = QualityConfig.from_mapping(quality_config("default", "quality.max_missing_ratio=0.02"))
    assert config.max_missing_ratio == 0.02


@pytest.mark.parametrize(("values", "key"), [
    ({"max_missing_ratio": 1.5}, "quality.max_missing_ratio"),
    ({"max_missng_ratio": 0.1}, "quality.max_missng_ratio"),
    ({"enabled": "yes"}, "quality.enabled"),
    ({"max_lag_days": 1.5}, "quality.max_lag_days"),
    ({"feature_missing_policy": "mean"}, "quality.feature_missing_policy"),
    ({"feature_missing_groups": {"ret_*": "interpolate"}}, "quality.feature_missing_groups.ret_*"),
])
def test_bad_values_raise_one_line_config_errors(values, key):
    with pytest.raises(ConfigError) as info:
        QualityConfig.from_mapping(values)
    assert key in str(info.value) and "\n" not in str(info.value)


def test_from_config_accepts_a_dictconfig(tmp_path):
    from omegaconf import OmegaConf

    gates = QualityGates.from_config(OmegaConf.create(quality_config("lenient")), tmp_path)
    assert gates.config.correct_duplicates and gates.out_dir == tmp_path
