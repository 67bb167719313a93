"""Business metrics read from the prediction store and the registry when Prometheus scrapes.

A custom collector (``collect()``), so the values are the store's, never a copy kept in
process; a scrape reuses the last reading for ``cache_seconds``. Definitions (docs/dashboards.md):

* model of a day: the champion's version when stored for that day, else the newest stored
  version label (the API's rule), so one model's figures are shown, not a mix.
* ``realized_rank_ic{horizon}``: the RankIC of the latest matured as-of date;
  ``realized_rank_ic_mean``: the mean over the last ``k`` matured dates.
* ``validation_rank_ic_lower{horizon}``: the lower edge of the band a mean of ``k`` daily
  RankICs of the champion should stay above: ``IC - 2 * sd / sqrt(k)``, where IC is the
  champion's out-of-sample walk-forward ``test/rank_ic_h{h}`` and sd = IC / ICIR its daily
  spread (``test/rank_icir_h{h}``), both copied to the version by registration.
* ``prediction_coverage_ratio{horizon}``: codes with a finite prediction on the newest
  stored date / codes stored on the newest or the previous stored date (dropped codes and
  NaN predictions both lower it).
* ``prediction_dispersion`` / ``confidence_mean``: cross-sectional sd of ``prediction`` and
  mean ``confidence`` on the newest stored date.
* ``latest_prediction_timestamp_seconds``: the newest stored as-of session at its close (Tokyo).
* ``predictions_due_timestamp_seconds``: the deadline (``serving.sla.prediction_deadline``,
  Tokyo) on the day of the session after the latest completed one; ``predictions_ready``:
  1 when predictions as of the latest completed session (i.e. for that next session) are stored.
* ``data_freshness_sessions``: sessions between the newest stored as-of date and the latest
  completed session (0 = up to date).
* ``days_since_promotion``: now minus the champion's ``promoted_at`` tag (else the newest
  promote of it in the actions log, else its creation time), in days.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gogooku3.monitoring import names

log = logging.getLogger(__name__)
TOKYO = ZoneInfo("Asia/Tokyo")


def _hhmm(text: str) -> tuple[int, int]:
    hh, mm = (int(p) for p in str(text).split(":"))
    return hh, mm


def _at(day: date, hhmm: str) -> float:
    hh, mm = _hhmm(hhmm)
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=TOKYO).timestamp()


def pick_version(versions: list[str], champion: str | None) -> str | None:
    """The model a day is shown with: the champion when stored that day, else the newest version label."""
    if not versions:
        return None
    return champion if champion in versions else max(versions, key=lambda v: (len(v), v))


class BusinessCollector:
    """Collector of the business series (names.py); every input is read at scrape time."""

    def __init__(
        self, store: Any, tracking_uri: str, model_name: str, latest_session: Callable[[], date], *,
        calendar: str = "XTKS", close_time: str = "15:30", deadline: str = "08:30", k: int | None = None,
        cache_seconds: float = 5.0, now: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self.store, self.tracking_uri, self.model_name = store, tracking_uri, model_name
        self.latest_session, self.calendar, self.close_time, self.deadline = latest_session, calendar, close_time, deadline
        if k is None:  # the window the alert rules name (monitoring.thresholds.rank_ic_sessions)
            from gogooku3.config.monitoring import Thresholds

            k = Thresholds.rank_ic_sessions
        self.k, self.cache_seconds, self.now = int(k), float(cache_seconds), now
        self._cache: tuple[float, list[Any]] | None = None
        self._lock = threading.Lock()

    def describe(self) -> list[Any]:
        return []  # values come from outside the process: no describe-time read

    def collect(self) -> Iterator[Any]:
        with self._lock:
            if self._cache is None or time.monotonic() - self._cache[0] >= self.cache_seconds:
                self._cache = (time.monotonic(), self._read())
            yield from self._cache[1]

    # ---- readings ------------------------------------------------------------------------
    def _read(self) -> list[Any]:
        from prometheus_client.core import GaugeMetricFamily

        def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Any:
            return GaugeMetricFamily(name, doc, labels=list(labels))

        fams = {
            "ic": gauge(names.REALIZED_RANK_IC, "RankIC of the latest matured as-of date.", ("horizon",)),
            "ic_mean": gauge(names.REALIZED_RANK_IC_MEAN, f"Mean RankIC over the last {self.k} matured dates.", ("horizon",)),
            "lower": gauge(names.VALIDATION_RANK_IC_LOWER,
                           f"Champion's test RankIC minus 2 sd of a {self.k}-date mean.", ("horizon",)),
            "coverage": gauge(names.PREDICTION_COVERAGE_RATIO,
                              "Codes with a finite prediction on the newest date / codes stored on it or the day before.",
                              ("horizon",)),
            "dispersion": gauge(names.PREDICTION_DISPERSION, "Cross-sectional sd of the newest date's predictions.",
                                ("horizon",)),
            "confidence": gauge(names.CONFIDENCE_MEAN, "Mean confidence of the newest date's predictions.", ("horizon",)),
        }  # fmt: skip
        singles: list[Any] = []
        champion = self._champion()
        try:
            self._store_metrics(fams, singles, champion)
        except Exception as exc:  # noqa: BLE001 - an unreadable store shows as missing series, not a failed scrape
            log.warning("business metrics: prediction store unreadable (%s)", type(exc).__name__)
        if champion is not None:
            self._registry_metrics(fams, singles, champion)
        return [*fams.values(), *singles]

    def _champion(self) -> Any:
        try:
            from gogooku3.registry.names import CHAMPION
            from gogooku3.registry.versions import Registry

            return Registry(self.tracking_uri).by_alias(self.model_name, CHAMPION)
        except Exception as exc:  # noqa: BLE001
            log.warning("business metrics: registry unreadable (%s)", type(exc).__name__)
            return None

    def _store_metrics(self, fams: dict[str, Any], singles: list[Any], champion: Any) -> None:
        import polars as pl
        from prometheus_client.core import GaugeMetricFamily

        version = None if champion is None else str(champion.version)
        realized = self.store.read("realized")
        for (h,), part in sorted(realized.group_by(["horizon"]), key=lambda kv: kv[0][0]):
            mv = pick_version(part.get_column("model_version").unique().to_list(), version)
            daily = part.filter(pl.col("model_version") == mv).sort("Date").get_column("rank_ic").drop_nans().drop_nulls()
            if daily.len():
                fams["ic"].add_metric([str(h)], float(daily[-1]))
                fams["ic_mean"].add_metric([str(h)], float(daily.tail(self.k).mean()))

        days = self.store.dates("predictions")
        latest = self.latest_session()
        due_day = self._next_session(latest)
        due = GaugeMetricFamily(names.PREDICTIONS_DUE_TIMESTAMP_SECONDS,
                                "Deadline of the next session's predictions (Unix time).")  # fmt: skip
        due.add_metric([], _at(due_day, self.deadline))
        ready = GaugeMetricFamily(names.PREDICTIONS_READY, "1 when the next session's predictions are stored.")
        ready.add_metric([], 1.0 if days and days[-1] >= latest else 0.0)
        singles += [due, ready]
        if not days:
            return
        newest = days[-1]
        stamp = GaugeMetricFamily(names.LATEST_PREDICTION_TIMESTAMP_SECONDS,
                                  "The newest stored as-of session, at its close (Unix time).")  # fmt: skip
        stamp.add_metric([], _at(newest, self.close_time))
        fresh = GaugeMetricFamily(names.DATA_FRESHNESS_SESSIONS,
                                  "Sessions between the newest stored as-of date and the latest completed session.")
        fresh.add_metric([], float(self._sessions_after(newest, latest)))
        singles += [stamp, fresh]

        recent = self.store.read("predictions", days[-2] if len(days) > 1 else newest, newest)
        universe = recent.get_column("Code").n_unique()
        today = recent.filter(pl.col("Date") == newest)
        mv = pick_version(today.get_column("model_version").unique().to_list(), version)
        for (h,), part in sorted(today.filter(pl.col("model_version") == mv).group_by(["horizon"]),
                                 key=lambda kv: kv[0][0]):  # fmt: skip
            preds = part.get_column("prediction").drop_nulls().drop_nans()
            fams["coverage"].add_metric([str(h)], preds.len() / universe if universe else 0.0)
            if preds.len() > 1:
                fams["dispersion"].add_metric([str(h)], float(preds.std()))
            conf = part.get_column("confidence").drop_nulls().drop_nans()
            if conf.len():
                fams["confidence"].add_metric([str(h)], float(conf.mean()))

    def _registry_metrics(self, fams: dict[str, Any], singles: list[Any], champion: Any) -> None:
        from prometheus_client.core import GaugeMetricFamily

        from gogooku3.registry.names import PROMOTED_AT_TAG, TEST_RANK_IC, TEST_RANK_ICIR

        horizons = sorted({int(k.rsplit("_h", 1)[1]) for k in champion.metrics
                           if k.startswith("test/rank_ic_h") and k.rsplit("_h", 1)[1].isdigit()})  # fmt: skip
        for h in horizons:
            ic, icir = champion.metrics.get(TEST_RANK_IC.format(h=h)), champion.metrics.get(TEST_RANK_ICIR.format(h=h))
            if ic is None or icir is None or not (math.isfinite(ic) and math.isfinite(icir)) or icir == 0:
                continue
            sd = abs(ic / icir)
            fams["lower"].add_metric([str(h)], ic - 2.0 * sd / math.sqrt(self.k))
        promoted = self._promoted_at(champion, champion.tags.get(PROMOTED_AT_TAG))
        days = GaugeMetricFamily(names.DAYS_SINCE_PROMOTION, "Days since the champion was promoted.")
        days.add_metric([], max(0.0, (self.now() - promoted) / 86400.0))
        singles.append(days)

    def _promoted_at(self, champion: Any, tag: str | None) -> float:
        if tag:
            try:
                return datetime.fromisoformat(tag.replace("Z", "+00:00")).timestamp()
            except ValueError:
                pass
        try:
            from gogooku3.registry import actions
            from gogooku3.registry.names import PROMOTE, ROLLBACK

            entries = [e for e in actions.read(actions.default_actions_log(self.tracking_uri))
                       if e.get("name") == self.model_name and str(e.get("version")) == str(champion.version)
                       and e.get("action") in (PROMOTE, ROLLBACK)]  # fmt: skip
            if entries:
                return datetime.fromisoformat(str(entries[-1]["at"]).replace("Z", "+00:00")).timestamp()
        except Exception:  # noqa: BLE001 - fall back to the version's creation time
            pass
        return champion.created.timestamp()

    # ---- calendar ------------------------------------------------------------------------
    def _next_session(self, day: date) -> date:
        from gogooku3.data.calendar import trading_sessions

        after = [d for d in trading_sessions(day + timedelta(days=1), day + timedelta(days=20), self.calendar) if d > day]
        return after[0] if after else day + timedelta(days=1)

    def _sessions_after(self, newest: date, latest: date) -> int:
        if newest >= latest:
            return 0
        from gogooku3.data.calendar import trading_sessions

        return sum(1 for d in trading_sessions(newest + timedelta(days=1), latest, self.calendar) if newest < d <= latest)
