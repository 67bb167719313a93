from __future__ import annotations

from gogooku3.tracking.description import run_description

METRICS = {
    "test/rank_ic_h1": 0.0165, "test/rank_icir_h1": 0.0912, "test/rank_ic_tstat_h1": 1.234,
    "test/gross_sharpe_h1": 1.5, "test/sharpe_h1": -2.25, "test/gross_annual_return_h1": 0.12,
    "test/annual_return_h1": -0.655, "test/turnover_h1": 0.8, "test/oracle_capture_h1": 0.25,
    "test/rank_ic_h5": 0.02, "test/sharpe_h5": float("nan"), "val/rank_ic_h1": 0.031, "val/rank_ic_h5": 0.0456,
    "val/rank_ic_h10": 0.5,
}  # fmt: skip


def test_table_has_one_row_per_horizon_with_formatted_values():
    text = run_description(METRICS, [1, 5], {"data": "synthetic", "model": "lightgbm"}, cost_bps=10.0)
    assert "h10" not in text  # only the run's horizons, in horizon order
    lines = text.splitlines()
    assert lines[0] == "**data** `synthetic` · **model** `lightgbm`"
    header = next(line for line in lines if line.startswith("| horizon"))
    assert header == ("| horizon | RankIC | ICIR | t-stat | Sharpe gross | Sharpe net | Return gross | "
                      "Return net | Turnover | Oracle share |")  # fmt: skip
    rows = [line for line in lines if line.startswith("| h1 ") or line.startswith("| h5 ")]
    assert rows[0] == "| h1 | 0.0165 | 0.09 | 1.23 | 1.50 | -2.25 | 12.0% | -65.5% | 0.80 | 25.0% |"
    # Missing and NaN values are a dash, never "nan".
    assert rows[1] == "| h5 | 0.0200 | - | - | - | - | - | - | - | - |"
    assert "10 bps per side" in text and "`val/rank_ic_h1` 0.0310, `val/rank_ic_h5` 0.0456" in text


def test_oracle_column_only_when_an_oracle_was_scored():
    real = {k: v for k, v in METRICS.items() if "oracle" not in k}
    text = run_description(real, [1])
    assert "Oracle" not in text and "bps" not in text
    assert text.splitlines()[0].startswith("| horizon")
    assert text.splitlines()[1] == "|---|" + "---:|" * 8
