"""The run summary: a row per horizon, '-' for what a run did not log, where the run is."""

from __future__ import annotations

from pathlib import Path

from gogooku3.tracking.summary import (
    RunInfo,
    format_value,
    horizons_of,
    markdown_table,
    results_table,
    run_summary,
    ui_command,
    ui_url,
)

METRICS = {
    "test/rank_ic_h1": 0.0368, "test/rank_icir_h1": 0.254, "test/rank_ic_tstat_h1": 2.51,
    "test/sharpe_h1": -1.234, "test/gross_sharpe_h1": 0.8, "test/annual_return_h1": -0.65,
    "test/gross_annual_return_h1": 0.12, "test/turnover_h1": 0.4512, "test/oracle_capture_h1": 0.512,
    "test/rank_ic_h5": -0.01, "val/rank_ic_h1": 0.05, "test/rank_ic_h1_extra": 1.0,
}  # fmt: skip


def _rows(text: str) -> dict[str, list[str]]:
    lines = text.splitlines()
    return {"header": lines[0].split("  "), **{line.split()[0]: line.split() for line in lines[2:]}}


def test_horizons_from_test_rank_ic_only():
    assert horizons_of(METRICS) == [1, 5]


def test_table_values_and_missing_metrics():
    rows = _rows(results_table(METRICS))
    assert rows["h1"] == ["h1", "0.0368", "0.25", "2.51", "0.80", "-1.23", "12.0%", "-65.0%", "0.45", "51.2%"]
    # h5 has only a RankIC: every other cell is '-', including the gross ones another module adds
    assert rows["h5"] == ["h5", "-0.0100", *["-"] * 8]


def test_table_headers_and_oracle_column_only_on_synthetic_data():
    text = results_table(METRICS)
    for header in ("RankIC", "ICIR", "t-stat", "Sharpe gross", "Sharpe net", "Return gross", "Return net",
                   "Turnover", "Oracle share"):  # fmt: skip
        assert header in text.splitlines()[0]
    no_oracle = {k: v for k, v in METRICS.items() if "oracle" not in k}
    assert "Oracle share" not in results_table(no_oracle)


def test_explicit_horizons_keep_absent_ones():
    rows = _rows(results_table({"test/rank_ic_h1": 0.1}, [1, 20]))
    assert rows["h20"] == ["h20", *["-"] * 8]


def test_format_value_edge_cases():
    assert format_value(float("nan"), "ic") == "-"
    assert format_value(None, "pct") == "-"
    assert format_value(float("inf"), "ratio") == "inf"
    assert format_value(-0.6543, "pct") == "-65.4%"


def test_ui_url_and_command(tmp_path: Path):
    default_db = tmp_path / "outputs" / "mlflow.db"
    info = RunInfo("abc123", "7", f"sqlite:///{default_db}", METRICS)
    assert ui_url(info) == "http://127.0.0.1:5000/#/experiments/7/runs/abc123"
    assert ui_command(info.tracking_uri, default_db) == "make mlflow-ui"
    other = tmp_path / "elsewhere.db"
    assert ui_command(f"sqlite:///{other}", default_db) == f"make mlflow-ui MLFLOW_DB={other}"
    assert ui_command("http://mlflow.internal:8080") is None
    served = RunInfo("abc123", "7", "http://mlflow.internal:8080/", {})
    assert ui_url(served) == "http://mlflow.internal:8080/#/experiments/7/runs/abc123"
    assert "secret" not in ui_command("postgresql://user:secret@db/mlflow")


def test_run_summary_ends_with_url_and_command(tmp_path: Path):
    db = tmp_path / "mlflow.db"
    text = run_summary(RunInfo("abc123", "1", f"sqlite:///{db}", METRICS), [1, 5], default_db=db)
    lines = text.splitlines()
    assert "abc123" in lines[0]
    assert lines[-2].endswith("http://127.0.0.1:5000/#/experiments/1/runs/abc123")
    assert lines[-1].endswith("make mlflow-ui")


def test_markdown_table_matches_text_table():
    md = markdown_table(METRICS).splitlines()
    assert md[0].startswith("| horizon | RankIC |") and md[1].startswith("|---|---:|")
    assert md[2] == "| h1 | 0.0368 | 0.25 | 2.51 | 0.80 | -1.23 | 12.0% | -65.0% | 0.45 | 51.2% |"
