"""``evaluation`` group: the long-short decile book and daily IC settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Evaluation:
    quantile: float = 0.1  # top and bottom share of each date's cross-section in the book
    cost_bps: float = 10.0  # cost per side, in basis points of traded value
    min_stocks: int = 10  # dates with fewer scored stocks are skipped
