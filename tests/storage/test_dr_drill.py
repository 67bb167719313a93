"""Disaster-recovery drill: a market, features, a deployed champion, its predictions and metrics
are backed up, all deleted, restored; every digest and row count is equal and the restored
champion predicts the same values (~35 s: one small LightGBM training)."""

from __future__ import annotations

import io
import shutil
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from gogooku3.storage.backup import main, olap_tables, sqlite_tables, tree_entries
from gogooku3.storage.objects import LocalObjectStore
from tests.helpers import ROOT
from tests.inference.deployed import DATA, predict_config, train_deployable
from tests.storage.test_olap import metrics
from tests.storage.test_olap_predictions import predictions

PREDICTED = ["Code", "horizon", "prediction", "ensemble_score", "rank"]


def _parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def _market_and_features(store: LocalObjectStore) -> None:
    """The drill's market (the one the model is trained on) and its core features, as objects."""
    from omegaconf import OmegaConf

    from gogooku3.data.synthetic import SyntheticMarketSource
    from gogooku3.features import build_features

    data = dict(d.removeprefix("data.").split("=", 1) for d in DATA if d.startswith("data."))
    market = SyntheticMarketSource(n_stocks=int(data["n_stocks"]), start=data["start"], end=data["end"],
                                   horizons=(1, 5)).load()  # fmt: skip
    groups = OmegaConf.to_container(OmegaConf.load(ROOT / "conf/features/core.yaml").groups)
    store.put("raw/synthetic/quotes.parquet", _parquet(market.quotes), classification="public")
    store.put("features/core/features.parquet", _parquet(build_features(market, groups).frame))


def _champion_predictions(outputs: Path, run_dir: Path) -> pl.DataFrame:
    from gogooku3.pipeline.predict import run_predict

    cfg = predict_config(outputs, [f"predict.store={run_dir / 'store'}", "predict.model=champion"])
    return run_predict(cfg, run_dir).predictions.select(PREDICTED).sort("Code", "horizon")


def _restored_champion(outputs: Path, run_dir: Path) -> tuple[pl.DataFrame, str]:
    """Predictions and run id of the champion, read by a new process, as after a real disaster.

    This process's MLflow keeps its sqlite connection on the deleted database file
    (sqlite: "attempt to write a readonly database"), so the restored store is opened afresh.
    """
    import os
    import subprocess
    import sys

    script = (
        "import sys; from pathlib import Path; from tests.storage.test_dr_drill import _champion_predictions; "
        "from gogooku3.registry.versions import Registry; out, run = Path(sys.argv[1]), Path(sys.argv[2]); "
        "_champion_predictions(out, run).write_parquet(run / 'champion.parquet'); "
        "print(Registry(sys.argv[3]).by_alias('gogooku3', 'champion').run_id)"
    )
    env = {**os.environ, "PROJECT_ROOT": str(ROOT), "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    done = subprocess.run([sys.executable, "-c", script, str(outputs), str(run_dir), f"sqlite:///{outputs}/mlflow.db"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return pl.read_parquet(run_dir / "champion.parquet"), done.stdout.strip().splitlines()[-1]


def _state(root: Path, objects: LocalObjectStore) -> dict:
    from gogooku3.storage.olap import ChdbOlap

    with ChdbOlap(root / "olap") as olap:
        tables = olap_tables(olap)
    return {
        "objects": [(i.key, i.sha256, i.size, i.classification) for i in objects.list()],
        "mlflow": sqlite_tables(root / "outputs/mlflow.db"),
        "artifacts": tree_entries(root / "outputs/mlartifacts"),
        "conf": tree_entries(root / "conf"),
        "olap": tables,
    }


@pytest.mark.slow
def test_drill_everything_comes_back_equal(tmp_path, capsys):
    from gogooku3.config.registry import Floors, RegistrySettings
    from gogooku3.registry.versions import Registry
    from gogooku3.storage.olap import ChdbOlap
    from gogooku3.storage.olap_predictions import OlapPredictionStore

    root = tmp_path / "site"  # everything the disaster takes
    outputs, objects = root / "outputs", LocalObjectStore(root / "objects")
    _market_and_features(objects)
    run_id = train_deployable(outputs, "lightgbm")
    uri = f"sqlite:///{outputs / 'mlflow.db'}"
    lenient = RegistrySettings(floors=Floors(rank_ic=-1.0, rank_icir=-10.0, rank_ic_tstat=-100.0), margin=1.0)
    registry = Registry(uri, lenient)
    version = registry.register(run_id, "gogooku3", "DR drill model", who="drill")
    registry.promote("gogooku3", version.version, "DR drill champion", who="drill")
    before_predictions = _champion_predictions(outputs, tmp_path / "predict_before")
    assert before_predictions.height > 0
    objects.put("predictions/champion.parquet", _parquet(before_predictions))
    shutil.copytree(ROOT / "conf", root / "conf")
    (root / "runs/train/.hydra").mkdir(parents=True)
    (root / "runs/train/.hydra/config.yaml").write_text(f"run_id: {run_id}\n")
    with ChdbOlap(root / "olap") as olap:
        olap.apply_schema()
        olap.insert("training_metrics", metrics(run_id, 50, datetime.now(UTC)))
        OlapPredictionStore(olap).write("predictions", predictions(datetime(2022, 6, 30).date(), version.version,
                                                                   ["1301", "7203", "9984"]))  # fmt: skip
    before = _state(root, objects)
    assert before["objects"] and before["artifacts"]
    assert before["olap"]["predictions"]["rows"] and before["olap"]["training_metrics"]["rows"]

    out = tmp_path / "backup"
    args = ["--objects-uri", str(objects.root), "--conf", str(root / "conf"), "--runs", str(root / "runs"),
            "--olap", str(root / "olap"), "--mlflow-db", uri,
            "--mlflow-artifacts", str(outputs / "mlartifacts")]  # fmt: skip
    assert main("backup", ["--to", str(out), *args]) == 0
    assert main("verify", [str(out)]) == 0

    shutil.rmtree(root)  # the disaster
    assert not root.exists()
    capsys.readouterr()
    assert main("restore", [str(out)]) == 0  # back to the backed-up paths
    printed = capsys.readouterr().out
    assert "RTO" in printed and "every count and digest equal" in printed
    print(printed)

    assert _state(root, objects) == before  # every digest and row count
    after_predictions, champion_run = _restored_champion(outputs, tmp_path / "predict_after")
    assert champion_run == run_id
    assert after_predictions.equals(before_predictions)  # exactly the same values
    stored = pl.read_parquet(io.BytesIO(objects.get("predictions/champion.parquet")))
    assert stored.equals(after_predictions)
