"""Gates 4 and 5: model output — finite, spread out, metrics present; one row per key, all horizons, in range."""

from __future__ import annotations

import fnmatch
import math
import numbers

import polars as pl

from gogooku3.quality.config import QualityConfig
from gogooku3.quality.evidence import Evidence, Rule
from gogooku3.quality.schema_check import NUMERIC, schema_ok, schema_rule, schema_table
from gogooku3.schema import pred_column


def _schema(ev: Evidence, predictions: pl.DataFrame, horizons: list[int]) -> bool:
    expected = {"Code": "String", "Date": "Date", **{pred_column(h): NUMERIC for h in horizons}}
    table = schema_table(predictions, expected, expected)
    ev.add("predictions_schema", table, [schema_rule("predictions_schema", "predictions_schema", "predictions")])
    return schema_ok(table)


def check_training_output(predictions: pl.DataFrame, metrics: dict[str, float], horizons: list[int],
                          cfg: QualityConfig) -> Evidence:
    ev = Evidence()
    metric_rows = [{"metric": k, "value": float(v) if _number(v) else None,
                    "finite": _number(v) and math.isfinite(float(v))} for k, v in sorted(metrics.items())]
    ev.add("metrics", pl.DataFrame(metric_rows, schema={"metric": pl.String, "value": pl.Float64,
                                                        "finite": pl.Boolean}), [
        Rule(check="metrics_finite", table="metrics", column="finite", kind="true", dimension="accuracy",
             key="metric", description="every reported metric is a finite number")])
    required = [{"pattern": p, "matches": sum(fnmatch.fnmatchcase(k, p) for k in metrics)}
                for p in cfg.required_metrics]
    ev.add("metrics_present", pl.DataFrame(
        [{"pattern": "*", "matches": len(metrics)}] + required,
        schema={"pattern": pl.String, "matches": pl.Int64}), [
        Rule(check="metrics_present", table="metrics_present", column="matches", kind="between",
             dimension="completeness", min_value=1, key="pattern",
             description="at least one metric, and one per quality.required_metrics pattern")])
    if not _schema(ev, predictions, horizons):
        return ev
    finite = {h: pl.when(pl.col(pred_column(h)).is_finite()).then(pl.col(pred_column(h))) for h in horizons}
    per_date = predictions.group_by("Date").agg(  # one group-by for every horizon
        *[finite[h].count().alias(f"n_{h}") for h in horizons], *[finite[h].std().alias(f"sd_{h}") for h in horizons])
    overall = predictions.select(
        *[pl.col(pred_column(h)).is_finite().fill_null(False).mean().alias(f"finite_{h}") for h in horizons],
        *[finite[h].std().alias(f"std_{h}") for h in horizons],
    ).row(0, named=True)
    rows = []
    for h in horizons:
        eligible = per_date.select("Date", pl.col(f"n_{h}").alias("n"), pl.col(f"sd_{h}").alias("sd")).filter(
            pl.col("n") >= 2)
        collapsed = eligible.filter(pl.col("sd").fill_null(0.0) <= cfg.min_prediction_std)
        rows.append({
            "horizon": h,
            "finite_ratio": float(overall[f"finite_{h}"]) if predictions.height else 0.0,
            "pred_std": float(overall[f"std_{h}"] or 0.0),
            "collapsed_date_ratio": collapsed.height / eligible.height if eligible.height else 1.0,
        })
        ev.sample("prediction_collapsed_dates", collapsed.sort("Date").select(
            pl.lit(h).alias("horizon"), "Date", "n", "sd"), cfg.sample_rows)
    ev.add("per_horizon", pl.DataFrame(rows), [
        Rule(check="predictions_finite", table="per_horizon", column="finite_ratio", kind="between",
             dimension="accuracy", min_value=cfg.min_finite_prediction_ratio, key="horizon",
             description="share of finite predictions per horizon"),
        Rule(check="prediction_spread", table="per_horizon", column="pred_std", kind="between",
             dimension="accuracy", min_value=cfg.min_prediction_std, key="horizon",
             description="predictions are not one value for everything"),
        Rule(check="prediction_collapsed_dates", table="per_horizon", column="collapsed_date_ratio",
             kind="between", dimension="accuracy", min_value=0.0, max_value=cfg.max_collapsed_date_ratio,
             key="horizon", description="share of dates on which every stock gets the same prediction"),
    ])
    return ev


