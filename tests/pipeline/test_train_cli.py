"""End to end: `python train.py` on a small synthetic market, and what its MLflow run holds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

from gogooku3.data.synthetic import generate_market
from gogooku3.evaluation.metrics import evaluate
from tests.helpers import SMALL, mlflow_runs, run_cli

SECRET = "sk-live-0123456789abcdef"
HORIZONS = (1, 5, 10, 20)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    outputs = tmp_path_factory.mktemp("outputs")
    result = run_cli("train.py", [*SMALL, f"+tracking.api_token={SECRET}"], outputs)
    assert result.returncode == 0, result.stderr[-3000:]
    run = mlflow_runs(outputs).iloc[0]
    return outputs, run, result


def _artifacts(outputs: Path, run) -> Path:
    return Path(run.artifact_uri.removeprefix("file://"))


def test_run_logs_the_contract(finished_run):
    outputs, run, _ = finished_run
    art = _artifacts(outputs, run)
    for path in ("config/config.yaml", "config/overrides.yaml", "predictions/test.parquet", "features/metadata.json",
                 "plots/cumulative_long_short.png", "plots/daily_rank_ic.png", "lineage/lineage.json",
                 "environment/packages.json"):  # fmt: skip
        assert (art / path).is_file(), path
    config = yaml.safe_load((art / "config/config.yaml").read_text())
    assert config["data"]["n_stocks"] == 60 and config["horizons"] == list(HORIZONS)
    assert "data.n_stocks=60" in yaml.safe_load((art / "config/overrides.yaml").read_text())
    assert run["params.model.params.num_leaves"] == "31" and run["params.split.n_folds"] == "2"
    for h in HORIZONS:
        for name in ("rank_ic", "ic", "rank_icir", "sharpe", "max_drawdown", "oracle_rank_ic"):
            assert np.isfinite(run[f"metrics.test/{name}_h{h}"]), (name, h)
    assert np.isfinite(run["metrics.val/rank_ic_h1"])
    assert re.fullmatch(r"[0-9a-f]{40}|unknown", run["tags.git_sha"]) and run["tags.git_dirty"] in ("true", "false")
    expected = generate_market(n_stocks=60, start="2021-01-01", end="2022-12-31", seed=0).digest
    assert run["tags.data_digest"] == expected
    features = json.loads((art / "features/metadata.json").read_text())
    assert {"name", "group", "window"} <= set(features[0])
    steps = [s["name"] for s in json.loads((art / "lineage/lineage.json").read_text())["steps"]]
    assert steps[:6] == ["ingest", "validate", "split", "features", "validate_features", "targets"]
    assert steps[-2:] == ["evaluate", "validate_outputs"]


def test_dataset_input_carries_the_full_digest(finished_run):
    import mlflow

    outputs, run, _ = finished_run
    inputs = mlflow.get_run(run.run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    tags = {t.key: t.value for t in inputs[0].tags}
    assert tags["sha256"] == run["tags.data_digest"] and inputs[0].dataset.digest == run["tags.data_digest"][:32]


def test_logged_metrics_are_recomputable_from_logged_predictions(finished_run):
    outputs, run, _ = finished_run
    preds = pl.read_parquet(_artifacts(outputs, run) / "predictions/test.parquet")
    assert preds.columns[:2] == ["Code", "Date"]
    assert {f"pred_h{h}" for h in HORIZONS} | {f"target_h{h}" for h in HORIZONS} <= set(preds.columns)
    assert preds.select(pl.struct("Code", "Date").is_duplicated().any()).item() is False
    metrics, _, _ = evaluate(preds, HORIZONS)
    for h in HORIZONS:
        assert metrics[f"rank_ic_h{h}"] == pytest.approx(run[f"metrics.test/rank_ic_h{h}"], rel=1e-9)
        assert metrics[f"sharpe_h{h}"] == pytest.approx(run[f"metrics.test/sharpe_h{h}"], rel=1e-9)


def test_no_secret_reaches_the_store_or_artifacts(finished_run):
    outputs, run, result = finished_run
    assert SECRET not in result.stdout + result.stderr
    leaks = [p for p in outputs.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leaks == []
    assert run["params.tracking.api_token"] == "***REDACTED***"


def test_cfg_job_prints_the_composed_config(tmp_path):
    result = run_cli("train.py", ["--cfg", "job", "model=lightgbm", "data=synthetic"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "n_stocks: 300" in result.stdout and "_target_: gogooku3.training.lightgbm.LightGBMEstimator" in result.stdout


def _impossible_bar(quotes: pl.DataFrame) -> pl.DataFrame:
    row = pl.int_range(pl.len()) == 100
    return quotes.with_columns(pl.when(row).then(pl.col("Low") - 50).otherwise(pl.col("High")).alias("High"))


@pytest.mark.parametrize(
    "make, overrides, message",
    [
        (None, ["data=parquet", "data.path=/does/not/exist.parquet"], "data.path: /does/not/exist.parquet does not exist"),
        (lambda q: q.drop("Close"), ["data=parquet"], "missing required column(s) ['Close']"),
        (lambda q: q.with_columns(pl.col("Open").cast(pl.String)), ["data=parquet"], "column Open has type String"),
        (lambda q: pl.concat([q, q.tail(1)]), ["data=parquet"], "duplicate_keys"),  # judged by gate 1
        (lambda q: q.head(0), ["data=parquet"], "the file has no rows"),
        (None, ["split.embargo_days=3"], "split.embargo_days=3 is shorter than the longest horizon 20"),
        (_impossible_bar, ["data=parquet"], "quality gate 'raw' failed 1 of"),
    ],
)
def test_bad_input_exits_with_one_line(tmp_path, small_market, make, overrides, message):
    if make is not None:
        path = tmp_path / "quotes.parquet"
        make(small_market.quotes).write_parquet(path)
        overrides = [*overrides, f"data.path={path}"]
    small = [o for o in SMALL if not o.startswith("data.")] if "data=parquet" in overrides else SMALL
    result = run_cli("train.py", [*small, *overrides], tmp_path / "outputs")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("gogooku3: error: ") and message in lines[-1]
    assert "Traceback" not in result.stderr


def test_cli_start_imports_no_heavy_library():
    """`--cfg job` must stay fast: nothing heavy is imported before the job runs."""
    import subprocess
    import sys

    from tests.helpers import ROOT

    code = (
        "import runpy, sys\n"
        "sys.argv = ['train.py', '--cfg', 'job']\n"
        "try:\n    runpy.run_path('train.py', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "heavy = ('torch', 'lightning', 'torch_geometric', 'great_expectations', 'mlflow', 'optuna', 'lightgbm')\n"
        "print('HEAVY', sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "HEAVY []" in result.stdout, result.stdout[-500:] + result.stderr[-2000:]


@pytest.mark.slow
def test_wandb_offline_mirrors_the_run(tmp_path):
    outputs = tmp_path / "outputs"
    result = run_cli(
        "train.py", [*SMALL, "tracking.wandb.enabled=true", "tracking.wandb.mode=offline", "tracking.log_model=false"], outputs
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run = mlflow_runs(outputs).iloc[0]
    (record,) = outputs.rglob("offline-run-*/run-*.wandb")  # W&B's offline record, synced later
    data = record.read_bytes()
    for expected in ("test/rank_ic_h1", "fold1/val/rank_ic_h1", "num_leaves", run.run_id,
                     run["tags.data_digest"]):  # fmt: skip
        assert expected.encode() in data, expected
    assert list(record.parent.glob("files/media/images/plots/*.png"))


@pytest.mark.slow
def test_user_parquet_trains_and_quality_off_lets_a_bad_bar_through(tmp_path, small_market):
    path = tmp_path / "quotes.parquet"
    _impossible_bar(small_market.quotes).write_parquet(path)
    small = [o for o in SMALL if not o.startswith("data.")]
    result = run_cli("train.py", [*small, "data=parquet", f"data.path={path}", "quality=off"], tmp_path / "outputs")
    assert result.returncode == 0, result.stderr[-3000:]
    run = mlflow_runs(tmp_path / "outputs").iloc[0]
    assert run["tags.data"] == "parquet" and np.isfinite(run["metrics.test/rank_ic_h1"])
    assert "metrics.test/oracle_rank_ic_h1" not in run.index  # no oracle for real data


def test_a_gate_failing_inside_the_run_still_logs_every_gate(tmp_path):
    """The features gate runs after the MLflow run opens: the FAILED run must still show its gates."""
    outputs = tmp_path / "outputs"
    result = run_cli("train.py", [*SMALL, "quality.min_feature_std=1e9", "quality.data_docs=false"], outputs)
    assert result.returncode == 2 and "quality gate 'features' failed" in result.stderr.strip().splitlines()[-1]
    run = mlflow_runs(outputs).iloc[0]
    assert run.status == "FAILED"
    assert run["metrics.quality/raw/success_ratio"] == 1.0
    assert run["metrics.quality/features/failed_expectations"] >= 1
    from mlflow.tracking import MlflowClient

    logged = {a.path for a in MlflowClient(f"sqlite:///{outputs}/mlflow.db").list_artifacts(run.run_id, "quality")}
    assert {"quality/raw.json", "quality/features.json"} <= logged
