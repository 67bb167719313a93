"""Every file under conf/experiment/ and every hparams_search option runs end to end on tiny data.

One `train.py -m` command per model family runs all of its experiments (one start-up);
each search runs two trials. Sizes are the smallest that exercise every stage.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from tests.helpers import ROOT

CONF = ROOT / "conf"
DATA = ["data.n_stocks=20", "data.end=2022-03-31", "horizons=[1,5]", "split.n_folds=1",
        "split.test_days=25", "split.valid_days=20", "split.embargo_days=5", "split.min_train_days=100",
        "tracking.log_model=false", "quality.data_docs=false"]  # fmt: skip
# LightGBM's full feature set has year-over-year fundamentals: it needs more than a year of data.
TINY = {
    "lightgbm": ["data.start=2020-01-01", "model.num_boost_round=10", "model.early_stopping_rounds=5", "model.params.num_threads=1"],
    "atft": ["data.start=2021-01-01", "trainer.max_epochs=1", "trainer.enable_progress_bar=false", "model.lookback=8", "model.hidden_size=8",
             "model.feature_dim=4", "model.graph.window=40", "model.data.train_dates_per_epoch=4",
             "model.fan.top_k=2", "model.attention_heads=2", "model.gat.heads=2"],
}  # fmt: skip


def _model_of(path: Path) -> str:
    for entry in OmegaConf.load(path).get("defaults", []):
        if isinstance(entry, dict | type(OmegaConf.create({}))) and "override /model" in entry:
            return entry["override /model"]
    return "lightgbm"  # the root default


def _experiments() -> dict[str, list[str]]:
    by_model: dict[str, list[str]] = {}
    for path in sorted((CONF / "experiment").glob("*.yaml")):
        by_model.setdefault(_model_of(path), []).append(path.stem)
    return by_model


def _train(outputs: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PROJECT_ROOT": str(ROOT)}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    command = [sys.executable, str(ROOT / "train.py"), "-m", *args, *DATA, f"paths.output_dir={outputs}",
               f"hydra.sweep.dir={outputs}/multirun"]  # fmt: skip
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def _finished_runs(outputs: Path) -> list:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{outputs}/mlflow.db")
    experiments = [e.experiment_id for e in client.search_experiments()]
    return [r for r in client.search_runs(experiments) if r.info.status == "FINISHED" and "test/rank_ic_h1" in r.data.metrics]


def test_every_experiment_file_belongs_to_a_family():
    families = _experiments()
    assert set(families) <= set(TINY), families
    assert sum(len(v) for v in families.values()) == len(list((CONF / "experiment").glob("*.yaml")))


@pytest.mark.slow
@pytest.mark.parametrize("model", sorted(_experiments()))  # the families conf/experiment/ has
def test_every_experiment_runs(model, tmp_path):
    names = _experiments()[model]
    result = _train(tmp_path, f"model={model}", f"experiment={','.join(names)}", *TINY[model])
    assert result.returncode == 0, result.stderr[-3000:]
    runs = _finished_runs(tmp_path)
    assert len(runs) == len(names), [r.info.run_name for r in runs]
    assert {r.data.tags["model"] for r in runs} == {model}


@pytest.mark.slow
@pytest.mark.parametrize("search", sorted(p.stem for p in (CONF / "hparams_search").glob("*.yaml")))
def test_every_search_runs_two_trials(search, tmp_path):
    model = OmegaConf.load(CONF / "hparams_search" / f"{search}.yaml")["defaults"][0]["override /model"]
    extra = ["hydra.sweeper.pruner.min_resource=1"] if model == "atft" else []
    result = _train(tmp_path, f"hparams_search={search}", "hydra.sweeper.n_trials=2", *TINY[model], *extra)
    assert result.returncode == 0, result.stderr[-3000:]
    trials = [r for r in _finished_runs(tmp_path) if "optuna_trial" in r.data.tags]
    assert sorted(r.data.tags["optuna_trial"] for r in trials) == ["0", "1"]
