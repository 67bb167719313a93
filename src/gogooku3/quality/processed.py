"""Gate 2: the cleaned market — completeness per column, date and stock; keys; split consistency."""

from __future__ import annotations

import numpy as np
import polars as pl

from gogooku3.quality.cleaning import split_market_rows
from gogooku3.quality.config import QualityConfig
from gogooku3.quality.evidence import Evidence, Rule
from gogooku3.quality.frames import same_code_as_previous, sort_by_code_date
from gogooku3.quality.prices import price_jumps
from gogooku3.quality.quarantine import CHECK, REASON
from gogooku3.quality.raw import RawFindings, RowOutcome
from gogooku3.quality.report import Correction


def check_processed(quotes: pl.DataFrame, calendar: pl.Series, cfg: QualityConfig,
                    findings: RawFindings | None = None,
                    absent: tuple[str, ...] = ()) -> tuple[Evidence, RowOutcome]:
    """Apply the cleaning policies, then build gate 2's evidence on what remains.

    ``findings`` (from the raw gate, on these very quotes) spare sorting them and finding
    duplicates and split-adjusted moves again, unless a cleaning policy removes rows.
    """
    ev = Evidence()
    if findings is not None and findings.quotes is not quotes:
        findings = None
    if "AdjustmentFactor" not in quotes.columns:  # the canonical default: no adjustments
        quotes = quotes.with_columns(pl.lit(1.0).alias("AdjustmentFactor"))
    ordered = quotes if findings is not None else sort_by_code_date(quotes)
    kept, moved, corrections = split_market_rows(ordered, cfg.suspended_days, cfg.listing_boundaries)
    outcome = RowOutcome(kept=kept, quarantined=[moved] if moved.height else [], corrections=corrections)
    if moved.height:
        findings = None

    sessions = calendar.sort().unique(maintain_order=True)
    is_dup = same_code_as_previous() & (pl.col("Date") == pl.col("Date").shift(1)).fill_null(False)
    dup = findings.duplicates if findings is not None else kept.filter(is_dup)
    moves = findings.moves if findings is not None else None
    per_code = _per_code(kept, sessions, unique_keys=dup.height == 0)
    min_present = 1.0 - cfg.max_missing_ratio
    incomplete = per_code.filter(pl.col("present_ratio") < min_present)
    if cfg.drop_incomplete_stocks and incomplete.height:
        _drop_codes(outcome, incomplete, cfg)
        if outcome.kept is not kept:  # whole codes left: the other codes' rows and checks are unchanged
            kept = outcome.kept
            dropped = pl.col("Code").is_in(incomplete["Code"].implode())
            dup = dup.filter(~dropped)
            moves = None if moves is None else moves.filter(~dropped)
            per_code = _per_code(kept, sessions, unique_keys=dup.height == 0)

    n = max(kept.height, 1)
    if moves is None:  # only codes with an adjustment can have an inconsistent one: check just their rows
        adjusted = kept.filter((pl.col("AdjustmentFactor") != 1.0).fill_null(True)).get_column("Code").unique()
        with_splits = kept.filter(pl.col("Code").is_in(adjusted.implode()))
        moves = price_jumps(with_splits, max_abs_return=cfg.max_abs_daily_return,
                            limit_multiplier=cfg.price_limit_multiplier, limit_tolerance=cfg.limit_move_tolerance)
    inconsistent = moves.filter(pl.col("split") & ~pl.col("limit_move"))
    ev.add("summary", pl.DataFrame([{
        "duplicate_keys_ratio": dup.height / n,
        "adjustment_inconsistent_ratio": inconsistent.height / n,
    }]), [
        Rule(check="no_duplicates_left", table="summary", column="duplicate_keys_ratio", kind="between",
             dimension="consistency", min_value=0.0, max_value=0.0,
             description="no (Code, Date) appears twice after cleaning"),
        Rule(check="split_adjustment", table="summary", column="adjustment_inconsistent_ratio",
             kind="between", dimension="consistency", min_value=0.0,
             max_value=cfg.max_adjustment_inconsistent_ratio,
             description="share of rows whose AdjustmentFactor does not match the raw price change"),
    ])
    ev.sample("no_duplicates_left", dup.select("Code", "Date"), cfg.sample_rows)
    ev.sample("split_adjustment", inconsistent.select("Code", "Date", "prev_close", "Close", "move"),
              cfg.sample_rows)

    # Columns the source did not deliver at all (a close-only file) are not incomplete: they are absent.
    skipped = [c for c in cfg.completeness_columns if c in absent]
    if skipped:
        ev.notes.append(f"completeness not checked for columns absent from the source: {', '.join(skipped)}")
    columns = [c for c in cfg.completeness_columns if c in kept.columns and c not in absent]
    missing = [c for c in cfg.completeness_columns if c not in kept.columns and c not in absent]
    n_missing = kept.select(
        (pl.col(c).null_count() + (_nan(kept, c).sum() if kept.schema[c].is_float() else 0)).alias(c)
        for c in columns
    ).row(0) if columns else ()
    per_column = pl.DataFrame({
        "column": columns + missing,
        "missing_ratio": [m / kept.height if kept.height else 1.0 for m in n_missing] + [1.0] * len(missing),
    }, schema={"column": pl.String, "missing_ratio": pl.Float64})
    ev.add("per_column", per_column, [Rule(
        check="column_completeness", table="per_column", column="missing_ratio", kind="between",
        dimension="completeness", min_value=0.0, max_value=cfg.max_missing_ratio, key="column",
        description="share of null values per column (quality.completeness_columns)")])

    per_date = _per_date(kept, sessions, per_code, unique_keys=dup.height == 0)
    ev.add("per_date", per_date, [Rule(
        check="date_completeness", table="per_date", column="coverage", kind="between",
        dimension="completeness", min_value=min_present, key="Date",
        description="share of the listed universe (codes between their first and last date) present each session")])
    ev.add("per_code", per_code.with_columns(pl.col("first_date", "last_date").cast(pl.String)), [Rule(
        check="stock_completeness", table="per_code", column="present_ratio", kind="between",
        dimension="completeness", min_value=min_present, key="Code",
        description="share of sessions between a code's first and last date on which it has a row")])
    short = per_code.select("Code", "n_present", "n_expected", "present_ratio")
    ev.sample("stock_completeness", short.filter(pl.col("present_ratio") < min_present).sort("present_ratio"),
              cfg.sample_rows)
    ev.sample("date_completeness", per_date.filter(pl.col("coverage") < min_present).sort("coverage"),
              cfg.sample_rows)
    return ev, outcome


