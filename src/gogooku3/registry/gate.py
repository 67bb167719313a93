"""Gate 4: may this model version become champion? A pure function over metrics and tags.

It reads what registration copied onto the version (lineage tags and ``metric.<name>``
tags), so the decision rests on the version itself, not on a run that may change later.
Each failure names the metric or tag, its value and the config key it failed against.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from gogooku3.config.registry import RegistrySettings
from gogooku3.registry import names


@dataclass(frozen=True)
class Snapshot:
    """A model version as gate 4 sees it: its number, metrics (run names) and tags."""

    version: str
    metrics: Mapping[str, float] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GateResult:
    passed: bool
    failures: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()  # what was checked, for the actions log

    @property
    def message(self) -> str:
        """``gate 4: passed (...)`` or ``gate 4: <failure>; <failure>``: one line."""
        if self.passed:
            return f"gate 4: passed ({', '.join(self.checks)})"
        return "gate 4: " + "; ".join(self.failures)


def _value(snapshot: Snapshot, name: str) -> float | None:
    value = snapshot.metrics.get(name)
    return None if value is None else float(value)


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def check_promotion(candidate: Snapshot, champion: Snapshot | None, settings: RegistrySettings) -> GateResult:
    """Floors at each checked horizon, the champion on the same folds (within ``margin``), the canary."""
    failures: list[str] = []
    checks: list[str] = []
    floors = settings.floors
    if not settings.horizons:
        failures.append("registry.horizons is empty: nothing to check")
    for h in settings.horizons:
        for template, key, floor in (
            (names.TEST_RANK_IC, "rank_ic", floors.rank_ic),
            (names.TEST_RANK_ICIR, "rank_icir", floors.rank_icir),
            (names.TEST_RANK_IC_TSTAT, "rank_ic_tstat", floors.rank_ic_tstat),
        ):
            metric = template.format(h=h)
            value = _value(candidate, metric)
            checks.append(f"{metric}>={_fmt(floor)}")
            if value is None:
                failures.append(f"{metric} missing on version {candidate.version}")
            elif not math.isfinite(value):
                failures.append(f"{metric}={value} on version {candidate.version} is not finite")
            elif value < floor:
                failures.append(f"{metric}={_fmt(value)} below floor registry.floors.{key}={_fmt(floor)}")

    canary = candidate.tags.get(names.CANARY_PASSED_TAG)
    checks.append(f"{names.CANARY_PASSED_TAG}=true")
    if canary != "true":
        failures.append(f"{names.CANARY_PASSED_TAG}={canary if canary is not None else 'missing'} on version "
                        f"{candidate.version}: the no-signal canary did not pass")  # fmt: skip
    canary_t = _value(candidate, names.CANARY_MAX_ABS_TSTAT)
    limit = settings.canary_max_abs_tstat
    checks.append(f"{names.CANARY_MAX_ABS_TSTAT}<{_fmt(limit)}")
    if canary_t is None:
        failures.append(f"{names.CANARY_MAX_ABS_TSTAT} missing on version {candidate.version}")
    elif not (abs(canary_t) < limit):  # NaN fails too
        failures.append(f"{names.CANARY_MAX_ABS_TSTAT}={_fmt(canary_t)} not below registry.canary_max_abs_tstat="
                        f"{_fmt(limit)}: the model finds signal in a null market")  # fmt: skip

    if champion is not None and champion.version != candidate.version:
        failures.extend(_against_champion(candidate, champion, settings, checks))
    return GateResult(passed=not failures, failures=tuple(failures), checks=tuple(checks))


def _against_champion(candidate: Snapshot, champion: Snapshot, settings: RegistrySettings, checks: list[str]) -> list[str]:
    """Same walk-forward folds (else not comparable), then RankIC within ``margin`` at each horizon."""
    mine, theirs = candidate.tags.get(names.FOLDS_DIGEST_TAG), champion.tags.get(names.FOLDS_DIGEST_TAG)
    checks.append(f"{names.FOLDS_DIGEST_TAG}==champion v{champion.version}")
    if not mine or not theirs or mine != theirs:
        return [f"not comparable with champion version {champion.version}: {names.FOLDS_DIGEST_TAG} "
                f"{mine or 'missing'} != {theirs or 'missing'} (different walk-forward folds)"]  # fmt: skip
    failures = []
    margin = settings.margin
    for h in settings.horizons:
        metric = names.TEST_RANK_IC.format(h=h)
        value, best = _value(candidate, metric), _value(champion, metric)
        checks.append(f"{metric}>=champion-{_fmt(margin)}")
        if value is None or best is None or not math.isfinite(best):
            continue  # a missing candidate value already failed its floor; a champion without it sets no bar
        if value < best - margin:
            failures.append(f"{metric}={_fmt(value)} worse than champion version {champion.version}'s {_fmt(best)} "
                            f"by more than registry.margin={_fmt(margin)}")  # fmt: skip
    return failures
