"""The shipped search configs compose, select our sweeper and only name keys that exist."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from gogooku3.sweep.space import parse_search_space

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("name", "model"), [("lightgbm_optuna", "lightgbm"), ("atft_optuna", "atft")])
def test_search_config_composes_and_names_real_keys(name, model, monkeypatch):
    from hydra import compose, initialize_config_dir

    monkeypatch.setenv("PROJECT_ROOT", str(REPO))
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=[f"hparams_search={name}"], return_hydra_config=True)
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_ == "hydra_plugins.gogooku3_optuna_sweeper.optuna_sweeper.OptunaSweeper"
    assert cfg.hydra.mode.name == "MULTIRUN"
    assert cfg.optimized_metric == "val/rank_ic_h1"  # validation, never test
    assert cfg.model.name == model
    assert OmegaConf.select(cfg, "hydra.sweeper.storage", throw_on_resolution_failure=False) is not None
    space = parse_search_space(OmegaConf.to_container(sweeper.params))
    assert len(space.distributions) >= 5 and not space.fixed
    for key in space.distributions:
        assert OmegaConf.select(cfg, key) is not None, f"{name}: {key} is not a key of the composed config"
    assert sweeper.sampler.seed == cfg.seed and 0 < sweeper.max_failure_rate < 1
    assert sweeper.pruner._target_.startswith("optuna.pruners.")
