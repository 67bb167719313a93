"""Corrections (quality=lenient) never lose data: rows in = rows out + rows quarantined."""

from __future__ import annotations

import dataclasses
from datetime import date

import polars as pl
import pytest

from gogooku3.quality import QualityGateError
from gogooku3.quality.quarantine import CHECK, REASON, quarantine_path

from .builders import make_features

VICTIM = "13100"


def _corrupt(market):
    q = market.quotes
    day = pl.col("Date") == date(2021, 3, 1)
    victim = pl.col("Code") == VICTIM
    q = q.with_columns(
        pl.when(victim & day).then(pl.col("Low") * 0.9).otherwise(pl.col("High")).alias("High"),
        pl.when((pl.col("Code") == "13200") & day).then(-5.0).otherwise(pl.col("Volume")).alias("Volume"),
    )
    dups = q.filter(victim).slice(20, 3)
    saturday = q.filter(victim).head(1).with_columns(pl.lit(date(2021, 5, 1)).alias("Date"))
    return dataclasses.replace(market, quotes=pl.concat([q, dups, saturday]))


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


def test_lenient_raw_gate_quarantines_and_conserves_rows(gates_for, market):
    broken = _corrupt(market)
    gates = gates_for("lenient")
    fixed, report = gates.raw(broken)
    assert report.status == "corrected"
    quarantine = pl.read_parquet(quarantine_path(gates.out_dir, "raw"))
    assert broken.quotes.height == fixed.quotes.height + quarantine.height
    assert report.rows_in == report.rows_out + report.rows_quarantined
    counts = dict(quarantine.group_by(CHECK).len().iter_rows())
    assert counts == {"duplicate_keys": 3, "impossible_bar": 1, "negative_volume": 1, "off_calendar": 1}
    assert {c.check: c.count for c in report.corrections} == counts
    assert quarantine[REASON].null_count() == 0
    assert "High < Low" in quarantine.filter(pl.col(CHECK) == "impossible_bar")[REASON][0]
    # Nothing lost: what was kept plus what was quarantined is exactly what came in.
    back = pl.concat([fixed.quotes, quarantine.drop(CHECK, REASON)])
    assert _sorted(back).equals(_sorted(broken.quotes))
    assert fixed.quotes.select(pl.struct("Code", "Date").is_duplicated().any()).item() is False
    fixed, r2 = gates.processed(fixed)
    assert r2.status == "passed"


def test_too_many_bad_rows_are_not_corrected_but_fail(gates_for, market):
    broken = dataclasses.replace(market, quotes=pl.concat([market.quotes, market.quotes.head(200)]))
    gates = gates_for("lenient")
    with pytest.raises(QualityGateError, match="duplicate_keys") as info:
        gates.raw(broken)
    assert [c.action for c in info.value.report.corrections] == ["refused"]
    assert not quarantine_path(gates.out_dir, "raw").exists()


def test_incomplete_stock_and_cleaning_policies_are_quarantined(gates_for, market):
    q = market.quotes.with_row_index("_i")
    half = q.filter((pl.col("Code") != VICTIM) | (pl.col("_i") % 2 == 0)).drop("_i")
    broken = dataclasses.replace(market, quotes=half)
    gates = gates_for("lenient", "quality.suspended_days=quarantine", "quality.listing_boundaries=trim")
    fixed, report = gates.processed(broken)
    quarantine = pl.read_parquet(quarantine_path(gates.out_dir, "processed"))
    assert broken.quotes.height == fixed.quotes.height + quarantine.height
    assert VICTIM not in fixed.quotes["Code"].to_list()
    reasons = dict(quarantine.group_by(CHECK).len().iter_rows())
    assert reasons["suspended_day"] == 2
    assert reasons["stock_completeness"] == half.filter(pl.col("Code") == VICTIM).height


def test_winsorized_and_inf_values_are_recorded_cell_by_cell(gates_for, market):
    frame, features = make_features(market)
    wild = (pl.col("Code") == VICTIM) & (pl.col("Date") == date(2021, 6, 1))
    inf = (pl.col("Code") == "13200") & (pl.col("Date") == date(2021, 6, 2))
    frame = frame.with_columns(
        pl.when(wild).then(50.0).otherwise(pl.col("ret_1d")).alias("ret_1d"),
        pl.when(inf).then(float("inf")).otherwise(pl.col("vol_20d")).alias("vol_20d"),
    )
    gates = gates_for("lenient")
    fixed, report = gates.features(frame, features)
    assert fixed.height == frame.height and report.status == "corrected"
    cells = pl.read_parquet(quarantine_path(gates.out_dir, "features"))
    row = cells.filter((pl.col("feature") == "ret_1d") & (pl.col("Code") == VICTIM))
    assert row["original_value"].to_list() == [50.0] and row["corrected_value"][0] < 1.0
    assert fixed.filter(wild)["ret_1d"][0] == row["corrected_value"][0]
    assert cells.filter(pl.col("feature") == "vol_20d")[CHECK].to_list() == ["inf_to_null"]
    # Every changed value is in the quarantine, and nothing else changed.
    diff = frame.join(fixed, on=["Code", "Date"], suffix="_new").filter(
        pl.any_horizontal(~pl.col(f).eq_missing(pl.col(f"{f}_new")) for f in features))
    assert diff.height == cells.select("Code", "Date").unique().height


def test_missing_policy_per_feature_group(gates_for, market):
    frame, features = make_features(market)
    gates = gates_for("default", "quality.feature_missing_policy=zero",
                      "++quality.feature_missing_groups={vol_*: ffill, volume_*: keep}")
    fixed, report = gates.features(frame, features)
    assert fixed["ret_1d"].null_count() == 0 and fixed["ret_5d"].null_count() == 0
    assert fixed["volume_ratio"].null_count() == frame["volume_ratio"].null_count()
    assert {c.action for c in report.corrections} == {"fill_zero", "fill_ffill"}
