"""A record of every pipeline step: inputs, outputs, parameters, timing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from gogooku3.data.digest import frame_sha256


def describe_frame(frame: pl.DataFrame, digest: bool = True) -> dict[str, Any]:
    """Rows, columns, date range and (optionally) the full content digest of a frame."""
    info: dict[str, Any] = {"rows": frame.height, "columns": len(frame.columns)}
    if "Date" in frame.columns and frame.height:
        dates = frame.get_column("Date")
        info["date_range"] = [str(dates.min()), str(dates.max())]
    if digest:
        info["sha256"] = frame_sha256(frame)
    return info


@dataclass
class Lineage:
    """Steps in execution order; ``to_dict`` is what a run logs as ``lineage/lineage.json``."""

    run: dict[str, Any] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)

    @contextmanager
    def step(self, name: str, inputs: list[str] | None = None, params: dict[str, Any] | None = None) -> Iterator[dict]:
        """Time a step; the body fills ``record["outputs"]`` with named output descriptions."""
        record: dict[str, Any] = {"name": name, "inputs": inputs or [], "params": params or {}, "outputs": {}}
        start = time.perf_counter()
        try:
            yield record
        finally:
            record["seconds"] = round(time.perf_counter() - start, 4)
            self.steps.append(record)

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run, "steps": self.steps}
