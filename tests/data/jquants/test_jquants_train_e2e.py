"""`python train.py data=jquants model=lightgbm` against the loopback server, twice.

From an empty data root the first run ingests and trains; the second fetches nothing.
Afterwards no file under the data root, outputs/ or the MLflow store contains the key.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from jquants_testkit import API_KEY

from gogooku3.data.jquants.server import JQuantsLoopbackServer

ROOT = Path(__file__).resolve().parents[3]
START, END = "2021-01-01", "2022-06-30"


@pytest.mark.slow
def test_train_with_jquants_twice_fetches_once_and_leaks_no_key(tmp_path):
    from gogooku3.data.synthetic import SyntheticMarketSource

    market = SyntheticMarketSource(n_stocks=40, start=START, end=END, seed=2, extras=True).load()
    outputs = tmp_path / "outputs"
    env = {**os.environ, "JQUANTS_API_KEY": API_KEY, "PROJECT_ROOT": str(ROOT)}
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("JQUANTS_API_BASE", None)
    with JQuantsLoopbackServer(market, API_KEY) as server:
        command = [
            sys.executable, str(ROOT / "train.py"), "data=jquants", "model=lightgbm",
            f"data.base_url={server.url}", f"data.start={START}", f"data.end={END}", "data.plan=null",
            "data.progress=false", f"paths.output_dir={outputs}",
            "split.n_folds=1", "split.test_days=60", "split.valid_days=40", "split.min_train_days=120",
            "model.num_boost_round=30",
        ]
        first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
        assert first.returncode == 0, first.stderr[-3000:]
        requests_after_first = server.requests
        assert requests_after_first > 0
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
        assert second.returncode == 0, second.stderr[-3000:]
        assert server.requests == requests_after_first  # the second run fetched nothing

    assert (outputs / "data" / "jquants" / "manifest.json").exists()
    leaks = [str(p) for p in tmp_path.rglob("*") if p.is_file() and API_KEY.encode() in p.read_bytes()]
    assert leaks == []
    for run in (first, second):
        assert API_KEY not in run.stdout and API_KEY not in run.stderr
