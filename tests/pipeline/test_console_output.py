"""What a researcher sees: `train.py` prints a few lines, each once, ending with the summary."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.helpers import SMALL, mlflow_runs, run_cli

HORIZONS = (1, 5, 10, 20)
LOG_PREFIX = re.compile(r"^(\[[^\]]*\]\[[^\]]*\]\[[A-Z]+\] |[A-Z]+: |\d{4}/\d\d/\d\d [\d:]+ [A-Z]+ \S+: )")


def _messages(lines: list[str]) -> list[str]:
    """Lines without their logging prefix, so a line printed by two handlers shows as a duplicate."""
    return [LOG_PREFIX.sub("", line).strip() for line in lines if line.strip()]


def _assert_no_duplicates(lines: list[str]) -> None:
    repeated = [m for m, n in Counter(_messages(lines)).items() if n > 1]
    assert not repeated, repeated


@pytest.mark.slow
def test_train_prints_a_short_log_ending_with_the_summary(tmp_path):
    env = {"GOGOOKU3_PROGRESS": ""}
    result = run_cli("train.py", SMALL, tmp_path, **env)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = (result.stdout + result.stderr).splitlines()
    assert len(lines) <= 40, "\n".join(lines)
    text = "\n".join(lines)
    assert "great_expectations" not in text and "Skipping registering" not in text
    assert "database tables" not in text  # MLflow's migrations on a fresh store
    _assert_no_duplicates(lines)

    run = mlflow_runs(tmp_path).iloc[0]
    out = result.stdout.splitlines()
    header = next(i for i, line in enumerate(out) if line.startswith("horizon"))
    for name in ("RankIC", "ICIR", "t-stat", "Sharpe gross", "Sharpe net", "Return gross", "Return net",
                 "Turnover", "Oracle share"):  # fmt: skip
        assert name in out[header]
    rows = {line.split()[0]: line.split() for line in out[header + 2 : header + 2 + len(HORIZONS)]}
    assert sorted(rows) == sorted(f"h{h}" for h in HORIZONS)
    for h in HORIZONS:  # the printed RankIC is the logged one
        assert rows[f"h{h}"][1] == f"{run[f'metrics.test/rank_ic_h{h}']:.4f}"
    url = f"http://127.0.0.1:5000/#/experiments/{run.experiment_id}/runs/{run.run_id}"
    assert out[-2].endswith(url)
    assert out[-1].endswith(f"make mlflow-ui MLFLOW_DB={tmp_path}/mlflow.db")
    assert lines[-1] == out[-1]  # nothing after the summary, on either stream


@pytest.mark.slow
def test_atft_shows_one_line_per_epoch_and_no_library_chatter(tmp_path):
    overrides = [
        "model=atft", "data.n_stocks=30", "data.start=2021-06-01", "data.end=2022-06-30", "split.n_folds=1",
        "split.test_days=20", "split.valid_days=20", "split.min_train_days=100", "quality=off",
        "trainer.max_epochs=2", "model.early_stopping_patience=0", "model.data.train_dates_per_epoch=8",
        "model.hidden_size=8", "model.attention_heads=2", "model.gat.heads=2", "model.graph.window=60",
        "horizons=[1,5]", "tracking.log_model=false",
    ]  # fmt: skip
    result = run_cli("train.py", overrides, tmp_path, GOGOOKU3_PROGRESS="")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = (result.stdout + result.stderr).splitlines()
    text = "\n".join(lines)
    epochs = [line for line in lines if re.search(r"ATFT fold 0 epoch \d/2: ", line)]
    assert len(epochs) == 2 and "val/rank_ic_h1" in epochs[-1], text
    for chatter in ("Tip", "litlogger", "GPU available", "Epoch 0:", "Validation DataLoader", "it/s"):
        assert chatter not in text, chatter
    _assert_no_duplicates(lines)
    assert len(lines) <= 40, text
