"""The canonical schema every data source delivers (J-Quants names, spelled out).

These column names are a contract read by users' parquet files and outside tools.
"""

from __future__ import annotations

import polars as pl

CODE, DATE = "Code", "Date"

# Daily quotes: raw (unadjusted) prices; AdjustmentFactor sits on the ex-date row
# (0.5 for a 1:2 split). Prices and volume are null on days without trades.
QUOTE_COLUMNS: dict[str, pl.DataType] = {
    "Code": pl.String,
    "Date": pl.Date,
    "Open": pl.Float64,
    "High": pl.Float64,
    "Low": pl.Float64,
    "Close": pl.Float64,
    "Volume": pl.Float64,
    "TurnoverValue": pl.Float64,
    "AdjustmentFactor": pl.Float64,
}
QUOTE_REQUIRED = ("Code", "Date", "Open", "High", "Low", "Close", "Volume")
QUOTE_DEFAULTS = {"TurnoverValue": None, "AdjustmentFactor": 1.0}

# Listed-company info, one row per code (the latest known attributes).
LISTED_COLUMNS: dict[str, pl.DataType] = {
    "Code": pl.String,
    "CompanyName": pl.String,
    "Sector17Code": pl.String,
    "Sector33Code": pl.String,
    "MarketCode": pl.String,  # 0111 Prime, 0112 Standard, 0113 Growth
}
LISTED_REQUIRED = ("Code", "Sector17Code", "Sector33Code", "MarketCode")

# TOPIX-like market index.
INDEX_COLUMNS: dict[str, pl.DataType] = {
    "Date": pl.Date,
    "Open": pl.Float64,
    "High": pl.Float64,
    "Low": pl.Float64,
    "Close": pl.Float64,
}
INDEX_REQUIRED = ("Date", "Close")


def target_column(h: int) -> str:
    return f"target_h{h}"


def pred_column(h: int) -> str:
    return f"pred_h{h}"


def oracle_column(h: int) -> str:
    return f"oracle_h{h}"


# --- Optional extra tables (J-Quants and the synthetic market's extras) -----------------
# Canonical names follow J-Quants' long (v1-style) field names. Every table carries the
# date from which its row may be used, so joins can be as-of without look-ahead.

# Financial statements: usable from the first session strictly after DisclosedDate when
# DisclosedTime is after the 15:00 close, else from DisclosedDate itself.
STATEMENT_COLUMNS: dict[str, pl.DataType] = {
    "Code": pl.String,
    "DisclosedDate": pl.Date,
    "DisclosedTime": pl.String,  # "HH:MM:SS"
    "TypeOfDocument": pl.String,
    "TypeOfCurrentPeriod": pl.String,  # 1Q, 2Q, 3Q, FY
    "CurrentFiscalYearEndDate": pl.Date,
    "NetSales": pl.Float64,
    "OperatingProfit": pl.Float64,
    "OrdinaryProfit": pl.Float64,
    "Profit": pl.Float64,
    "EarningsPerShare": pl.Float64,
    "TotalAssets": pl.Float64,
    "Equity": pl.Float64,
    "BookValuePerShare": pl.Float64,
    "ForecastNetSales": pl.Float64,
    "ForecastOperatingProfit": pl.Float64,
    "ForecastProfit": pl.Float64,
    "ForecastEarningsPerShare": pl.Float64,
}

# Weekly trading by investor type (thousand yen); usable from PublishedDate on.
INVESTOR_TYPE_COLUMNS: dict[str, pl.DataType] = {
    "PublishedDate": pl.Date,
    "StartDate": pl.Date,
    "EndDate": pl.Date,
    "Section": pl.String,
    "ForeignersSales": pl.Float64,
    "ForeignersPurchases": pl.Float64,
    "ForeignersBalance": pl.Float64,
    "IndividualsSales": pl.Float64,
    "IndividualsPurchases": pl.Float64,
    "IndividualsBalance": pl.Float64,
    "ProprietarySales": pl.Float64,
    "ProprietaryPurchases": pl.Float64,
    "ProprietaryBalance": pl.Float64,
}

# Weekly margin interest per code; Date is the record date, usable from PublishedDate on.
MARGIN_COLUMNS: dict[str, pl.DataType] = {
    "Code": pl.String,
    "Date": pl.Date,
    "PublishedDate": pl.Date,
    "ShortMarginTradeVolume": pl.Float64,
    "LongMarginTradeVolume": pl.Float64,
}

# Daily short-selling turnover by Sector33; usable from PublishedDate on.
SHORT_RATIO_COLUMNS: dict[str, pl.DataType] = {
    "Date": pl.Date,
    "PublishedDate": pl.Date,
    "Sector33Code": pl.String,
    "SellingExcludingShortSellingTurnoverValue": pl.Float64,
    "ShortSellingWithRestrictionsTurnoverValue": pl.Float64,
    "ShortSellingWithoutRestrictionsTurnoverValue": pl.Float64,
}

EXTRA_TABLES: dict[str, dict[str, pl.DataType]] = {
    "statements": STATEMENT_COLUMNS,
    "investor_types": INVESTOR_TYPE_COLUMNS,
    "margin": MARGIN_COLUMNS,
    "short_ratio": SHORT_RATIO_COLUMNS,
}
