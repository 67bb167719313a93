"""The quality levels (QualityConfig's defaults patched by conf/quality/*.yaml) and the README's table.

The README table is generated from the YAML files by :func:`levels_table` (a test checks
the README holds exactly that table), so it cannot drift from the configuration.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

LEVELS = ("strict", "default", "lenient", "off")


def conf_dir() -> Path:
    """The project's conf/ (``PROJECT_ROOT`` when set, else next to ``src/``)."""
    root = os.environ.get("PROJECT_ROOT")
    return (Path(root) if root else Path(__file__).resolve().parents[3]) / "conf"


@lru_cache(maxsize=4)
def load_levels(directory: str | None = None) -> dict[str, dict[str, Any]]:
    """Every level's settings, with its ``defaults`` chain applied; {} when conf/ is not at hand."""
    import yaml

    base = Path(directory) if directory else conf_dir() / "quality"
    raw = {p.stem: yaml.safe_load(p.read_text()) or {} for p in sorted(base.glob("*.yaml"))}

    def resolve(name: str) -> dict[str, Any]:
        node = dict(raw[name])
        out: dict[str, Any] = {}
        for parent in node.pop("defaults", []) or []:
            if str(parent).startswith("/schema/quality/"):  # the typed schema: QualityConfig's defaults
                out.update(schema_defaults())
            elif parent != "_self_" and parent in raw:
                out.update(resolve(parent))
        out.update(node)
        return out

    return {name: resolve(name) for name in raw}


def schema_defaults() -> dict[str, Any]:
    """QualityConfig's fields and defaults, in their declared order."""
    import dataclasses

    from gogooku3.quality.config import QualityConfig

    return {f.name: getattr(QualityConfig(), f.name) for f in dataclasses.fields(QualityConfig)}


def levels_table(directory: str | None = None) -> str:
    """A markdown table: one row per setting that is a threshold or a correction, one column per level."""
    levels = load_levels(directory)
    order = [lv for lv in LEVELS if lv in levels] + sorted(set(levels) - set(LEVELS))
    keys = [k for k, v in levels["default"].items()
            if isinstance(v, (int, float, bool)) and not k.startswith(("alert_", "data_docs", "sample_rows"))]
    header = "| setting | " + " | ".join(f"`quality={lv}`" for lv in order) + " |"
    lines = [header, "|" + "---|" * (len(order) + 1)]
    for key in keys:
        cells = []
        for lv in order:
            value = levels[lv].get(key)
            if lv == "off" and key != "enabled":
                cells.append("–")  # every gate is skipped
            else:
                cells.append(_cell(value))
        lines.append(f"| `{key}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
