"""Disaster-recovery drill: write everything, back it up, delete it all, restore, compare (~10 s)."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

from gogooku3.storage.backup import main, sqlite_tables, tree_entries
from gogooku3.storage.olap import ChdbOlap
from gogooku3.storage.olap_predictions import OlapPredictionStore
from tests.storage.test_backup import make_sources
from tests.storage.test_olap import metrics
from tests.storage.test_olap_predictions import predictions


def _registered_model(root: Path) -> tuple[str, str]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{root}/mlflow.db", registry_uri=f"sqlite:///{root}/mlflow.db")
    exp = client.create_experiment("drill", artifact_location=(root / "mlruns").as_uri())
    run = client.create_run(exp)
    client.log_metric(run.info.run_id, "rank_ic", 0.05)
    client.log_text(run.info.run_id, "weights: [1, 2, 3]\n", "model/weights.yaml")
    client.set_terminated(run.info.run_id)
    client.create_registered_model("gogooku3-drill")
    mv = client.create_model_version("gogooku3-drill", f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    client.set_registered_model_alias("gogooku3-drill", "champion", mv.version)
    return run.info.run_id, mv.version


def _champion(root: Path) -> tuple[str, str, float, str]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{root}/mlflow.db", registry_uri=f"sqlite:///{root}/mlflow.db")
    mv = client.get_model_version_by_alias("gogooku3-drill", "champion")
    run = client.get_run(mv.run_id)
    text = (Path(mv.source.removeprefix("file://")) / "weights.yaml").read_text()
    return mv.run_id, mv.version, run.data.metrics["rank_ic"], text


def test_drill_everything_comes_back_equal(tmp_path, capsys):
    src = make_sources(tmp_path)
    root = tmp_path / "src"
    src["mlflow"].unlink()
    run_id, version = _registered_model(root)
    champion = _champion(root)
    with ChdbOlap(src["olap"]) as olap:
        OlapPredictionStore(olap).write("predictions", predictions(date(2024, 1, 8), "v2", ["6758", "9984", "1301"]))
        olap.insert("training_metrics", metrics(run_id, 50, datetime.now(UTC)))
        before_olap = {
            t: olap.query(f"SELECT count() AS n FROM gogooku3.{t}")["n"][0] for t in ("predictions", "training_metrics")
        }
        stored = OlapPredictionStore(olap).read("predictions")
    before_files = {k: tree_entries(src[k], "**/*") for k in ("objects", "conf")}
    before_artifacts = tree_entries(root / "mlruns")
    before_db = sqlite_tables(src["mlflow"])

    out = tmp_path / "backup"
    args = ["--objects", str(src["objects"]), "--conf", str(src["conf"]), "--runs", str(src["runs"]),
            "--olap", str(src["olap"]), "--mlflow-db", f"sqlite:///{src['mlflow']}",
            "--mlflow-artifacts", str(root / "mlruns")]  # fmt: skip
    assert main("backup", ["--to", str(out), *args]) == 0
    assert main("verify", [str(out)]) == 0

    shutil.rmtree(root)  # the disaster
    assert not root.exists()
    capsys.readouterr()
    assert main("restore", [str(out)]) == 0  # back to the backed-up paths
    printed = capsys.readouterr().out
    assert "RTO" in printed and "every count and digest equal" in printed
    print(printed)

    assert {k: tree_entries(src[k], "**/*") for k in ("objects", "conf")} == before_files
    assert tree_entries(root / "mlruns") == before_artifacts
    assert sqlite_tables(src["mlflow"]) == before_db
    assert _champion(root) == champion and champion[:2] == (run_id, version)
    with ChdbOlap(src["olap"]) as olap:
        for t, n in before_olap.items():
            assert olap.query(f"SELECT count() AS n FROM gogooku3.{t}")["n"][0] == n
        assert OlapPredictionStore(olap).read("predictions").equals(stored, null_equal=True)
