"""The features gate's extreme share: the bulk numpy computation equals the window definition."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from gogooku3.quality import extremes
from gogooku3.quality.cleaning import is_extreme
from gogooku3.quality.extremes import extreme_shares, sample_dates

from .builders import make_features, make_market


def _by_window(frame: pl.DataFrame, features: list[str], max_abs_z: float) -> list[float]:
    """The definition, one Polars window per statistic, in float64 (as the gate reads values)."""
    wide = frame.with_columns(pl.col(features).cast(pl.Float64))
    return list(wide.select(is_extreme(f, max_abs_z).mean() for f in features).row(0))


def _awkward_frame(seed: int) -> tuple[pl.DataFrame, list[str]]:
    """Uneven dates, nulls, NaN, +-inf, outliers, all-positive and mixed-sign features, point masses."""
    rng = np.random.default_rng(seed)
    sizes = [1, 2, 3, 40, 41, 200, 1] + list(rng.integers(5, 120, 12))
    dates = np.repeat(np.arange(len(sizes)), sizes)
    n = dates.size

    def holes(x: np.ndarray, share: float = 0.05) -> np.ndarray:
        x = x.copy()
        x[rng.random(n) < share] = np.nan
        return x

    normal = holes(rng.normal(0, 1, n))
    normal[rng.integers(0, n, 4)] = rng.choice([-1, 1], 4) * 1e3
    positive = np.exp(rng.normal(0, 2, n))  # all positive: judged on the log scale too
    positive[rng.integers(0, n, 3)] = 1e9
    bounded = rng.uniform(0, 1, n) ** 4
    bounded[rng.integers(0, n, 2)] = 1e-12
    mass = np.where(rng.random(n) < 0.9, 0.0, rng.normal(0, 1, n))  # a point mass at 0
    constant = np.full(n, 2.5)
    infinite = normal.copy()
    infinite[rng.integers(0, n, 5)] = rng.choice([np.inf, -np.inf], 5)
    frame = pl.DataFrame({
        "Date": dates, "Code": [str(i) for i in range(n)],
        "normal": normal, "positive": positive, "bounded32": pl.Series(bounded, dtype=pl.Float32),
        "mass": mass, "constant": constant, "infinite": infinite,
        "ints": rng.integers(-3, 4, n), "empty": np.full(n, np.nan),
    }).with_columns(
        pl.when(pl.col("Date") == 3).then(None).otherwise(pl.col("normal")).alias("normal"),  # a date of nulls only
        pl.Series("sparse", holes(rng.normal(5, 1, n), 0.7)),
    )
    return frame, [c for c in frame.columns if c not in ("Date", "Code")]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("max_abs_z", [0.3, 1.5, 4.0, 10.0])
def test_bulk_extreme_shares_equal_the_window_definition(seed, max_abs_z):
    frame, features = _awkward_frame(seed)
    got = extreme_shares(frame.sample(fraction=1.0, shuffle=True, seed=seed), features, max_abs_z)  # any row order
    assert got == pytest.approx(_by_window(frame, features, max_abs_z), abs=1e-12)
    assert any(g > 0 for g in got)


def test_features_are_independent_of_how_they_are_chunked(monkeypatch):
    frame, features = _awkward_frame(7)
    whole = extreme_shares(frame, features, 3.0)
    monkeypatch.setattr(extremes, "CHUNK", 1)
    assert extreme_shares(frame, features, 3.0) == whole
    assert extreme_shares(frame, features[::-1], 3.0) == whole[::-1]


def test_grouped_extreme_shares_match_the_window_definition():
    frame, features = make_features(make_market())
    frame = frame.with_columns(pl.when(pl.col("Code") == "13100").then(pl.col("ret_1d") * 1e3)
                               .otherwise(pl.col("ret_1d")).alias("ret_1d"))
    assert extreme_shares(frame, features, 4.0) == pytest.approx(_by_window(frame, features, 4.0))
    assert extreme_shares(frame, features, 4.0)[0] > 0.05
    rows = sample_dates(frame, 10)
    sampled = frame.filter(rows)
    assert sampled["Date"].n_unique() == 10 and sampled["Date"].max() == frame["Date"].max()
    assert sampled.height == frame.filter(pl.col("Date").is_in(sampled["Date"].unique().implode())).height  # whole dates
    assert extreme_shares(frame, features, 4.0, rows) == pytest.approx(_by_window(sampled, features, 4.0))
    assert sample_dates(frame, 0) is None and sample_dates(frame, 10_000) is None


def test_bounded_positive_features_near_zero_are_not_extreme():
    """An R-squared close to 0 is ordinary; only its logarithm would look extreme."""
    rng = np.random.default_rng(0)
    n = 2000
    r2 = rng.uniform(0, 1, n) ** 4  # many values near 0, all positive
    r2[0] = 1e-9
    frame = pl.DataFrame({"Date": [1] * n, "Code": [str(i) for i in range(n)], "rsqr": r2})
    assert extreme_shares(frame, ["rsqr"], 5.0) == [0.0]
    spiked = frame.with_columns(pl.when(pl.col("Code") == "5").then(1e6).otherwise(pl.col("rsqr")).alias("rsqr"))
    assert extreme_shares(spiked, ["rsqr"], 5.0)[0] == pytest.approx(1 / n)
