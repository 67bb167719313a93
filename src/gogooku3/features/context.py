"""What a feature group sees: the market, the frame built so far, and join helpers."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import polars as pl

from gogooku3.data.market import MarketData
from gogooku3.errors import DataError
from gogooku3.features.ops import WindowSums
from gogooku3.features.spec import Feature, FeatureSpec
from gogooku3.schema import CODE, DATE

log = logging.getLogger("gogooku3.features")


@dataclass
class FeatureContext:
    """Mutable state threaded through the groups of one build.

    ``frame`` is lazy, sorted by Code then Date, and holds the prepared columns
    (see :mod:`.ops`), helper columns joined by earlier groups, and every feature
    produced so far (``columns`` lists them). Groups add inputs with the ``join_*``
    helpers and return :class:`~gogooku3.features.spec.Feature` objects.
    """

    market: MarketData
    frame: pl.LazyFrame
    sessions: pl.Series  # every session (calendar and quote dates), ascending
    base: pl.DataFrame  # every code's rows (quote columns, _present); ``frame`` may hold a slice
    columns: list[str] = field(default_factory=list)
    specs: dict[str, FeatureSpec] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    helpers: set[str] = field(default_factory=set)
    keep: set[str] = field(default_factory=set)  # columns kept across groups (base, sector)
    cache: dict[str, pl.DataFrame] = field(default_factory=dict)  # shared by all slices
    quiet: bool = False  # True on every slice but the first: log skips once
    timings: dict[str, float] = field(default_factory=dict)  # wall seconds per group, over all slices
    group: str = ""

    def table(self, name: str) -> pl.DataFrame | None:
        """``listed``, ``index`` or an extras table; None when the source lacks it."""
        if name in ("listed", "index"):
            return getattr(self.market, name)
        return (self.market.extras or {}).get(name)

    def skip(self, what: str, reason: str) -> None:
        """Log (once per build) that part of a group produces nothing, and why."""
        if not self.quiet:
            log.info("features: %s/%s skipped: %s", self.group, what, reason)

    def sector_column(self) -> str | None:
        """Join Sector33Code from ``market.listed`` once; None when listed is absent."""
        name = "_sector33"
        if name in self.keep:
            return name
        listed = self.table("listed")
        if listed is None or "Sector33Code" not in listed.columns:
            return None
        self.join_on_code(listed.select(pl.col(CODE).cast(pl.String),
                                        pl.col("Sector33Code").cast(pl.String).alias(name))
                          .unique(CODE, keep="last"))
        self.keep.add(name)
        return name

    def helpers_from(self, exprs: dict[str, pl.Expr]) -> dict[str, pl.Expr]:
        """Intermediate columns computed once for the group; returns ``pl.col`` references.

        Reusing a column instead of repeating an expression saves the work: polars
        does not share repeated sub-expressions (window ones included), so an
        indicator built from several of them (ADX) would otherwise be recomputed
        many times. Helper columns are dropped once the group's features are done.
        """
        named = {f"_h_{self.group}_{k}": e for k, e in exprs.items()}
        self.frame = self.frame.with_columns([e.alias(n) for n, e in named.items()])
        self.helpers.update(named)
        return {k: pl.col(n) for k, n in zip(exprs, named)}

    def window_sums(self, exprs: dict[str, pl.Expr]) -> dict[str, WindowSums]:
        """Materialize per-code cumulative sums of ``exprs`` for cheap window sums."""
        cols = {}
        for k, e in exprs.items():
            total, missing = WindowSums.columns(e)
            cols[f"cs_{k}"], cols[f"na_{k}"] = total, missing
        refs = self.helpers_from(cols)
        return {k: WindowSums(refs[f"cs_{k}"], refs[f"na_{k}"]) for k in exprs}

    def _attach(self, table: pl.DataFrame | pl.LazyFrame, on: list[str]) -> None:
        """Left-join ``table`` (unique on ``on``) without copying the frame's columns.

        Joining the whole frame would gather every feature built so far; joining the
        key columns alone and placing the result beside the frame does not.
        """
        right = table.lazy()
        added = [c for c in right.collect_schema().names() if c not in on]
        joined = self.frame.select(on).join(right, on=on, how="left", maintain_order="left")
        self.frame = pl.concat([self.frame, joined.select(added)], how="horizontal")

    def join_on_date(self, table: pl.DataFrame | pl.LazyFrame) -> None:
        """Left-join a per-date table (one row per Date) onto every code's rows."""
        self._attach(table, [DATE])

    def join_on_code(self, table: pl.DataFrame | pl.LazyFrame) -> None:
        """Left-join a per-code table (one row per Code).

        The frame is sorted by Code, so the table is joined to the frame's distinct
        codes only and each value repeated along its code's run of rows.
        """
        right = table.lazy()
        added = [c for c in right.collect_schema().names() if c != CODE]
        codes = self.frame.select(pl.col(CODE).rle().struct.field("value").alias(CODE)).collect(engine="in-memory")
        small = codes.lazy().join(right, on=CODE, how="left", maintain_order="left").collect(engine="in-memory")
        if small.height != codes.height:
            raise DataError("features: join_on_code needs a table with one row per Code")
        run = pl.col(CODE).rle_id()
        self.frame = self.frame.with_columns([pl.lit(small.get_column(c)).gather(run).alias(c) for c in added])

    def join_asof(self, table: pl.DataFrame | pl.LazyFrame, available_from: str,
                  by: str | None = None) -> None:
        """Attach to each row the latest ``table`` row usable at its Date.

        ``available_from`` is the table's column holding the first date a row may be
        used (publication date); rows with ``available_from <= Date`` qualify, so
        nothing is seen before it is published. ``by`` restricts matches to the same
        value (e.g. Code or a sector column present in the frame).
        """
        keys = [by, DATE] if by else [DATE]
        left = self.frame.select(keys)
        if by != CODE:  # (Code, Date) is already unique and sorted; other keys are not
            left = left.unique().sort(keys)
        right = table.lazy().sort([c for c in (by, available_from) if c])
        # polars' as-of join needs the left side sorted by Date (within ``by``), so it
        # runs on the sorted key table and is joined back by exact keys.
        matched = left.join_asof(right, left_on=DATE, right_on=available_from, by=by,
                                 strategy="backward", check_sortedness=False)
        if by == CODE:  # the as-of join kept the frame's own (Code, Date) rows in order
            added = [c for c in matched.collect_schema().names() if c not in keys]
            self.frame = pl.concat([self.frame, matched.select(added)], how="horizontal")
        else:
            self._attach(matched, keys)

    def join_on_keys(self, table: pl.DataFrame | pl.LazyFrame, on: list[str]) -> None:
        """Left-join a table unique on the columns ``on``."""
        self._attach(table, on)

    def feature(self, name: str, expr: pl.Expr, sources: tuple[str, ...] | list[str], *,
                window: int | None = None, lookback: int | None = 0, description: str = "",
                dtype: pl.DataType | None = None, min_obs: int | None = None) -> Feature:
        """A Feature of the current group (``lookback`` in sessions; None = unbounded)."""
        spec = FeatureSpec(name, self.group, tuple(sources), window, lookback, description, min_obs)
        return Feature(expr, spec) if dtype is None else Feature(expr, spec, dtype)
