"""Combine members' predictions into one score per stock, with a confidence in [0, 1].

Members speak different units (LightGBM predicts ranks, ATFT returns), so each is
z-scored across stocks per (Date, horizon) before the weighted mean. Confidence is a
per-day percentile of a signal-to-noise ratio: the size of the ensemble score, shrunk by
the members' disagreement and by the ATFT quantile interval's width relative to the day's
typical width. A wide interval or members that disagree mean a less reliable call.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from gogooku3.schema import pred_column


@dataclass
class Member:
    """One model's predictions: ``Code``, ``Date``, ``pred_h{h}`` (and ``pred_h{h}_q{q}`` for ATFT)."""

    label: str
    weight: float
    frame: pl.DataFrame
    quantiles: tuple[float, ...] = ()


def _z(column: str) -> pl.Expr:
    x = pl.col(column)
    sd = x.std().over("Date")
    return pl.when(sd > 0).then((x - x.mean().over("Date")) / sd).otherwise(0.0)


def combine(members: list[Member], horizons: list[int]) -> pl.DataFrame:
    """Long frame: Code, Date, horizon, prediction (the first member's), quantile_levels, quantiles,
    ensemble_score, confidence, rank (1 = highest score of the day and horizon), model_version.

    Only rows every member predicted are kept; the predictions gate compares them with
    the universe, so a member that skips stocks fails coverage instead of vanishing here.
    """
    total = sum(m.weight for m in members)
    keys = members[0].frame.select("Code", "Date")
    for m in members[1:]:
        keys = keys.join(m.frame.select("Code", "Date"), on=["Code", "Date"], how="inner")
    interval = next((m for m in members if len(m.quantiles) >= 3), None)
    parts = []
    for h in horizons:
        col = pred_column(h)
        frame = keys
        for i, m in enumerate(members):
            frame = frame.join(m.frame.select("Code", "Date", pl.col(col).alias(f"p{i}")), on=["Code", "Date"],
                               how="left")  # fmt: skip
        frame = frame.with_columns([_z(f"p{i}").alias(f"z{i}") for i in range(len(members))])
        zs = [pl.col(f"z{i}") for i in range(len(members))]
        score = pl.sum_horizontal([z * (m.weight / total) for z, m in zip(zs, members)])
        spread_sq = pl.sum_horizontal([(z - score) ** 2 * (m.weight / total) for z, m in zip(zs, members)])
        frame = frame.with_columns(ensemble_score=score).with_columns(disagreement=spread_sq.sqrt())
        levels, q_cols = _interval(interval, h)
        if interval is not None:
            frame = frame.join(interval.frame.select("Code", "Date", *q_cols), on=["Code", "Date"], how="left")
            width = pl.col(q_cols[-1]) - pl.col(q_cols[0])
            rel = width / width.median().over("Date")
            quantiles = pl.concat_list(q_cols)
        else:
            rel, quantiles = pl.lit(1.0), pl.lit([], dtype=pl.List(pl.Float64))
        snr = pl.col("ensemble_score").abs() / (1.0 + pl.col("disagreement")) / rel.clip(lower_bound=1e-6).sqrt()
        frame = frame.with_columns(snr=snr).with_columns(
            confidence=(pl.col("snr").rank("average").over("Date") / pl.col("snr").count().over("Date")),
            rank=pl.col("ensemble_score").rank("ordinal", descending=True).over("Date").cast(pl.Int32),
        )  # fmt: skip
        parts.append(frame.select(
            "Code", "Date", pl.lit(h, pl.Int32).alias("horizon"), pl.col("p0").alias("prediction"),
            pl.lit(levels, dtype=pl.List(pl.Float64)).alias("quantile_levels"), quantiles.alias("quantiles"),
            "ensemble_score", "confidence", "rank",
            pl.lit("+".join(f"{m.label}*{m.weight:g}" for m in members)).alias("model_version"),
        ))  # fmt: skip
    return pl.concat(parts).sort("Date", "horizon", "rank")


def _interval(member: Member | None, h: int) -> tuple[list[float], list[str]]:
    """The member's quantile levels and columns for horizon ``h``, lowest first."""
    if member is None:
        return [], []
    levels = sorted(member.quantiles)
    return levels, [f"{pred_column(h)}_q{q:g}" for q in levels]
