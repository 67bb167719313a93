"""Explicit, configurable cleaning: suspended days, listing boundaries, missing features, outliers.

Every row removed and every value changed is returned with its reason so the gate can
quarantine it; nothing is dropped silently. Nothing here looks ahead: fills and
winsorizing at date t use only rows of date t (cross-sectional) or earlier (ffill).
"""

from __future__ import annotations

import fnmatch

import polars as pl

from gogooku3.quality.frames import same_code_as_previous
from gogooku3.quality.quarantine import CHECK, REASON
from gogooku3.quality.report import Correction

PRICES = ("Open", "High", "Low", "Close")


def split_market_rows(quotes: pl.DataFrame, suspended_days: str, listing_boundaries: str) -> tuple[
    pl.DataFrame, pl.DataFrame, list[Correction]
]:
    """Apply the suspended-day and listing-boundary policies to quotes sorted by Code, Date.

    ``suspended_days=quarantine`` moves days without any price and without trading out
    of the data (``keep`` leaves them as null rows, which features must tolerate).
    ``listing_boundaries=trim`` moves the untraded rows before a code's first trade and
    after its last one (pre-listing and post-delisting placeholders).
    """
    if suspended_days == "keep" and listing_boundaries == "keep":
        return quotes, quotes.clear(), []
    traded = pl.col("Close").is_not_null().cast(pl.Int64)
    suspended = pl.all_horizontal([pl.col(p).is_null() for p in PRICES]) & (pl.col("Volume").fill_null(0) == 0)
    # Trades so far within the code (sorted rows: subtract the count before the code's first row).
    first_row, last_row = ~same_code_as_previous(), (pl.col("Code") != pl.col("Code").shift(-1)).fill_null(True)
    upto = traded.cum_sum()
    before_first = (upto - pl.when(first_row).then(upto - traded).forward_fill()) == 0
    from_here = traded.cum_sum(reverse=True)
    after_last = (from_here - pl.when(last_row).then(from_here - traded).backward_fill()) == 0
    check = pl.lit(None, pl.String)
    reason = pl.lit(None, pl.String)
    if suspended_days == "quarantine":
        check = pl.when(suspended).then(pl.lit("suspended_day")).otherwise(check)
        reason = pl.when(suspended).then(pl.lit("no price and no trading (suspended day)")).otherwise(reason)
    if listing_boundaries == "trim":
        check = pl.when(before_first | after_last).then(pl.lit("listing_boundary")).otherwise(check)
        reason = (pl.when(before_first).then(pl.lit("before the code's first trade"))
                  .when(after_last).then(pl.lit("after the code's last trade")).otherwise(reason))
    flagged = quotes.with_columns(check.alias(CHECK), reason.alias(REASON))
    moved = flagged.filter(pl.col(CHECK).is_not_null())
    kept = flagged.filter(pl.col(CHECK).is_null()).drop(CHECK, REASON)
    corrections = [
        Correction(check=row[CHECK], action="quarantined", count=int(row["len"]),
                   reason=f"cleaning policy {row[CHECK]}")
        for row in moved.group_by(CHECK).len().sort(CHECK).iter_rows(named=True)
    ]
    return kept, moved, corrections


# The robust scale never drops below std / 3: a point mass (e.g. a sector-relative value
# that is exactly 0 for every single-stock sector) shrinks the MAD towards 0 and would
# make ordinary values look extreme. A real error still stands out: one value 1000x the
# rest among 60 stocks inflates the std only ~130x, leaving it ~20 std/3 units away.
STD_FLOOR_DIVISOR = 3.0


def finite(column: str) -> pl.Expr:
    """The column with NaN and +-inf turned into null (so statistics skip them)."""
    c = pl.col(column)
    return pl.when(c.is_finite()).then(c).otherwise(None)


def _positive(column: str) -> pl.Expr:
    """True on dates where every finite value of the column is > 0 (then judged on log scale)."""
    return (finite(column).min().over("Date") > 0).fill_null(False)


def _transformed(column: str) -> pl.Expr:
    """The finite values, logged on dates where they are all positive.

    Positive ratio features (volatility, illiquidity, volume ratios) are skewed over
    orders of magnitude; on a log scale their spread is symmetric, so one threshold
    fits every feature.
    """
    x = finite(column)
    return pl.when(_positive(column)).then(x.log()).otherwise(x)


def _center_scale(column: str, log_positive: bool = True, std_floor: bool = False) -> tuple[pl.Expr, pl.Expr]:
    """Robust per-date centre (median) and scale (1.4826 MAD, or std when MAD is 0).

    Robust statistics because with tens of stocks one wild value inflates the plain
    standard deviation so much that its own z-score stays below any sane threshold.
    """
    x = _transformed(column) if log_positive else finite(column)
    median = x.median().over("Date")
    mad = (x - median).abs().median().over("Date")
    if std_floor:  # detection only: winsorizing must not widen its limits with the outlier's own std
        scale = pl.max_horizontal(1.4826 * mad, x.std().over("Date") / STD_FLOOR_DIVISOR)
    else:
        scale = pl.when(mad > 0).then(1.4826 * mad).otherwise(x.std().over("Date"))
    return median, pl.when(scale > 0).then(scale)


def cross_sectional_z(column: str) -> pl.Expr:
    """Robust z-score of each value within its date (that date's rows only: no look-ahead)."""
    median, scale = _center_scale(column)
    return (_transformed(column) - median) / scale


