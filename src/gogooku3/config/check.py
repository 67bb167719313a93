"""Validate the whole config before any data is read, and say what is wrong in one line.

Hydra reports composition errors (a wrong type, an unknown key, an unknown group option)
as multi-line messages with a traceback hint. :func:`preflight` composes the command's
config once with the compose API and turns those errors, and a missing required value,
into one line naming the key, the value and what is expected (exit code 2 in train.py).
:func:`validate` is the check of an already composed config (every trial of a multirun),
raising :class:`~gogooku3.errors.ConfigError` so a sweeper records a failed trial.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from gogooku3.errors import ConfigError

# The most compositions a multirun's preflight tries (one per value of a discrete sweep).
MAX_SWEEP_COMPOSES = 16


def preflight(config_dir: Path, config_name: str, argv: Sequence[str]) -> str | None:
    """The one-line error of the command ``argv`` (train.py's arguments), or None when it is valid.

    Commands that do not run a job (``--help``, ``--info``, shell completion) and arguments
    Hydra cannot parse are left to Hydra.
    """
    from hydra._internal.utils import get_args_parser

    try:
        args = get_args_parser().parse_args(list(argv))
    except SystemExit:
        return None
    if args.help or args.hydra_help or args.info or args.shell_completion or args.experimental_rerun:
        return None
    config_dir = Path(args.config_dir or config_dir) if not args.config_path else Path(args.config_path)
    try:
        for overrides in _variants(list(args.overrides)):
            cfg = _compose(config_dir.resolve(), args.config_name or config_name, overrides)
            validate(cfg)
    except ConfigError as exc:
        return str(exc)
    return None


def _variants(overrides: list[str]) -> Iterator[list[str]]:
    """The overrides without sweeps (what a multirun composes first), with each sweep at its first
    value, then each discrete sweep value once."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except OverrideParseException as exc:
        raise ConfigError(_first_line(str(exc))) from None
    choices: list[list[str]] = []
    for o in parsed:
        if not o.is_sweep_override():
            choices.append([o.input_line])
        elif o.is_discrete_sweep():
            prefix = o.get_key_element() + "="
            choices.append([prefix + v for v in o.sweep_string_iterator()])
        else:
            choices.append([])  # a range or interval: the sweeper checks its values per trial
    if any(o.is_sweep_override() for o in parsed):
        yield [o.input_line for o in parsed if not o.is_sweep_override()]  # Hydra's multirun base config
    first = [c[0] for c in choices if c]
    yield first
    tried = 1
    for i, values in enumerate(choices):
        for value in values[1:]:
            if tried >= MAX_SWEEP_COMPOSES:
                return
            variant = [c[0] if j != i else value for j, c in enumerate(choices) if c]
            tried += 1
            yield variant


def _compose(config_dir: Path, config_name: str, overrides: list[str]) -> Any:
    from hydra import compose, initialize_config_dir
    from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException

    from gogooku3.config import register

    register()
    try:
        with initialize_config_dir(str(config_dir), version_base="1.3"):
            return compose(config_name, overrides=overrides)
    except MissingConfigException as exc:
        raise ConfigError(_missing_option(exc)) from None
    except OverrideParseException as exc:
        raise ConfigError(_first_line(str(exc))) from None
    except ConfigCompositionException as exc:
        raise ConfigError(_composition(exc)) from None


def validate(cfg: Any, deep: bool = False) -> None:
    """Raise :class:`ConfigError` (one line) for a missing required value or an invalid root key.

    ``deep`` also checks the feature groups' names and parameters against the registry
    (imports the feature code, so the CLI's quick preflight leaves it to the job).
    """
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    job = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])  # Hydra's own node is Hydra's business
    missing = sorted(OmegaConf.missing_keys(job))
    if missing:
        raise ConfigError(f"{missing[0]} is required and not set; pass {missing[0]}=<value>")
    try:
        OmegaConf.to_container(job, resolve=True)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None)
        raise ConfigError(f"{key}: {_first_line(str(exc))}" if key else _first_line(str(exc))) from None
    seed = cfg.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"seed={seed!r}: expected an integer")
    horizons = cfg.get("horizons", [1])  # roots without horizons (serve) have nothing to check
    values = list(horizons) if OmegaConf.is_list(horizons) or isinstance(horizons, list) else None
    if not values or any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in values):
        raise ConfigError(f"horizons={_show(horizons)}: expected a non-empty list of positive integers, e.g. [1,5]")
    if not isinstance(cfg.get("deploy", False), bool):
        raise ConfigError(f"deploy={cfg.get('deploy')!r}: expected true or false")
    wanted = cfg.get("optimized_metric")
    if wanted is not None and not isinstance(wanted, str) and not OmegaConf.is_list(wanted):
        raise ConfigError(f"optimized_metric={wanted!r}: expected a metric name, a list of names or null")
    if "quality" in cfg:
        from gogooku3.quality.config import QualityConfig

        QualityConfig.from_mapping(OmegaConf.to_container(cfg.quality, resolve=True))
    if deep and "features" in cfg:
        from gogooku3.features.build import normalize_groups

        normalize_groups(cfg.features.groups)


