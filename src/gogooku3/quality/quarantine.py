"""Rows a gate removed or changed, each with the check and the reason, written to parquet.

A correction never loses data: whatever leaves the data set (or is changed in it)
lands here first, so ``rows in = rows out + rows quarantined`` always holds.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

CHECK, REASON = "quarantine_check", "quarantine_reason"


def quarantine_path(out_dir: Path, gate: str) -> Path:
    return out_dir / "quarantine" / f"{gate}.parquet"


def write_quarantine(out_dir: Path, gate: str, frames: list[pl.DataFrame]) -> Path | None:
    """Write the gate's quarantined rows (possibly of several shapes, concatenated diagonally)."""
    frames = [f for f in frames if f.height]
    if not frames:
        return None
    path = quarantine_path(out_dir, gate)
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.concat(frames, how="diagonal_relaxed").write_parquet(path)
    return path
