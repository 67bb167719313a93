"""The Hydra configs build the estimator the pipeline expects, and the ablations patch one switch."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

from gogooku3.training.atft.config import GatSettings
from gogooku3.training.atft.estimator import ATFTEstimator

CONF = Path(__file__).resolve().parents[3] / "conf"


def root_overrides(*extra: str) -> list[str]:
    has_trainer = "trainer" in OmegaConf.load(CONF / "train.yaml").get("defaults", [{}]).__str__()
    return [*extra, *(() if has_trainer else ("+trainer=cpu",))]


def build(cfg, tmp_path) -> ATFTEstimator:
    model = OmegaConf.to_container(cfg.model)
    model.pop("name", None)
    return instantiate(OmegaConf.create(model), horizons=list(cfg.horizons), seed=1, trainer=cfg.trainer,
                       output_dir=str(tmp_path))  # fmt: skip


@pytest.mark.parametrize(
    "experiment, fan, gat", [("atft_full", True, True), ("atft_no_gat", True, False), ("atft_no_fan", False, True)]
)
def test_ablation_experiments_switch_one_component(experiment, fan, gat, tmp_path):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=root_overrides(f"experiment={experiment}"))
    assert cfg.model.name == "atft"
    est = build(cfg, tmp_path)
    assert est.model_config["fan"]["enabled"] is fan and est.model_config["gat"]["enabled"] is gat
    assert est.model_config["gat"]["layers"] == GatSettings().layers  # everything else as in model/atft
    assert est.horizons == tuple(cfg.horizons)


@pytest.mark.parametrize("trainer, precision, accelerator", [("cpu", "32-true", "cpu"), ("gpu", "bf16-mixed", "gpu"),
                                                             ("ddp", "bf16-mixed", "gpu")])  # fmt: skip
def test_trainer_groups_become_lightning_arguments(trainer, precision, accelerator, tmp_path):
    import lightning

    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = compose(overrides=[f"+trainer={trainer}", "+model=atft", "+horizons=[1,5,10,20]"])
    est = build(cfg, tmp_path)
    kwargs = est.trainer_kwargs
    assert kwargs["precision"] == precision and kwargs["accelerator"] == accelerator
    assert kwargs["gradient_clip_val"] > 0 and "max_epochs" in kwargs
    if trainer == "ddp":
        assert kwargs["strategy"] == "ddp" and kwargs["devices"] == -1
    if trainer == "cpu":
        lightning.Trainer(**kwargs, logger=False, default_root_dir=tmp_path)  # every key is a Trainer argument


def test_model_dataclasses_agree_with_the_schema():
    """The model's own dataclasses (for direct use) never disagree with the config schema's defaults."""
    from dataclasses import asdict

    from gogooku3.models.atft_gat_fan import FANConfig, GATConfig, GraphConfig
    from gogooku3.training.atft.config import FanSettings, GatSettings, GraphSettings

    assert asdict(FANConfig()) == asdict(FanSettings())
    assert asdict(GATConfig()) == asdict(GatSettings())
    schema_graph = asdict(GraphSettings())
    schema_graph.pop("return_feature")  # the estimator's, not the model's
    assert asdict(GraphConfig()) == schema_graph