def _nan(frame: pl.DataFrame, column: str) -> pl.Expr:
    return pl.col(column).is_nan().fill_null(False) if frame.schema[column].is_float() else pl.lit(False)


def _per_code(quotes: pl.DataFrame, sessions: pl.Series, unique_keys: bool) -> pl.DataFrame:
    """Rows present vs sessions between each code's first and last date (quotes sorted by Code, Date)."""
    cal = sessions.to_numpy()
    on_calendar = pl.col("Date").is_in(sessions.implode())
    if unique_keys and not quotes["Code"].null_count() and not quotes["Date"].null_count():
        # Each code is one run of rows with its first and last dates at the ends: no group-by needed.
        runs = quotes.select(pl.col("Code").rle()).unnest("Code")
        ends = np.cumsum(runs["len"].to_numpy())
        starts = ends - runs["len"].to_numpy()
        seen = np.concatenate([[0], np.cumsum(quotes.select(on_calendar).to_series().to_numpy())])
        stats = pl.DataFrame({
            "Code": runs["value"], "first_date": quotes["Date"].gather(starts),
            "last_date": quotes["Date"].gather(ends - 1), "n_present": seen[ends] - seen[starts],
        }, schema_overrides={"n_present": pl.Int64})
    else:
        present = on_calendar.sum() if unique_keys else pl.col("Date").filter(on_calendar).n_unique()
        stats = quotes.group_by("Code").agg(
            pl.col("Date").min().alias("first_date"),
            pl.col("Date").max().alias("last_date"),
            present.cast(pl.Int64).alias("n_present"),
        ).sort("Code")
    first = np.searchsorted(cal, stats["first_date"].to_numpy(), side="left")
    last = np.searchsorted(cal, stats["last_date"].to_numpy(), side="right")
    expected = np.maximum(last - first, 1)
    return stats.with_columns(pl.Series("n_expected", expected, dtype=pl.Int64)).with_columns(
        (pl.col("n_present") / pl.col("n_expected")).alias("present_ratio"),
    )


