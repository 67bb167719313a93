"""Feature groups by name. Adding a group = one function + one ``register_group`` line."""

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
    _load_builtin()
    if name not in GROUPS:
        raise ConfigError(
            f"features.groups.{name}: unknown feature group (known: {', '.join(sorted(GROUPS))})"
        )
    return GROUPS[name]


def _load_builtin() -> None:
    # Importing the package registers the built-in groups (one line each in groups/__init__).
    import gogooku3.features.groups  # noqa: F401
