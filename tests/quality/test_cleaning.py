"""Cleaning uses only what was known at the close of each date (no look-ahead)."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from gogooku3.quality.cleaning import cross_sectional_z, fill_missing, missing_policy, winsorize

from .builders import make_features, make_market

CUT = date(2021, 7, 1)


def _scramble_future(frame: pl.DataFrame, features: list[str]) -> pl.DataFrame:
    rng = np.random.default_rng(1)
    future = pl.col("Date") > CUT
    noise = pl.Series("noise", rng.normal(0, 100, frame.height))
    return frame.with_columns(noise).with_columns(
        pl.when(future).then(pl.col(f) * 37 + pl.col("noise")).otherwise(pl.col(f)).alias(f) for f in features
    ).drop("noise").with_columns(
        pl.when(future & (pl.col("Code") == "13000")).then(None).otherwise(pl.col(features[0])).alias(features[0]))


@pytest.mark.parametrize("step", ["winsorize", "zero", "ffill", "median", "zscore"])
def test_past_rows_do_not_depend_on_future_rows(step):
    frame, features = make_features(make_market())
    frame = frame.with_columns(pl.when(pl.col("Code") == "13100").then(pl.col("ret_1d") * 100)
                               .otherwise(pl.col("ret_1d")).alias("ret_1d"))

    def apply(f: pl.DataFrame) -> pl.DataFrame:
        if step == "winsorize":
            return winsorize(f, features, 3.0)[0]
        if step == "zscore":
            return f.select("Code", "Date", *[cross_sectional_z(x).alias(x) for x in features])
        return fill_missing(f, features, step, {})[0]

    before = apply(frame).filter(pl.col("Date") <= CUT).sort("Code", "Date")
    after = apply(_scramble_future(frame, features)).filter(pl.col("Date") <= CUT).sort("Code", "Date")
    assert before.equals(after)
    if step == "winsorize":
        assert not before.equals(frame.filter(pl.col("Date") <= CUT).sort("Code", "Date"))


def test_first_matching_group_wins():
    groups = {"ret_1*": "zero", "ret_*": "ffill"}
    assert missing_policy("ret_1d", "keep", groups) == "zero"
    assert missing_policy("ret_5d", "keep", groups) == "ffill"
    assert missing_policy("vol_20d", "keep", groups) == "keep"
