"""Test helpers for the feature tests: tiny markets and plain-pandas references."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl

from gogooku3.data.digest import frame_sha256
from gogooku3.data.market import MarketData


CONF = Path(__file__).resolve().parents[2] / "conf" / "features"


def load_set(name: str) -> dict:
    """The groups of conf/features/<name>.yaml as plain dicts."""
    from omegaconf import OmegaConf

    from gogooku3.containers import plain

    return plain(OmegaConf.load(CONF / f"{name}.yaml").groups)


def with_quotes(market: MarketData, quotes: pl.DataFrame) -> MarketData:
    """The same market with other quotes (digest recomputed)."""
    quotes = quotes.sort("Code", "Date")
    return replace(market, quotes=quotes, digest=frame_sha256(quotes))


def messy(market: MarketData) -> MarketData:
    """Add the awkward cases: a late listing, a delisting, missing rows, a suspension
    run and a fresh 1:2 split, all in the middle of the sample."""
    q = market.quotes
    codes = q.get_column("Code").unique().sort().to_list()
    dates = q.get_column("Date").unique().sort().to_list()
    mid = dates[len(dates) // 2]
    late, gone, holey, split, susp = codes[0], codes[1], codes[2], codes[3], codes[4]
    q = q.filter(~((pl.col("Code") == late) & (pl.col("Date") < mid)))
    q = q.filter(~((pl.col("Code") == gone) & (pl.col("Date") > dates[len(dates) // 2 + 7])))
    holes = dates[len(dates) // 2 - 3: len(dates) // 2]
    q = q.filter(~((pl.col("Code") == holey) & pl.col("Date").is_in(holes)))
    after = (pl.col("Code") == split) & (pl.col("Date") >= mid)
    on = (pl.col("Code") == split) & (pl.col("Date") == mid)
    q = q.with_columns(
        [pl.when(after).then(pl.col(c) / 2).otherwise(pl.col(c)).alias(c) for c in ("Open", "High", "Low", "Close")]
        + [pl.when(after).then(pl.col("Volume") * 2).otherwise(pl.col("Volume")).alias("Volume"),
           pl.when(on).then(0.5).otherwise(pl.col("AdjustmentFactor")).alias("AdjustmentFactor")]
    )
    run = dates[len(dates) // 2 - 2: len(dates) // 2 + 2]
    stop = (pl.col("Code") == susp) & pl.col("Date").is_in(run)
    q = q.with_columns([pl.when(stop).then(None).otherwise(pl.col(c)).alias(c)
                        for c in ("Open", "High", "Low", "Close", "Volume", "TurnoverValue")])
    return with_quotes(market, q)


def truncate(market: MarketData, t: date) -> MarketData:
    """Everything the market knew at the close of ``t`` (rows dated or published <= t)."""
    extras = {}
    for name, table in (market.extras or {}).items():
        col = next(c for c in ("PublishedDate", "DisclosedDate", "Date") if c in table.columns)
        extras[name] = table.filter(pl.col(col) <= t)
    quotes = market.quotes.filter(pl.col("Date") <= t)
    return replace(
        market,
        quotes=quotes,
        calendar=market.calendar.filter(market.calendar <= t),
        index=None if market.index is None else market.index.filter(pl.col("Date") <= t),
        extras=extras,
        digest=frame_sha256(quotes),
    )


def adjusted_pandas(quotes: pl.DataFrame) -> pd.DataFrame:
    """Plain pandas split adjustment on a full session grid (reference for prepare)."""
    df = quotes.to_pandas().sort_values(["Code", "Date"])
    dates = sorted(df["Date"].unique())
    parts = []
    for code, g in df.groupby("Code"):
        g = g.set_index("Date")
        span = [d for d in dates if g.index.min() <= d <= g.index.max()]
        g = g.reindex(span)
        g["Code"] = code
        g["present"] = g.index.isin(df.loc[df.Code == code, "Date"])
        f = g["AdjustmentFactor"].fillna(1.0).cumprod()
        for c in ("Open", "High", "Low", "Close"):
            g["a" + c] = g[c] / f
        g["aVolume"] = g["Volume"] * f
        parts.append(g.reset_index().rename(columns={"index": "Date"}))
    return pd.concat(parts, ignore_index=True)


def compare(panel_frame: pl.DataFrame, ref: pd.DataFrame, column: str, ref_column: str,
            rtol: float = 1e-5, atol: float = 1e-7, codes_of_ref_only: bool = False) -> None:
    """Assert a panel column equals a reference (nulls in the same places).

    Every panel row is compared, or with ``codes_of_ref_only`` those of the codes in ``ref``.
    """
    got = panel_frame.select("Code", "Date", column).to_pandas()
    if codes_of_ref_only:
        got = got[got["Code"].isin(ref["Code"].unique())]
    want = ref[["Code", "Date", ref_column]].rename(columns={ref_column: "__ref"})
    m = got.merge(want, on=["Code", "Date"], how="left")
    a, b = m[column].to_numpy(dtype=float), m["__ref"].to_numpy(dtype=float)
    b = np.where(np.isinf(b), np.nan, b)
    na, nb = np.isnan(a), np.isnan(b)
    assert (na == nb).all(), f"{column}: null pattern differs at {m.loc[na != nb, ['Code', 'Date']].head()}"
    np.testing.assert_allclose(a[~na], b[~nb], rtol=rtol, atol=atol, err_msg=column)


def tiny_market(codes=("1000", "2000"), start="2019-04-01", end="2019-06-28", extras=None,
                listed=True) -> MarketData:
    """A hand-checkable market on real TSE sessions (Golden Week included by default)."""
    from gogooku3.data.calendar import trading_sessions

    days = trading_sessions(start, end)
    n = len(days)
    rows = []
    for k, code in enumerate(codes):
        close = 1000.0 * (k + 1) + np.arange(n)
        rows.append(pl.DataFrame({
            "Code": code, "Date": days, "Open": close - 1, "High": close + 2, "Low": close - 3,
            "Close": close, "Volume": 1000.0 + np.arange(n), "TurnoverValue": close * 1000,
            "AdjustmentFactor": 1.0,
        }))
    quotes = pl.concat(rows)
    lst = pl.DataFrame({"Code": list(codes), "CompanyName": list(codes), "Sector17Code": "1",
                        "Sector33Code": ["0050"] * len(codes), "MarketCode": "0111"}) if listed else None
    return MarketData(quotes=quotes, calendar=pl.Series("Date", days, dtype=pl.Date),
                      digest=frame_sha256(quotes), source="tiny", listed=lst, extras=extras or {})
