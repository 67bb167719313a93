"""Every shipped experiment and option composes with the root config."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_dir

from tests.helpers import ROOT

CONF = ROOT / "conf"


def _compose(*overrides: str):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose("train", overrides=list(overrides))


@pytest.mark.parametrize("name", sorted(p.stem for p in (CONF / "experiment").glob("*.yaml")))
def test_experiment_composes(name):
    cfg = _compose(f"experiment={name}")
    assert cfg.model._target_ and cfg.data._target_ and cfg.features.groups


@pytest.mark.parametrize(
    "group, option",
    [(g.name, p.stem) for g in sorted(CONF.iterdir()) if g.is_dir() and g.name in ("data", "features", "model", "quality", "trainer")
     for p in sorted(g.glob("*.yaml"))],  # fmt: skip
)
def test_every_option_composes(group, option):
    cfg = _compose(f"{group}={option}")
    assert cfg[group] is not None
