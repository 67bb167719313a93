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


def test_user_paths_are_expanded_before_hydra_parses_them(monkeypatch, tmp_path):
    import importlib.util
    import os

    spec = importlib.util.spec_from_file_location("train_entry", Path(__file__).resolve().parents[2] / "train.py")
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    out = train.expand_user_paths(["data=parquet", "data.path=~/q.parquet", "data.listed_path=info.parquet",
                                   "data.index_path=null", "hydra.run.dir=~/x", "seed=~1"])
    assert out == ["data=parquet", f"data.path={tmp_path}/q.parquet",
                   f"data.listed_path={os.path.join(str(tmp_path), 'info.parquet')}", "data.index_path=null",
                   "hydra.run.dir=~/x", "seed=~1"]


def test_fold_child_runs_hold_the_printed_fold_values(finished_run):
    """Each fold is a child run; the console's fold line prints exactly its logged final values."""
    from mlflow.tracking import MlflowClient

    outputs, run, result = finished_run
    client = MlflowClient(f"sqlite:///{outputs}/mlflow.db")
    children = client.search_runs([run.experiment_id], filter_string=f"tags.`mlflow.parentRunId` = '{run.run_id}'")
    by_fold = {int(c.data.tags["fold"]): c for c in children}
    assert sorted(by_fold) == [0, 1]
    console = result.stdout + result.stderr
    table = pl.read_csv(_artifacts(outputs, run) / "evaluation/folds.csv")
    for k, child in by_fold.items():
        assert child.info.run_name == f"{run['tags.mlflow.runName']}/fold{k}" and child.info.status == "FINISHED"
        assert child.data.params["valid_start"] and not any(m.startswith("fold") for m in child.data.metrics)
        (line,) = re.findall(rf"fold {k} \[run {child.info.run_id[:8]}\]: (.*)", console)
        printed = dict(item.split("=") for item in line.split())
        assert printed.keys() == {f"val/rank_ic_h{h}" for h in HORIZONS} | {f"val/best_iteration_h{h}" for h in HORIZONS}
        for name, text in printed.items():
            assert text == f"{child.data.metrics[name]:.6g}", name  # the printed value is the logged one
        rows = table.filter(pl.col("fold") == k)
        assert dict(zip(rows["metric"], rows["value"])) == {n: child.data.metrics[n] for n in printed}
        assert set(rows["run_id"]) == {child.info.run_id}
        # The curve runs under the same name; the final value comes one step after the last curve point.
        curve = sorted(client.get_metric_history(child.info.run_id, "val/rank_ic_h1"), key=lambda m: m.step)
        assert len(curve) > 2 and curve[-1].step > curve[-2].step and curve[-1].value == max(m.value for m in curve)
    # The parent holds the mean over folds and no per-fold names.
    for h in HORIZONS:
        mean = np.mean([c.data.metrics[f"val/rank_ic_h{h}"] for c in by_fold.values()])
        assert run[f"metrics.val/rank_ic_h{h}"] == pytest.approx(mean, rel=1e-12)
    assert not [c for c in run.index if c.startswith(("metrics.fold", "metrics.fold/"))]


def test_pnl_is_logged_gross_and_net_with_its_cost_model(finished_run):
    outputs, run, _ = finished_run
    assert run["params.cost_model.bps_per_side"] == "10" and run["params.evaluation.cost_bps"] == "10.0"
    for h in HORIZONS:
        gross, cost = run[f"metrics.test/gross_annual_return_h{h}"], run[f"metrics.test/annual_cost_h{h}"]
        assert cost > 0 and gross - cost == pytest.approx(run[f"metrics.test/annual_return_h{h}"], abs=1e-9)
        assert np.isfinite(run[f"metrics.test/gross_sharpe_h{h}"]) and np.isfinite(run[f"metrics.test/turnover_h{h}"])


def test_run_description_is_the_headline_table(finished_run):
    _, run, _ = finished_run
    text = run["tags.mlflow.note.content"]
    assert text.startswith("**data** `synthetic` · **model** `lightgbm` · **features** `core`")
    assert "| horizon | RankIC |" in text and "Oracle share" in text
    row = next(line for line in text.splitlines() if line.startswith("| h1 |"))
    assert row.split(" | ")[1] == f"{run['metrics.test/rank_ic_h1']:.4f}"


def test_optimized_metric_for_a_missing_horizon_fails_in_one_line(tmp_path):
    """The default ``val/rank_ic_h1`` with ``horizons=[5,10]`` stops before any data is read."""
    result = run_cli("train.py", [*SMALL, "horizons=[5,10]"], tmp_path / "outputs", timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    (line,) = result.stderr.strip().splitlines()
    assert line == ("gogooku3: error: optimized_metric=val/rank_ic_h1 names horizon 1, which is not in "
                    "horizons=[5, 10]; set e.g. optimized_metric=val/rank_ic_h5")  # fmt: skip
    assert not (tmp_path / "outputs" / "mlflow.db").exists()  # nothing was run or logged


def test_check_optimized_metric_accepts_names_of_the_run():
    from gogooku3.errors import ConfigError
    from gogooku3.pipeline.cli import check_optimized_metric

    check_optimized_metric("val/rank_ic_h5", [5, 10])
    check_optimized_metric(["val/rank_ic_h5", "val/rank_ic_h10"], [5, 10])
    check_optimized_metric(None, [5])
    with pytest.raises(ConfigError, match=r"optimized_metric=val/rank_ic_h20 names horizon 20"):
        check_optimized_metric(["val/rank_ic_h5", "val/rank_ic_h20"], [5, 10])


# The parent run's metric contract (README "Metrics"): extend, never rename.
CONTRACT_TEST = ("rank_ic", "ic", "rank_icir", "icir", "rank_ic_tstat", "hit_rate", "sharpe", "annual_return",
                 "max_drawdown", "turnover", "n_days", "gross_sharpe", "gross_annual_return", "annual_cost",
                 "oracle_rank_ic")  # fmt: skip
CONTRACT_VAL = ("rank_ic", "best_iteration")


def test_metric_names_follow_one_scheme(finished_run):
    _, run, _ = finished_run
    names = {c.removeprefix("metrics.") for c in run.index if c.startswith("metrics.") and run[c] == run[c]}
    for h in HORIZONS:
        assert {f"test/{m}_h{h}" for m in CONTRACT_TEST} | {f"val/{m}_h{h}" for m in CONTRACT_VAL} <= names, h
        # The captured share exists where the oracle itself is distinguishable from zero.
        assert (f"test/oracle_capture_h{h}" in names) == (abs(run[f"metrics.test/oracle_rank_ic_tstat_h{h}"]) >= 2), h
    assert {n.split("/")[0] for n in names} <= {"test", "val", "quality", "train"}, sorted(names)
    assert all(re.fullmatch(r"(test|val)/[a-z_]+_h\d+", n) for n in names if not n.startswith("quality/"))
