"""Fundamentals from financial statements, joined as of their availability date.

A statement is available from the first session on or after its DisclosedDate when
it was disclosed before ``cutoff`` (the 15:00 close), otherwise from the first session
strictly after it. A disclosure at exactly 15:00:00 counts as after the close (the
closing auction cannot react to it); a missing time counts as after the close too.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from gogooku3.errors import ConfigError, DataError
from gogooku3.features.context import FeatureContext
from gogooku3.features.ops import CLOSE, FACTOR, col, safe_div
from gogooku3.features.spec import Feature
from gogooku3.schema import CODE, DATE, STATEMENT_COLUMNS

AVAILABLE = "_fin_avail"
ANNUALIZE = {"1Q": 4.0, "2Q": 2.0, "3Q": 4.0 / 3.0, "FY": 1.0}


YEAR_OF_SESSIONS = 245  # TSE sessions in a year, less a few: a warm-up, not a calendar


def available_from(statements: pl.DataFrame, sessions: pl.Series, cutoff: str) -> pl.DataFrame:
    """``statements`` with the first session each one may be used on (null: after the data)."""
    try:
        cut = pl.Series([cutoff]).str.to_time("%H:%M:%S", strict=True).item()
    except Exception:
        raise ConfigError(f"features.groups.fundamentals.cutoff: {cutoff!r} is not HH:MM:SS") from None
    if statements.get_column("DisclosedDate").null_count():
        raise DataError("extras['statements'] column DisclosedDate: null value(s)")
    at = pl.col("DisclosedTime").str.to_time("%H:%M:%S", strict=False)
    after_close = at.is_null() | (at >= cut)
    keyed = statements.with_columns(
        pl.when(after_close).then(pl.col("DisclosedDate") + timedelta(days=1))
        .otherwise(pl.col("DisclosedDate")).alias("_fin_key"),
        pl.int_range(pl.len()).alias("_fin_row"),
    ).sort("_fin_key")
    days = pl.DataFrame({AVAILABLE: sessions}).sort(AVAILABLE)
    return (keyed.join_asof(days, left_on="_fin_key", right_on=AVAILABLE, strategy="forward")
            .sort("_fin_row").drop("_fin_key", "_fin_row"))


def _derived(st: pl.DataFrame) -> pl.DataFrame:
    """Per-statement ratios, year-over-year growth and forecast revisions (no look-ahead:
    the prior-year statement must have been available no later than the current one)."""
    fy = pl.col("CurrentFiscalYearEndDate")
    st = st.with_columns((fy.dt.year() * 12 + fy.dt.month()).alias("_fy"))
    prior = st.select(CODE, "TypeOfCurrentPeriod", (pl.col("_fy") + 12).alias("_fy"),
                      pl.col(AVAILABLE).alias("_prev_avail"),
                      *[pl.col(c).alias(f"_prev_{c}") for c in ("NetSales", "OperatingProfit", "Profit")])
    by = [CODE, "TypeOfCurrentPeriod", "_fy"]
    st = st.sort(by + [AVAILABLE]).join_asof(
        prior.drop_nulls("_prev_avail").sort(by + ["_prev_avail"]), left_on=AVAILABLE,
        right_on="_prev_avail", by=by, strategy="backward", check_sortedness=False)

    def growth(c: str) -> pl.Expr:
        return _symmetric_change(pl.col(c), pl.col(f"_prev_{c}"))

    factor = pl.col("TypeOfCurrentPeriod").replace_strict(ANNUALIZE, default=None, return_dtype=pl.Float64)
    fcst = pl.col("ForecastEarningsPerShare")
    prev_fcst = fcst.shift(1).over(CODE)
    return st.sort(CODE, AVAILABLE, "DisclosedDate", "DisclosedTime", nulls_last=True).with_columns(
        growth("NetSales").alias("_fin_sales_yoy"),
        growth("OperatingProfit").alias("_fin_op_yoy"),
        growth("Profit").alias("_fin_profit_yoy"),
        safe_div(pl.col("OperatingProfit"), pl.col("NetSales")).alias("_fin_op_margin"),
        safe_div(pl.col("Profit"), pl.col("NetSales")).alias("_fin_net_margin"),
        pl.when(pl.col("Equity") > 0).then(pl.col("Profit") * factor / pl.col("Equity")).alias("_fin_roe"),
        pl.when(pl.col("TotalAssets") > 0).then(pl.col("Profit") * factor / pl.col("TotalAssets")).alias("_fin_roa"),
        _symmetric_change(fcst, prev_fcst).alias("_fin_eps_rev"),
    )


def _symmetric_change(now: pl.Expr, before: pl.Expr) -> pl.Expr:
    """(now - before) / mean(|now|, |before|), in [-2, 2]; null when both are 0.

    Profits cross zero: the usual (now - before) / |before| explodes for a base near
    zero (a few stocks then dominate any cross-sectional model and the extreme gate).
    """
    scale = (now.abs() + before.abs()) / 2
    return pl.when(scale > 0).then((now - before) / scale)


def fundamentals(ctx: FeatureContext, cutoff: str = "15:00:00", valuation: bool = True) -> list[Feature]:
    """Growth, margins, ROE/ROA, EPS forecast revisions, valuation and staleness."""
    raw = ctx.table("statements")
    needed = [c for c in STATEMENT_COLUMNS if c != "TypeOfDocument"]
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        raise DataError(f"extras['statements']: missing column(s) {', '.join(missing)}")
    st = raw.select([pl.col(c).cast(STATEMENT_COLUMNS[c]) for c in needed])
    st = _derived(available_from(st, ctx.sessions, cutoff).filter(pl.col(AVAILABLE).is_not_null()))
    # Split-adjust per-share values with the factor in force when the statement became usable.
    factors = ctx.frame.select(CODE, pl.col(DATE).alias("_fin_fdate"), pl.col(FACTOR).alias("_fin_f"))
    st = (st.lazy().sort(CODE, AVAILABLE)
          .join_asof(factors, left_on=AVAILABLE, right_on="_fin_fdate", by=CODE, strategy="backward",
                     check_sortedness=False)
          .with_columns(pl.col("_fin_f").fill_null(1.0)))
    keep = ["_fin_sales_yoy", "_fin_op_yoy", "_fin_profit_yoy", "_fin_op_margin", "_fin_net_margin",
            "_fin_roe", "_fin_roa", "_fin_eps_rev"]
    st = st.select(CODE, AVAILABLE, *keep,
                   (pl.col("ForecastEarningsPerShare") / pl.col("_fin_f")).alias("_fin_eps_adj"),
                   (pl.col("BookValuePerShare") / pl.col("_fin_f")).alias("_fin_bps_adj"))
    st = st.unique([CODE, AVAILABLE], keep="last", maintain_order=True)
    ctx.join_asof(st, AVAILABLE, by=CODE)
    src = ("statements",)
    desc = {
        "fin_sales_yoy": "net sales growth vs the same period a year earlier, symmetric (-2..2)",
        "fin_op_yoy": "operating profit growth vs the same period a year earlier, symmetric (-2..2)",
        "fin_profit_yoy": "profit growth vs the same period a year earlier, symmetric (-2..2)",
        "fin_op_margin": "operating profit / net sales",
        "fin_net_margin": "profit / net sales",
        "fin_roe": "annualized profit / equity",
        "fin_roa": "annualized profit / total assets",
        "fin_eps_rev": "change of forecast EPS vs the previous statement, symmetric (-2..2)",
    }
    # Growth needs the statement of the same period a year earlier: about a year of sessions.
    out = [ctx.feature(n, col(f"_{n}"), src, lookback=None, description=d,
                       min_obs=YEAR_OF_SESSIONS if n.endswith("_yoy") else None) for n, d in desc.items()]
    out.append(ctx.feature("fin_days_since", (pl.col(DATE) - pl.col(AVAILABLE)).dt.total_days(), src,
                           lookback=None, description="calendar days since the latest statement became usable"))
    if valuation:
        px = src + ("Close", "AdjustmentFactor")
        out += [
            ctx.feature("fin_earnings_yield", col("_fin_eps_adj") / col(CLOSE), px, lookback=None,
                        description="forecast EPS / close (split-adjusted)"),
            ctx.feature("fin_book_to_price", col("_fin_bps_adj") / col(CLOSE), px, lookback=None,
                        description="book value per share / close (split-adjusted)"),
        ]
    return out
