"""Tiny markets, features and predictions in the canonical schema for the quality tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from gogooku3.data.calendar import sessions_series
from gogooku3.data.market import MarketData

CONF = Path(__file__).resolve().parents[2] / "conf"
START, END = date(2021, 1, 4), date(2021, 12, 30)
HORIZONS = [1, 5]


def quality_config(profile: str, *overrides: str) -> dict:
    """The ``quality`` group as the pipeline sees it: composed by Hydra from conf/quality."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name=f"quality/{profile}", overrides=list(overrides))
    return OmegaConf.to_container(cfg.quality, resolve=True)  # type: ignore[return-value]


def make_market(n_stocks: int = 12, seed: int = 0) -> MarketData:
    """Random-walk quotes with one 1:2 split and two suspended days, on the XTKS calendar."""
    rng = np.random.default_rng(seed)
    calendar = sessions_series(START, END)
    n_days = calendar.len()
    codes = [f"{1300 + 10 * i}0" for i in range(n_stocks)]
    log_ret = rng.normal(0.0, 0.015, (n_stocks, n_days))
    close = rng.uniform(500, 5000, (n_stocks, 1)) * np.exp(np.cumsum(log_ret, axis=1))
    af = np.ones((n_stocks, n_days))
    af[0, 100] = 0.5  # a 1:2 split on code 0: the raw price halves from the ex-date on
    close[0, 100:] *= 0.5
    close = np.round(close, 1)
    prev_close = np.concatenate([close[:, :1], close[:, :-1]], axis=1)
    open_ = np.round(prev_close * np.exp(rng.normal(0, 0.004, close.shape)), 1)
    open_[0, 100] = np.round(close[0, 99] * 0.5, 1)
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, close.shape))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, close.shape))
    volume = np.round(rng.lognormal(10, 0.5, close.shape))
    quotes = pl.DataFrame({
        "Code": np.repeat(codes, n_days),
        "Date": np.tile(calendar.to_numpy(), n_stocks),
        "Open": open_.ravel(), "High": high.ravel(), "Low": low.ravel(), "Close": close.ravel(),
        "Volume": volume.ravel(), "TurnoverValue": (close * volume).ravel(), "AdjustmentFactor": af.ravel(),
    }).with_columns(pl.col("Date").cast(pl.Date))
    suspended = (pl.col("Code") == codes[3]) & pl.col("Date").is_in(calendar.gather([50, 51]).implode())
    quotes = quotes.with_columns(
        pl.when(suspended).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("Open", "High", "Low", "Close", "Volume", "TurnoverValue")
    )
    listed = pl.DataFrame({
        "Code": codes, "CompanyName": [f"Test {c}" for c in codes],
        "Sector17Code": ["1"] * n_stocks, "Sector33Code": ["0050"] * n_stocks, "MarketCode": ["0111"] * n_stocks,
    })
    return MarketData(quotes=quotes, calendar=calendar, digest="test", source="test", listed=listed)


def make_features(market: MarketData) -> tuple[pl.DataFrame, list[str]]:
    """A few past-only, split-adjusted features (returns, volatility, volume ratio)."""
    q = market.quotes.sort("Code", "Date")
    log_ret = (pl.col("Close") / (pl.col("Close").shift(1) * pl.col("AdjustmentFactor"))).log().over("Code")
    frame = q.with_columns(log_ret.alias("ret_1d")).select(
        "Code", "Date", "ret_1d",
        pl.col("ret_1d").rolling_sum(5).over("Code").alias("ret_5d"),
        pl.col("ret_1d").rolling_std(20).over("Code").alias("vol_20d"),
        (pl.col("Volume") / pl.col("Volume").rolling_mean(20)).over("Code").alias("volume_ratio"),
    )
    return frame, ["ret_1d", "ret_5d", "vol_20d", "volume_ratio"]


def make_predictions(market: MarketData, seed: int = 0) -> pl.DataFrame:
    """Noisy predictions and (made-up) targets for every (Code, Date)."""
    rng = np.random.default_rng(seed)
    keys = market.quotes.select("Code", "Date")
    cols = {}
    for h in HORIZONS:
        cols[f"pred_h{h}"] = rng.normal(0, 0.01, keys.height)
        cols[f"target_h{h}"] = rng.normal(0, 0.02, keys.height)
    return keys.with_columns(pl.Series(k, v) for k, v in cols.items())


GOOD_METRICS = {"rank_ic_h1": 0.03, "rank_ic_h5": 0.02}
