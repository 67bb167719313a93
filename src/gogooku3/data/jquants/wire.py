"""Render canonical market tables as J-Quants V2 wire rows (for the loopback server).

Uses the same field table as normalization (:mod:`.endpoints`), so what the server sends
is exactly what the client expects. Fields the synthetic market does not model are sent
the way J-Quants sends absent values: ``""`` in /fins/summary, ``null`` elsewhere.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from gogooku3.data.jquants.endpoints import ENDPOINTS, Endpoint
from gogooku3.data.market import MarketData

# Further V2 fields the official client's DataFrames select by name; sent empty/null.
_FIN_FIELDS = (
    "DiscDate DiscTime Code DiscNo DocType CurPerType CurPerSt CurPerEn CurFYSt CurFYEn NxtFYSt NxtFYEn "
    "Sales OP OdP NP EPS DEPS TA Eq EqAR BPS CFO CFI CFF CashEq Div1Q Div2Q Div3Q DivFY DivAnn DivUnit "
    "DivTotalAnn PayoutRatioAnn FDiv1Q FDiv2Q FDiv3Q FDivFY FDivAnn FDivUnit FDivTotalAnn FPayoutRatioAnn "
    "NxFDiv1Q NxFDiv2Q NxFDiv3Q NxFDivFY NxFDivAnn NxFDivUnit NxFPayoutRatioAnn FSales2Q FOP2Q FOdP2Q FNP2Q "
    "FEPS2Q NxFSales2Q NxFOP2Q NxFOdP2Q NxFNp2Q NxFEPS2Q FSales FOP FOdP FNP FEPS NxFSales NxFOP NxFOdP NxFNp "
    "NxFEPS MatChgSub SigChgInC ChgByASRev ChgNoASRev ChgAcEst RetroRst ShOutFY TrShFY AvgSh NCSales NCOP "
    "NCOdP NCNP NCEPS NCTA NCEq NCEqAR NCBPS FNCSales2Q FNCOP2Q FNCOdP2Q FNCNP2Q FNCEPS2Q NxFNCSales2Q "
    "NxFNCOP2Q NxFNCOdP2Q NxFNCNP2Q NxFNCEPS2Q FNCSales FNCOP FNCOdP FNCNP FNCEPS NxFNCSales NxFNCOP "
    "NxFNCOdP NxFNCNP NxFNCEPS ShEq NCShEq ROE NCROE"
).split()
_INVESTORS = "Prop Brk Tot Ind Frgn SecCo InvTr BusCo OthCo InsCo Bank TrstBnk OthFin".split()
_INVESTOR_FIELDS = ["PubDate", "StDate", "EnDate", "Section"] + [
    f"{who}{what}" for who in _INVESTORS for what in ("Sell", "Buy", "Tot", "Bal")
]
_MARGIN_FIELDS = (
    "PubDate Date Code IssType ShrtVol LongVol ShrtNegVol LongNegVol ShrtStdVol LongStdVol "
    "ShrtVal LongVal ShrtNegVal LongNegVal ShrtStdVal LongStdVal"
).split()
_MASTER_FIELDS = "Date Code CoName CoNameEn S17 S17Nm S33 S33Nm ScaleCat Mkt MktNm Mrgn MrgnNm ProdCat".split()

FILTER_DATE = "__date"  # the date a server filter compares against (not sent)


def wire_tables(market: MarketData) -> dict[str, pl.DataFrame]:
    """Wire-format frames per endpoint name, each with a hidden ``__date`` filter column."""
    tables = {
        "calendar": _calendar(market),
        "bars": _bars(market.quotes),
    }
    if market.listed is not None:
        tables["master"] = _to_wire(ENDPOINTS["master"], market.listed, _MASTER_FIELDS, None)
    if market.index is not None:
        tables["topix"] = _to_wire(ENDPOINTS["topix"], market.index, None, "Date")
    extras = market.extras or {}
    if "statements" in extras:
        tables["statements"] = _to_wire(ENDPOINTS["statements"], extras["statements"], _FIN_FIELDS, "DisclosedDate")
    if "investor_types" in extras:
        tables["investor_types"] = _to_wire(
            ENDPOINTS["investor_types"], extras["investor_types"], _INVESTOR_FIELDS, "PublishedDate"
        )
    if "margin" in extras:
        tables["margin"] = _to_wire(ENDPOINTS["margin"], extras["margin"], _MARGIN_FIELDS, "Date")
    if "short_ratio" in extras:
        tables["short_ratio"] = _to_wire(ENDPOINTS["short_ratio"], extras["short_ratio"], None, "Date")
    return tables


def _to_wire(ep: Endpoint, frame: pl.DataFrame, order: list[str] | None, date_col: str | None) -> pl.DataFrame:
    canonical_to_field = {f.canonical: f for f in ep.fields}
    columns = []
    for name in frame.columns:
        field = canonical_to_field.get(name)
        if field is None:
            continue
        col = pl.col(name)
        if field.kind == "date":
            col = col.dt.to_string("%Y-%m-%d")
        elif field.kind == "numstr":
            col = col.cast(pl.String).fill_null("")
        elif field.kind == "num":
            col = col.cast(pl.Float64)
        columns.append(col.alias(field.wire))
    if date_col is not None:
        columns.append(pl.col(date_col).alias(FILTER_DATE))
    wire = frame.select(columns)
    if order is not None:
        kinds = {f.wire: f.kind for f in ep.fields}
        fill = [_absent(ep, kinds.get(c)).alias(c) for c in order if c not in wire.columns]
        wire = wire.with_columns(fill).select(order + ([FILTER_DATE] if date_col else []))
    if ep.name == "statements":
        date_fields = [f.wire for f in ep.fields if f.kind == "date"]
        wire = wire.with_columns(pl.col(c).cast(pl.String).fill_null("") for c in date_fields if c in wire.columns)
    return wire


def _absent(ep: Endpoint, kind: str | None) -> pl.Expr:
    if ep.name == "statements":
        return pl.lit("", dtype=pl.String)
    if kind == "num" or (kind is None and ep.name in ("investor_types", "margin")):
        return pl.lit(None, dtype=pl.Float64)
    return pl.lit(None, dtype=pl.String)


def _bars(quotes: pl.DataFrame) -> pl.DataFrame:
    """Raw bars plus J-Quants' adjusted columns (prices times all later split factors)."""
    later = (
        pl.col("AdjustmentFactor").fill_null(1.0).reverse().cum_prod().reverse().shift(-1, fill_value=1.0).over("Code")
    )
    q = quotes.sort("Code", "Date").with_columns(later.alias("__mult"))
    adjusted = [(pl.col(c) * pl.col("__mult")).alias(f"Adjustment{c}") for c in ("Open", "High", "Low", "Close")]
    q = q.with_columns(
        *adjusted,
        (pl.col("Volume") / pl.col("__mult")).alias("AdjustmentVolume"),
        pl.lit("0").alias("UpperLimit"),
        pl.lit("0").alias("LowerLimit"),
    )
    ep = ENDPOINTS["bars"]
    return _to_wire(ep, q.select([f.canonical for f in ep.fields]), None, "Date")


def _calendar(market: MarketData) -> pl.DataFrame:
    sessions = market.calendar.cast(pl.Date)
    first, last = sessions.min(), sessions.max()
    assert isinstance(first, date) and isinstance(last, date)
    days = pl.Series("Date", [first + timedelta(days=i) for i in range((last - first).days + 1)], dtype=pl.Date)
    frame = pl.DataFrame({"Date": days}).with_columns(
        pl.when(pl.col("Date").is_in(sessions.implode()))
        .then(pl.lit("1"))
        .otherwise(pl.lit("0"))
        .alias("HolidayDivision")
    )
    return _to_wire(ENDPOINTS["calendar"], frame, None, "Date")
