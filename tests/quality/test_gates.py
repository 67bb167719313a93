"""Gates 1 and 2: every market corruption of the corpus trips the gate it belongs to under
quality=default; under quality=off nothing stops the run; a clean market passes every gate."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import polars as pl
import pytest

from gogooku3.data.calendar import sessions_series
from gogooku3.data.market import MarketData
from gogooku3.errors import GogookuError
from gogooku3.quality import QualityGateError

from .builders import END, GOOD_METRICS, HORIZONS, make_features, make_predictions

VICTIM = "13100"  # code 1 of the tiny market


def _quotes(market: MarketData, frame: pl.DataFrame) -> MarketData:
    return dataclasses.replace(market, quotes=frame)


def duplicate_rows(m):
    return _quotes(m, pl.concat([m.quotes, m.quotes.filter(pl.col("Code") == VICTIM).slice(10, 2)]))


def high_below_low(m):
    bad = (pl.col("Code") == VICTIM) & (pl.col("Date") == date(2021, 3, 1))
    high = pl.when(bad).then(pl.col("Low") * 0.9).otherwise(pl.col("High"))
    return _quotes(m, m.quotes.with_columns(high.alias("High")))


def negative_volume(m):
    bad = (pl.col("Code") == VICTIM) & (pl.col("Date") == date(2021, 3, 1))
    return _quotes(m, m.quotes.with_columns(pl.when(bad).then(-100.0).otherwise(pl.col("Volume")).alias("Volume")))


def wrong_dtype(m):
    return _quotes(m, m.quotes.with_columns(pl.col("Close").cast(pl.String)))


def missing_column(m):
    return _quotes(m, m.quotes.drop("Volume"))


def off_calendar_date(m):
    row = m.quotes.filter(pl.col("Code") == VICTIM).head(1).with_columns(pl.lit(date(2021, 5, 1)).alias("Date"))
    return _quotes(m, pl.concat([m.quotes, row]))  # 2021-05-01 is a Saturday


def tenfold_jump(m):
    bad = (pl.col("Code") == VICTIM) & (pl.col("Date") == date(2021, 6, 1))
    return _quotes(m, m.quotes.with_columns(
        pl.when(bad).then(pl.col(c) * 10).otherwise(pl.col(c)).alias(c) for c in ("Open", "High", "Low", "Close")))


def half_the_days(m):
    q = m.quotes.with_row_index("_i")
    keep = (pl.col("Code") != VICTIM) | (pl.col("_i") % 2 == 0)
    return _quotes(m, q.filter(keep).drop("_i"))


def stopped_a_week_ago(m):
    last_week = m.calendar.tail(5).implode()
    return _quotes(m, m.quotes.filter(~pl.col("Date").is_in(last_week)))


MARKET_CORPUS = [
    # (corruption, gate, failing check, text that must appear in the message)
    (duplicate_rows, "raw", "duplicate_keys", VICTIM),
    (high_below_low, "raw", "impossible_bar", "High < Low"),
    (negative_volume, "raw", "negative_volume", "negative Volume"),
    (wrong_dtype, "raw", "quotes_schema", "Close"),
    (missing_column, "raw", "quotes_schema", "Volume"),
    (off_calendar_date, "raw", "off_calendar", "2021-05-01"),
    (tenfold_jump, "raw", "unexplained_jump", VICTIM),
    (half_the_days, "processed", "stock_completeness", VICTIM),
    (stopped_a_week_ago, "raw", "timeliness", "2021-12-23"),
]


def _run_market_gates(gates, market):
    market, _ = gates.raw(market)
    market, _ = gates.processed(market)
    return market


def _name(value):
    return getattr(value, "__name__", None)


@pytest.mark.parametrize(("corrupt", "gate", "check", "text"), MARKET_CORPUS, ids=_name)
def test_market_corruption_trips_its_gate(gates_for, market, corrupt, gate, check, text):
    gates = gates_for("default")
    with pytest.raises(QualityGateError) as info:
        _run_market_gates(gates, corrupt(market))
    err = info.value
    assert isinstance(err, GogookuError)
    assert err.gate == gate
    assert check in {r.check for r in err.report.failed}
    message = str(err)
    assert "\n" not in message and f"quality gate '{gate}'" in message and check in message
    assert text in message
    # ... and says what to change: the expectation, the quarantine, the report, the setting
    assert "expected " in message and "; quarantine " in message and f"{gate}.json" in message
    hint = err.report.hints[check]
    assert hint.startswith("->") and hint in message
    assert "quality." in hint or check == "quotes_schema"
    assert "data.calendar=" in hint or check != "off_calendar"
    saved = json.loads((gates.out_dir / f"{gate}.json").read_text())
    assert saved["status"] == "failed" and saved["failed_expectations"] >= 1
    assert gates.metrics()[f"quality/{gate}/failed_expectations"] >= 1


def test_clean_market_passes_default_and_reports(gates_for, market):
    gates = gates_for("default", docs=True)
    out = _run_market_gates(gates, market)
    assert out.quotes.height == market.quotes.height
    frame, features = make_features(out)
    frame, r3 = gates.features(frame, features)
    r4 = gates.training_output(make_predictions(out), GOOD_METRICS, HORIZONS)
    r5 = gates.predictions(make_predictions(out), HORIZONS)
    assert [r.status for r in (r3, r4, r5)] == ["passed"] * 3
    metrics = gates.metrics()
    for gate in ("raw", "processed", "features", "training_output", "predictions"):
        assert metrics[f"quality/{gate}/success_ratio"] == 1.0
        assert metrics[f"quality/{gate}/failed_expectations"] == 0.0
        assert (gates.out_dir / f"{gate}.json").exists()
    assert (gates.out_dir / "data_docs" / "index.html").exists()
    assert list((gates.out_dir / "data_docs" / "validations").rglob("*.html"))


def split_without_price_change(m):
    bad = (pl.col("Code") == VICTIM) & (pl.col("Date") == date(2021, 8, 2))
    return _quotes(m, m.quotes.with_columns(
        pl.when(bad).then(0.5).otherwise(pl.col("AdjustmentFactor")).alias("AdjustmentFactor")))


def test_split_without_price_change_fails_processed(gates_for, market):
    gates = gates_for("default")
    with pytest.raises(QualityGateError, match="split_adjustment") as info:
        _run_market_gates(gates, split_without_price_change(market))
    assert info.value.gate == "processed"


ALL_CORRUPTIONS = [c for c, *_ in MARKET_CORPUS]


@pytest.mark.parametrize("corrupt", ALL_CORRUPTIONS, ids=lambda c: c.__name__)
def test_quality_off_never_stops_the_run(gates_for, market, corrupt, caplog):
    gates = gates_for("off")
    broken = corrupt(market)
    out, r1 = gates.raw(broken)
    out, r2 = gates.processed(out)
    assert r1.status == r2.status == "skipped"
    if corrupt is duplicate_rows:  # later stages need one row per key: the first is kept, loudly
        assert out.quotes.height == market.quotes.height
        assert out.quotes.equals(broken.quotes.unique(["Code", "Date"], keep="first", maintain_order=True))
        assert any("2 rows repeat an earlier (Code, Date)" in r.getMessage() for r in caplog.records)
    else:
        assert out is broken
    frame, features = make_features(market)
    frame = frame.with_columns(pl.lit(float("nan")).alias("ret_5d"))
    same, r3 = gates.features(frame, features)
    assert same is frame and r3.status == "skipped"
    preds = make_predictions(market).with_columns(pl.lit(0.001).alias("pred_h5"))
    assert gates.training_output(preds, {}, HORIZONS).status == "skipped"
    assert gates.predictions(pl.concat([preds, preds]), HORIZONS).status == "skipped"
    assert gates.metrics() == {}
    assert not gates.out_dir.exists()


def test_live_timeliness_uses_latest_completed_session(gates_for, market):
    today = date.today()
    calendar = sessions_series(market.calendar[0], today)  # live: the calendar runs to today
    gates = gates_for("default", expected_end=None, calendar=calendar)
    with pytest.raises(QualityGateError, match="timeliness") as info:
        gates.raw(market)
    expected = calendar.filter(calendar < today)[-1]
    assert str(expected) in str(info.value) or str(calendar[-1]) in str(info.value)


def test_backtest_end_is_clipped_to_the_calendar(gates_for, market):
    gates = gates_for("strict", expected_end=date(2022, 1, 2))  # a Sunday after the data's last session
    _, report = gates.raw(market)
    timeliness = next(r for r in report.results if r.check == "timeliness")
    assert timeliness.success and timeliness.observed == 0


def duplicates_in_a_dropped_code(m):
    """Duplicates, an inconsistent split and too few sessions, all in the code that lenient drops."""
    return duplicate_rows(split_without_price_change(half_the_days(m)))


TOLERATE_DUPLICATES = "quality.max_duplicate_ratio=0.5"  # raw passes them on: processed must find them


@pytest.mark.parametrize(("corrupt", "overrides"), [
    (lambda m: m, ()),
    (duplicate_rows, (TOLERATE_DUPLICATES,)),
    (split_without_price_change, ()),
    (tenfold_jump, ()),
    (duplicates_in_a_dropped_code, (TOLERATE_DUPLICATES, "quality.drop_incomplete_stocks=true",
                                    "quality.max_quarantine_ratio=0.2")),
    (tenfold_jump, ("quality.suspended_days=quarantine", "quality.listing_boundaries=trim")),
], ids=["clean", "duplicates_tolerated", "split", "jump", "incomplete_dropped", "cleaning_policies"])
def test_processed_gate_reusing_raw_findings_matches_a_fresh_scan(market, corrupt, overrides):
    """Raw's findings (sorted rows, duplicates, split-adjusted moves) stand in for processed's own scan."""
    from gogooku3.quality.config import QualityConfig
    from gogooku3.quality.processed import check_processed
    from gogooku3.quality.raw import check_raw

    from .builders import quality_config

    cfg = QualityConfig.from_mapping(quality_config("default", *overrides))
    broken = corrupt(market)
    _, raw = check_raw(broken.quotes, broken.listed, broken.calendar, END, cfg)
    assert raw.findings is not None and raw.findings.quotes is raw.kept
    (reused, out_a), (fresh, out_b) = (check_processed(raw.kept, broken.calendar, cfg, findings)
                                       for findings in (raw.findings, None))
    assert reused.tables.keys() == fresh.tables.keys()
    assert all(reused.tables[k].equals(fresh.tables[k]) for k in reused.tables)
    assert reused.samples == fresh.samples and reused.rules == fresh.rules
    assert out_a.kept.equals(out_b.kept) and out_a.corrections == out_b.corrections
    summary = reused.tables["summary"].row(0, named=True)
    assert (summary["duplicate_keys_ratio"] > 0) == (corrupt is duplicate_rows)
    assert (summary["adjustment_inconsistent_ratio"] > 0) == (corrupt is split_without_price_change)


def test_no_raw_findings_once_rows_are_quarantined(gates_for, market):
    gates = gates_for("lenient")
    fixed, report = gates.raw(duplicate_rows(market))
    assert report.rows_quarantined > 0 and gates._raw_findings is None
    assert gates.processed(fixed)[1].status == "passed"


def test_data_docs_of_every_gate_are_written_by_a_failure_and_by_the_metrics(gates_for, market):
    gates = gates_for("default", docs=True)
    _run_market_gates(gates, market)
    frame, features = make_features(market)
    with pytest.raises(QualityGateError) as info:  # a failing gate renders at once: its message links the site
        gates.features(frame.with_columns(pl.lit(float("nan")).alias("ret_5d")), features)
    docs = gates.out_dir / "data_docs"
    assert str(docs / "index.html") in str(info.value) and (docs / "index.html").exists()
    assert {p.parts[len(docs.parts) + 1] for p in (docs / "validations").rglob("*.html")} == {
        "raw", "processed", "features"}
    gates.predictions(make_predictions(market), HORIZONS)
    gates.metrics()  # what a run logs last: renders what passed since
    assert {p.parts[len(docs.parts) + 1] for p in (docs / "validations").rglob("*.html")} == {
        "raw", "processed", "features", "predictions"}
    saved = json.loads((gates.out_dir / "predictions.json").read_text())
    assert saved["data_docs"] == str(docs / "index.html")


def _accepting(hint: str) -> str:
    """The first ``quality.<key>=<value>`` a hint proposes."""
    return next(part for part in hint.replace(",", " ").split() if part.startswith("quality.") and "=" in part)


@pytest.mark.parametrize(("corrupt", "check"), [(duplicate_rows, "duplicate_keys"), (tenfold_jump, "unexplained_jump"),
                                                (stopped_a_week_ago, "timeliness"), (half_the_days, "stock_completeness")],
                         ids=lambda v: getattr(v, "__name__", v))
def test_the_proposed_value_lets_the_check_pass(gates_for, market, corrupt, check):
    gates = gates_for("default")
    with pytest.raises(QualityGateError) as info:
        _run_market_gates(gates, corrupt(market))
    override = _accepting(info.value.report.hints[check])
    retry = gates_for("default", override, "quality.max_missing_ratio=0.5")
    try:
        _run_market_gates(retry, corrupt(market))
    except QualityGateError as err:
        assert check not in {r.check for r in err.report.failed}, (override, str(err))


@pytest.mark.parametrize("corrupt", [duplicate_rows, high_below_low, negative_volume, off_calendar_date,
                                     half_the_days], ids=_name)
def test_lenient_quarantines_and_counts_rows(gates_for, market, corrupt, caplog):
    gates = gates_for("lenient")
    broken = corrupt(market)
    with caplog.at_level("INFO", logger="gogooku3.quality"):
        out = _run_market_gates(gates, broken)
    rows = gates.row_counts()
    assert rows["rows_in"] == broken.quotes.height and rows["rows_out"] == out.quotes.height
    assert rows["rows_in"] == rows["rows_out"] + rows["rows_quarantined"] and rows["rows_quarantined"] > 0
    metrics = gates.metrics()
    assert metrics["quality/rows_in"] == metrics["quality/rows_out"] + metrics["quality/rows_quarantined"]
    assert any(f"rows in {rows['rows_in']}, rows out {rows['rows_out']}" in r.getMessage() for r in caplog.records)


def null_adjustment_factor(m):
    bad = (pl.col("Code") == VICTIM) & (pl.col("Date") == date(2021, 4, 1))
    return _quotes(m, m.quotes.with_columns(
        pl.when(bad).then(None).otherwise(pl.col("AdjustmentFactor")).alias("AdjustmentFactor")))


def test_null_adjustment_factor_stops_default_and_lenient_reads_it_as_one(gates_for, market):
    with pytest.raises(QualityGateError, match="invalid_adjustment") as info:
        _run_market_gates(gates_for("default"), null_adjustment_factor(market))
    assert "quality=lenient to read null factors as 1.0" in info.value.report.hints["invalid_adjustment"]
    gates = gates_for("lenient")
    out = _run_market_gates(gates, null_adjustment_factor(market))
    assert out.quotes["AdjustmentFactor"].null_count() == 0 and out.quotes.height == market.quotes.height
    assert [(c.check, c.action, c.count) for c in gates.reports["raw"].corrections] == [
        ("invalid_adjustment", "filled", 1)]


def test_refused_quarantine_names_max_quarantine_ratio(gates_for, market):
    gates = gates_for("lenient", "quality.max_bad_bar_ratio=0", "quality.max_quarantine_ratio=0")
    with pytest.raises(QualityGateError) as info:
        _run_market_gates(gates, high_below_low(market))
    hint = info.value.report.hints["impossible_bar"]
    assert "quality.max_bad_bar_ratio=" in hint and "quality.max_quarantine_ratio=0.00035 to let the 1 rows" in hint
    retry = gates_for("lenient", "quality.max_bad_bar_ratio=0", "quality.max_quarantine_ratio=0.00035")
    assert _run_market_gates(retry, high_below_low(market)).quotes.height == market.quotes.height - 1


def test_feature_and_output_failures_name_their_setting(gates_for, market):
    gates = gates_for("default")
    frame, features = make_features(market)
    with pytest.raises(QualityGateError) as info:
        gates.features(frame.with_columns(pl.lit(None, pl.Float64).alias("ret_5d")), features)
    assert "quality.max_feature_missing_ratio=1" in info.value.report.hints["feature_missing"]
    assert info.value.report.hints["feature_missing"] in str(info.value)
    preds = make_predictions(market).with_columns(pl.lit(0.001).alias("pred_h5"))
    with pytest.raises(QualityGateError) as info:
        gates.training_output(preds, GOOD_METRICS, HORIZONS)
    hints = info.value.report.hints
    assert any("quality.min_prediction_std=" in h or "quality.max_collapsed_date_ratio=" in h for h in hints.values())
