"""Gate 3: the feature frame — missing share, infinities, (near-)constant features, extreme z-scores."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase

import polars as pl

from gogooku3.quality.cleaning import finite, inf_to_null, winsorize
from gogooku3.quality.config import QualityConfig
from gogooku3.quality.evidence import Evidence, Rule
from gogooku3.quality.extremes import extreme_shares, sample_dates
from gogooku3.quality.report import Correction
from gogooku3.quality.schema_check import NUMERIC, schema_ok, schema_rule, schema_table


PER_FEATURE = {"feature": pl.String, "missing_ratio": pl.Float64, "inf_ratio": pl.Float64, "std": pl.Float64,
               "extreme_share": pl.Float64}  # the evidence table, one row per feature


def check_features(frame: pl.DataFrame, features: list[str], cfg: QualityConfig,
                   warmup: Mapping[str, int] | None = None, calendar: pl.Series | None = None) -> tuple[
    Evidence, pl.DataFrame, list[pl.DataFrame], list[Correction]
]:
    """Build gate 3's evidence, after the corrections the config allows (inf -> null, winsorize).

    ``warmup`` maps a feature to the sessions it needs before its first value (its
    lookback): a 120-session return is null on a code's first 120 sessions by
    definition, so those rows do not count towards its missing share.
    """
    ev = Evidence()
    expected = {"Code": "String", "Date": "Date", **{f: NUMERIC for f in features}}
    schema = schema_table(frame, expected, expected)
    ev.add("features_schema", schema, [schema_rule("features_schema", "features_schema", "the feature frame")])
    if not schema_ok(schema):
        ev.notes.append("feature schema is wrong: value checks skipped")
        return ev, frame, [], []

    changed: list[pl.DataFrame] = []
    corrections: list[Correction] = []
    dtypes = frame.schema
    floats = [f for f in features if dtypes[f].is_float()]
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

    exempt = [f for f in features if any(fnmatchcase(f, p) for p in cfg.extreme_check_exempt)]
    age = _session_age(frame, calendar) if warmup else None
    per_feature = _per_feature(frame, features, cfg.max_abs_zscore, cfg.zscore_sample_dates, exempt,
                               {f: w for f, w in (warmup or {}).items() if w}, age)
    if exempt:
        ev.notes.append(f"extreme-value check skipped for {len(exempt)} exempt features: {', '.join(exempt[:5])}"
                        f"{' ...' if len(exempt) > 5 else ''} (quality.extreme_check_exempt)")
    ev.add("per_feature", per_feature, [
        _rule("feature_missing", "missing_ratio", "completeness", max_value=cfg.max_feature_missing_ratio,
              description="share of null/NaN values per feature, on the rows past its warm-up (lookback)"),
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


def _session_age(frame: pl.DataFrame, calendar: pl.Series | None) -> pl.Series:
    """Sessions since each row's code first appears (on the calendar, so gaps count)."""
    from gogooku3.data.sessions import SESSION, session_table

    table = session_table(calendar, frame.get_column("Date"))
    s = frame.select("Code", "Date").join(table, on="Date", how="left", maintain_order="left")
    return s.select((pl.col(SESSION) - pl.col(SESSION).min().over("Code")).alias("age")).to_series()


def _per_feature(frame: pl.DataFrame, features: list[str], max_abs_z: float, n_dates: int,
                 exempt: Sequence[str] = (), warmup: Mapping[str, int] | None = None,
                 age: pl.Series | None = None) -> pl.DataFrame:
    """One row per feature with its missing, infinite and extreme shares and its spread.

    Missing, infinite and spread use every row, in one pass over the frame where it is
    clean: a plain std is finite exactly when a column has no NaN or inf, so only the
    columns where it is not are counted again (NaN, inf, std of the finite values). The
    extreme share (robust per-date statistics) uses ``n_dates`` evenly spaced dates
    (``quality.zscore_sample_dates``; 0 = all); it is null (not checked) for ``exempt`` features.
    """
    if not features:
        return pl.DataFrame(schema=PER_FEATURE)
    n = max(frame.height, 1)
    schema = frame.schema
    spread = dict(zip(features, frame.select(pl.col(features).std()).row(0)))
    unclear = [f for f in features if schema[f].is_float() and not _finite(spread[f])]
    counts = frame.select(
        *[pl.col(f).is_nan().sum().alias(f"nan\x00{f}") for f in unclear],
        *[pl.col(f).is_infinite().sum().alias(f"inf\x00{f}") for f in unclear],
        *[finite(f).std().alias(f"std\x00{f}") for f in unclear],
    ).row(0, named=True) if unclear else {}
    for f in unclear:
        if counts[f"nan\x00{f}"] or counts[f"inf\x00{f}"]:
            spread[f] = counts[f"std\x00{f}"]
    skip = set(exempt)
    checked = [f for f in features if f not in skip]
    rows = sample_dates(frame, n_dates) if checked else None
    shares = dict(zip(checked, extreme_shares(frame, checked, max_abs_z, rows))) if checked else {}
    missing = {f: (frame[f].null_count() + counts.get(f"nan\x00{f}", 0)) / n for f in features}
    if warmup and age is not None:  # features with a warm-up: counted on the rows past it
        late = [f for f in features if warmup.get(f)]
        aged = frame.select(late).with_columns(_age=age)
        past = {w: pl.col("_age") >= w for w in {warmup[f] for f in late}}
        gone = lambda f: (pl.col(f).is_null() | pl.col(f).is_nan().fill_null(False)  # noqa: E731
                          if schema[f].is_float() else pl.col(f).is_null())
        row = aged.select(
            *[(gone(f) & past[warmup[f]]).sum().alias(f) for f in late],
            *[m.sum().alias(f"\x00{w}") for w, m in past.items()],
        ).row(0, named=True)
        missing.update({f: row[f] / max(row[f"\x00{warmup[f]}"], 1) for f in late})
    return pl.DataFrame({
        "feature": features,
        "missing_ratio": [missing[f] for f in features],
        "inf_ratio": [counts.get(f"inf\x00{f}", 0) / n for f in features],
        "std": [0.0 if spread[f] is None or spread[f] != spread[f] else float(spread[f]) for f in features],
        "extreme_share": [float(shares[f]) if f in shares else None for f in features],
    }, schema=PER_FEATURE)


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