def check_predictions(predictions: pl.DataFrame, horizons: list[int], cfg: QualityConfig,
                      universe: pl.DataFrame | None = None, reference: dict | None = None) -> Evidence:
    """Gate 5 on predictions about to be stored.

    ``universe`` (Code, Date: every row that should get a prediction) adds the coverage
    check; ``reference`` (per horizon ``{"daily_sd": ...}``, the model's validation
    predictions) adds the per-day dispersion checks: a served day whose spread collapsed
    or left the validation range by more than ``quality.max_dispersion_factor`` fails.
    """
    ev = Evidence()
    if not _schema(ev, predictions, horizons):
        return ev
    if universe is not None:
        _coverage(ev, predictions, universe, cfg)
    if reference is not None:
        _dispersion(ev, predictions, horizons, reference, cfg)
    n = max(predictions.height, 1)
    dup = predictions.filter(pl.int_range(pl.len()).over("Code", "Date") > 0)
    ev.add("summary", pl.DataFrame([{"duplicate_keys_ratio": dup.height / n, "rows": predictions.height}]), [
        Rule(check="one_row_per_key", table="summary", column="duplicate_keys_ratio", kind="between",
             dimension="consistency", min_value=0.0, max_value=0.0,
             description="one prediction row per (Code, Date)"),
        Rule(check="predictions_nonempty", table="summary", column="rows", kind="between",
             dimension="completeness", min_value=1, description="there is something to store"),
    ])
    ev.sample("one_row_per_key", dup.select("Code", "Date"), cfg.sample_rows)

    def bad(h: int) -> pl.Expr:
        return ~pl.col(pred_column(h)).is_finite().fill_null(False)

    def wild(h: int) -> pl.Expr:
        p = pl.col(pred_column(h))
        return p.is_finite().fill_null(False) & (p.abs() > cfg.max_abs_prediction)

    counts = predictions.select(  # one pass; offending rows are looked up only where there are some
        *[bad(h).sum().alias(f"bad_{h}") for h in horizons], *[wild(h).sum().alias(f"wild_{h}") for h in horizons],
    ).row(0, named=True)
    rows = []
    for h in horizons:
        rows.append({"horizon": h, "missing_ratio": counts[f"bad_{h}"] / n,
                     "out_of_range_ratio": counts[f"wild_{h}"] / n})
        for check, name, flag in (("all_horizons", "bad", bad), ("plausible_range", "wild", wild)):
            if counts[f"{name}_{h}"]:
                ev.sample(check, predictions.filter(flag(h)).select("Code", "Date", pred_column(h)), cfg.sample_rows)
    ev.add("per_horizon", pl.DataFrame(rows), [
        Rule(check="all_horizons", table="per_horizon", column="missing_ratio", kind="between",
             dimension="completeness", min_value=0.0, max_value=1.0 - cfg.min_finite_prediction_ratio,
             key="horizon", description="every row has a finite prediction for every horizon"),
        Rule(check="plausible_range", table="per_horizon", column="out_of_range_ratio", kind="between",
             dimension="accuracy", min_value=0.0, max_value=0.0, key="horizon",
             description=f"|prediction| <= quality.max_abs_prediction={cfg.max_abs_prediction:g}"),
    ])
    return ev


def _coverage(ev: Evidence, predictions: pl.DataFrame, universe: pl.DataFrame, cfg: QualityConfig) -> None:
    missing = universe.select("Code", "Date").join(predictions.select("Code", "Date"), on=["Code", "Date"], how="anti")
    ratio = 1.0 - missing.height / universe.height if universe.height else 0.0
    ev.add("coverage", pl.DataFrame([{"coverage_ratio": ratio, "universe_rows": universe.height}]), [
        Rule(check="universe_coverage", table="coverage", column="coverage_ratio", kind="between",
             dimension="completeness", min_value=cfg.min_prediction_coverage, max_value=1.0,
             description=f"share of the universe's (Code, Date) rows predicted >= "
                         f"quality.min_prediction_coverage={cfg.min_prediction_coverage:g}"),
    ])
    ev.sample("universe_coverage", missing.sort("Date", "Code"), cfg.sample_rows)


def _dispersion(ev: Evidence, predictions: pl.DataFrame, horizons: list[int], reference: dict,
                cfg: QualityConfig) -> None:
    daily = predictions.group_by("Date").agg(*[pl.col(pred_column(h)).std().alias(f"sd_{h}") for h in horizons])
    rows = []
    for h in horizons:
        ref = float(reference.get(str(h), reference.get(h, {})).get("daily_sd", float("nan")))
        sd = daily.get_column(f"sd_{h}").fill_null(0.0)
        ratio = (sd / ref) if ref > 0 else sd * float("nan")
        low, high = ratio.min(), ratio.max()
        rows.append({"horizon": h, "min_daily_sd": float(sd.min()) if len(sd) else 0.0,
                     "min_sd_ratio": float(low) if low is not None else 0.0,
                     "max_sd_ratio": float(high) if high is not None else 0.0})
    r = cfg.max_dispersion_factor
    ev.add("dispersion", pl.DataFrame(rows), [
        Rule(check="prediction_dispersion", table="dispersion", column="min_daily_sd", kind="between",
             dimension="accuracy", min_value=max(cfg.min_prediction_std, 1e-12), key="horizon",
             description="every day's predictions are spread out (not one value for every stock)"),
        Rule(check="dispersion_vs_validation", table="dispersion", column="min_sd_ratio", kind="between",
             dimension="consistency", min_value=1.0 / r, key="horizon",
             description=f"daily spread >= validation spread / quality.max_dispersion_factor={r:g}"),
        Rule(check="dispersion_vs_validation_high", table="dispersion", column="max_sd_ratio", kind="between",
             dimension="consistency", max_value=r, key="horizon",
             description=f"daily spread <= validation spread x quality.max_dispersion_factor={r:g}"),
    ])


def _number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
