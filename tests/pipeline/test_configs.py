"""Every option of every config group composes with the root config and builds what it configures.

Nothing here reads data: sources are constructed (not loaded), estimators instantiated
(not fitted), and the other groups are bound to the functions that consume them.
"""

from __future__ import annotations

import inspect
from datetime import date, timedelta

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from gogooku3.config.check import validate
from tests.helpers import ROOT

CONF = ROOT / "conf"
SKIP = ("hydra", "local")  # Hydra's own settings; the optional, untracked local overrides


ROOT_OF = {"predict": "predict", "serving": "serve", "monitoring": "monitor"}  # non-train roots; the rest train.py


def _compose(*overrides: str, hydra: bool = False, root: str = "train"):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose(root, overrides=list(overrides), return_hydra_config=hydra)


def _options() -> list[tuple[str, str]]:
    return [(g.name, p.stem) for g in sorted(CONF.iterdir()) if g.is_dir() and g.name not in SKIP
            for p in sorted(g.glob("*.yaml"))]  # fmt: skip


def test_every_group_is_covered():
    groups = {g for g, _ in _options()}
    assert {"data", "features", "model", "quality", "trainer", "split", "evaluation", "tracking", "paths",
            "experiment", "hparams_search"} <= groups  # fmt: skip


@pytest.mark.parametrize("group, option", _options())
def test_every_option_composes_validates_and_instantiates(group, option, tmp_path):
    cfg = _compose(f"{group}={option}", *(["data.path=/x.parquet"] if option == "parquet" else []),
                   hydra=group == "hparams_search", root=ROOT_OF.get(group, "train"))  # fmt: skip
    validate(cfg, deep=True)  # deep: feature groups and their parameters too
    plain = OmegaConf.to_container(OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]), resolve=True)
    _build(group if group not in ("experiment", "hparams_search") else "all", cfg, plain, tmp_path)


def _build(group: str, cfg, plain: dict, tmp_path) -> None:
    from gogooku3.pipeline.experiment import instantiate

    if group in ("data", "all"):
        source = instantiate(cfg.data)
        assert callable(source.load)
    if group in ("model", "trainer", "all"):
        estimator = instantiate(cfg.model, horizons=list(cfg.horizons), seed=0, trainer=cfg.trainer,
                                output_dir=str(tmp_path))  # fmt: skip
        assert callable(estimator.fit) and callable(estimator.predict)
        if cfg.model.name == "atft":
            import lightning

            params = inspect.signature(lightning.Trainer).parameters
            assert set(estimator.trainer_kwargs) <= set(params), set(estimator.trainer_kwargs) - set(params)
    if group in ("quality", "all"):
        from gogooku3.quality.config import QualityConfig

        assert QualityConfig.from_mapping(plain["quality"]).enabled in (True, False)
    if group in ("features", "all"):
        assert plain["features"]["groups"] and plain["features"]["name"] == cfg.features.name
    if group in ("split", "all"):
        from gogooku3.datasets.split import walk_forward_folds

        days = [date(2015, 1, 5) + timedelta(days=i) for i in range(3000)]
        assert len(walk_forward_folds(days, max_horizon=max(cfg.horizons), **plain["split"])) == cfg.split.n_folds
    if group in ("evaluation", "all"):
        from gogooku3.evaluation.metrics import evaluate

        inspect.signature(evaluate).bind(None, list(cfg.horizons), **plain["evaluation"])
    if group in ("tracking", "all"):
        from gogooku3.tracking.wandb_logger import WandbLogger

        options = dict(plain["tracking"]["wandb"])
        options.pop("enabled")
        inspect.signature(WandbLogger).bind(**options)
        assert plain["tracking"]["uri"].startswith(("sqlite:///", "http://", "https://"))
    if group in ("paths", "all"):
        assert plain["paths"]["data_dir"].startswith(plain["paths"]["output_dir"])


def test_option_files_set_only_what_differs_from_their_schema():
    """A YAML value equal to its schema default is a second default: there is one, in the schema."""
    from gogooku3.config.groups import SCHEMAS

    for (group, name), schema in SCHEMAS.items():
        base = OmegaConf.to_container(OmegaConf.structured(schema))
        for path in sorted((CONF / group).glob("*.yaml")):
            own = {k: v for k, v in (OmegaConf.to_container(OmegaConf.load(path)) or {}).items() if k != "defaults"}
            same = sorted(k for k, v in own.items() if k in base and base[k] == v and not isinstance(v, dict))
            assert not same, f"{path.relative_to(ROOT)} repeats schema defaults {same}"
