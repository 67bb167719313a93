"""Feature groups by name. Adding a group = one function + one line in ``_builtin``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gogooku3.errors import ConfigError
from gogooku3.features.spec import Feature

GroupFn = Callable[..., list[Feature]]


@dataclass(frozen=True)
class GroupDef:
    """A registered group.

    ``needs`` are sources without which the group produces nothing (``listed``,
    ``index`` or an extras table name). ``stage`` orders evaluation: 0 reads market
    data per code (run on slices of whole codes), 1 reads other groups' features of
    the same date only (cross-sectional transforms, run on blocks of whole dates).
    """

    name: str
    fn: GroupFn
    needs: tuple[str, ...] = ()
    stage: int = 0


GROUPS: dict[str, GroupDef] = {}


def register_group(name: str, fn: GroupFn, *, needs: tuple[str, ...] = (), stage: int = 0) -> None:
    """Make ``fn(ctx, **params) -> list[Feature]`` available as ``groups.<name>`` in config."""
    GROUPS[name] = GroupDef(name, fn, tuple(needs), stage)


def get_group(name: str) -> GroupDef:
    if not _builtin_loaded:
        _load_builtin()
    if name not in GROUPS:
        raise ConfigError(
            f"features.groups.{name}: unknown feature group (known: {', '.join(sorted(GROUPS))})"
        )
    return GROUPS[name]


_builtin_loaded = False


def _load_builtin() -> None:
    """Register the built-in groups (first use: their modules import polars and the feature ops)."""
    global _builtin_loaded
    from gogooku3.features.groups.calendar import calendar
    from gogooku3.features.groups.cross_section import cross_section
    from gogooku3.features.groups.flow import flow
    from gogooku3.features.groups.fundamentals import fundamentals
    from gogooku3.features.groups.market import market
    from gogooku3.features.groups.price import price
    from gogooku3.features.groups.statistical import statistical
    from gogooku3.features.groups.technical import technical
    from gogooku3.features.groups.volatility import volatility
    from gogooku3.features.groups.volume import volume

    builtin = [("price", price, ()), ("volatility", volatility, ()), ("volume", volume, ()),
               ("technical", technical, ()), ("statistical", statistical, ()), ("market", market, ("index",)),
               ("flow", flow, ()), ("fundamentals", fundamentals, ("statements",)), ("calendar", calendar, ())]  # fmt: skip
    for name, fn, needs in builtin:
        GROUPS.setdefault(name, GroupDef(name, fn, needs, 0))
    GROUPS.setdefault("cross_section", GroupDef("cross_section", cross_section, (), 1))
    _builtin_loaded = True
