"""The ensemble is unit-free, ranks by the combined z-score, and trusts agreeing members more."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from gogooku3.inference.ensemble import Member, combine

DAY = date(2024, 3, 1)


def _frame(values, name="pred_h1", **extra):
    return pl.DataFrame({"Code": [f"{1000 + i}" for i in range(len(values))], "Date": [DAY] * len(values),
                         name: values, **extra})  # fmt: skip


def test_scores_are_weighted_z_scores_whatever_each_members_units():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(size=50)
    plain = combine([Member("a", 0.7, _frame(a)), Member("b", 0.3, _frame(b))], [1])
    scaled = combine([Member("a", 0.7, _frame(a * 1000 + 5)), Member("b", 0.3, _frame(b / 100))], [1])
    z = lambda x: (x - x.mean()) / x.std(ddof=1)  # noqa: E731
    want = dict(zip(_frame(a)["Code"], 0.7 * z(a) + 0.3 * z(b)))
    got = dict(zip(plain["Code"], plain["ensemble_score"]))
    assert all(abs(got[c] - want[c]) < 1e-12 for c in want)
    assert np.allclose(plain.sort("Code")["ensemble_score"], scaled.sort("Code")["ensemble_score"])
    best = plain.filter(pl.col("rank") == 1)["Code"].item()
    assert got[best] == max(got.values())
    assert plain["confidence"].min() > 0 and plain["confidence"].max() == 1.0


def test_disagreement_and_a_wide_interval_lower_confidence():
    base = np.linspace(-1, 1, 21)
    other = base.copy()
    other[0], other[20] = 1.0, -1.0  # the extremes: members disagree on 1000 and 1020 only
    out = combine([Member("a", 1, _frame(base)), Member("b", 1, _frame(other))], [1])
    conf = dict(zip(out["Code"], out["confidence"]))
    assert conf["1000"] < conf["1001"] and conf["1020"] < conf["1019"]
    # ATFT intervals: same score, the wider interval gets less confidence.
    lo, hi = -np.ones(21) * 0.01, np.ones(21) * 0.01
    hi[1] = 0.5
    atft = _frame(base, **{"pred_h1_q0.1": lo, "pred_h1_q0.5": base, "pred_h1_q0.9": hi})
    wide = dict(zip(*combine([Member("atft", 1, atft, (0.1, 0.5, 0.9))], [1]).select("Code", "confidence")))
    assert wide["1001"] < wide["1019"]
    first = combine([Member("atft", 1, atft, (0.1, 0.5, 0.9))], [1]).filter(pl.col("Code") == "1001")
    assert first["quantiles"].to_list()[0] == [-0.01, base[1], 0.5]
