from __future__ import annotations

from gogooku3.tracking.report import metrics_table


def test_metrics_table_has_a_row_per_horizon_and_only_present_columns():
    table = metrics_table({"test/rank_ic_h1": 0.031234, "test/rank_ic_h5": 0.02, "test/sharpe_h1": 1.5}, [1, 5])
    lines = table.splitlines()
    assert lines[0] == "| horizon | RankIC | Sharpe |"
    assert lines[2] == "| 1d | 0.0312 | 1.5000 |" and lines[3] == "| 5d | 0.0200 |  |"
