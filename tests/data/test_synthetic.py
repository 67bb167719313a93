from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from gogooku3.data.calendar import trading_sessions
from gogooku3.data.synthetic import OUTAGE, generate_market
from gogooku3.datasets.targets import forward_returns
from gogooku3.errors import ConfigError
from gogooku3.schema import LISTED_COLUMNS, QUOTE_COLUMNS


def _oracle_rank_ic(market, h: int) -> float:
    frame = forward_returns(market.quotes, [h]).join(market.oracle, on=["Code", "Date"]).drop_nulls()
    daily = frame.group_by("Date").agg(pl.corr(f"oracle_h{h}", f"target_h{h}", method="spearman").alias("r"))
    return float(daily.get_column("r").mean())


def test_schema_and_shape_match_jquants(small_market):
    quotes = small_market.quotes
    assert dict(quotes.schema) == QUOTE_COLUMNS
    assert dict(small_market.listed.schema) == LISTED_COLUMNS
    assert quotes.get_column("Code").str.len_chars().eq(5).all()
    assert quotes.select(pl.struct("Code", "Date").is_duplicated().any()).item() is False
    assert quotes.get_column("Code").is_sorted()
    # Every date is a real TSE session; weekends and holidays never appear.
    sessions = set(trading_sessions("2021-01-01", "2022-06-30"))
    assert set(quotes.get_column("Date").unique().to_list()) <= sessions
    assert small_market.calendar.to_list() == sorted(sessions)


def test_bars_are_consistent_and_suspensions_null_everything():
    market = generate_market(n_stocks=200, start="2020-01-01", end="2021-12-31", seed=1)
    q = market.quotes
    traded = q.filter(pl.col("Close").is_not_null())
    assert (traded["Low"] <= traded[["Open", "Close"]].min_horizontal()).all()
    assert (traded["High"] >= traded[["Open", "Close"]].max_horizontal()).all()
    assert (traded["Volume"] >= 0).all()
    halted = q.filter(pl.col("Close").is_null())
    assert halted.height > 0
    assert halted.select(pl.all().exclude("Code", "Date", "AdjustmentFactor").is_null().all()).row(0) == (True,) * 6
    # The 2020-10-01 TSE outage: every listed stock has a null row, as in J-Quants.
    assert q.filter(pl.col("Date") == OUTAGE).get_column("Close").null_count() == q.filter(pl.col("Date") == OUTAGE).height


def test_listings_delistings_and_splits_happen():
    market = generate_market(n_stocks=300, start="2018-01-01", end="2022-12-31", seed=2)
    spans = market.quotes.group_by("Code").agg(first=pl.col("Date").min(), last=pl.col("Date").max())
    assert (spans["first"] > market.calendar.min()).sum() > 10
    assert (spans["last"] < market.calendar.max()).sum() > 5
    splits = market.quotes.filter(pl.col("AdjustmentFactor") != 1.0)
    assert splits.height > 0
    # On an ex-date the raw price moves by the factor while the adjusted price does not jump.
    q = market.quotes.with_columns(prev=pl.col("Close").shift(1).over("Code"))
    ex = q.filter(pl.col("AdjustmentFactor") != 1.0).drop_nulls(["prev", "Close"])
    raw_move = (ex["Close"] / ex["prev"]).to_numpy()
    adjusted_move = raw_move / ex["AdjustmentFactor"].to_numpy()
    assert np.median(np.abs(np.log(adjusted_move))) < 0.1 < np.median(np.abs(np.log(raw_move)))


def test_returns_look_like_equities():
    market = generate_market(n_stocks=200, start="2019-01-01", end="2021-12-31", seed=4)
    r = forward_returns(market.quotes, [1]).drop_nulls().get_column("target_h1").to_numpy()
    kurtosis = ((r - r.mean()) ** 4).mean() / r.var() ** 2
    assert 0.01 < r.std() < 0.05 and kurtosis > 4.0  # fat tails
    # Stocks co-move (market beta): mean pairwise daily correlation is clearly positive.
    wide = forward_returns(market.quotes, [1]).pivot(on="Code", index="Date", values="target_h1").drop("Date")
    corr = np.ma.corrcoef(np.ma.masked_invalid(wide.to_numpy().T))
    assert float(corr[np.triu_indices_from(corr, 1)].mean()) > 0.1
    # Volatility clusters: |r| of the market is autocorrelated.
    market_ret = wide.mean_horizontal().to_numpy()
    a = np.abs(market_ret[np.isfinite(market_ret)])
    assert np.corrcoef(a[1:], a[:-1])[0, 1] > 0.05


def test_oracle_rank_ic_is_realistic_and_zero_without_signal():
    market = generate_market(n_stocks=300, start="2019-01-01", end="2021-12-31", seed=5)
    assert 0.05 <= _oracle_rank_ic(market, 1) <= 0.10
    flat = generate_market(n_stocks=300, start="2019-01-01", end="2021-12-31", seed=5, signal_strength=0.0)
    assert flat.oracle.select(pl.exclude("Code", "Date").abs().max()).max_horizontal().item() == 0.0


def test_each_component_alone_is_predictable():
    for name in ("reversal", "leadlag", "volume", "cycle"):
        only = {k: float(k == name) for k in ("reversal", "leadlag", "volume", "cycle")}
        market = generate_market(n_stocks=200, start="2020-01-01", end="2021-12-31", seed=6, components=only)
        assert _oracle_rank_ic(market, 1) > 0.02, name


def test_seeded_and_digest_tracks_content():
    a = generate_market(n_stocks=20, start="2022-01-01", end="2022-03-31", seed=9)
    b = generate_market(n_stocks=20, start="2022-01-01", end="2022-03-31", seed=9)
    c = generate_market(n_stocks=20, start="2022-01-01", end="2022-03-31", seed=10)
    assert a.quotes.equals(b.quotes) and a.digest == b.digest
    assert a.digest != c.digest and len(a.digest) == 64


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_stocks": 1}, "data.n_stocks"),
        ({"signal_strength": -1.0}, "data.signal_strength"),
        ({"components": {"momentum": 1.0}}, "data.components"),
        ({"start": "2022-02-01", "end": "2022-01-01"}, "data.start"),
        ({"start": "not-a-date"}, "data.start"),
    ],
)
def test_bad_parameters_name_the_key(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        generate_market(**{"n_stocks": 10, "start": "2022-01-01", "end": "2022-03-31", **kwargs})


def test_news_days_stop_at_the_tse_daily_limits():
    from gogooku3.data.price_limits import daily_price_limit

    q = generate_market(n_stocks=300, start="2019-01-01", end="2021-12-31", seed=0).quotes
    base = (pl.col("Close").shift(1).over("Code") * pl.col("AdjustmentFactor")).alias("base")
    days = q.with_columns(base).drop_nulls(["base", "Close"])
    width = daily_price_limit(days["base"].to_numpy())
    base_price = days["base"].to_numpy()
    for column in ("Open", "High", "Low", "Close"):  # nothing trades beyond the limits
        price = days[column].to_numpy()
        assert (price <= base_price + width + 1e-6).all() and (price >= base_price - width - 1e-6).all(), column
    close = days["Close"].to_numpy()
    limit_up = np.isclose(close, base_price + width).sum()
    limit_down = np.isclose(close, base_price - width).sum()
    assert limit_up >= 5 and limit_down >= 5  # ~1 news day in 2,000 stock-sessions, most beyond the limit
