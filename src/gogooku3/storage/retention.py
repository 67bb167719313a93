"""Retention sweep: ``python -m gogooku3.storage retention [--dry-run] [--now ISO] [overrides...]``.

Neither SeaweedFS nor moto expires objects by lifecycle rules (seen on this machine), so
our own code enforces the retention table, with a clock that tests can move. Each object
class is a key prefix; an object older than its class's ``keep_days`` goes. An object the
server still holds under Object Lock is reported as kept, never forced. Model versions are
swept by the registry through :func:`expired_model_versions`; ClickHouse classes are
enforced by their tables' TTL and only listed here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from gogooku3.errors import ConfigError, GogookuError
from gogooku3.storage.objects import ObjectLocked, ObjectStore


@dataclass(frozen=True)
class Decision:
    data_class: str
    key: str
    age_days: float
    keep_days: int
    action: str  # delete | deleted | kept-locked | enforced-elsewhere

    def line(self) -> str:
        return f"{self.action:<12} {self.data_class:<20} {self.key}  age {self.age_days:.0f}d > keep {self.keep_days}d"


def _field(rule: Any, name: str, default: Any = None) -> Any:
    return rule.get(name, default) if isinstance(rule, Mapping) else getattr(rule, name, default)


def plan(store: ObjectStore, rules: Mapping[str, Any], now: datetime) -> list[Decision]:
    """The objects past their class's age, oldest classes first; nothing is deleted here."""
    out = []
    for name, rule in rules.items():
        if _field(rule, "where") != "objects":
            continue
        prefix, keep = _field(rule, "prefix"), int(_field(rule, "keep_days"))
        if not prefix:
            raise ConfigError(f"retention.classes.{name}.prefix is empty; an object class needs a key prefix")
        for info in store.list(prefix):
            if info.last_modified is None:
                continue
            age = (now - info.last_modified).total_seconds() / 86400
            if age > keep:
                out.append(Decision(name, info.key, age, keep, "delete"))
    return out


def sweep(store: ObjectStore, rules: Mapping[str, Any], now: datetime, dry_run: bool = True) -> list[Decision]:
    """:func:`plan`, then (unless ``dry_run``) delete exactly those; locked objects are kept."""
    decisions = plan(store, rules, now)
    if dry_run:
        return decisions
    done = []
    for d in decisions:
        try:
            store.delete(d.key)
            done.append(Decision(d.data_class, d.key, d.age_days, d.keep_days, "deleted"))
        except ObjectLocked:
            done.append(Decision(d.data_class, d.key, d.age_days, d.keep_days, "kept-locked"))
    return done


def elsewhere(rules: Mapping[str, Any]) -> list[str]:
    """Classes this sweep does not delete, with the mechanism that does."""
    how = {"clickhouse": "enforced by ClickHouse TTL", "registry": "swept by the registry (aliased versions kept)",
           "local": "local files, rotated"}  # fmt: skip
    return [f"{name}: keep {_field(r, 'keep_days')}d, {how.get(_field(r, 'where'), _field(r, 'where'))}"
            for name, r in rules.items() if _field(r, "where") != "objects"]  # fmt: skip


def expired_model_versions(
    versions: Iterable[tuple[str, datetime, Iterable[str]]], keep_days: int, now: datetime
) -> list[str]:
    """Versions older than ``keep_days`` that no alias points to (the registry deletes these)."""
    limit = now - timedelta(days=keep_days)
    return [v for v, created, aliases in versions if created < limit and not list(aliases)]


def _compose(overrides: list[str]) -> Any:
    """The root config's ``storage`` and ``retention`` nodes (entry-point use only)."""
    import os
    from pathlib import Path

    from hydra import compose, initialize_config_dir

    root = Path(os.environ.get("PROJECT_ROOT") or Path.cwd())
    os.environ.setdefault("PROJECT_ROOT", str(root))
    with initialize_config_dir(str((root / "conf").resolve()), version_base="1.3"):
        try:
            return compose(config_name="train", overrides=overrides)
        except Exception as exc:  # hydra's override and composition errors: one line
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ConfigError(f"{' '.join(overrides)}: {first}") from None


def main(verb: str, args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m gogooku3.storage {verb}")
    parser.add_argument("--dry-run", action="store_true", help="list what would go and why; delete nothing")
    parser.add_argument("--now", help="ISO timestamp used as the clock (default: the current time)")
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. storage=s3")
    opts = parser.parse_args(args)
    try:
        now = datetime.now(timezone.utc)
        if opts.now:
            try:
                now = datetime.fromisoformat(opts.now)
            except ValueError:
                raise ConfigError(f"--now={opts.now}: expected an ISO date or timestamp") from None
            now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
        from omegaconf import OmegaConf

        from gogooku3.storage.objects import open_store

        cfg = _compose(opts.overrides)
        rules = OmegaConf.to_container(cfg.retention.classes, resolve=True)
        store = open_store(cfg.storage.objects)
        decisions = sweep(store, rules, now, dry_run=opts.dry_run)
    except GogookuError as exc:
        print(f"gogooku3: error: {exc}", file=sys.stderr)
        return 2
    for d in decisions:
        print(d.line())
    for line in elsewhere(rules):
        print(f"not swept    {line}")
    verb_done = "would delete" if opts.dry_run else "deleted"
    n = sum(d.action in ("delete", "deleted") for d in decisions)
    locked = sum(d.action == "kept-locked" for d in decisions)
    print(f"retention at {now.isoformat(timespec='seconds')}: {verb_done} {n}, kept {locked} locked")
    return 0
