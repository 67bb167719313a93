"""Benchmark predict.py for one new session: features, model loading and inference, against history length.

    python scripts/bench_predict.py                  # 4,000 stocks; 500, 1,000 and 2,000 sessions of history
    python scripts/bench_predict.py --stocks 500 --sessions 400 800

A LightGBM model is trained once (train.py deploy=true, 300 stocks) on the same feature set;
each case then loads a warm snapshot (parquet already on disk) of ``--stocks`` codes and
predicts its last session through the real code path (gate 5, window, gates, features,
inference, ensemble) under quality=default (its random splits need
quality.max_adjustment_inconsistent_ratio=0.001). Only the window the model reads is built, so the time must not grow
with the history. Target (issue 15): under 10 s in all at 4,000 stocks.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("PROJECT_ROOT", str(ROOT))


def train_model(folder: Path, outputs: Path) -> str:
    """A deployable LightGBM on a 300-stock market of the same kind; returns its run id."""
    from bench_features import write_market

    write_market(folder, 300, 900, seed=1)
    command = [sys.executable, str(ROOT / "train.py"), "data=parquet", f"data.path={folder}/quotes.parquet",
               f"data.listed_path={folder}/listed.parquet", "data.calendar=XTKS", "deploy=true",
               "model.num_boost_round=200", "tracking.log_model=false", "quality.max_adjustment_inconsistent_ratio=0.001", "quality.data_docs=false",
               f"paths.output_dir={outputs}", f"hydra.run.dir={outputs}/train"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        sys.exit(f"training the benchmark model failed: {done.stderr.strip().splitlines()[-1]}")
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{outputs}/mlflow.db")
    runs = mlflow.search_runs(experiment_names=["gogooku3"], filter_string="tags.deployable = 'true'")
    return str(runs.iloc[0]["run_id"])


def case(stocks: int, sessions: int, run_id: str, outputs: Path, work: Path) -> dict[str, float]:
    from bench_features import write_market
    from hydra import compose, initialize_config_dir

    from gogooku3.config import register
    from gogooku3.console import quiet_third_party
    from gogooku3.inference.loading import load_model
    from gogooku3.pipeline.experiment import instantiate
    from gogooku3.pipeline.predict import predict_sessions

    folder = work / f"m{stocks}x{sessions}"
    folder.mkdir()
    write_market(folder, stocks, sessions, seed=2)
    register()
    quiet_third_party()
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("predict", ["data=parquet", f"data.path={folder}/quotes.parquet",
                                  f"data.listed_path={folder}/listed.parquet", "data.calendar=XTKS",
                                  "quality.max_adjustment_inconsistent_ratio=0.001", "quality.data_docs=false", f"paths.output_dir={outputs}"])  # fmt: skip
    t0 = time.perf_counter()
    market = instantiate(cfg.data).load()
    t1 = time.perf_counter()
    model = load_model(run_id, cfg.tracking.uri)
    t2 = time.perf_counter()
    timings: dict[str, float] = {}
    predict_sessions(cfg, market, [model], [1.0], [market.quotes["Date"].max()], work / "run", timings)
    total = time.perf_counter() - t1
    return {"read_snapshot": t1 - t0, "model_loading": t2 - t1, **timings, "total_after_read": total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stocks", type=int, default=4000)
    parser.add_argument("--sessions", type=int, nargs="+", default=[500, 1000, 2000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_predict_") as tmp:
        work = Path(tmp)
        (work / "train").mkdir()
        print("training a deployable LightGBM (300 stocks x 900 sessions) ...", flush=True)
        run_id = train_model(work / "train", work / "out")
        print(f"{'stocks':>7} {'history':>8} {'read':>6} {'load':>6} {'gates':>6} {'features':>9} "
              f"{'inference':>10} {'total':>7}  (seconds; total excludes reading the snapshot)")
        for sessions in args.sessions:
            r = case(args.stocks, sessions, run_id, work / "out", work)
            print(f"{args.stocks:>7} {sessions:>8} {r['read_snapshot']:>6.2f} {r['model_loading']:>6.2f} "
                  f"{r['window_and_gates']:>6.2f} {r['features']:>9.2f} {r['inference']:>10.2f} "
                  f"{r['total_after_read']:>7.2f}", flush=True)


if __name__ == "__main__":
    main()
