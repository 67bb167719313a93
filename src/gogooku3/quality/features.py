"""Gate 3: the feature frame — missing share, infinities, (near-)constant features, extreme z-scores."""

from __future__ import annotations

import polars as pl

from gogooku3.quality.cleaning import extreme_shares, finite, inf_to_null, sample_dates, winsorize
from gogooku3.quality.config import QualityConfig
from gogooku3.quality.evidence import Evidence, Rule
from gogooku3.quality.report import Correction
from gogooku3.quality.schema_check import NUMERIC, schema_ok, schema_rule, schema_table


def check_features(frame: pl.DataFrame, features: list[str], cfg: QualityConfig) -> tuple[
    Evidence, pl.DataFrame, list[pl.DataFrame], list[Correction]
]:
    """Build gate 3's evidence, after the corrections the config allows (inf -> null, winsorize)."""
    ev = Evidence()
    expected = {"Code": "String", "Date": "Date", **{f: NUMERIC for f in features}}
    schema = schema_table(frame, expected, expected)
    ev.add("features_schema", schema, [schema_rule("features_schema", "features_schema", "the feature frame")])
    if not schema_ok(schema):
        ev.notes.append("feature schema is wrong: value checks skipped")
        return ev, frame, [], []

    changed: list[pl.DataFrame] = []
    corrections: list[Correction] = []
    floats = [f for f in features if frame.schema[f].is_float()]
    if cfg.inf_to_null and floats:
        frame, cells = inf_to_null(frame, floats)
        if cells.height:
            changed.append(cells)
            corrections.append(Correction("infinite_values", "set_null", cells.height,
                                          "infinite feature values set to null"))
    if cfg.winsorize_features and floats:
        frame, cells = winsorize(frame, floats, cfg.max_abs_zscore)
        if cells.height:
            changed.append(cells)
            corrections.append(Correction("extreme_values", "winsorized", cells.height,
                                          f"values beyond {cfg.max_abs_zscore:g} robust z clipped per date"))

    ev.add("per_feature", _per_feature(frame, features, cfg.max_abs_zscore, cfg.zscore_sample_dates), [
        _rule("feature_missing", "missing_ratio", "completeness", max_value=cfg.max_feature_missing_ratio,
              description="share of null/NaN values per feature"),
        _rule("feature_infinite", "inf_ratio", "accuracy", max_value=cfg.max_inf_ratio,
              description="share of +-inf values per feature"),
        _rule("feature_constant", "std", "accuracy", min_value=cfg.min_feature_std,
              description="standard deviation of the finite values (constant or empty features fail)"),
        _rule("feature_extreme", "extreme_share", "accuracy", max_value=cfg.max_outlier_share,
              description=f"share of values beyond {cfg.max_abs_zscore:g} robust cross-sectional z "
                          f"(on {cfg.zscore_sample_dates or 'all'} evenly spaced dates)"),
    ])
    return ev, frame, changed, corrections


def _rule(check: str, column: str, dimension: str, *, description: str,
          min_value: float | None = None, max_value: float | None = None) -> Rule:
    return Rule(check=check, table="per_feature", column=column, kind="between", dimension=dimension,
                min_value=min_value, max_value=max_value, key="feature", description=description)


def _per_feature(frame: pl.DataFrame, features: list[str], max_abs_z: float, n_dates: int) -> pl.DataFrame:
    """One row per feature with its missing, infinite and extreme shares and its spread.

    Missing, infinite and spread use every row; the extreme share (robust per-date
    statistics, the costly part) uses ``n_dates`` evenly spaced dates
    (``quality.zscore_sample_dates``; 0 = all).
    """
    if not features:
        return pl.DataFrame(schema={"feature": pl.String, "missing_ratio": pl.Float64, "inf_ratio": pl.Float64,
                                    "std": pl.Float64, "extreme_share": pl.Float64})
    n = max(frame.height, 1)
    floats = {f for f in features if frame.schema[f].is_float()}
    counts = frame.lazy().select(
        *[pl.col(f).is_nan().sum().alias(f"nan\x00{f}") for f in floats],
        *[pl.col(f).is_infinite().sum().alias(f"inf\x00{f}") for f in floats],
    ).collect().row(0, named=True) if floats else {}
    nan = {f: counts.get(f"nan\x00{f}", 0) for f in features}
    inf = {f: counts.get(f"inf\x00{f}", 0) for f in features}
    # The spread of the finite values; a plain std where the column has no NaN or inf.
    spread = frame.lazy().select(
        (finite(f) if nan[f] or inf[f] else pl.col(f)).std().alias(f) for f in features
    ).collect().row(0, named=True)
    stats: dict[str, float] = {}
    for f in features:
        std = spread[f]
        stats[f"{f}\x00missing_ratio"] = (frame[f].null_count() + nan[f]) / n
        stats[f"{f}\x00inf_ratio"] = inf[f] / n
        stats[f"{f}\x00std"] = 0.0 if std is None or std != std else float(std)
    extreme = extreme_shares(sample_dates(frame, n_dates), features, max_abs_z)
    for f, share in zip(features, extreme):
        stats[f"{f}\x00extreme_share"] = share
    return pl.DataFrame(
        [{"feature": f, **{m: float(stats[f"{f}\x00{m}"]) for m in
                            ("missing_ratio", "inf_ratio", "std", "extreme_share")}} for f in features]
    )
