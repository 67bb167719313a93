"""Plausible extra tables for the synthetic market (statements, investor types, margin, short ratio).

They carry no planted signal; they exist so that as-of joins, publication lags and the
J-Quants endpoints can be exercised end to end. Every row has the date from which it may
be used (DisclosedDate/DisclosedTime or PublishedDate) with realistic lags:

* statements: quarterly per code, disclosed 25-45 days after the quarter end on a session,
  a share of them after the 15:00 close (usable only from the next session);
* investor_types: weekly per section, published on the following week's 4th session;
* margin: weekly per code (record date = the week's last session), published 2 sessions later;
* short_ratio: daily per Sector33, published the next session.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from gogooku3.data.calendar import trading_sessions
from gogooku3.data.market import MarketData
from gogooku3.schema import EXTRA_TABLES

SECTIONS = ("TSEPrime", "TSEStandard", "TSEGrowth")
_TIMES = np.array(["11:30:00", "13:00:00", "15:00:00", "15:30:00", "16:00:00"])
_TIME_P = np.array([0.10, 0.15, 0.35, 0.25, 0.15])


def generate_extras(market: MarketData, seed: int) -> dict[str, pl.DataFrame]:
    """The four extra tables in the canonical EXTRA_TABLES schemas, seeded and vectorized."""
    rng = np.random.default_rng([seed, 0x4A51])
    calendar = market.calendar.cast(pl.Date)
    first, last = calendar.min(), calendar.max()
    # Publication may fall after the market's last session: extend the calendar a little.
    sessions = pl.Series("Date", trading_sessions(first, last + timedelta(days=45)), dtype=pl.Date)
    tables = {
        "statements": _statements(market, sessions, rng),
        "investor_types": _investor_types(market, sessions, rng),
        "margin": _margin(market, sessions, rng),
        "short_ratio": _short_ratio(market, sessions, rng),
    }
    return {name: frame.select(list(EXTRA_TABLES[name])).cast(EXTRA_TABLES[name]) for name, frame in tables.items()}


def _session_on_or_after(days: pl.Series, sessions: pl.Series) -> pl.Series:
    idx = np.searchsorted(sessions.to_numpy(), days.to_numpy(), side="left")
    return sessions.gather(np.minimum(idx, len(sessions) - 1))


def _shift_sessions(days: pl.Series, sessions: pl.Series, n: int) -> pl.Series:
    idx = np.searchsorted(sessions.to_numpy(), days.to_numpy(), side="left") + n
    return sessions.gather(np.minimum(idx, len(sessions) - 1))


def _week_ends(market: MarketData) -> pl.DataFrame:
    """First and last session of each ISO week in the market's calendar."""
    cal = pl.DataFrame({"Date": market.calendar.cast(pl.Date)})
    return (
        cal.with_columns(pl.col("Date").dt.truncate("1w").alias("week"))
        .group_by("week", maintain_order=True)
        .agg(pl.col("Date").min().alias("StartDate"), pl.col("Date").max().alias("EndDate"))
    )


def _statements(market: MarketData, sessions: pl.Series, rng: np.random.Generator) -> pl.DataFrame:
    first, last = market.calendar.min(), market.calendar.max()
    # Quarter ends (fiscal years end in March) from a year before the data to its end.
    quarter_ends = pl.date_range(date(first.year - 1, 3, 1), last, "1q", eager=True).dt.month_end()
    quarter_ends = quarter_ends.filter(quarter_ends.dt.month().is_in([3, 6, 9, 12]))
    level = market.quotes.group_by("Code").agg(
        (pl.col("Close").median() * pl.col("Volume").median() * 40).alias("level"),
        pl.col("Close").median().alias("price"),
    )
    grid = level.join(pl.DataFrame({"QuarterEnd": quarter_ends}), how="cross").sort("Code", "QuarterEnd")
    n = grid.height
    lag = rng.integers(25, 46, n).astype("timedelta64[D]")
    raw_day = pl.Series("d", grid.get_column("QuarterEnd").to_numpy() + lag).cast(pl.Date)
    disclosed = _session_on_or_after(raw_day, sessions)
    month = grid.get_column("QuarterEnd").dt.month().to_numpy()
    period = np.select([month == 6, month == 9, month == 12], ["1Q", "2Q", "3Q"], "FY")
    fy_end_year = grid.get_column("QuarterEnd").dt.year().to_numpy() + (month != 3)
    sales = grid.get_column("level").to_numpy() * rng.lognormal(0.0, 0.15, n)
    margin = rng.normal(0.08, 0.05, n)
    # Shares outstanding from the price level, so per-share values scale with the price
    # (forecast E/P about 5%, as on the TSE) instead of spanning its orders of magnitude.
    shares = 4.0 * grid.get_column("level").to_numpy() / grid.get_column("price").to_numpy()
    frame = grid.with_columns(
        raw_day.alias("raw_day"),
        disclosed.alias("DisclosedDate"),
        pl.Series("DisclosedTime", rng.choice(_TIMES, n, p=_TIME_P)),
        pl.Series("TypeOfCurrentPeriod", period),
        pl.Series("TypeOfDocument", np.char.add(period, "FinancialStatements_Consolidated_JP")),
        pl.Series("CurrentFiscalYearEndDate", [date(int(y), 3, 31) for y in np.unique(fy_end_year)])
        .gather(np.searchsorted(np.unique(fy_end_year), fy_end_year)),
        pl.Series("NetSales", np.round(sales, -3)),
        pl.Series("OperatingProfit", np.round(sales * margin, -3)),
        pl.Series("OrdinaryProfit", np.round(sales * (margin + rng.normal(0, 0.01, n)), -3)),
        pl.Series("Profit", np.round(sales * margin * 0.65, -3)),
        pl.Series("TotalAssets", np.round(sales * rng.uniform(1.0, 3.0, n), -3)),
        pl.Series("ForecastNetSales", np.round(sales * 4 * rng.lognormal(0.0, 0.05, n), -3)),
        pl.Series("ForecastOperatingProfit", np.round(sales * 4 * margin * rng.lognormal(0, 0.1, n), -3)),
    ).with_columns(
        (pl.col("Profit") / shares).round(2).alias("EarningsPerShare"),
        ((pl.col("TotalAssets") * 0.45 / 1000).round(0) * 1000).alias("Equity"),
        ((pl.col("ForecastOperatingProfit") * 0.65 / 1000).round(0) * 1000).alias("ForecastProfit"),
    ).with_columns(
        (pl.col("Equity") / shares).round(2).alias("BookValuePerShare"),
        (pl.col("ForecastProfit") / shares).round(2).alias("ForecastEarningsPerShare"),
    )
    # Only disclosures inside the market's calendar are known to it.
    inside = (pl.col("raw_day") >= first) & (pl.col("DisclosedDate") <= last)
    return frame.filter(inside).sort("Code", "DisclosedDate")


