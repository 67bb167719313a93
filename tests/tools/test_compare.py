"""compare_runs.py over a real MLflow SQLite store: experiment and sweep tables, CSV, errors."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "compare_runs.py"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Two plain runs and a sweep (parent + 3 trials) logged the way the pipeline logs them."""
    from mlflow.tracking import MlflowClient

    root = tmp_path_factory.mktemp("compare")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(uri)
    exp = client.create_experiment("gogooku3", artifact_location=(root / "artifacts").as_uri())
    common = {"model.name": "lightgbm", "paths.output_dir": str(root), "data.n_stocks": "30"}

    def run(name, params, metrics, tags=None):
        r = client.create_run(exp, run_name=name, tags={"git_sha": "a1b2c3d4e5f6a7b8", "git_dirty": "false",
                                                        "data_digest": "654a846bbf79" + "0" * 52, **(tags or {})})
        for k, v in {**common, **params}.items():
            client.log_param(r.info.run_id, k, v)
        for k, v in metrics.items():
            client.log_metric(r.info.run_id, k, v)
        client.set_terminated(r.info.run_id)
        return r.info.run_id

    plain = [
        run("base", {"model.params.num_leaves": "31"}, {"val/rank_ic_h1": 0.01, "test/rank_ic_h1": 0.02,
                                                         "test/rank_ic_h20": 0.03, "test/rank_ic_h5": 0.04, "other": 9.0}),
        run("wide", {"model.params.num_leaves": "127"}, {"val/rank_ic_h1": 0.011, "test/rank_ic_h1": 0.021}),
    ]
    parent = client.create_run(exp, run_name="sweep-x", tags={"sweep": "optuna", "optuna_study": "train-abc",
                                                               "best_trial": "1", "best_value": "0.3"}).info.run_id
    children = [
        run(f"trial{n}", {"model.params.learning_rate": str(lr)}, {"val/rank_ic_h1": v},
            {"mlflow.parentRunId": parent, "optuna_trial": str(n), "trial_state": state})
        for n, lr, v, state in [(2, 0.05, 0.1, "PRUNED"), (0, 0.01, 0.2, "COMPLETE"), (1, 0.1234567891, 0.3, "COMPLETE")]
    ]
    return {"uri": uri, "plain": plain, "parent": parent, "children": children, "root": root}


def compare(*args):
    """The script itself, as users run it."""
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


def compare_here(capsys, *args):
    """The same entry point in-process (saves the interpreter start-up)."""
    from gogooku3.tools.compare import main

    code = main(list(args))
    captured = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=captured.out, stderr=captured.err)


def test_experiment_table_shows_differing_params_contract_metrics_digest_and_code(store):
    out = compare("--tracking-uri", store["uri"], "--wide")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    header = lines[0].split()
    # varying params only (num_leaves, learning_rate), never paths.*; metrics ordered by horizon
    assert header[:5] == ["run", "name", "status", "trial", "state"]
    assert "model.params.num_leaves" in header and "paths.output_dir" not in header and "data.n_stocks" not in header
    assert header.index("test/rank_ic_h1") < header.index("test/rank_ic_h5") < header.index("test/rank_ic_h20")
    assert "other" not in header and header[-2:] == ["data_digest", "git_sha"]
    base = next(line for line in lines if " base " in line)
    assert store["plain"][0][:8] in base and "654a846bbf79" in base and "a1b2c3d4e5" in base and " 31 " in base
    assert len(lines) == 2 + 2 + 3  # header, rule, two plain runs, three trials (the parent is not a row)


def test_sweep_table_lists_trials_in_order_with_states(store, capsys):
    out = compare_here(capsys, "--tracking-uri", store["uri"], "--parent", store["parent"], "--wide")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("sweep train-abc") and "best trial 1 value 0.3" in lines[0]
    rows = [line.split() for line in lines[3:]]
    assert [(r[3], r[4]) for r in rows] == [("0", "COMPLETE"), ("1", "COMPLETE"), ("2", "PRUNED")]
    assert rows[1][lines[1].split().index("model.params.learning_rate")] == "0.123457"


