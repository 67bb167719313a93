"""``build_features``: market data + group config -> FeaturePanel (cached in a store)."""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from gogooku3.data.market import MarketData
from gogooku3.errors import ConfigError, DataError
from gogooku3.features import ops, store
from gogooku3.features.context import FeatureContext
from gogooku3.features.panel import FeaturePanel
from gogooku3.features.prepare import prepare
from gogooku3.features.registry import GroupDef, get_group
from gogooku3.features.spec import Feature, FeatureSpec
from gogooku3.schema import CODE, DATE

log = logging.getLogger("gogooku3.features")

RESERVED = ("required",)


def _plain(value: Any) -> Any:
    """OmegaConf containers and tuples -> plain dicts/lists (for hashing and kwargs)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(v) for v in value]
    return value


def normalize_groups(groups: Mapping[str, Mapping[str, Any] | None]) -> dict[str, dict[str, Any]]:
    """Validate group names and parameters up front; empty params mean defaults."""
    if not isinstance(groups, Mapping) or not groups:
        raise ConfigError("features.groups: expected a non-empty mapping of group -> params")
    out: dict[str, dict[str, Any]] = {}
    for name, params in _plain(groups).items():
        params = params or {}
        if not isinstance(params, dict):
            raise ConfigError(f"features.groups.{name}: expected a mapping of parameters, got {params!r}")
        group = get_group(name)
        sig = inspect.signature(group.fn)
        kwargs = {k: v for k, v in params.items() if k not in RESERVED}
        try:
            sig.bind(None, **kwargs)
        except TypeError as exc:
            known = [p for p in list(sig.parameters)[1:]] + list(RESERVED)
            bad = sorted(set(kwargs) - set(known))
            raise ConfigError(
                f"features.groups.{name}: unknown parameter(s) {', '.join(bad) or exc} "
                f"(known: {', '.join(known)})"
            ) from None
        out[name] = params
    return out


def _missing_sources(ctx: FeatureContext, group: GroupDef) -> list[str]:
    missing = []
    for need in group.needs:
        table = ctx.table(need)
        if table is None or table.height == 0:
            missing.append(need)
    return missing


# Per-code groups run on slices of whole codes of about this many rows, which bounds
# the memory their intermediate columns take; results do not depend on the slicing.
CHUNK_ROWS = 1_000_000


def _plan(groups: dict[str, dict[str, Any]], ctx: FeatureContext) -> list[tuple[str, GroupDef, dict[str, Any]]]:
    """Groups to run, in stage order; absent sources are logged once (or raise if required)."""
    plan = []
    for name in sorted(groups, key=lambda g: get_group(g).stage):  # stable: config order within a stage
        group, params = get_group(name), dict(groups[name])
        ctx.group = name
        missing = _missing_sources(ctx, group)
        if missing:
            msg = f"market.{'/'.join(missing)} absent"
            if params.get("required"):
                raise DataError(f"features.groups.{name}: required, but {msg}")
            log.info("features: group %s produces nothing: %s", name, msg)
            ctx.skipped.append(name)
            continue
        plan.append((name, group, params))
    return plan


def _run(ctx: FeatureContext, plan: list[tuple[str, GroupDef, dict[str, Any]]]) -> None:
    """Run groups on ``ctx.frame``, materializing after each one."""
    for name, group, params in plan:
        params = dict(params)
        required = bool(params.pop("required", False))
        ctx.group = name
        feats: list[Feature] = group.fn(ctx, **params)
        for f in feats:
            if f.name in ctx.specs or f.name in (CODE, DATE):
                raise ConfigError(f"features.groups.{name}: feature {f.name} already produced by another group")
            ctx.columns.append(f.name)
            ctx.specs[f.name] = f.spec
        if feats:
            ctx.frame = ctx.frame.with_columns([f.expr.cast(f.dtype).alias(f.name) for f in feats])
        elif required:
            raise DataError(f"features.groups.{name}: required, but it produced no features")
        # Drop the group's intermediate columns (helpers, joined inputs) to bound memory.
        keep = ctx.keep | set(ctx.columns)
        ctx.frame = ctx.frame.select([c for c in ctx.frame.collect_schema().names() if c in keep])
        ctx.helpers.clear()
        # Materialize group by group: one huge plan runs slower than a chain of small ones.
        ctx.frame = ctx.frame.collect().lazy()


def _code_slices(base: pl.DataFrame, max_rows: int) -> list[pl.DataFrame]:
    """``base`` cut into slices of whole codes (it is sorted by Code)."""
    sizes = base.group_by(CODE, maintain_order=True).len().get_column("len").to_numpy()
    slices, start = [], 0
    for n in _cumulative_groups(sizes, max_rows):
        slices.append(base.slice(start, n))
        start += n
    return slices


def _cumulative_groups(sizes: Any, max_rows: int) -> list[int]:
    """Row counts of consecutive runs of codes, each at most ``max_rows`` (or one code)."""
    import numpy as np

    ends = np.cumsum(sizes)
    runs, first = [], 0
    while first < len(sizes):
        limit = (ends[first - 1] if first else 0) + max_rows
        last = max(first, int(np.searchsorted(ends, limit, side="right")) - 1)
        runs.append(int(ends[last] - (ends[first - 1] if first else 0)))
        first = last + 1
    return runs


def _per_code(market: MarketData, base: pl.DataFrame, sessions: pl.Series, plan: list, skipped: list[str],
              cache: dict[str, pl.DataFrame]) -> tuple[pl.DataFrame, list[str], dict[str, FeatureSpec]]:
    """Per-code groups, slice by slice; returns the panel of quote rows, names and specs."""
    parts, names, specs = [], [], {}
    for i, part in enumerate(_code_slices(base, CHUNK_ROWS)):
        ctx = FeatureContext(market=market, frame=part.lazy(), sessions=sessions, base=base,
                             keep=set(base.columns), skipped=skipped, cache=cache, quiet=i > 0)
        _run(ctx, plan)
        names, specs = list(ctx.columns), dict(ctx.specs)
        out = ctx.frame.select(CODE, DATE, ops.PRESENT, *names).collect()
        if out.height and not out.get_column(ops.PRESENT).all():
            out = out.filter(pl.col(ops.PRESENT))  # sessions inserted for missing quote rows
        parts.append(out)
    return pl.concat(parts, rechunk=False), names, specs


def _run_groups(market: MarketData, groups: dict[str, dict[str, Any]]) -> tuple[pl.DataFrame, list[FeatureSpec]]:
    base, sessions = prepare(market)
    skipped: list[str] = []
    cache: dict[str, pl.DataFrame] = {}
    plan = _plan(groups, FeatureContext(market=market, frame=base.lazy(), sessions=sessions, base=base,
                                        skipped=skipped))
    panel, names, specs = _per_code(market, base, sessions, [p for p in plan if p[1].stage == 0], skipped, cache)
    del base  # per-date groups need only the panel
    ctx = FeatureContext(market=market, frame=panel.lazy(), sessions=sessions, base=panel,
                         keep={CODE, DATE, ops.PRESENT}, columns=names, specs=specs, skipped=skipped, cache=cache)
    del panel
    _run(ctx, [p for p in plan if p[1].stage > 0])
    return ctx.frame.select(CODE, DATE, *ctx.columns).collect(), [ctx.specs[n] for n in ctx.columns]


def build_features(
    market: MarketData,
    groups: Mapping[str, Mapping[str, Any]],
    *,
    name: str = "custom",
    store_dir: Path | None = None,
) -> FeaturePanel:
    """Compute (or load from ``store_dir``) the features of ``groups`` for ``market``.

    ``groups`` maps registry group names to their parameters (see conf/features/).
    The result has exactly the rows of ``market.quotes``, sorted by Code then Date.
    """
    norm = normalize_groups(groups)
    cfg_hash = store.config_hash(norm)
    path = store.entry_path(store_dir, market.digest, cfg_hash) if store_dir and market.digest else None
    if path is not None:
        hit = store.load(path)
        if hit is not None:
            frame, specs = hit
            if frame.height == market.quotes.height:
                log.info("features: loaded %s (%d features) from store %s", name, len(specs), path)
                return FeaturePanel(frame, specs, cfg_hash, from_cache=True, name=name)
            log.warning("features: store entry %s has %d rows, quotes %d; recomputing",
                        path, frame.height, market.quotes.height)
    t0 = time.perf_counter()
    frame, specs = _run_groups(market, norm)
    if frame.height != market.quotes.height:  # guard for the contract; should never happen
        raise DataError(f"features: produced {frame.height} rows for {market.quotes.height} quote rows")
    log.info("features: computed %s: %d features x %d rows in %.1fs",
             name, len(specs), frame.height, time.perf_counter() - t0)
    if path is not None:
        store.save(path, frame, specs, {"name": name, "digest": market.digest, "config_hash": cfg_hash})
        log.info("features: stored %s at %s", name, path)
    return FeaturePanel(frame, specs, cfg_hash, from_cache=False, name=name)
