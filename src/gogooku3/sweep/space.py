"""Turn Hydra sweep expressions into Optuna distributions and back into overrides.

Users of the old hydra-optuna-sweeper write search spaces as override values:
``interval(a,b)`` (float), ``int(interval(a,b))`` (int), ``tag(log, interval(a,b))``
(log scale), ``choice(x,y,...)`` or ``x,y,...`` (categorical), ``range(a,b,step)``
(stepped int/float). A plain value is fixed for every trial.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gogooku3.errors import ConfigError

_PRIMITIVES = (type(None), bool, int, float, str)


@dataclass(frozen=True)
class SearchSpace:
    """Distributions to sample and overrides every trial shares."""

    distributions: dict[str, Any]  # override key -> optuna distribution
    fixed: dict[str, str]  # override key -> value string
    # categorical choices that are not primitives are sampled by their string form
    choice_strings: dict[str, dict[str, str]]

    def describe(self) -> dict[str, str]:
        """A readable, stable description (used for the study name and logged to MLflow)."""
        out = {key: repr(dist) for key, dist in sorted(self.distributions.items())}
        out.update({key: f"fixed({value})" for key, value in sorted(self.fixed.items())})
        return out


def _value_str(value: Any) -> str:
    from hydra.core.override_parser.types import Override

    return Override._get_value_element_as_str(value)


def _distribution(key: str, override: Any) -> tuple[Any, dict[str, str] | None]:
    import optuna.distributions as od
    from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, RangeSweep

    value = override.value()
    tags = set(getattr(value, "tags", set()) or set())
    log = "log" in tags
    if isinstance(value, IntervalSweep):
        low, high = value.start, value.end
        if low >= high:
            raise ConfigError(f"hydra.sweeper.params.{key}: interval({low}, {high}) is empty")
        if isinstance(low, int) and isinstance(high, int):
            return od.IntDistribution(low, high, log=log), None
        return od.FloatDistribution(float(low), float(high), log=log), None
    if isinstance(value, RangeSweep):
        if value.shuffle:
            raise ConfigError(f"hydra.sweeper.params.{key}: shuffle() has no meaning for Optuna")
        start, stop, step = value.start, value.stop, value.step
        if all(isinstance(v, int) for v in (start, stop, step)):
            last = start + ((stop - 1 - start) // step) * step
            return od.IntDistribution(start, last, step=step, log=log), None
        n = int((stop - start) / step)
        if n < 1:
            raise ConfigError(f"hydra.sweeper.params.{key}: range({start}, {stop}, {step}) is empty")
        return od.FloatDistribution(float(start), float(start + (n - 1) * step), step=float(step)), None
    if isinstance(value, ChoiceSweep):
        if log:
            raise ConfigError(f"hydra.sweeper.params.{key}: tag(log) applies to intervals, not choice()")
        choices = list(value.list)
        if not choices:
            raise ConfigError(f"hydra.sweeper.params.{key}: choice() needs at least one value")
        if all(isinstance(c, _PRIMITIVES) for c in choices):
            return od.CategoricalDistribution(choices), None
        as_str = {_value_str(c): _value_str(c) for c in choices}
        return od.CategoricalDistribution(list(as_str)), as_str
    raise ConfigError(f"hydra.sweeper.params.{key}: unsupported sweep {override.input_line!r}")


def parse_search_space(params: Mapping[str, Any] | None, arguments: Sequence[str] = ()) -> SearchSpace:
    """Merge ``hydra.sweeper.params`` with command-line overrides (which win) into a space."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    lines: dict[str, str] = {}
    for key, value in (params or {}).items():
        lines[str(key)] = f"{key}={value}"
    parser = OverridesParser.create()
    for override in parser.parse_overrides(list(arguments)):
        lines[override.get_key_element()] = override.input_line
    distributions: dict[str, Any] = {}
    fixed: dict[str, str] = {}
    choice_strings: dict[str, dict[str, str]] = {}
    for key, line in lines.items():
        try:
            override = parser.parse_override(line)
        except Exception as exc:  # hydra's grammar error is multi-line; keep ours to one line
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(f"hydra.sweeper.params.{key}: cannot parse {line!r}: {first}") from None
        if override.is_sweep_override():
            distributions[key], strings = _distribution(key, override)
            if strings:
                choice_strings[key] = strings
        else:
            fixed[key] = override.get_value_element_as_str()
    return SearchSpace(distributions, fixed, choice_strings)


def _suggest(trial: Any, key: str, dist: Any) -> Any:
    import optuna.distributions as od

    if isinstance(dist, od.IntDistribution):
        return trial.suggest_int(key, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, od.FloatDistribution):
        return trial.suggest_float(key, dist.low, dist.high, step=dist.step, log=dist.log)
    return trial.suggest_categorical(key, dist.choices)


def trial_overrides(space: SearchSpace, trial: Any) -> list[str]:
    """Sample every parameter of ``space`` on ``trial`` and return the job's overrides."""
    overrides = [f"{key}={value}" for key, value in space.fixed.items()]
    for key, dist in space.distributions.items():
        sampled = _suggest(trial, key, dist)
        if key in space.choice_strings:
            overrides.append(f"{key}={space.choice_strings[key][sampled]}")
        else:
            overrides.append(f"{key}={_value_str(sampled)}")
    return overrides
