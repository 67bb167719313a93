"""``data=jquants``: ingest what is missing from J-Quants V2, then read the snapshot as MarketData."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from gogooku3.data.calendar import parse_config_date, trading_sessions
from gogooku3.data.jquants.client import JQuantsClient, RetryPolicy, plan_rate
from gogooku3.data.jquants.credentials import ApiKey, resolve_api_key, resolve_base_url
from gogooku3.data.jquants.endpoints import CORE, ENDPOINTS, endpoint
from gogooku3.data.jquants.ingest import Ingester, IngestSummary, read_table
from gogooku3.data.jquants.snapshot import Partition, Snapshot
from gogooku3.data.market import MarketData
from gogooku3.errors import ConfigError, DataError
from gogooku3.storage.objects import ObjectStore
from gogooku3.schema import (
    EXTRA_TABLES,
    INDEX_COLUMNS,
    LISTED_COLUMNS,
    QUOTE_COLUMNS,
)


@dataclass
class JQuantsSource:
    """Config-facing source (conf/data/jquants.yaml).

    The API key is never a config value (it comes from the environment or the official
    client's config file); ``api_key`` exists for programmatic callers such as the
    in-process loopback server and is excluded from the repr.
    """

    name: str = "jquants"
    start: str = "2019-01-01"
    end: str = "2023-12-31"
    plan: str | None = "light"
    base_url: str | None = None
    data_dir: str = "outputs/data"
    snapshot_name: str = "jquants"
    endpoints: tuple[str, ...] = CORE
    concurrency: int = 4
    rate_limit_per_minute: float | None = None  # None: the plan's limit; 0: off
    max_retries: int = 6
    backoff_s: float = 1.0
    wait_429_s: float = 65.0
    timeout_s: float = 30.0
    progress: bool = True
    fsync: bool = True
    calendar: str = "XTKS"  # sessions from J-Quants' own /markets/calendar (the Tokyo exchange)
    api_key: ApiKey | None = field(default=None, repr=False)  # programmatic use only
    # programmatic: an ObjectStore for the raw partitions (None: local files under data_dir)
    object_store: ObjectStore | None = field(default=None, repr=False)
    summary: IngestSummary | None = field(default=None, init=False, repr=False)

    def load(self) -> MarketData:
        start, end = parse_config_date(self.start, "start"), parse_config_date(self.end, "end")
        if str(self.calendar).upper() != "XTKS":
            raise ConfigError(f"data.calendar={self.calendar}: J-Quants serves the Tokyo exchange, whose sessions "
                              "come from its /markets/calendar; keep data.calendar=XTKS")
        if start > end:
            raise ConfigError(f"data.start={start} is after data.end={end}")
        names = tuple(dict.fromkeys(["calendar", *self.endpoints]))
        for name in names:
            endpoint(name)
        if "bars" not in names:
            raise ConfigError("data.endpoints must include 'bars' (the daily quotes)")
        base_url = resolve_base_url(self.base_url)
        snapshot = self.open_snapshot()
        client = JQuantsClient(
            base_url,
            resolve_api_key(self.api_key),
            per_minute=plan_rate(self.plan, self.rate_limit_per_minute),
            retry=RetryPolicy(self.max_retries, self.backoff_s, 30.0, self.wait_429_s, self.timeout_s),
            on_malformed=lambda ep, params, body, problem: snapshot.quarantine(
                ep.name, _slug(params), params, body, problem
            ),
        )
        self.summary = IngestSummary()
        parts, _ = Ingester(client, snapshot, self.concurrency, self.progress).run(start, end, names, self.summary)
        return replace(build_market(snapshot, parts, start, end, names), source=f"jquants:{base_url}")

    def open_snapshot(self) -> Snapshot:
        return Snapshot(Path(self.data_dir).expanduser() / self.snapshot_name, fsync=self.fsync,
                        objects=self.object_store)  # fmt: skip


def build_market(
    snapshot: Snapshot, parts: list[Partition], start: date, end: date, names: tuple[str, ...]
) -> MarketData:
    """Read the snapshot's partitions into canonical tables (no network)."""
    tables = {name: read_table(snapshot, ENDPOINTS[name], parts) for name in names}
    cal = tables["calendar"]
    sessions = (
        cal.filter(pl.col("HolidayDivision").is_in(["1", "2"]) & pl.col("Date").is_between(start, end))
        .get_column("Date")
        .sort()
        .alias("Date")
    )
    quotes = _quotes(tables["bars"])
    if quotes.height:  # sessions whose bars are not published yet are not part of the data
        sessions = sessions.filter(sessions <= quotes.get_column("Date").max())
    listed = index = None
    if "master" in tables:
        listed = _exact(tables["master"], LISTED_COLUMNS).unique("Code", keep="last").sort("Code")
    if "topix" in tables:
        index = _exact(tables["topix"], INDEX_COLUMNS).filter(pl.col("Date").is_between(start, end)).sort("Date")
        _unique(index, ["Date"], "/indices/bars/daily/topix")
    extras = {}
    if "statements" in tables:
        extras["statements"] = _keep_all(tables["statements"], EXTRA_TABLES["statements"])
    if "investor_types" in tables:
        extras["investor_types"] = _keep_all(tables["investor_types"], EXTRA_TABLES["investor_types"])
    if "margin" in tables:
        margin = tables["margin"].with_columns(
            pl.col("PublishedDate").fill_null(_sessions_later(tables["margin"].get_column("Date"), 2))
        )
        extras["margin"] = _keep_all(margin, EXTRA_TABLES["margin"])
    if "short_ratio" in tables:
        # V2 sends no publication date for short selling; it is published the next session.
        short = tables["short_ratio"].with_columns(
            _sessions_later(tables["short_ratio"].get_column("Date"), 1).alias("PublishedDate")
        )
        extras["short_ratio"] = _keep_all(short, EXTRA_TABLES["short_ratio"])
    extras = {name: frame.sort(list(ENDPOINTS[name].sort)) for name, frame in extras.items()}
    digest = snapshot.digest(parts)
    return MarketData(
        quotes=quotes, calendar=sessions, digest=digest, source="", listed=listed, index=index, extras=extras,
        calendar_name="XTKS",
    )


def _quotes(bars: pl.DataFrame) -> pl.DataFrame:
    quotes = _exact(bars, QUOTE_COLUMNS).with_columns(pl.col("AdjustmentFactor").fill_null(1.0)).sort("Code", "Date")
    _unique(quotes, ["Code", "Date"], "/equities/bars/daily")
    return quotes


def _exact(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return frame.select(
        [pl.col(c).cast(t) if c in frame.columns else pl.lit(None, dtype=t).alias(c) for c, t in schema.items()]
    )


def _keep_all(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Canonical columns first (typed), then every further field J-Quants sent."""
    rest = [c for c in frame.columns if c not in schema]
    return pl.concat([_exact(frame, schema), frame.select(rest)], how="horizontal")


def _unique(frame: pl.DataFrame, keys: list[str], where: str) -> None:
    dupes = frame.filter(pl.struct(keys).is_duplicated())
    if dupes.height:
        row = dupes.row(0, named=True)
        example = [row[k] for k in keys]
        raise DataError(f"J-Quants {where}: {dupes.height} rows share a ({', '.join(keys)}) key, e.g. {example}")


def _sessions_later(days: pl.Series, n: int) -> pl.Series:
    """The n-th XTKS session after each day (publication dates V2 does not send)."""
    if days.len() == 0:
        return pl.Series(days.name, [], dtype=pl.Date)
    first, last = days.min(), days.max()
    sessions = pl.Series(trading_sessions(first, last + timedelta(days=30 + 2 * n)), dtype=pl.Date)
    idx = sessions.search_sorted(days, side="right") + (n - 1)
    return sessions.gather(idx.clip(upper_bound=sessions.len() - 1)).alias(days.name)


def _slug(params: dict[str, str]) -> str:
    return "_".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "pagination_key") or "all"
