"""Running groups: per-code groups on slices of whole codes, per-date groups on blocks of dates.

Memory is the constraint at scale: the panel alone is most of it (4 bytes per feature
per row), so everything else is computed in pieces whose size bounds the rest.
* Per-code groups (stage 0) see slices of whole codes; per-date groups (stage 1) see
  blocks of whole dates. Neither result depends on the cut: per-code features read
  only their code's rows, per-date features only their date's rows.
* A group's inputs and helpers are materialized once, then its features batch by
  batch, each cast to its dtype at once (Float64 intermediates never pile up).
* Slices of the panel stay separate chunks of one frame, and every column added to
  it is cut into the same chunks: polars copies every column of a frame whose
  columns are chunked differently at its next operation.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import polars as pl

from gogooku3.console import Progress
from gogooku3.errors import ConfigError, DataError
from gogooku3.features import ops
from gogooku3.features.context import FeatureContext
from gogooku3.features.prepare import adjust
from gogooku3.features.registry import GroupDef
from gogooku3.features.spec import Feature
from gogooku3.schema import CODE, DATE

log = logging.getLogger("gogooku3.features")

Plan = list[tuple[str, GroupDef, dict[str, Any]]]

# Per-code groups run on slices of whole codes of about this many rows, per-date groups
# on blocks of whole dates of about this many rows; results do not depend on either.
CHUNK_ROWS = 250_000
DATE_BLOCK_ROWS = 250_000
# Features evaluated (and cast) together: enough to keep both threads busy.
FEATURE_BATCH = 32
ENGINE = "in-memory"  # window-heavy plans run about twice as fast as on the streaming engine


def cumulative_groups(sizes: Sequence[int] | np.ndarray, max_rows: int) -> list[int]:
    """Row counts of consecutive runs of groups, each at most ``max_rows`` (or one group)."""
    ends = np.cumsum(sizes)
    runs, first = [], 0
    while first < len(sizes):
        limit = (ends[first - 1] if first else 0) + max_rows
        last = max(first, int(np.searchsorted(ends, limit, side="right")) - 1)
        runs.append(int(ends[last] - (ends[first - 1] if first else 0)))
        first = last + 1
    return runs


def _layout(frame: pl.DataFrame) -> list[int]:
    """Chunk lengths of the first column of ``frame`` (all columns share them)."""
    return [len(c) for c in frame.get_column(frame.columns[0]).get_chunks()]


def _aligned(column: pl.Series, layout: list[int]) -> pl.Series:
    """``column`` cut into chunks of the lengths ``layout`` (zero-copy slices of one buffer)."""
    if [len(c) for c in column.get_chunks()] == layout:
        return column
    column = column.rechunk()
    if len(layout) == 1:
        return column
    starts = np.concatenate([[0], np.cumsum(layout)[:-1]])
    return pl.concat([column.slice(int(o), n) for o, n in zip(starts, layout)], rechunk=False)


def hstack(frame: pl.DataFrame, columns: list[pl.Series]) -> pl.DataFrame:
    """``frame`` with ``columns`` beside it, cut like its own columns."""
    layout = _layout(frame)
    return frame.hstack([_aligned(c, layout) for c in columns])


def run_groups(ctx: FeatureContext, plan: Plan, progress: Progress | None = None) -> None:
    """Run groups on ``ctx.frame`` one after the other; adds their wall time to ``ctx.timings``."""
    for name, group, params in plan:
        start = time.perf_counter()
        _run_group(ctx, name, group, params)
        ctx.timings[name] = ctx.timings.get(name, 0.0) + time.perf_counter() - start
        if progress is not None:
            progress.update(1, name)


def _available(ctx: FeatureContext, name: str, feats: list[Feature]) -> list[Feature]:
    """The features whose source columns the data has; the others are skipped with one log line.

    A close-only file (``MarketData.absent`` = Open, High, Low, Volume) keeps its returns and
    loses its bar-shape and volume features, rather than feeding all-null columns on.
    """
    absent = set(ctx.market.absent)
    if not absent:
        return feats
    keep = [f for f in feats if not absent & set(f.spec.sources)]
    if len(keep) < len(feats):
        dropped = [f for f in feats if absent & set(f.spec.sources)]
        needs = sorted(absent & set().union(*(f.spec.sources for f in dropped)))
        if not ctx.quiet:
            log.info("features: %s: %d feature(s) skipped, they need column(s) absent from the data (%s): %s",
                     name, len(dropped), ", ".join(needs), ", ".join(f.name for f in dropped))
        marker = f"{name} (features needing absent columns)"
        if marker not in ctx.skipped:
            ctx.skipped.append(marker)
    return keep


def _run_group(ctx: FeatureContext, name: str, group: GroupDef, params: dict[str, Any]) -> None:
    """Compute one group's features and place them beside ``ctx.frame`` (helpers are dropped).

    Only the columns its features read and its helpers are materialized, so a group
    over a block of dates gathers a few columns of the panel, not all of them.
    """
    params = dict(params)
    required = bool(params.pop("required", False))
    ctx.group = name
    base = ctx.frame
    before = set(base.collect_schema().names())
    feats: list[Feature] = _available(ctx, name, group.fn(ctx, **params))
    for f in feats:
        if f.name in ctx.specs or f.name in (CODE, DATE):
            raise ConfigError(f"features.groups.{name}: feature {f.name} already produced by another group")
        ctx.columns.append(f.name)
        ctx.specs[f.name] = f.spec
    if not feats and required:
        raise DataError(f"features.groups.{name}: required, but it produced no features")
    ctx.helpers.clear()
    schema = ctx.frame.collect_schema().names()
    kept = [c for c in schema if c not in before and c in ctx.keep]  # e.g. the sector column
    if not feats and not kept:
        ctx.frame = base
        return
    reads = set().union(*(f.expr.meta.root_names() for f in feats)) | (set(schema) - before) | {DATE}
    if any(f.expr.meta.has_multiple_outputs() for f in feats):  # a selector (pl.all()) reads anything
        reads = set(schema)
    work = ctx.frame.select([c for c in schema if c in reads]).collect(engine=ENGINE)
    new = [work.get_column(c) for c in kept]
    for i in range(0, len(feats), FEATURE_BATCH):
        batch = feats[i:i + FEATURE_BATCH]
        out = work.lazy().select([f.expr.cast(f.dtype).alias(f.name) for f in batch]).collect(engine=ENGINE)
        new += out.rechunk().get_columns()  # shifts leave two chunks; in parallel here, not one by one later
    del work
    ctx.frame = pl.concat([base, pl.DataFrame(new).lazy()], how="horizontal")


def _code_slices(grid: pl.DataFrame, max_rows: int) -> list[tuple[int, int]]:
    """(offset, length) of slices of whole codes of ``grid`` (it is sorted by Code).

    The last tenth of the rows (at most four slices' worth) goes in quarter-size
    slices: they run when the panel is nearly complete, and the peak memory is then
    the panel plus what the last slices hold.
    """
    # On the column alone: an eager group_by on the frame would copy every column first.
    sizes = grid.get_column(CODE).rle().struct.field("len").to_numpy()
    ends = np.cumsum(sizes)
    tail = min(4 * max_rows, int(ends[-1]) // 10)
    first_small = int(np.searchsorted(ends, ends[-1] - tail))
    lengths = (cumulative_groups(sizes[:first_small], max_rows)
               + cumulative_groups(sizes[first_small:], max(1, max_rows // 4)))
    return list(zip(np.concatenate([[0], np.cumsum(lengths)[:-1]]).tolist(), lengths))


def per_code(ctx: FeatureContext, grid: pl.DataFrame, plan: Plan, progress: Progress | None = None) -> pl.DataFrame:
    """Per-code groups, slice by slice: Code, Date, _present and features of the quote rows.

    ``ctx`` supplies the shared state (market, sessions, cache, skipped); its
    ``columns`` and ``specs`` receive the features. The result keeps one chunk per
    slice (concatenating them would hold the whole panel twice).
    """
    parts = []
    slices = _code_slices(grid, CHUNK_ROWS)
    if progress is not None:
        progress.add_total(len(slices) * len(plan))
    for i, (offset, length) in enumerate(slices):
        frame = adjust(grid.slice(offset, length).rechunk())
        part = FeatureContext(market=ctx.market, frame=frame.lazy(), sessions=ctx.sessions, base=grid,
                              keep=set(frame.columns), skipped=ctx.skipped, cache=ctx.cache, quiet=i > 0,
                              timings=ctx.timings)
        del frame
        run_groups(part, plan, progress)
        ctx.columns[:], ctx.specs = list(part.columns), dict(part.specs)
        feats = part.frame.select(ops.PRESENT, *part.columns).collect(engine=ENGINE)
        del part
        # Code and Date of quote rows are those of the quotes (no copy when there are no gaps).
        keys = grid.slice(offset, length).select(CODE, DATE)
        present = feats.get_column(ops.PRESENT)
        if not present.all():  # sessions inserted for missing quote rows
            keys, feats = keys.filter(present), feats.filter(present)
        if _layout(keys) != _layout(keys.select(DATE)):
            keys = keys.rechunk()
        parts.append(hstack(keys, feats.get_columns()))
    return pl.concat(parts, rechunk=False)


def _date_blocks(dates: pl.Series, max_rows: int) -> Iterator[pl.Series]:
    """Row numbers (ascending) of blocks of whole dates of about ``max_rows`` rows each.

    Lean on memory: this runs when the panel is nearly complete.
    """
    days = dates.to_physical().to_numpy()  # days since 1970 (Int32)
    days = days - days.min()
    counts = np.bincount(days)
    present = np.flatnonzero(counts)
    lengths = cumulative_groups(counts[present], max_rows)
    last = np.searchsorted(np.cumsum(counts[present]), np.cumsum(lengths))  # each block's last date
    block_of_day = np.zeros(len(counts), dtype=np.uint16 if len(lengths) < 2**16 else np.uint32)
    block_of_day[present] = np.searchsorted(last, np.arange(len(present)))
    block = pl.Series(block_of_day[days])
    del days
    for b in range(len(lengths)):
        yield (block == b).arg_true()


def per_date(ctx: FeatureContext, panel: pl.DataFrame, plan: Plan, progress: Progress | None = None) -> list[pl.Series]:
    """Per-date groups, block by block of whole dates: their features in panel row order.

    ``ctx`` holds the features so far (``columns``, ``specs``) and receives the new ones.
    A block's frame gathers only the columns its groups read (projection pushdown); its
    results are written in place into full-length columns.
    """
    known, columns, specs = set(ctx.columns), list(ctx.columns), dict(ctx.specs)
    full: dict[str, pl.Series] = {}
    blocks = list(_date_blocks(panel.get_column(DATE), DATE_BLOCK_ROWS))
    if progress is not None:
        progress.add_total(len(blocks) * len(plan))
    for i, rows in enumerate(blocks):
        block = FeatureContext(market=ctx.market, frame=panel.lazy().select(pl.all().gather(rows)),
                               sessions=ctx.sessions, base=panel, keep=set(ctx.keep), columns=list(columns),
                               specs=dict(specs), skipped=ctx.skipped, cache=ctx.cache, quiet=i > 0,
                               timings=ctx.timings)
        run_groups(block, plan, progress)
        out = block.frame.select([c for c in block.columns if c not in known]).collect(engine=ENGINE)
        ctx.columns[:], ctx.specs = list(block.columns), dict(block.specs)
        del block
        for s in out.get_columns():
            if s.name not in full:
                full[s.name] = pl.Series(s.name, [], dtype=s.dtype).extend_constant(None, panel.height)
            full[s.name].scatter(rows, s)
    return [full[c] for c in ctx.columns if c in full]
