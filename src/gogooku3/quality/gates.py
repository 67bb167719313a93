"""The five quality gates the pipeline calls, in order: raw, processed, features, training_output, predictions.

Each gate computes its checks in Polars, validates the compact evidence with Great
Expectations (suites built from ``quality`` config), writes ``<gate>.json`` and a
quarantine parquet under ``out_dir``, and then passes, passes with recorded corrections,
or alerts and raises :class:`QualityGateError`. Data Docs for all gates are rendered in
one pass by :meth:`QualityGates.metrics` (or at once by a failing gate). With
``quality.enabled=false`` every gate returns its input untouched and GE is never imported.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from gogooku3.data.market import MarketData
from gogooku3.quality.alerts import AlertHook, build_alert_hooks, log
from gogooku3.quality.config import QualityConfig
from gogooku3.quality.errors import QualityGateError
from gogooku3.quality.evidence import Evidence
from gogooku3.quality.quarantine import write_quarantine
from gogooku3.quality.report import Correction, GateReport
from gogooku3.quality.timeliness import expected_session

if TYPE_CHECKING:
    from gogooku3.quality.raw import RawFindings
    from gogooku3.quality.validator import GxValidator

GATES = ("raw", "processed", "features", "training_output", "predictions")


def _first_per_key(market: MarketData) -> MarketData:
    """``market`` with one row per (Code, Date), the first delivered; a WARNING when rows go."""
    quotes = market.quotes
    n_keys = quotes.select(pl.struct("Code", "Date").n_unique()).item() if quotes.height else 0
    if n_keys == quotes.height:
        return market
    kept = quotes.unique(["Code", "Date"], keep="first", maintain_order=True)
    log.warning("quality=off: %d rows repeat an earlier (Code, Date) and were dropped (first row per key kept); "
                "quality=lenient quarantines them, quality=default stops on them", quotes.height - kept.height)
    return dataclasses.replace(market, quotes=kept)


class QualityGates:
    """Runs the gates and keeps their reports; see the module docstring."""

    def __init__(
        self,
        config: QualityConfig,
        out_dir: Path,
        calendar: pl.Series | None = None,
        expected_end: date | None = None,
        alert_hooks: list[AlertHook] | None = None,
    ) -> None:
        self.config = config
        self.out_dir = Path(out_dir)
        self.calendar = calendar
        self.expected_end = expected_end
        self.alert_hooks = alert_hooks if alert_hooks is not None else build_alert_hooks(config)
        self.reports: dict[str, GateReport] = {}
        self._validator: GxValidator | None = None
        self._raw_findings: RawFindings | None = None  # what raw learnt about the quotes it passed on
        self.calendar_name: str | None = None  # named in off-calendar hints

    @classmethod
    def from_config(
        cls,
        cfg: Mapping[str, Any] | None,
        out_dir: Path,
        calendar: pl.Series | None = None,
        expected_end: date | None = None,
        alert_hooks: list[AlertHook] | None = None,
    ) -> QualityGates:
        """Build from the ``quality`` config group (a plain dict or a DictConfig)."""
        if cfg is not None and hasattr(cfg, "_metadata"):  # an OmegaConf node
            from omegaconf import OmegaConf

            cfg = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]
        return cls(QualityConfig.from_mapping(cfg), out_dir, calendar, expected_end, alert_hooks)

    @property
    def enabled(self) -> bool:
        return self.config.enabled

    # --- the five gates -------------------------------------------------------------

    def raw(self, market: MarketData) -> tuple[MarketData, GateReport]:
        """Gate 1 on quotes as delivered; may quarantine duplicate and impossible rows.

        With the gates off, duplicate (Code, Date) rows would break every later stage:
        the first row per key (in delivery order) is kept and the rest dropped with a
        WARNING counting them (``quality=lenient`` quarantines them instead, ``default`` stops).
        """
        if not self.enabled:
            return _first_per_key(market), self._skipped("raw")
        from gogooku3.quality.raw import check_raw

        started = time.perf_counter()
        self.calendar_name = market.calendar_name
        calendar = self._calendar(market)
        expected = expected_session(calendar, self.expected_end)
        evidence, outcome = check_raw(market.quotes, market.listed, calendar, expected, self.config,
                                      absent=market.absent)
        report = GateReport(gate="raw", rows_in=market.quotes.height)
        self._raw_findings = outcome.findings if outcome is not None else None
        if outcome is not None:
            market = dataclasses.replace(market, quotes=outcome.kept)
            self._record_rows(report, outcome.kept.height, outcome.quarantined, outcome.corrections)
        self._finish(report, evidence, started)
        return market, report

    def processed(self, market: MarketData) -> tuple[MarketData, GateReport]:
        """Gate 2 after the cleaning policies: completeness, no duplicates, split consistency."""
        if not self.enabled:
            return market, self._skipped("processed")
        from gogooku3.quality.processed import check_processed

        started = time.perf_counter()
        evidence, outcome = check_processed(market.quotes, self._calendar(market), self.config, self._raw_findings,
                                            absent=market.absent)
        self._raw_findings = None
        report = GateReport(gate="processed", rows_in=market.quotes.height)
        market = dataclasses.replace(market, quotes=outcome.kept)
        self._record_rows(report, outcome.kept.height, outcome.quarantined, outcome.corrections)
        self._finish(report, evidence, started)
        if (rows := self.row_counts()) is not None:
            files = [r.quarantine_file for r in self.reports.values() if r.quarantine_file]
            log.info("quality: rows in %d, rows out %d, rows quarantined %d%s", rows["rows_in"], rows["rows_out"],
                     rows["rows_quarantined"], f" ({', '.join(files)})" if files else "")
        return market, report

    def row_counts(self) -> dict[str, int] | None:
        """Quote rows into gate 1, out of gate 2 and quarantined by either (in = out + quarantined)."""
        raw, processed = self.reports.get("raw"), self.reports.get("processed")
        if raw is None or processed is None or "skipped" in (raw.status, processed.status):
            return None
        return {"rows_in": raw.rows_in, "rows_out": processed.rows_out,
                "rows_quarantined": raw.rows_quarantined + processed.rows_quarantined}

    def features(self, frame: pl.DataFrame, feature_names: list[str],
                 warmup: dict[str, int] | None = None) -> tuple[pl.DataFrame, GateReport]:
        """Gate 3; then the missing-value policy per feature group (when the gate passes).

        ``warmup``: sessions each feature needs before its first value (see check_features).
        """
        if not self.enabled:
            return frame, self._skipped("features")
        from gogooku3.quality.cleaning import fill_missing
        from gogooku3.quality.features import check_features

        started = time.perf_counter()
        report = GateReport(gate="features", rows_in=frame.height, rows_out=frame.height)
        evidence, frame, changed, corrections = check_features(frame, list(feature_names), self.config, warmup,
                                                                self.calendar)
        report.corrections.extend(corrections)
        self._quarantine_files(report, changed)
        self._finish(report, evidence, started)
        frame, fills = fill_missing(frame, [f for f in feature_names if f in frame.columns],
                                    self.config.feature_missing_policy, self.config.feature_missing_groups)
        if fills:
            report.corrections.extend(fills)
            report.status = "corrected"
            report.write(self.out_dir / "features.json")
        return frame, report

    def training_output(self, predictions: pl.DataFrame, metrics: dict[str, float],
                        horizons: list[int]) -> GateReport:
        """Gate 4: finite predictions with a real spread, and finite metrics."""
        if not self.enabled:
            return self._skipped("training_output")
        from gogooku3.quality.outputs import check_training_output

        started = time.perf_counter()
        report = GateReport(gate="training_output", rows_in=predictions.height, rows_out=predictions.height)
        self._finish(report, check_training_output(predictions, metrics, list(horizons), self.config), started)
        return report

    def predictions(self, predictions: pl.DataFrame, horizons: list[int], universe: pl.DataFrame | None = None,
                    reference: dict | None = None) -> GateReport:
        """Gate 5 before storing or serving: one row per key, every horizon, plausible values;
        with ``universe`` and ``reference``, coverage and spread against the validation predictions."""
        if not self.enabled:
            return self._skipped("predictions")
        from gogooku3.quality.outputs import check_predictions

        started = time.perf_counter()
        report = GateReport(gate="predictions", rows_in=predictions.height, rows_out=predictions.height)
        self._finish(report, check_predictions(predictions, list(horizons), self.config, universe, reference), started)
        return report

    def write_docs(self) -> Path | None:
        """Render the Data Docs of every gate run so far; returns ``<out_dir>/data_docs/index.html``.

        A passing gate only records its results: the pages of all gates are rendered in one
        pass here (``metrics()`` calls this, so ``out_dir`` is complete once metrics are
        logged) or at once when a gate fails, so its error message points at written pages.
        """
        return self._validator.build_docs() if self._validator is not None else None

    def metrics(self) -> dict[str, float]:
        """``quality/<gate>/success_ratio``, ``/failed_expectations``, ``/quarantined_rows`` per gate run,
        and ``quality/rows_in``, ``quality/rows_out``, ``quality/rows_quarantined`` over gates 1 and 2.

        Also writes the Data Docs, so ``out_dir`` is complete once metrics are logged.
        """
        self.write_docs()
        out: dict[str, float] = {}
        for gate, report in self.reports.items():
            if report.status == "skipped":
                continue
            out[f"quality/{gate}/success_ratio"] = report.success_ratio
            out[f"quality/{gate}/failed_expectations"] = float(len(report.failed))
            out[f"quality/{gate}/quarantined_rows"] = float(report.rows_quarantined)
        for name, value in (self.row_counts() or {}).items():
            out[f"quality/{name}"] = float(value)
        return out

    # --- internals ------------------------------------------------------------------

    def _hints(self, report: GateReport, evidence: Evidence) -> dict[str, str]:
        from gogooku3.quality.hints import hint_for
        from gogooku3.quality.levels import load_levels

        try:
            levels = load_levels()
        except Exception:  # conf/ not at hand (an installed package): hints without the levels
            levels = {}
        hints = {r.check: hint_for(r, evidence, report, levels, self.calendar_name) for r in report.failed}
        return {k: v for k, v in hints.items() if v}

    def _calendar(self, market: MarketData) -> pl.Series:
        return self.calendar if self.calendar is not None else market.calendar

    def _skipped(self, gate: str) -> GateReport:
        report = GateReport(gate=gate, status="skipped", notes=["quality.enabled=false"])
        self.reports[gate] = report
        return report

    def _record_rows(self, report: GateReport, rows_out: int, quarantined: list[pl.DataFrame],
                     corrections: list[Correction]) -> None:
        report.rows_out = rows_out
        report.rows_quarantined = sum(f.height for f in quarantined)
        report.corrections.extend(corrections)
        self._quarantine_files(report, quarantined)

    def _quarantine_files(self, report: GateReport, frames: list[pl.DataFrame]) -> None:
        path = write_quarantine(self.out_dir, report.gate, frames)
        report.quarantine_file = str(path) if path else None

    def _get_validator(self) -> GxValidator:
        if self._validator is None:
            from gogooku3.quality.validator import GxValidator

            docs = self.out_dir / "data_docs" if self.config.data_docs else None
            self._validator = GxValidator(docs, self.config.sample_rows)
        return self._validator

    def _finish(self, report: GateReport, evidence: Evidence, started: float) -> None:
        checked = time.perf_counter()
        report.timings["checks"] = checked - started
        validator = self._get_validator()
        report.timings["ge_setup"] = time.perf_counter() - checked
        checked = time.perf_counter()
        report.results = validator.validate(report.gate, evidence)
        report.timings["validate"] = time.perf_counter() - checked
        report.samples = evidence.samples
        report.notes.extend(evidence.notes)
        if report.failed:
            report.status = "failed"
            report.hints = self._hints(report, evidence)
        elif any(c.action != "refused" for c in report.corrections):
            report.status = "corrected"
        else:
            report.status = "passed"
        docs = validator.docs_index
        report.data_docs = str(docs) if docs else None
        if report.status == "failed":
            checked = time.perf_counter()
            validator.build_docs()
            report.timings["docs"] = time.perf_counter() - checked
        report.seconds = time.perf_counter() - started
        self.reports[report.gate] = report
        report.report_file = str(self.out_dir / f"{report.gate}.json")
        report.write(self.out_dir / f"{report.gate}.json")
        if report.status == "corrected":
            log.warning("quality gate '%s' corrected the data: %s", report.gate,
                        "; ".join(f"{c.check} {c.action} {c.count}" for c in report.corrections))
        if report.status == "failed":
            for hook in self.alert_hooks:
                try:
                    hook(report)
                except Exception as exc:  # an alert must never hide the gate's own error
                    log.warning("quality alert hook %r failed: %s", hook, type(exc).__name__)
            raise QualityGateError(report.message(), report)