def test_csv_keeps_full_ids_and_exact_values(store, tmp_path, capsys):
    target = tmp_path / "out" / "runs.csv"
    out = compare_here(capsys, "--tracking-uri", store["uri"], "--parent", store["parent"], "--csv", str(target),
                  "--params", "model.params.*", "--metrics", "val/*")  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(target.open()))
    assert [r["run"] for r in rows] == [store["children"][i] for i in (1, 2, 0)]
    assert rows[1]["model.params.learning_rate"] == "0.1234567891"
    assert float(rows[2]["val/rank_ic_h1"]) == 0.1 and rows[0]["data_digest"] == "654a846bbf79" + "0" * 52


def test_unknown_experiment_is_one_line_and_exit_2(store, capsys):
    out = compare_here(capsys, "--tracking-uri", store["uri"], "--experiment", "nope")
    assert out.returncode == 2
    assert out.stderr.strip() == "compare_runs: error: --experiment 'nope': no such experiment in " \
        f"{store['uri']}; known: ['Default', 'gogooku3']"


def test_unknown_parent_is_one_line_and_exit_2(store, capsys):
    out = compare_here(capsys, "--tracking-uri", store["uri"], "--parent", "0" * 32)
    assert out.returncode == 2 and out.stderr.strip().startswith("compare_runs: error: run '000")


@pytest.fixture
def crowded(tmp_path):
    """Six runs with long names, eight varying params and every headline metric at four horizons."""
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    exp = client.create_experiment("gogooku3", artifact_location=(tmp_path / "artifacts").as_uri())
    keys = [f"model.params.{k}" for k in ("learning_rate", "num_leaves", "min_data_in_leaf", "feature_fraction",
                                           "bagging_fraction", "lambda_l2", "lambda_l1", "max_depth")]  # fmt: skip
    for n in range(6):
        run = client.create_run(exp, run_name="lightgbm·synthetic·" + ",".join(f"{k}={n}" for k in keys),
                                tags={"git_sha": "f" * 40, "git_dirty": "true", "data_digest": "a" * 64})
        for i, key in enumerate(keys):
            client.log_param(run.info.run_id, key, str(0.123456789 * (n + 1) * (i + 1)))
        for h in (1, 5, 10, 20):
            for name in ("rank_ic", "sharpe", "rank_icir"):
                client.log_metric(run.info.run_id, f"test/{name}_h{h}", -0.0123456789 * (n + 1) * h)
        client.log_metric(run.info.run_id, "val/rank_ic_h1", 0.0123456789)
        client.set_terminated(run.info.run_id)
    return uri


def test_default_table_fits_120_columns_and_says_what_is_left_out(crowded, capsys):
    out = compare_here(capsys, "--tracking-uri", crowded)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert max(len(line) for line in lines) <= 120, max(lines, key=len)
    header = lines[0].split()
    assert header[:3] == ["run", "name", "status"] and header[-2:] == ["data", "code"]
    assert {"v.ric_h1", "ric_h1", "shp_h1"} <= set(header)  # the headline metrics come first
    assert len(lines) >= 2 + 6 and all(len(row.split()) == len(header) for row in lines[2:8])
    assert any(line.startswith("metrics: ric=rank_ic") for line in lines)
    note = " ".join(line for line in lines if line.startswith("not shown") or lines.index(line) > 8)
    assert "--wide" in note and "test/rank_ic_h20" in note  # what did not fit is named in full


def test_width_and_wide(crowded, capsys):
    narrow = compare_here(capsys, "--tracking-uri", crowded, "--width", "80").stdout.splitlines()
    assert max(len(line) for line in narrow) <= 80
    wide = compare_here(capsys, "--tracking-uri", crowded, "--wide", "--metrics", "test/*").stdout.splitlines()
    header = wide[0].split()
    assert max(len(line) for line in wide) > 120 and "model.params.max_depth" in header and "test/rank_icir_h20" in header
    assert all(len(row.split()) == len(header) for row in wide[2:])


def test_csv_to_stdout_is_the_full_table(crowded, capsys):
    out = compare_here(capsys, "--tracking-uri", crowded, "--csv", "-")
    rows = list(csv.DictReader(out.stdout.splitlines()))
    assert len(rows) == 6 and len(rows[0]["run"]) == 32 and rows[0]["git_sha"] == "f" * 40 + "+dirty"
    assert float(rows[0]["test/rank_ic_h1"]) == pytest.approx(-0.0123456789 * 1)