def _investor_types(market: MarketData, sessions: pl.Series, rng: np.random.Generator) -> pl.DataFrame:
    weeks = _week_ends(market)
    # Published on the following week's 4th session (its last one in a short holiday week).
    by_week = (
        pl.DataFrame({"Date": sessions})
        .with_columns(pl.col("Date").dt.truncate("1w").alias("pub_week"))
        .group_by("pub_week")
        .agg(pl.col("Date").sort().get(pl.len().clip(upper_bound=4) - 1).alias("PublishedDate"))
    )
    weeks = (
        weeks.with_columns(
            (pl.col("week") + pl.duration(weeks=1)).alias("pub_week"),
            _shift_sessions(weeks.get_column("EndDate"), sessions, 4).alias("fallback"),
        )
        .join(by_week, on="pub_week", how="left")
        .with_columns(pl.col("PublishedDate").fill_null(pl.col("fallback")))
        .drop("pub_week", "fallback")
    )
    grid = weeks.join(pl.DataFrame({"Section": SECTIONS}), how="cross")
    n = grid.height
    section_scale = {"TSEPrime": 3e9, "TSEStandard": 4e8, "TSEGrowth": 2e8}
    scale = grid.get_column("Section").replace_strict(section_scale, return_dtype=pl.Float64).to_numpy()
    columns = {}
    for who, share in (("Foreigners", 0.6), ("Individuals", 0.25), ("Proprietary", 0.15)):
        sales = np.round(scale * share * rng.lognormal(0, 0.2, n))
        purchases = np.round(sales * rng.lognormal(0, 0.05, n))
        columns |= {f"{who}Sales": sales, f"{who}Purchases": purchases, f"{who}Balance": purchases - sales}
    return grid.with_columns(pl.DataFrame(columns)).sort("PublishedDate", "Section")


def _margin(market: MarketData, sessions: pl.Series, rng: np.random.Generator) -> pl.DataFrame:
    weeks = _week_ends(market).select(pl.col("EndDate").alias("Date"))
    volume = market.quotes.group_by("Code").agg(pl.col("Volume").median().fill_null(0.0).alias("v"))
    grid = volume.join(weeks, how="cross").sort("Code", "Date")
    n = grid.height
    v = grid.get_column("v").to_numpy()
    return grid.with_columns(
        _shift_sessions(grid.get_column("Date"), sessions, 2).alias("PublishedDate"),
        pl.Series("ShortMarginTradeVolume", np.round(v * rng.lognormal(0.0, 0.5, n), -2)),
        pl.Series("LongMarginTradeVolume", np.round(v * 3 * rng.lognormal(0.0, 0.5, n), -2)),
    )


def _short_ratio(market: MarketData, sessions: pl.Series, rng: np.random.Generator) -> pl.DataFrame:
    if market.listed is not None:
        sectors = market.listed.select("Code", "Sector33Code")
        turnover = (
            market.quotes.join(sectors, on="Code", how="left")
            .group_by("Sector33Code", "Date")
            .agg(pl.col("TurnoverValue").sum().alias("t"))
            .filter(pl.col("Sector33Code").is_not_null())
        )
    else:
        turnover = market.quotes.group_by("Date").agg(pl.col("TurnoverValue").sum().alias("t"))
        turnover = turnover.with_columns(pl.lit("9050").alias("Sector33Code"))
    turnover = turnover.sort("Sector33Code", "Date")
    n = turnover.height
    t = turnover.get_column("t").fill_null(0.0).to_numpy()
    short = rng.uniform(0.3, 0.5, n)
    restricted = rng.uniform(0.6, 0.9, n)
    return turnover.with_columns(
        _shift_sessions(turnover.get_column("Date"), sessions, 1).alias("PublishedDate"),
        pl.Series("SellingExcludingShortSellingTurnoverValue", np.round(t * (1 - short) / 2)),
        pl.Series("ShortSellingWithRestrictionsTurnoverValue", np.round(t * short * restricted / 2)),
        pl.Series("ShortSellingWithoutRestrictionsTurnoverValue", np.round(t * short * (1 - restricted) / 2)),
    )
