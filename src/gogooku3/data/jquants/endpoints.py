"""The one table of J-Quants V2 endpoints and their field names.

Each endpoint maps V2's abbreviated wire names to the canonical (long, v1-style) names of
:mod:`gogooku3.schema`. The client validates responses with it, normalization renames with
it and the loopback server writes its responses with it, so the three cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Wire kinds: "date" = "YYYY-MM-DD" string; "str" = string; "num" = JSON number or null;
# "numstr" = number written as a string, "" when missing (how /fins/summary sends values).
Kind = Literal["date", "str", "num", "numstr"]
# How requests are cut into snapshot partitions: one per trading session (``date=``),
# one per calendar month (``from``/``to``), or one per run end date (``date=end``).
Partitioning = Literal["session", "month", "once"]


@dataclass(frozen=True)
class Field:
    wire: str
    canonical: str
    kind: Kind
    required: bool = False


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    partitioning: Partitioning
    fields: tuple[Field, ...]
    sort: tuple[str, ...]  # canonical sort keys of the normalized table
    per_minute_cap: int | None = None  # endpoint-specific limit below the plan's
    # Days after a partition's last date before its content is final (late publication,
    # e.g. margin two sessions after the record date). A partition fetched sooner than
    # that is kept but fetched again on the next run, so late rows are never lost.
    settle_days: int = 1

    @property
    def wire_to_canonical(self) -> dict[str, str]:
        return {f.wire: f.canonical for f in self.fields}

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.wire for f in self.fields if f.required)


def _f(wire: str, canonical: str, kind: Kind, required: bool = False) -> Field:
    return Field(wire, canonical, kind, required)


def _ohlc(prefix: str, canonical_prefix: str) -> tuple[Field, ...]:
    return tuple(
        _f(f"{prefix}{w}", f"{canonical_prefix}{c}", "num")
        for w, c in (("O", "Open"), ("H", "High"), ("L", "Low"), ("C", "Close"), ("Vo", "Volume"))
    )


def _investor(wire: str, canonical: str) -> tuple[Field, ...]:
    return (
        _f(f"{wire}Sell", f"{canonical}Sales", "num"),
        _f(f"{wire}Buy", f"{canonical}Purchases", "num"),
        _f(f"{wire}Tot", f"{canonical}Total", "num"),
        _f(f"{wire}Bal", f"{canonical}Balance", "num"),
    )


ENDPOINTS: dict[str, Endpoint] = {
    e.name: e
    for e in (
        Endpoint(
            "calendar",
            "/markets/calendar",
            "month",
            (_f("Date", "Date", "date", True), _f("HolDiv", "HolidayDivision", "str", True)),
            ("Date",),
            settle_days=0,
        ),
        Endpoint(
            "master",
            "/equities/master",
            "once",
            (
                _f("Date", "Date", "date"),
                _f("Code", "Code", "str", True),
                _f("CoName", "CompanyName", "str"),
                _f("CoNameEn", "CompanyNameEnglish", "str"),
                _f("S17", "Sector17Code", "str", True),
                _f("S17Nm", "Sector17CodeName", "str"),
                _f("S33", "Sector33Code", "str", True),
                _f("S33Nm", "Sector33CodeName", "str"),
                _f("ScaleCat", "ScaleCategory", "str"),
                _f("Mkt", "MarketCode", "str", True),
                _f("MktNm", "MarketCodeName", "str"),
                _f("Mrgn", "MarginCode", "str"),
                _f("MrgnNm", "MarginCodeName", "str"),
            ),
            ("Code",),
        ),
        Endpoint(
            "bars",
            "/equities/bars/daily",
            "session",
            (
                _f("Date", "Date", "date", True),
                _f("Code", "Code", "str", True),
                _f("O", "Open", "num", True),
                _f("H", "High", "num", True),
                _f("L", "Low", "num", True),
                _f("C", "Close", "num", True),
                _f("UL", "UpperLimit", "str"),
                _f("LL", "LowerLimit", "str"),
                _f("Vo", "Volume", "num", True),
                _f("Va", "TurnoverValue", "num"),
                _f("AdjFactor", "AdjustmentFactor", "num"),
                *_ohlc("Adj", "Adjustment"),
            ),
            ("Code", "Date"),
        ),
        Endpoint(
            "topix",
            "/indices/bars/daily/topix",
            "month",
            (
                _f("Date", "Date", "date", True),
                _f("O", "Open", "num"),
                _f("H", "High", "num"),
                _f("L", "Low", "num"),
                _f("C", "Close", "num", True),
            ),
            ("Date",),
        ),
        Endpoint(
            "statements",
            "/fins/summary",
            "session",
            (
                _f("DiscDate", "DisclosedDate", "date", True),
                _f("DiscTime", "DisclosedTime", "str", True),
                _f("Code", "Code", "str", True),
                _f("DiscNo", "DisclosureNumber", "str"),
                _f("DocType", "TypeOfDocument", "str"),
                _f("CurPerType", "TypeOfCurrentPeriod", "str"),
                _f("CurPerSt", "CurrentPeriodStartDate", "date"),
                _f("CurPerEn", "CurrentPeriodEndDate", "date"),
                _f("CurFYSt", "CurrentFiscalYearStartDate", "date"),
                _f("CurFYEn", "CurrentFiscalYearEndDate", "date"),
                _f("Sales", "NetSales", "numstr"),
                _f("OP", "OperatingProfit", "numstr"),
                _f("OdP", "OrdinaryProfit", "numstr"),
                _f("NP", "Profit", "numstr"),
                _f("EPS", "EarningsPerShare", "numstr"),
                _f("DEPS", "DilutedEarningsPerShare", "numstr"),
                _f("TA", "TotalAssets", "numstr"),
                _f("Eq", "Equity", "numstr"),
                _f("EqAR", "EquityToAssetRatio", "numstr"),
                _f("BPS", "BookValuePerShare", "numstr"),
                _f("CFO", "CashFlowsFromOperatingActivities", "numstr"),
                _f("FSales", "ForecastNetSales", "numstr"),
                _f("FOP", "ForecastOperatingProfit", "numstr"),
                _f("FNP", "ForecastProfit", "numstr"),
                _f("FEPS", "ForecastEarningsPerShare", "numstr"),
            ),
            ("Code", "DisclosedDate", "DisclosedTime"),
            per_minute_cap=60,
        ),
        Endpoint(
            "investor_types",
            "/equities/investor-types",
            "month",
            (
                _f("PubDate", "PublishedDate", "date", True),
                _f("StDate", "StartDate", "date", True),
                _f("EnDate", "EndDate", "date", True),
                _f("Section", "Section", "str", True),
                *_investor("Frgn", "Foreigners"),
                *_investor("Ind", "Individuals"),
                *_investor("Prop", "Proprietary"),
            ),
            ("PublishedDate", "Section"),
            settle_days=14,
        ),
        Endpoint(
            "margin",
            "/markets/margin-interest",
            "session",
            (
                _f("PubDate", "PublishedDate", "date"),
                _f("Date", "Date", "date", True),
                _f("Code", "Code", "str", True),
                _f("IssType", "IssueType", "str"),
                _f("ShrtVol", "ShortMarginTradeVolume", "num", True),
                _f("LongVol", "LongMarginTradeVolume", "num", True),
                _f("ShrtNegVol", "ShortNegotiableMarginTradeVolume", "num"),
                _f("LongNegVol", "LongNegotiableMarginTradeVolume", "num"),
                _f("ShrtStdVol", "ShortStandardizedMarginTradeVolume", "num"),
                _f("LongStdVol", "LongStandardizedMarginTradeVolume", "num"),
            ),
            ("Code", "Date"),
            settle_days=7,
        ),
        Endpoint(
            "short_ratio",
            "/markets/short-ratio",
            "session",
            (
                _f("Date", "Date", "date", True),
                _f("S33", "Sector33Code", "str", True),
                _f("SellExShortVa", "SellingExcludingShortSellingTurnoverValue", "num", True),
                _f("ShrtWithResVa", "ShortSellingWithRestrictionsTurnoverValue", "num", True),
                _f("ShrtNoResVa", "ShortSellingWithoutRestrictionsTurnoverValue", "num", True),
            ),
            ("Sector33Code", "Date"),
            settle_days=3,
        ),
    )
}

CORE = ("calendar", "master", "bars", "topix")
BY_PATH: dict[str, Endpoint] = {e.path: e for e in ENDPOINTS.values()}


def endpoint(name: str) -> Endpoint:
    """The endpoint called ``name``; a one-line error listing the known names otherwise."""
    from gogooku3.errors import ConfigError

    if name not in ENDPOINTS:
        raise ConfigError(f"data.endpoints: unknown endpoint {name!r}; known: {sorted(ENDPOINTS)}")
    return ENDPOINTS[name]
