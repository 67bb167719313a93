"""Gate 1: raw quotes as delivered — schema, keys, calendar, bar sanity, moves, coverage, timeliness.

The row-level checks are three queries over the sorted quotes, collected together (rows
failing a correctable check, adjustment and stale-bar counts, big moves); only their
small results are looked at in Python. What they establish about the rows passed on
is kept (:class:`RawFindings`) so the processed gate does not scan them again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import polars as pl

from gogooku3.quality.config import QualityConfig
from gogooku3.quality.evidence import Evidence, Rule
from gogooku3.quality.frames import same_code_as_previous, sort_by_code_date
from gogooku3.quality.prices import big_moves, with_limit_moves
from gogooku3.quality.quarantine import CHECK, REASON
from gogooku3.quality.report import Correction
from gogooku3.quality.schema_check import schema_ok, schema_rule, schema_table
from gogooku3.quality.timeliness import timeliness_evidence
from gogooku3.schema import LISTED_COLUMNS, LISTED_REQUIRED, QUOTE_COLUMNS, QUOTE_REQUIRED

PRICES = ("Open", "High", "Low", "Close")


@dataclass(frozen=True)
class RawFindings:
    """What the raw gate found out about exactly the quotes it passed on (``quotes``).

    Sorted by Code, Date; ``duplicates`` are the rows repeating an earlier (Code, Date)
    and ``moves`` the :func:`~gogooku3.quality.prices.price_jumps` of the quotes. Only
    made when raw removed no row, so they hold for ``quotes`` as they are.
    """

    quotes: pl.DataFrame
    duplicates: pl.DataFrame
    moves: pl.DataFrame


@dataclass
class RowOutcome:
    """What a gate did to a table: the rows kept, quarantined rows and the corrections."""

    kept: pl.DataFrame
    quarantined: list[pl.DataFrame] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)
    findings: RawFindings | None = None


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


def _bar_parts() -> list[tuple[pl.Expr, str]]:
    o, h, lo, c = (pl.col(k) for k in PRICES)
    return [
        (h < lo, "High < Low"),
        ((o < lo) | (o > h), "Open outside [Low, High]"),
        ((c < lo) | (c > h), "Close outside [Low, High]"),
        (pl.any_horizontal([p <= 0 for p in (o, h, lo, c)]), "non-positive price"),
        (pl.any_horizontal([p.is_nan() for p in (o, h, lo, c)]), "NaN price"),
    ]


def _turnover(columns: list[str]) -> pl.Expr:
    return pl.col("TurnoverValue") if "TurnoverValue" in columns else pl.lit(None, pl.Float64)


def _negative_parts(columns: list[str]) -> list[tuple[pl.Expr, str]]:
    return [(pl.col("Volume") < 0, "negative Volume"), (_turnover(columns) < 0, "negative TurnoverValue")]


def _row_flags(columns: list[str], calendar: pl.Series, absent: tuple[str, ...] = ()) -> dict[str, pl.Expr]:
    """Per correctable check (``ROW_CHECKS`` order), whether a row of sorted quotes fails it.

    Columns the source did not deliver (``absent``, null throughout) are no evidence:
    comparisons with them are null, hence not failures, and no price is "missing" from them.
    """
    prices = [p for p in PRICES if p not in absent] or ["Close"]
    traded = (pl.col("Volume").fill_null(0) > 0) | (_turnover(columns).fill_null(0) > 0)
    return {
        "duplicate_keys": same_code_as_previous() & (pl.col("Date") == pl.col("Date").shift(1)).fill_null(False),
        "off_calendar": ~pl.col("Date").is_in(calendar.implode()),
        "impossible_bar": pl.any_horizontal([cond.fill_null(False) for cond, _ in _bar_parts()]),
        "negative_volume": pl.any_horizontal([cond.fill_null(False) for cond, _ in _negative_parts(columns)]),
        "null_price_with_trade": pl.any_horizontal([pl.col(p).is_null() for p in prices]) & traded,
    }


def failing_rows(quotes: pl.DataFrame, calendar: pl.Series, absent: tuple[str, ...] = ()) -> pl.LazyFrame:
    """Indices (column ``index``) of the rows of sorted quotes failing any correctable check."""
    flags = _row_flags(quotes.columns, calendar, absent)
    failing = pl.any_horizontal(c.fill_null(False) for c in flags.values())
    return quotes.lazy().select(failing.arg_true().alias("index"))


def row_reasons(quotes: pl.DataFrame, calendar: pl.Series, failing: pl.Series,
                absent: tuple[str, ...] = ()) -> pl.DataFrame:
    """Per row of sorted quotes, the first correctable check it fails and why (null when clean).

    Adds ``quarantine_check`` and ``quarantine_reason``; duplicates keep their first
    occurrence in delivery order (the sort is stable). ``failing`` are the indices from
    :func:`failing_rows`; the per-check flags and reason strings are built only when some
    row fails.
    """
    if not failing.len():
        return quotes.with_columns(pl.lit(None, pl.String).alias(CHECK), pl.lit(None, pl.String).alias(REASON))
    flags = _row_flags(quotes.columns, calendar, absent)
    rows = quotes.with_columns(cond.fill_null(False).alias(f"_{name}") for name, cond in flags.items())[failing]
    text = {
        "duplicate_keys": pl.lit("duplicate (Code, Date); first row kept"),
        "off_calendar": pl.lit("Date is not a trading session"),
        "impossible_bar": _joined(_bar_parts()),
        "negative_volume": _joined(_negative_parts(quotes.columns)),
        "null_price_with_trade": pl.lit("null price on a day with trading"),
    }
    which, why = pl.lit(None, pl.String), pl.lit(None, pl.String)
    for name in reversed(list(flags)):
        which = pl.when(pl.col(f"_{name}")).then(pl.lit(name)).otherwise(which)
        why = pl.when(pl.col(f"_{name}")).then(text[name]).otherwise(why)
    found = rows.select(which.alias(CHECK), why.alias(REASON))
    check = pl.repeat(None, quotes.height, dtype=pl.String, eager=True).alias(CHECK).scatter(failing, found[CHECK])
    reason = pl.repeat(None, quotes.height, dtype=pl.String, eager=True).alias(REASON).scatter(failing, found[REASON])
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
    absent: tuple[str, ...] = (),
) -> tuple[Evidence, RowOutcome | None]:
    """Build gate 1's evidence; returns no outcome when the schema is too broken to go on.

    ``absent``: optional columns the source did not deliver (``MarketData.absent``); the
    checks that need them (bar order, stale bars without Volume) find nothing to judge.
    """
    ev = Evidence()
    if absent:
        ev.notes.append(f"columns absent from the source, not checked: {', '.join(absent)}")
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
    filled: list[Correction] = []
    n_null_af = quotes.get_column("AdjustmentFactor").null_count()
    if cfg.fill_null_adjustment and n_null_af:  # a recorded correction, never a silent default
        quotes = quotes.with_columns(pl.col("AdjustmentFactor").fill_null(1.0))
        filled.append(Correction(check="invalid_adjustment", action="filled", count=int(n_null_af),
                                 reason="null AdjustmentFactor read as 1.0 (no corporate action on that row)"))
    ordered = sort_by_code_date(quotes)
    failing, stats, moves = pl.collect_all([
        failing_rows(ordered, calendar, absent), _order_stats(ordered, cfg.sample_rows),
        big_moves(ordered.lazy(), cfg.max_abs_daily_return),
    ])
    flagged = row_reasons(ordered, calendar, failing.to_series(), absent)
    allowed = {name: getattr(cfg, fix) for name, (_, fix, _) in ROW_CHECKS.items()}
    outcome = correct_rows(flagged, cfg, allowed)
    outcome.corrections[:0] = filled
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
    if outcome.quarantined:  # the checks comparing a row with the previous one must see only the kept rows
        stats, moves = pl.collect_all([
            _order_stats(ordered, cfg.sample_rows), big_moves(ordered.lazy(), cfg.max_abs_daily_return),
        ])
    stats_row = stats.row(0, named=True)
    summary["invalid_adjustment_ratio"] = stats_row["bad_adjustment"] / n
    rules.append(_max_rule("invalid_adjustment", "invalid_adjustment_ratio", "accuracy",
                           cfg.max_invalid_adjustment_ratio,
                           "share of rows whose AdjustmentFactor is null, NaN or not positive"))
    bad_af = _rows(ordered, stats_row["bad_adjustment_rows"])
    ev.sample("invalid_adjustment", bad_af.select("Code", "Date", "AdjustmentFactor"), cfg.sample_rows)

    moves = with_limit_moves(moves, limit_multiplier=cfg.price_limit_multiplier,
                             limit_tolerance=cfg.limit_move_tolerance)
    jumps = moves.filter(~pl.col("split") & ~pl.col("limit_move"))
    summary["unexplained_jump_ratio"] = jumps.height / n
    rules.append(_max_rule(
        "unexplained_jump", "unexplained_jump_ratio", "accuracy", cfg.max_unexplained_jump_ratio,
        f"share of rows moving more than {cfg.max_abs_daily_return:g} without a split or a limit move"))
    ev.sample("unexplained_jump", jumps.select("Code", "Date", "prev_close", "Close", "move"), cfg.sample_rows)

    summary["stale_ratio"] = stats_row["stale"] / n
    rules.append(_max_rule("stale_bar", "stale_ratio", "timeliness", cfg.max_stale_ratio,
                           "share of traded rows repeating the previous bar exactly (a stuck feed)"))
    stale = _rows(ordered, stats_row["stale_rows"])
    ev.sample("stale_bar", stale.select("Code", "Date", "Close", "Volume"), cfg.sample_rows)

    if listed is not None:
        codes = _codes(ordered)
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

    newest = stats_row["newest"] if ordered.height else None
    table, trules = timeliness_evidence(calendar, newest, expected, cfg.max_lag_days)
    ev.add("timeliness", table, trules)
    ev.sample("timeliness", table.select("newest_date", "expected_date"), 1)
    outcome.kept = ordered
    if not outcome.quarantined:
        duplicates = still_bad.filter(pl.col(CHECK) == "duplicate_keys").select("Code", "Date")
        outcome.findings = RawFindings(quotes=ordered, duplicates=duplicates, moves=moves)
    return ev, outcome


def _codes(quotes: pl.DataFrame) -> pl.DataFrame:
    """The codes of sorted quotes: one per run of rows, no hashing of every row (eager: the
    streaming engine's run-length node asserts a single chunk)."""
    return quotes.select(pl.col("Code").rle().struct.field("value").unique().alias("Code"))


def _order_stats(quotes: pl.DataFrame, n_samples: int) -> pl.LazyFrame:
    """One row: rows with an invalid AdjustmentFactor, stale rows (counts and first indices), newest date."""
    af = pl.col("AdjustmentFactor")
    bad_af = af.is_null() | af.is_nan() | (af <= 0)
    repeated = pl.all_horizontal([pl.col(k) == pl.col(k).shift(1) for k in (*PRICES, "Volume")]).fill_null(False)
    stale = same_code_as_previous() & repeated & (pl.col("Volume") > 0)
    # The flags first, then the aggregates: left to common-subexpression elimination, the
    # same query ran on one thread at a third of the speed.
    return quotes.lazy().select(bad_af.alias("_bad_af"), stale.alias("_stale"), "Date").select(
        pl.col("_bad_af").sum().alias("bad_adjustment"),
        pl.col("_bad_af").arg_true().head(n_samples).implode().alias("bad_adjustment_rows"),
        pl.col("_stale").sum().alias("stale"),
        pl.col("_stale").arg_true().head(n_samples).implode().alias("stale_rows"),
        pl.col("Date").max().alias("newest"),
    )


def _rows(frame: pl.DataFrame, indices: list[int]) -> pl.DataFrame:
    return frame[pl.Series(indices, dtype=pl.Int64)]


def _max_rule(check: str, column: str, dimension: str, max_value: float, description: str) -> Rule:
    return Rule(check=check, table="summary", column=column, kind="between", dimension=dimension,
                min_value=0.0, max_value=max_value, description=description)


def _columns_for(check: str) -> tuple[str, ...]:
    return {
        "impossible_bar": PRICES,
        "negative_volume": ("Volume", "TurnoverValue"),
        "null_price_with_trade": ("Close", "Volume"),
    }.get(check, ())