def is_extreme(column: str, max_abs_z: float) -> pl.Expr:
    """Extreme on the raw scale and, where the date's values are all positive, on the log scale.

    A value counts as extreme only when both agree: skewed ratios (volume, illiquidity)
    are not flagged for their long right tail, nor bounded ones (an R-squared near 0) for
    the long left tail their logarithm grows. The definition the features gate uses;
    :func:`gogooku3.quality.extremes.extreme_shares` computes its share for many features at once.
    """
    extreme = []
    for log_positive in (False, True):
        median, scale = _center_scale(column, log_positive=log_positive, std_floor=True)
        x = _transformed(column) if log_positive else finite(column)
        extreme.append(((x - median) / scale).abs() > max_abs_z)
    return (extreme[0] & extreme[1]).fill_null(False)


def inf_to_null(frame: pl.DataFrame, features: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Replace +-inf by null; return the frame and the changed cells (long, with reasons)."""
    changed = _changed_cells(frame, features, lambda f: pl.col(f).is_infinite(), "inf_to_null",
                             "infinite value set to null", lambda f: pl.lit(None, pl.Float64))
    fixed = frame.with_columns(
        pl.when(pl.col(f).is_infinite()).then(None).otherwise(pl.col(f)).alias(f) for f in features
    )
    return fixed, changed


def winsorize(frame: pl.DataFrame, features: list[str], max_abs_z: float) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Clip each value to its date's median +- max_abs_z robust standard deviations."""

    def bounds(f: str) -> tuple[pl.Expr, pl.Expr]:
        median, scale = _center_scale(f)
        return median - max_abs_z * scale, median + max_abs_z * scale

    def extreme(f: str) -> pl.Expr:
        return (cross_sectional_z(f).abs() > max_abs_z).fill_null(False)

    def clipped(f: str) -> pl.Expr:
        lo, hi = bounds(f)
        inside = _transformed(f).clip(lo, hi)
        return pl.when(_positive(f)).then(inside.exp()).otherwise(inside).cast(pl.Float64)

    flagged = _flag(frame, features, extreme, clipped)
    changed = _changes(flagged, features, "winsorize", f"beyond {max_abs_z:g} robust cross-sectional std, clipped")
    fixed = frame.with_columns(
        pl.when(flagged.get_column(f"_hit{i}")).then(flagged.get_column(f"_new{i}")).otherwise(pl.col(f)).alias(f)
        for i, f in enumerate(features)
    )
    return fixed, changed


def _flag(frame: pl.DataFrame, features: list[str], condition, new_value) -> pl.DataFrame:
    """Code, Date and per feature i its old value, new value and whether it changes, in one pass:
    polars then evaluates every feature's per-date statistics in parallel, once."""
    return frame.select("Code", "Date", *[e for i, f in enumerate(features) for e in (
        pl.col(f).cast(pl.Float64).alias(f"_old{i}"), new_value(f).cast(pl.Float64).alias(f"_new{i}"),
        condition(f).alias(f"_hit{i}"))])  # fmt: skip


def _changes(flagged: pl.DataFrame, features: list[str], check: str, reason: str) -> pl.DataFrame:
    parts = []
    for i, f in enumerate(features):  # filters on precomputed flags: cheap
        rows = flagged.filter(pl.col(f"_hit{i}"))
        if rows.height:
            parts.append(rows.select(
                "Code", "Date", pl.lit(f).alias("feature"), pl.col(f"_old{i}").alias("original_value"),
                pl.col(f"_new{i}").alias("corrected_value"), pl.lit(check).alias(CHECK), pl.lit(reason).alias(REASON),
            ))
    return pl.concat(parts) if parts else pl.DataFrame()


def _changed_cells(frame, features, condition, check, reason, new_value) -> pl.DataFrame:
    return _changes(_flag(frame, features, condition, new_value), features, check, reason)


def missing_policy(feature: str, default: str, groups: dict[str, str]) -> str:
    """The policy of the first group pattern (glob on the feature name) that matches."""
    for pattern, policy in groups.items():
        if fnmatch.fnmatchcase(feature, pattern):
            return policy
    return default


def fill_missing(frame: pl.DataFrame, features: list[str], default: str, groups: dict[str, str]) -> tuple[
    pl.DataFrame, list[Correction]
]:
    """Fill nulls/NaN by each feature's policy: keep, zero, ffill (past values of the code), median (same date)."""
    exprs, counts = [], {}
    for f in features:
        policy = missing_policy(f, default, groups)
        if policy == "keep":
            continue
        x = finite(f) if frame.schema[f].is_float() else pl.col(f)
        if policy == "zero":
            filled = x.fill_null(0)
        elif policy == "ffill":
            filled = x.forward_fill().over("Code", order_by="Date")
        else:
            filled = x.fill_null(x.median().over("Date"))
        missing = x.is_null() & ~pl.col(f).is_infinite().fill_null(False) if frame.schema[f].is_float() else x.is_null()
        exprs.append(pl.when(missing).then(filled).otherwise(pl.col(f)).alias(f))
        counts[f] = (policy, missing)
    if not exprs:
        return frame, []
    n_missing = frame.select(m.sum().alias(f) for f, (_, m) in counts.items()).row(0, named=True)
    filled_frame = frame.with_columns(exprs)
    corrections = [
        Correction(check="missing_policy", action=f"fill_{policy}", count=int(n_missing[f]),
                   reason=f"{f}: missing values filled by policy {policy}")
        for f, (policy, _) in counts.items() if n_missing[f]
    ]
    return filled_frame, corrections
