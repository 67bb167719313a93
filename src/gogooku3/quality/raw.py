"""Gate 1: raw quotes as delivered — schema, keys, calendar, bar sanity, moves, coverage, timeliness."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import polars as pl

from gogooku3.quality.config import QualityConfig
from gogooku3.quality.evidence import Evidence, Rule
from gogooku3.quality.frames import previous, same_code_as_previous, sort_by_code_date
from gogooku3.quality.prices import price_jumps
from gogooku3.quality.quarantine import CHECK, REASON
from gogooku3.quality.report import Correction
from gogooku3.quality.schema_check import schema_ok, schema_rule, schema_table
from gogooku3.quality.timeliness import timeliness_evidence
from gogooku3.schema import LISTED_COLUMNS, LISTED_REQUIRED, QUOTE_COLUMNS, QUOTE_REQUIRED

PRICES = ("Open", "High", "Low", "Close")


@dataclass
class RowOutcome:
    """What a gate did to a table: the rows kept, quarantined rows and the corrections."""

    kept: pl.DataFrame
    quarantined: list[pl.DataFrame] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)


# check name -> (config key of its threshold, config key allowing the fix, what it means)
ROW_CHECKS: dict[str, tuple[str, str, str]] = {
    "duplicate_keys": ("max_duplicate_ratio", "correct_duplicates",
                       "share of rows repeating an earlier (Code, Date)"),
    "off_calendar": ("max_off_calendar_ratio", "quarantine_bad_rows",
                     "share of rows dated off the trading calendar"),
    "impossible_bar": ("max_bad_bar_ratio", "quarantine_bad_rows",
                       "share of rows breaking Low <= Open, Close <= High or with non-positive prices"),
    "negative_volume": ("max_negative_volume_ratio", "quarantine_bad_rows",
                        "share of rows with negative Volume or TurnoverValue"),
    "null_price_with_trade": ("max_null_price_trade_ratio", "quarantine_bad_rows",
                              "share of rows with a null price but non-zero trading"),
}


def row_reasons(quotes: pl.DataFrame, calendar: pl.Series) -> pl.DataFrame:
    """Per row of sorted quotes, the first correctable check it fails and why (null when clean).

    Adds ``quarantine_check`` and ``quarantine_reason``; duplicates keep their first
    occurrence in delivery order (the sort is stable). Conditions are evaluated on
    every row as booleans; reason strings are built only for the offending rows.
    """
    o, h, lo, c = (pl.col(k) for k in PRICES)
    turnover = pl.col("TurnoverValue") if "TurnoverValue" in quotes.columns else pl.lit(None, pl.Float64)
    traded = (pl.col("Volume").fill_null(0) > 0) | (turnover.fill_null(0) > 0)
    bar_parts = [
        (h < lo, "High < Low"),
        ((o < lo) | (o > h), "Open outside [Low, High]"),
        ((c < lo) | (c > h), "Close outside [Low, High]"),
        (pl.any_horizontal([p <= 0 for p in (o, h, lo, c)]), "non-positive price"),
        (pl.any_horizontal([p.is_nan() for p in (o, h, lo, c)]), "NaN price"),
    ]
    negative_parts = [(pl.col("Volume") < 0, "negative Volume"), (turnover < 0, "negative TurnoverValue")]
    flags = {
        "duplicate_keys": same_code_as_previous() & (pl.col("Date") == pl.col("Date").shift(1)).fill_null(False),
        "off_calendar": ~pl.col("Date").is_in(calendar.implode()),
        "impossible_bar": pl.any_horizontal([cond.fill_null(False) for cond, _ in bar_parts]),
        "negative_volume": pl.any_horizontal([cond.fill_null(False) for cond, _ in negative_parts]),
        "null_price_with_trade": pl.any_horizontal([p.is_null() for p in (o, h, lo, c)]) & traded,
    }
    marked = quotes.with_columns(cond.fill_null(False).alias(f"_{name}") for name, cond in flags.items())
    bad = marked.select(pl.any_horizontal(f"_{name}" for name in flags)).to_series()
    indices = bad.arg_true()
    if not indices.len():
        return quotes.with_columns(pl.lit(None, pl.String).alias(CHECK), pl.lit(None, pl.String).alias(REASON))
    check = pl.repeat(None, quotes.height, dtype=pl.String, eager=True).alias(CHECK)
    reason = pl.repeat(None, quotes.height, dtype=pl.String, eager=True).alias(REASON)
    if indices.len():
        rows = marked[indices]
        text = {
            "duplicate_keys": pl.lit("duplicate (Code, Date); first row kept"),
            "off_calendar": pl.lit("Date is not a trading session"),
            "impossible_bar": _joined(bar_parts),
            "negative_volume": _joined(negative_parts),
            "null_price_with_trade": pl.lit("null price on a day with trading"),
        }
        which, why = pl.lit(None, pl.String), pl.lit(None, pl.String)
        for name in reversed(list(flags)):
            which = pl.when(pl.col(f"_{name}")).then(pl.lit(name)).otherwise(which)
            why = pl.when(pl.col(f"_{name}")).then(text[name]).otherwise(why)
        found = rows.select(which.alias(CHECK), why.alias(REASON))
        check = check.scatter(indices, found[CHECK])
        reason = reason.scatter(indices, found[REASON])
    return quotes.with_columns(check, reason)


def _joined(parts: list[tuple[pl.Expr, str]]) -> pl.Expr:
    return pl.concat_str([pl.when(cond).then(pl.lit(text)) for cond, text in parts], separator="; ",
                         ignore_nulls=True)


def correct_rows(flagged: pl.DataFrame, cfg: QualityConfig, allowed: dict[str, bool]) -> RowOutcome:
    """Quarantine flagged rows of the checks whose fix is allowed, within max_quarantine_ratio."""
    fixable = [name for name, ok in allowed.items() if ok]
    if flagged[CHECK].null_count() == flagged.height:
        return RowOutcome(kept=flagged)
    to_move = pl.col(CHECK).is_in(fixable).fill_null(False)
    n_move = flagged.select(to_move.sum()).item() if fixable else 0
    if not n_move:
        return RowOutcome(kept=flagged)
    if n_move > cfg.max_quarantine_ratio * flagged.height:
        return RowOutcome(kept=flagged, corrections=[Correction(
            check="quarantine", action="refused", count=int(n_move),
            reason=f"{n_move} rows would be quarantined, more than "
                   f"max_quarantine_ratio={cfg.max_quarantine_ratio:g} of {flagged.height}",
        )])
    moved = flagged.filter(to_move)
    counts = moved.group_by(CHECK).len().sort(CHECK)
    corrections = [
        Correction(check=row[CHECK], action="quarantined", count=int(row["len"]),
                   reason=ROW_CHECKS[row[CHECK]][2])
        for row in counts.iter_rows(named=True)
    ]
    return RowOutcome(kept=flagged.filter(~to_move), quarantined=[moved], corrections=corrections)


def check_raw(
    quotes: pl.DataFrame,
    listed: pl.DataFrame | None,
    calendar: pl.Series,
    expected: date | None,
    cfg: QualityConfig,
) -> tuple[Evidence, RowOutcome | None]:
    """Build gate 1's evidence; returns no outcome when the schema is too broken to go on."""
    ev = Evidence()
    schema = schema_table(quotes, QUOTE_COLUMNS, QUOTE_REQUIRED)
    ev.add("quotes_schema", schema, [schema_rule("quotes_schema", "quotes_schema", "quotes")])
    if listed is not None:
        lschema = schema_table(listed, LISTED_COLUMNS, LISTED_REQUIRED)
        ev.add("listed_schema", lschema, [schema_rule("listed_schema", "listed_schema", "listed info")])
    if not schema_ok(schema) or (listed is not None and not schema_ok(lschema)):
        ev.notes.append("schema is wrong: row-level checks skipped")
        return ev, None

    if "AdjustmentFactor" not in quotes.columns:
        quotes = quotes.with_columns(pl.lit(1.0).alias("AdjustmentFactor"))
    flagged = row_reasons(sort_by_code_date(quotes), calendar)
    allowed = {name: getattr(cfg, fix) for name, (_, fix, _) in ROW_CHECKS.items()}
    outcome = correct_rows(flagged, cfg, allowed)
    kept = outcome.kept
    n = max(kept.height, 1)

    summary: dict[str, float] = {}
    rules: list[Rule] = []
    still_bad = kept.filter(pl.col(CHECK).is_not_null()) if kept[CHECK].null_count() < kept.height else kept.clear()
    for name, (threshold, _, meaning) in ROW_CHECKS.items():
        bad = still_bad.filter(pl.col(CHECK) == name)
        summary[f"{name}_ratio"] = bad.height / n
        dim = "consistency" if name in ("duplicate_keys", "off_calendar") else "accuracy"
        rules.append(_max_rule(name, f"{name}_ratio", dim, getattr(cfg, threshold), meaning))
        cols = ["Code", "Date", *[c for c in _columns_for(name) if c in kept.columns], REASON]
        ev.sample(name, bad.select(cols), cfg.sample_rows)

    ordered = kept.drop(CHECK, REASON)
    af = pl.col("AdjustmentFactor")
    is_bad_af = af.is_null() | af.is_nan() | (af <= 0)
    same = pl.all_horizontal([pl.col(k) == previous(pl.col(k)) for k in (*PRICES, "Volume")])
    is_stale = same.fill_null(False) & (pl.col("Volume") > 0)
    n_bad_af, n_stale = ordered.select(is_bad_af.sum(), is_stale.sum()).row(0)
    bad_af = ordered.filter(is_bad_af) if n_bad_af else ordered.clear()
    summary["invalid_adjustment_ratio"] = bad_af.height / n
    rules.append(_max_rule("invalid_adjustment", "invalid_adjustment_ratio", "accuracy",
                           cfg.max_invalid_adjustment_ratio,
                           "share of rows whose AdjustmentFactor is null, NaN or not positive"))
    ev.sample("invalid_adjustment", bad_af.select("Code", "Date", "AdjustmentFactor"), cfg.sample_rows)

    moves = price_jumps(ordered, max_abs_return=cfg.max_abs_daily_return,
                        limit_multiplier=cfg.price_limit_multiplier, limit_tolerance=cfg.limit_move_tolerance)
    jumps = moves.filter(~pl.col("split") & ~pl.col("limit_move"))
    summary["unexplained_jump_ratio"] = jumps.height / n
    rules.append(_max_rule(
        "unexplained_jump", "unexplained_jump_ratio", "accuracy", cfg.max_unexplained_jump_ratio,
        f"share of rows moving more than {cfg.max_abs_daily_return:g} without a split or a limit move"))
    ev.sample("unexplained_jump", jumps.select("Code", "Date", "prev_close", "Close", "move"), cfg.sample_rows)

    stale = ordered.filter(is_stale) if n_stale else ordered.clear()
    summary["stale_ratio"] = stale.height / n
    rules.append(_max_rule("stale_bar", "stale_ratio", "timeliness", cfg.max_stale_ratio,
                           "share of traded rows repeating the previous bar exactly (a stuck feed)"))
    ev.sample("stale_bar", stale.select("Code", "Date", "Close", "Volume"), cfg.sample_rows)

    codes = ordered.select(pl.col("Code").unique())
    if listed is not None:
        unlisted = codes.join(listed.select("Code"), on="Code", how="anti").sort("Code")
        summary["unlisted_code_ratio"] = unlisted.height / max(codes.height, 1)
        rules.append(_max_rule("listed_coverage", "unlisted_code_ratio", "completeness", cfg.max_unlisted_code_ratio,
                               "share of quoted codes without listed info"))
        ev.sample("listed_coverage", unlisted, cfg.sample_rows)
    elif cfg.require_listed:
        summary["listed_present"] = 0.0
        rules.append(Rule(check="listed_coverage", table="summary", column="listed_present",
                          kind="between", dimension="completeness", min_value=1.0,
                          description="listed info must be delivered (quality.require_listed)"))
    else:
        ev.notes.append("no listed info: listed coverage not checked")
    ev.add("summary", pl.DataFrame([summary]), rules)

    newest = ordered["Date"].max() if ordered.height else None
    table, trules = timeliness_evidence(calendar, newest, expected, cfg.max_lag_days)
    ev.add("timeliness", table, trules)
    ev.sample("timeliness", table.select("newest_date", "expected_date"), 1)
    outcome.kept = kept.drop(CHECK, REASON)
    return ev, outcome


def _max_rule(check: str, column: str, dimension: str, max_value: float, description: str) -> Rule:
    return Rule(check=check, table="summary", column=column, kind="between", dimension=dimension,
                min_value=0.0, max_value=max_value, description=description)


def _columns_for(check: str) -> tuple[str, ...]:
    return {
        "impossible_bar": PRICES,
        "negative_volume": ("Volume", "TurnoverValue"),
        "null_price_with_trade": ("Close", "Volume"),
    }.get(check, ())
