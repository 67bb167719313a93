"""``build_features``: market data + group config -> FeaturePanel (cached in a store)."""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from gogooku3.console import Progress
from gogooku3.containers import plain
from gogooku3.data.market import MarketData
from gogooku3.errors import ConfigError, DataError
from gogooku3.features import execute, ops, store
from gogooku3.features.context import FeatureContext
from gogooku3.features.panel import FeaturePanel
from gogooku3.features.prepare import prepare
from gogooku3.features.registry import GroupDef, get_group
from gogooku3.features.spec import FeatureSpec
from gogooku3.schema import CODE, DATE
from gogooku3.storage.cache import Cache
from gogooku3.storage.objects import ObjectStore

log = logging.getLogger("gogooku3.features")

RESERVED = ("required",)


def normalize_groups(groups: Mapping[str, Mapping[str, Any] | None]) -> dict[str, dict[str, Any]]:
    """Validate group names and parameters up front; empty params mean defaults."""
    if not isinstance(groups, Mapping) or not groups:
        raise ConfigError("features.groups: expected a non-empty mapping of group -> params")
    out: dict[str, dict[str, Any]] = {}
    for name, params in plain(groups).items():
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


def _plan(groups: dict[str, dict[str, Any]], ctx: FeatureContext) -> execute.Plan:
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


def _run_groups(market: MarketData, groups: dict[str, dict[str, Any]], name: str = "custom"
                ) -> tuple[pl.DataFrame, list[FeatureSpec], dict[str, float]]:
    """Per-code groups on slices of codes, then per-date groups on blocks of dates (see execute)."""
    grid, sessions = prepare(market)
    ctx = FeatureContext(market=market, frame=grid.lazy(), sessions=sessions, base=grid)
    plan = _plan(groups, ctx)
    # Steps: each group on each slice of codes / block of dates (totals grow as they are cut).
    with Progress(None, f"features {name}", unit="step", logger=log) as progress:
        panel = execute.per_code(ctx, grid, [p for p in plan if p[1].stage == 0], progress)
        del grid  # per-date groups need only the panel
        ctx.base, ctx.frame, ctx.keep = panel, panel.lazy(), {CODE, DATE, ops.PRESENT}
        per_date = [p for p in plan if p[1].stage > 0]
        if per_date:
            panel = execute.hstack(panel, execute.per_date(ctx, panel, per_date, progress))
    return panel.select(CODE, DATE, *ctx.columns), [ctx.specs[n] for n in ctx.columns], ctx.timings


def market_digests(market: MarketData) -> list[str]:
    """Content digests of every table features read (quotes, listed, index, extras): a cache key."""
    from gogooku3.data.digest import frame_sha256

    tables = {"listed": market.listed, "index": market.index, **(market.extras or {})}
    present = sorted(k for k, t in tables.items() if t is not None)
    return [frame_sha256(market.quotes), *(f"{k}:{frame_sha256(tables[k])}" for k in present)]


def build_features(
    market: MarketData,
    groups: Mapping[str, Mapping[str, Any]],
    *,
    name: str = "custom",
    store_dir: Path | None = None,
    objects: ObjectStore | None = None,
    cache: Cache | None = None,
) -> FeaturePanel:
    """Compute (or load from ``store_dir``) the features of ``groups`` for ``market``.

    ``groups`` maps registry group names to their parameters (see conf/features/).
    The result has exactly the rows of ``market.quotes``, sorted by Code then Date.
    With ``objects`` the store's entries live in that ObjectStore (``features/<entry>``);
    with ``cache`` a computed panel is cached under the digests of every input table, the
    feature config and the feature code.
    """
    norm = normalize_groups(groups)
    cfg_hash = store.config_hash(norm)
    path = store.entry_path(store_dir, market.digest, cfg_hash) if store_dir and market.digest else None
    if path is not None:
        hit = store.load(path, objects)
        if hit is not None:
            frame, specs = hit
            if frame.height == market.quotes.height:
                log.info("features: loaded %s (%d features) from store %s", name, len(specs), path)
                return FeaturePanel(frame, specs, cfg_hash, from_cache=True, name=name)
            log.warning("features: store entry %s has %d rows, quotes %d; recomputing",
                        path, frame.height, market.quotes.height)
    t0 = time.perf_counter()
    if cache is not None:
        computed: list[dict[str, float]] = []

        def compute() -> tuple[pl.DataFrame, list[FeatureSpec]]:
            frame, specs, timings = _run_groups(market, norm, name)
            computed.append(timings)
            return frame, specs

        frame, specs = cache.get_or_compute(
            ("features", *market_digests(market), cfg_hash, store.feature_code_digest()), compute,
            encode=lambda v: store.entry_bytes(*v), decode=store.entry_from_bytes,
        )  # fmt: skip
        if not computed:
            log.info("features: %s (%d features) from the cache", name, len(specs))
            return FeaturePanel(frame, specs, cfg_hash, from_cache=True, name=name)
        timings = computed[0]
    else:
        frame, specs, timings = _run_groups(market, norm, name)
    if frame.height != market.quotes.height:  # guard for the contract; should never happen
        raise DataError(f"features: produced {frame.height} rows for {market.quotes.height} quote rows")
    log.info("features: computed %s: %d features x %d rows in %.1fs",
             name, len(specs), frame.height, time.perf_counter() - t0)
    log.debug("features: seconds per group: %s", ", ".join(f"{g} {t:.2f}" for g, t in timings.items()))
    if path is not None:
        store.save(path, frame, specs, {"name": name, "digest": market.digest, "config_hash": cfg_hash}, objects)
        log.info("features: stored %s at %s", name, path)
    return FeaturePanel(frame, specs, cfg_hash, from_cache=False, name=name, timings=dict(timings))
