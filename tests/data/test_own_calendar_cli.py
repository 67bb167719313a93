"""Users' own data end to end through `train.py data=parquet data.path=...`.

(a) a market on its own holiday calendar trains under default settings (calendar=infer)
    and stops at gate 1 naming ``data.calendar`` when judged against XTKS;
(b) a close-only US-like file from 1990 (Code, Date, Close) trains under default settings;
(c) the quality gates' corrupted-input corpus through data=parquet: stopped by its gate
    under quality=default, run with rows in = rows out + quarantined under lenient, run
    under off. (c) runs in-process through the compose API (a subprocess per case would
    cost the interpreter and import start-up 21 times).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from gogooku3.data.calendar import sessions_series
from gogooku3.data.synthetic import generate_market
from tests.helpers import ROOT, mlflow_runs, run_cli
from tests.quality.builders import make_market
from tests.quality.test_gates import (
    duplicate_rows,
    half_the_days,
    high_below_low,
    negative_volume,
    off_calendar_date,
    stopped_a_week_ago,
    tenfold_jump,
)

SMALL_RUN = ["split.n_folds=1", "split.test_days=40", "split.valid_days=30", "split.min_train_days=100",
             "model.num_boost_round=30", "model.params.num_threads=1", "quality.data_docs=false",
             "tracking.log_model=false"]


@pytest.fixture(scope="module")
def synthetic():
    return generate_market(n_stocks=40, start="2021-01-01", end="2022-06-30", seed=3)


def _redate(quotes: pl.DataFrame, old: pl.Series, new: pl.Series) -> pl.DataFrame:
    mapping = pl.DataFrame({"Date": old, "_new": new.head(old.len())})
    return quotes.join(mapping, on="Date").with_columns(pl.col("_new").alias("Date")).drop("_new") \
        .select(quotes.columns).sort("Code", "Date")


def own_calendar_file(synthetic, path: Path) -> Path:
    """The synthetic quotes re-dated onto weekdays minus scattered holidays of their own (2015-)."""
    days = pl.date_range(date(2015, 1, 5), date(2017, 12, 29), "1d", eager=True)
    weekdays = days.filter(days.dt.weekday() <= 5)
    own = weekdays.filter(pl.int_range(weekdays.len(), eager=True) % 29 != 7)  # every 29th weekday off
    _redate(synthetic.quotes, synthetic.calendar, own).write_parquet(path)
    return path


def close_only_us_file(synthetic, path: Path) -> Path:
    """Split-adjusted closes only (Code, Date, Close) on NYSE sessions from 1990-01-02."""
    adjusted = synthetic.quotes.with_columns(
        (pl.col("Close") / pl.col("AdjustmentFactor").fill_null(1.0).cum_prod().over("Code")).alias("Close"))
    nyse = sessions_series("1990-01-02", "1992-12-31", "XNYS")
    _redate(adjusted, synthetic.calendar, nyse).select("Code", "Date", "Close").write_parquet(path)
    return path


@pytest.fixture(scope="module")
def own_file(synthetic, tmp_path_factory):
    return own_calendar_file(synthetic, tmp_path_factory.mktemp("own") / "own.parquet")


@pytest.mark.slow
def test_own_holiday_calendar_trains_with_infer(tmp_path, own_file):
    outputs = tmp_path / "out"
    result = run_cli("train.py", ["data=parquet", f"data.path={own_file}", *SMALL_RUN], outputs)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "data.calendar=infer:" in result.stdout + result.stderr
    run = mlflow_runs(outputs).iloc[0]
    assert run["tags.calendar"] == "infer"


@pytest.mark.slow
def test_own_holiday_calendar_stops_at_gate_1_under_xtks_naming_data_calendar(tmp_path, own_file):
    stopped = run_cli("train.py", ["data=parquet", f"data.path={own_file}", "data.calendar=XTKS", *SMALL_RUN],
                      tmp_path / "xtks")
    assert stopped.returncode == 2, stopped.stderr[-3000:]
    line = stopped.stderr.strip().splitlines()[-1]
    assert line.startswith("gogooku3: error: quality gate 'raw'") and "off_calendar" in line
    assert "data.calendar=" in line and "now data.calendar=XTKS" in line


@pytest.mark.slow
def test_close_only_us_file_from_1990_trains(tmp_path, synthetic):
    path = close_only_us_file(synthetic, tmp_path / "us.parquet")
    outputs = tmp_path / "out"
    result = run_cli("train.py", ["data=parquet", f"data.path={path}", *SMALL_RUN], outputs)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "need column(s) absent from the data" in result.stdout + result.stderr
    run = mlflow_runs(outputs).iloc[0]
    assert run["tags.calendar"] == "infer" and run["metrics.test/rank_ic_h1"] == run["metrics.test/rank_ic_h1"]


# --- (c) the corrupted-input corpus through data=parquet, in-process -----------------------

# (corruption, gate it belongs to, failing check, extra overrides)
CORPUS = [
    (duplicate_rows, "raw", "duplicate_keys", []),
    (high_below_low, "raw", "impossible_bar", []),
    (negative_volume, "raw", "negative_volume", []),
    (tenfold_jump, "raw", "unexplained_jump", []),
    (off_calendar_date, "raw", "off_calendar", []),
    (half_the_days, "processed", "stock_completeness", []),
    (stopped_a_week_ago, "raw", "timeliness", ["data.end=2021-12-30"]),
]


@pytest.fixture(scope="module")
def corpus_files(tmp_path_factory):
    """Each corruption of the quality tests' market written as the user's parquet (plus listed info)."""
    base = make_market()
    folder = tmp_path_factory.mktemp("corpus")
    listed = folder / "listed.parquet"
    base.listed.write_parquet(listed)
    files = {}
    for corrupt, *_ in CORPUS:
        files[corrupt.__name__] = folder / f"{corrupt.__name__}.parquet"
        corrupt(base).quotes.write_parquet(files[corrupt.__name__])
    return files, listed


def _run_in_process(path: Path, listed: Path, level: str, extra: list[str], run_dir: Path) -> dict[str, float]:
    """One run; every run shares the MLflow store beside ``listed`` (creating one costs seconds)."""
    from hydra import compose, initialize_config_dir

    from gogooku3.pipeline.experiment import run_experiment

    overrides = ["data=parquet", f"data.path={path}", f"data.listed_path={listed}", f"quality={level}",
                 *SMALL_RUN, *extra, f"paths.output_dir={listed.parent / 'outputs'}"]
    os.environ.setdefault("PROJECT_ROOT", str(ROOT))
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=overrides)
    return run_experiment(cfg, run_dir, overrides).metrics


def _ids(value):
    return getattr(value, "__name__", None)


@pytest.mark.slow
@pytest.mark.parametrize(("corrupt", "gate", "check", "extra"), CORPUS, ids=_ids)
def test_corpus_through_parquet_is_stopped_quarantined_or_run(corpus_files, tmp_path, corrupt, gate, check, extra):
    from gogooku3.quality import QualityGateError

    files, listed = corpus_files
    path = files[corrupt.__name__]
    with pytest.raises(QualityGateError) as info:
        _run_in_process(path, listed, "default", extra, tmp_path / "default")
    message = str(info.value)
    assert info.value.gate == gate and f"quality gate '{gate}'" in message and check in message
    assert "-> " in message and "\n" not in message

    metrics = _run_in_process(path, listed, "lenient", extra, tmp_path / "lenient")
    assert metrics["quality/rows_in"] == metrics["quality/rows_out"] + metrics["quality/rows_quarantined"]
    assert metrics["quality/rows_in"] == pl.read_parquet(path).height
    assert metrics["test/rank_ic_h1"] == metrics["test/rank_ic_h1"]

    metrics = _run_in_process(path, listed, "off", extra, tmp_path / "off")
    assert "quality/rows_in" not in metrics and metrics["test/rank_ic_h1"] == metrics["test/rank_ic_h1"]