def _missing_option(exc: Any) -> str:
    """``model=nosuch``: name the group, the value and the available options."""
    path = str(getattr(exc, "missing_cfg_file", "") or "")
    options = [o for o in (getattr(exc, "options", None) or []) if not o.startswith("_")]
    if "/" in path and options:
        group, _, option = path.rpartition("/")
        return f"{group}={option}: no such option; available: {', '.join(sorted(options))}"
    return _first_line(str(exc))


def _composition(exc: Exception) -> str:
    """A type error or unknown key from Hydra's override/merge step, as one line."""
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError, ValidationError

    cause = exc.__cause__
    key = getattr(cause, "full_key", None)
    if isinstance(cause, ConfigAttributeError | ConfigKeyError) and key:
        parent = getattr(cause, "parent_node", None)
        known = ", ".join(str(k) for k in parent.keys()) if parent is not None else ""
        hint = f"; known keys: {known}" if known else ""
        return f"{key}: unknown key{hint} (a new key needs a leading +, as in +{key}=...)"
    if isinstance(cause, ValidationError) and key:
        expected = _expected(getattr(cause, "object_type", None), getattr(cause, "key", None))
        value = getattr(cause, "value", None)
        if expected:
            return f"{key}={_show(value)}: expected {expected}"
        return f"{key}={_show(value)}: {_first_line(str(cause))}"
    first = _first_line(str(exc))
    return f"{first}: {_first_line(str(cause))}" if cause is not None else first


def _expected(schema: Any, key: Any) -> str | None:
    """What the schema field ``key`` of dataclass ``schema`` accepts, in words."""
    try:
        kind = typing.get_type_hints(schema)[key]
    except Exception:
        return None
    return _describe(kind)


def _describe(kind: Any) -> str:
    names = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
    if kind in names:
        return names[kind]
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Union or (origin is not None and str(origin) == "<class 'types.UnionType'>"):
        parts = [_describe(a) for a in args if a is not type(None)]
        return " or ".join(parts) + (" or null" if type(None) in args else "")
    if origin in (list, tuple, typing.List, typing.Tuple):  # noqa: UP006
        inner = _describe(args[0]) if args else "values"
        return f"a list of {inner.removeprefix('an ').removeprefix('a ')}s" if args else "a list"
    if origin in (dict, typing.Dict):  # noqa: UP006
        return "a mapping"
    return getattr(kind, "__name__", str(kind))


def _show(value: Any) -> str:
    try:
        from omegaconf import OmegaConf

        if OmegaConf.is_config(value):
            value = OmegaConf.to_container(value)
    except Exception:
        pass
    return str(value)


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else text
