"""Incremental, resumable ingestion: plan partitions, fetch only the missing ones.

The calendar comes first (it decides which sessions exist); every other endpoint is then cut
into partitions (per session, per month or once) and the ones not yet in the snapshot with
the same request are fetched with bounded concurrency. A failed partition does not stop the
others; the run ends with an error naming the first failure, and a re-run resumes.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl

from gogooku3.console import Progress
from gogooku3.data.jquants.client import JQuantsClient, RequestRejected
from gogooku3.data.jquants.endpoints import CORE, ENDPOINTS, Endpoint
from gogooku3.data.jquants.normalize import empty_canonical, parse_page, to_canonical
from gogooku3.data.jquants.snapshot import Partition, Snapshot
from gogooku3.errors import DataError

log = logging.getLogger(__name__)
SESSION_DIVISIONS = ("1", "2")  # business day, half day


@dataclass
class IngestSummary:
    rows: Counter = field(default_factory=Counter)  # rows fetched per endpoint this run
    fetched: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)  # already in the snapshot
    retried: Counter = field(default_factory=Counter)  # retries (429, 5xx, timeouts, bad bodies)
    empty: Counter = field(default_factory=Counter)  # sessions with no bars yet: not recorded
    seconds: Counter = field(default_factory=Counter)  # summed over workers: http, parse, write
    failures: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        names = sorted(set(self.fetched) | set(self.skipped) | set(self.empty))
        out = [f"{'endpoint':<15}{'rows':>10}{'fetched':>9}{'skipped':>9}{'retried':>9}{'empty':>7}"]
        out += [
            f"{n:<15}{self.rows[n]:>10}{self.fetched[n]:>9}{self.skipped[n]:>9}{self.retried[n]:>9}{self.empty[n]:>7}"
            for n in names
        ]
        return out


def month_partitions(name: str, start: date, end: date) -> list[Partition]:
    parts, first = [], date(start.year, start.month, 1)
    while first <= end:
        nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        lo, hi = max(first, start), min(nxt - timedelta(days=1), end)
        parts.append(Partition(name, f"month={first:%Y-%m}", {"from": lo.isoformat(), "to": hi.isoformat()}))
        first = nxt
    return parts


def plan(ep: Endpoint, start: date, end: date, sessions: list[date]) -> list[Partition]:
    if ep.partitioning == "month":
        return month_partitions(ep.name, start, end)
    if ep.partitioning == "once":
        last = sessions[-1] if sessions else end
        return [Partition(ep.name, f"date={last}", {"date": last.isoformat()})]
    return [Partition(ep.name, f"date={d}", {"date": d.isoformat()}) for d in sessions]


class Ingester:
    def __init__(self, client: JQuantsClient, snapshot: Snapshot, concurrency: int = 4, progress: bool = True) -> None:
        self.client, self.snapshot = client, snapshot
        self.concurrency, self.progress = max(1, int(concurrency)), progress

    def run(
        self, start: date, end: date, endpoints: tuple[str, ...] = CORE, summary: IngestSummary | None = None
    ) -> tuple[list[Partition], IngestSummary]:
        """Fetch what is missing; return every planned partition (for reading) and the summary."""
        summary = summary if summary is not None else IngestSummary()
        with self.snapshot.writing():
            try:
                return self._run(start, end, endpoints, summary)
            finally:
                self.snapshot.write_manifest()

    def _run(self, start: date, end: date, endpoints: tuple[str, ...], summary: IngestSummary):
        calendar_parts = plan(ENDPOINTS["calendar"], start, end, [])
        self._fetch(calendar_parts, summary)
        self._raise_failures(summary)
        sessions = self.sessions(calendar_parts, start, end)
        if not sessions:
            raise DataError(f"J-Quants /markets/calendar: no trading session between {start} and {end}")
        parts = [p for name in endpoints if name != "calendar" for p in plan(ENDPOINTS[name], start, end, sessions)]
        self._fetch(parts, summary)
        self._raise_failures(summary)
        stored = [p for p in calendar_parts + parts if p.key in self.snapshot.entries]
        return stored, summary

    def sessions(self, calendar_parts: list[Partition], start: date, end: date) -> list[date]:
        cal = read_table(self.snapshot, ENDPOINTS["calendar"], calendar_parts)
        days = cal.filter(pl.col("HolidayDivision").is_in(SESSION_DIVISIONS) & pl.col("Date").is_between(start, end))
        return days.get_column("Date").sort().to_list()

    def _fetch(self, parts: list[Partition], summary: IngestSummary) -> None:
        todo = []
        for part in parts:
            ep = ENDPOINTS[part.endpoint]
            if self.snapshot.has(part, ep.path, ep.settle_days):
                summary.skipped[part.endpoint] += 1
            else:
                todo.append(part)
        if not todo:
            return
        bar = _progress(len(todo), self.progress)
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = {pool.submit(self._fetch_one, part): part for part in todo}
            for future in as_completed(futures):
                part = futures[future]
                try:
                    rows, retries, recorded, seconds = future.result()
                except RequestRejected as exc:  # e.g. a bad key: every other request would fail too
                    summary.failures.insert(0, str(exc))
                    pool.shutdown(cancel_futures=True)
                    break
                except DataError as exc:
                    summary.failures.append(str(exc))
                else:
                    summary.retried[part.endpoint] += retries
                    summary.seconds.update(seconds)
                    if recorded:
                        summary.fetched[part.endpoint] += 1
                        summary.rows[part.endpoint] += rows
                    else:
                        summary.empty[part.endpoint] += 1
                bar.update(1, part.endpoint)
        bar.close()

    def _fetch_one(self, part: Partition) -> tuple[int, int, bool, dict[str, float]]:
        ep = ENDPOINTS[part.endpoint]
        fetched = self.client.fetch(ep, part.params)
        seconds = {"http": fetched.http_s, "parse": fetched.parse_s}
        if fetched.rows == 0 and ep.name == "bars":
            # A session without any bars is not published yet (or a wrong date): recording
            # it would make the gap permanent, so it is fetched again next time.
            log.warning("J-Quants %s %s: no rows yet; not recorded", ep.path, part.params)
            return 0, fetched.retries, False, seconds
        started = time.perf_counter()
        self.snapshot.store(part, ep.path, fetched.pages, fetched.rows)
        seconds["write"] = time.perf_counter() - started
        return fetched.rows, fetched.retries, True, seconds

    @staticmethod
    def _raise_failures(summary: IngestSummary) -> None:
        if summary.failures:
            more = f" (and {len(summary.failures) - 1} more failed partitions)" if len(summary.failures) > 1 else ""
            raise DataError(f"{summary.failures[0]}{more}; fetched partitions are kept, re-run to resume")


def read_table(snapshot: Snapshot, ep: Endpoint, parts: list[Partition]) -> pl.DataFrame:
    """Canonical rows of the stored partitions of one endpoint."""
    frames = []
    for part in parts:
        if part.endpoint != ep.name or part.key not in snapshot.entries:
            continue
        for body in snapshot.pages(part):
            rows, _ = parse_page(ep, body)
            if rows.height:
                frames.append(to_canonical(ep, rows))
    if not frames:
        return empty_canonical(ep)
    return pl.concat(frames, how="diagonal_relaxed")


def _progress(total: int, enabled: bool) -> Progress:
    """A bar on a terminal, a line every 30 s elsewhere (CI logs would get a segment per part)."""
    return Progress(total, "J-Quants ingest", unit="part", logger=log, mode=None if enabled else "off")
