"""``quality`` group: the schema is :class:`~gogooku3.quality.config.QualityConfig`'s fields, unfrozen.

QualityConfig (frozen, range-checked) stays the one definition of every threshold and its
default; Hydra gets a mutable copy of its fields so overrides like
``quality.max_missing_ratio=0.02`` are type-checked at composition.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from gogooku3.quality.config import QualityConfig


def _schema() -> type:
    hints = typing.get_type_hints(QualityConfig)
    fields: list[tuple[str, Any, Any]] = []
    for f in dataclasses.fields(QualityConfig):
        kind = hints[f.name]
        if isinstance(kind, types.UnionType):  # OmegaConf reads typing.Optional, not ``str | None``
            kind = typing.Union[kind.__args__]  # noqa: UP007
        if f.default is not dataclasses.MISSING:
            default = dataclasses.field(default=f.default)
        else:
            default = dataclasses.field(default_factory=f.default_factory)  # type: ignore[arg-type]
        fields.append((f.name, kind, default))
    return dataclasses.make_dataclass("QualitySchema", fields, namespace={"__module__": __name__})


QUALITY_SCHEMA = _schema()
