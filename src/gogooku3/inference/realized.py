"""Score stored predictions once their labels mature, and measure how well confidence is calibrated.

A prediction made at the close of ``Date`` for horizon h matures at the close h calendar
sessions later; before that nothing about it is scored. Realized returns are the same
``target_h{h}`` the models were trained on, so the figures mean what the backtest's do.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from gogooku3.schema import target_column

DECILES = 10


def _joined(predictions: pl.DataFrame, targets: pl.DataFrame) -> pl.DataFrame:
    """Predictions with their realized return ``realized`` and its cross-sectional demeaned value."""
    parts = []
    for h in predictions.get_column("horizon").unique().sort().to_list():
        col = target_column(h)
        if col not in targets.columns:
            continue
        part = predictions.filter(pl.col("horizon") == h).join(
            targets.select("Code", "Date", pl.col(col).alias("realized")), on=["Code", "Date"], how="inner")
        parts.append(part.filter(pl.col("realized").is_not_null()))
    if not parts:
        return predictions.head(0).with_columns(realized=pl.lit(None, pl.Float64), excess=pl.lit(None, pl.Float64))
    frame = pl.concat(parts)
    group = ["Date", "horizon", "model_version"]
    return frame.with_columns(excess=pl.col("realized") - pl.col("realized").mean().over(group))


def realized_performance(predictions: pl.DataFrame, targets: pl.DataFrame, calendar: pl.Series) -> pl.DataFrame:
    """The ``realized`` table (storage.predictions.REALIZED_SCHEMA) for every matured (Date, horizon, model).

    ``targets`` holds Code, Date and ``target_h{h}`` (null until matured, so unmatured
    predictions drop out). RankIC is Spearman's correlation of the ensemble score with the
    realized return; the hit rate is the share of stocks whose score sign matches the sign
    of their return in excess of the day's mean; the decile spread is the mean realized
    return of the top score decile minus the bottom one.
    """
    frame = _joined(predictions, targets)
    group = ["Date", "horizon", "model_version"]
    decile = (pl.col("ensemble_score").rank("ordinal").over(group) * DECILES
              / (pl.len().over(group) + 1)).floor().cast(pl.Int32)  # fmt: skip
    frame = frame.with_columns(decile=decile)
    out = frame.group_by(group).agg(
        rank_ic=pl.corr(pl.col("ensemble_score").rank(), pl.col("realized").rank()),
        hit_rate=(pl.col("ensemble_score").sign() == pl.col("excess").sign()).cast(pl.Float64).mean(),
        decile_spread=pl.col("realized").filter(pl.col("decile") == DECILES - 1).mean()
        - pl.col("realized").filter(pl.col("decile") == 0).mean(),
        n_stocks=pl.len().cast(pl.Int32),
    )
    sessions = calendar.sort().to_frame("Date").with_row_index("i")
    matured = out.join(sessions, on="Date", how="left").with_columns(j=pl.col("i") + pl.col("horizon"))
    matured = matured.join(sessions.rename({"Date": "matured_on", "i": "j"}), on="j", how="left")
    return matured.select("Date", "horizon", "model_version", "rank_ic", "hit_rate", "decile_spread", "n_stocks",
                          "matured_on").sort(group)  # fmt: skip


def calibration_table(predictions: pl.DataFrame, targets: pl.DataFrame) -> pl.DataFrame:
    """Per horizon and confidence decile (0 lowest): realized hit rate, mean daily RankIC and |RankIC|.

    Deciles are taken per day, so every day contributes to each decile alike.
    """
    frame = _joined(predictions, targets)
    day = ["Date", "horizon", "model_version"]
    frame = frame.with_columns(
        conf_decile=(pl.col("confidence").rank("ordinal").over(day) * DECILES / (pl.len().over(day) + 1))
        .floor().cast(pl.Int32))  # fmt: skip
    daily = frame.group_by([*day, "conf_decile"]).agg(
        hits=(pl.col("ensemble_score").sign() == pl.col("excess").sign()).cast(pl.Float64).sum(),
        n=pl.len(),
        rank_ic=pl.corr(pl.col("ensemble_score").rank(), pl.col("realized").rank()),
    )
    table = daily.group_by(["horizon", "conf_decile"]).agg(
        hit_rate=pl.col("hits").sum() / pl.col("n").sum(),
        rank_ic=pl.col("rank_ic").fill_nan(None).mean(),  # a day whose decile is all ties has no RankIC
        n=pl.col("n").sum(),
        days=pl.len(),
    )
    return table.with_columns(abs_rank_ic=pl.col("rank_ic").abs()).sort("horizon", "conf_decile")


def interval_coverage(predictions: pl.DataFrame, targets: pl.DataFrame, demeaned: bool = True) -> pl.DataFrame:
    """Per horizon and interval (outer quantile pairs): empirical coverage beside the nominal level.

    ATFT fits cross-sectionally demeaned returns (``model.data.target_demean``), so by
    default its intervals are checked against returns in excess of the day's mean.
    """
    frame = _joined(predictions, targets).filter(pl.col("quantiles").list.len() >= 2)
    if frame.is_empty():
        return pl.DataFrame(schema={"horizon": pl.Int32, "lower": pl.Float64, "upper": pl.Float64,
                                    "nominal": pl.Float64, "coverage": pl.Float64, "n": pl.Int64})  # fmt: skip
    levels = frame.get_column("quantile_levels").head(1).to_list()[0]
    value = pl.col("excess" if demeaned else "realized")
    rows = []
    for k in range(len(levels) // 2):
        lo, hi = pl.col("quantiles").list.get(k), pl.col("quantiles").list.get(len(levels) - 1 - k)
        inside = ((value >= lo) & (value <= hi)).cast(pl.Float64)
        part = frame.group_by("horizon").agg(coverage=inside.mean(), n=pl.len())
        rows.append(part.with_columns(lower=pl.lit(levels[k]), upper=pl.lit(levels[-1 - k]),
                                      nominal=pl.lit(levels[-1 - k] - levels[k])))  # fmt: skip
    return pl.concat(rows).select("horizon", "lower", "upper", "nominal", "coverage",
                                  pl.col("n").cast(pl.Int64)).sort("horizon", "nominal")


def monotone_share(values: np.ndarray) -> float:
    """Share of adjacent decile steps that rise: 1.0 for a perfectly increasing series."""
    steps = np.diff(np.asarray(values, dtype=np.float64))
    return float((steps > 0).mean()) if len(steps) else float("nan")
