"""What to change to get past a failed check: the setting that decides it, and a value that would.

Each check names the ``quality`` key holding its threshold (and whether the run must stay
below or above it), the correction key that lets ``quality=lenient`` quarantine or fix the
rows instead, and any other setting that changes the decision (``data.calendar``, ``data.end``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gogooku3.quality.evidence import Evidence
from gogooku3.quality.report import GateReport, RuleResult


@dataclass(frozen=True)
class Hint:
    key: str | None  # quality.<key> holding the threshold
    direction: str = "max"  # max: observed must stay <= key; min: >= key; one_minus_min: key >= 1 - observed
    fix: str | None = None  # quality.<fix>=true corrects/quarantines instead of failing
    also: str = ""  # other settings that change the decision


CORRECT = "quarantine_bad_rows"
FIX_VERBS = {"winsorize_features": "winsorize", "inf_to_null": "null the infinities",
             "fill_null_adjustment": "read null factors as 1.0"}
HINTS: dict[str, Hint] = {
    "quotes_schema": Hint(None, also="fix the file's columns (README 'Bring your own data'): no quality setting "
                                     "accepts a missing column or a wrong type"),
    "listed_schema": Hint(None, also="fix the listed-info file's columns (README 'Bring your own data')"),
    "duplicate_keys": Hint("max_duplicate_ratio", fix="correct_duplicates"),
    "off_calendar": Hint("max_off_calendar_ratio", fix=CORRECT,
                         also="data.calendar=infer|none|<exchange code> to judge the dates against another calendar"),
    "impossible_bar": Hint("max_bad_bar_ratio", fix=CORRECT),
    "negative_volume": Hint("max_negative_volume_ratio", fix=CORRECT),
    "null_price_with_trade": Hint("max_null_price_trade_ratio", fix=CORRECT),
    "invalid_adjustment": Hint("max_invalid_adjustment_ratio", fix="fill_null_adjustment",
                               also="or leave AdjustmentFactor out of the file (absent = 1.0, no corporate actions)"),
    "unexplained_jump": Hint("max_unexplained_jump_ratio", also="or a larger quality.max_abs_daily_return"),
    "stale_bar": Hint("max_stale_ratio"),
    "listed_coverage": Hint("max_unlisted_code_ratio", also="or quality.require_listed=false"),
    "timeliness": Hint("max_lag_days", also="or data.end=<the newest date> if the data is meant to stop there"),
    "no_duplicates_left": Hint(None, fix="correct_duplicates"),
    "split_adjustment": Hint("max_adjustment_inconsistent_ratio"),
    "column_completeness": Hint("max_missing_ratio",
                                also="or leave the column out of quality.completeness_columns"),
    "date_completeness": Hint("max_missing_ratio", direction="one_minus_min",
                              also="or data.calendar=infer if these dates are holidays of the market"),
    "stock_completeness": Hint("max_missing_ratio", direction="one_minus_min", fix="drop_incomplete_stocks"),
    "feature_missing": Hint("max_feature_missing_ratio",
                            also="or drop the feature's group from the feature set"),
    "feature_infinite": Hint("max_inf_ratio", fix="inf_to_null"),
    "feature_constant": Hint("min_feature_std", direction="min", also="or drop the feature's group"),
    "feature_extreme": Hint("max_outlier_share", fix="winsorize_features",
                            also="or quality.extreme_check_exempt=[<feature>]"),
    "metrics_finite": Hint(None, also="check the model and data: a metric came out NaN or infinite"),
    "metrics_present": Hint("required_metrics", direction="list"),
    "predictions_finite": Hint("min_finite_prediction_ratio", direction="min"),
    "prediction_spread": Hint("min_prediction_std", direction="min"),
    "prediction_collapsed_dates": Hint("max_collapsed_date_ratio"),
    "one_row_per_key": Hint(None, also="the model produced two predictions for one (Code, Date)"),
    "predictions_nonempty": Hint(None, also="no predictions: check split.test_days and the data's range"),
    "all_horizons": Hint("min_finite_prediction_ratio", direction="one_minus_max"),
    "plausible_range": Hint("max_abs_prediction", direction="list"),
}


def hint_for(result: RuleResult, evidence: Evidence, report: GateReport, levels: dict[str, dict],
             calendar_name: str | None = None) -> str:
    """``-> to accept: quality.<key>=<value>, ..., or quality=lenient ...`` for a failed result."""
    hint = HINTS.get(result.check)
    if hint is None:
        return ""
    worst = _worst(result, evidence, hint.direction)
    options = []
    if hint.key is not None:
        value = _suggest(worst, hint.direction)
        options.append(f"quality.{hint.key}={value}" if value is not None else f"quality.{hint.key}")
    also = hint.also
    if result.check == "off_calendar" and calendar_name:
        also += f" (now data.calendar={calendar_name})"
    if also:
        options.append(also)
    refused = [c for c in report.corrections if c.action == "refused"]
    if hint.fix and refused:
        options.append(f"quality.max_quarantine_ratio={_up(refused[0].count / max(report.rows_in, 1))} "
                       f"to let the {refused[0].count} rows be quarantined")
    lenient = levels.get("lenient", {})
    if hint.fix and lenient.get(hint.fix) and not refused:
        options.append(f"quality=lenient to {FIX_VERBS.get(hint.fix, 'quarantine')} and go on")
    elif hint.key and hint.key in lenient and _accepts(lenient[hint.key], worst, hint.direction):
        options.append(f"quality=lenient (its {hint.key}={lenient[hint.key]})")
    if not options:
        return ""
    head = "-> to accept: " if hint.key or hint.fix else "-> "
    text = ", ".join(options[:-1]) + (", or " if len(options) > 1 else "") + options[-1]
    return head + text


def _worst(result: RuleResult, evidence: Evidence, direction: str) -> float | None:
    """The observed figure furthest past the threshold: the value itself, or the worst evidence row."""
    if isinstance(result.observed, (int, float)) and not isinstance(result.observed, bool):
        return float(result.observed)
    rule = next((r for r in evidence.rules if r.check == result.check and r.table == result.table), None)
    table = evidence.tables.get(result.table)
    if rule is None or table is None or rule.column not in table.columns or not table.height:
        return None
    column = table.get_column(rule.column)
    if not column.dtype.is_numeric():
        return None
    column = column.drop_nulls().filter(column.drop_nulls().is_finite()) if column.dtype.is_float() \
        else column.drop_nulls()
    if column.is_empty():
        return None
    return float(column.min() if direction in ("min", "one_minus_min") else column.max())


def _suggest(worst: float | None, direction: str) -> str | None:
    if worst is None or direction == "list":
        return None
    if direction == "one_minus_min":
        return _up(1.0 - worst)
    if direction == "one_minus_max":
        return _down(1.0 - worst)
    return _up(worst) if direction == "max" else _down(worst)


def _accepts(threshold: float, worst: float | None, direction: str) -> bool:
    if worst is None or not isinstance(threshold, (int, float)):
        return False
    if direction == "max":
        return worst <= threshold
    if direction == "min":
        return worst >= threshold
    if direction == "one_minus_min":
        return 1.0 - worst <= threshold
    return False


def _up(x: float) -> str:
    """``x`` rounded up to two significant digits (an integer stays an integer)."""
    if x <= 0:
        return "0"
    if float(x).is_integer():
        return str(int(x))
    scale = 10 ** (math.floor(math.log10(x)) - 1)
    return f"{math.ceil(x / scale - 1e-9) * scale:.2g}"


def _down(x: float) -> str:
    if x <= 0:
        return "0"
    scale = 10 ** (math.floor(math.log10(x)) - 1)
    return f"{math.floor(x / scale + 1e-9) * scale:.2g}"