def _per_date(quotes: pl.DataFrame, sessions: pl.Series, per_code: pl.DataFrame, unique_keys: bool) -> pl.DataFrame:
    """Codes present per session vs codes listed then (between their first and last date)."""
    if not quotes.height:
        return pl.DataFrame(schema={"Date": pl.String, "n_present": pl.Int64, "n_universe": pl.Int64,
                                    "coverage": pl.Float64})
    lo, hi = quotes["Date"].min(), quotes["Date"].max()
    days = sessions.filter((sessions >= lo) & (sessions <= hi))
    firsts = np.sort(per_code["first_date"].to_numpy())
    lasts = np.sort(per_code["last_date"].to_numpy())
    d = days.to_numpy()
    universe = np.searchsorted(firsts, d, side="right") - np.searchsorted(lasts, d, side="left")
    table = pl.DataFrame({"Date": days, "n_universe": pl.Series(universe, dtype=pl.Int64)})
    if unique_keys and not quotes["Date"].null_count():  # rows per day: a count over day numbers
        day = quotes["Date"].to_physical().to_numpy()
        start = int(day.min())
        rows = np.bincount(day - start)
        n_present = rows[days.to_physical().to_numpy() - start]
        table = table.with_columns(pl.Series("n_present", n_present, dtype=pl.Int64))
    else:
        count = pl.len() if unique_keys else pl.col("Code").n_unique()
        present = quotes.group_by("Date").agg(count.cast(pl.Int64).alias("n_present"))
        table = table.join(present, on="Date", how="left").with_columns(pl.col("n_present").fill_null(0).cast(pl.Int64))
    return table.select(
        pl.col("Date").cast(pl.String), "n_present", "n_universe",
        (pl.col("n_present") / pl.col("n_universe").clip(lower_bound=1)).alias("coverage"),
    )


def _drop_codes(outcome: RowOutcome, incomplete: pl.DataFrame, cfg: QualityConfig) -> None:
    """Quarantine every row of codes present on too few of their sessions (within the cap)."""
    codes = incomplete["Code"].implode()
    rows = outcome.kept.filter(pl.col("Code").is_in(codes))
    if rows.height > cfg.max_quarantine_ratio * max(outcome.kept.height, 1):
        outcome.corrections.append(Correction(
            check="stock_completeness", action="refused", count=rows.height,
            reason=f"dropping {incomplete.height} incomplete codes would quarantine {rows.height} rows, "
                   f"more than max_quarantine_ratio={cfg.max_quarantine_ratio:g}"))
        return
    ratio = dict(zip(incomplete["Code"], incomplete["present_ratio"]))
    moved = rows.with_columns(
        pl.lit("stock_completeness").alias(CHECK),
        pl.format("code present on {} of its sessions",
                  pl.col("Code").replace_strict(ratio, return_dtype=pl.Float64).round(3)).alias(REASON),
    )
    outcome.quarantined.append(moved)
    outcome.kept = outcome.kept.filter(~pl.col("Code").is_in(codes))
    outcome.corrections.append(Correction(
        check="stock_completeness", action="quarantined", count=rows.height,
        reason=f"{incomplete.height} codes below {1 - cfg.max_missing_ratio:g} completeness dropped"))
