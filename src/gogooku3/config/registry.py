"""``registry`` group: gate 4 floors, the champion margin, the canary limit, the actions log.

The registry CLI (``python -m gogooku3.registry``) builds these defaults from the schema
without Hydra; ``--config FILE`` and ``--set key=value`` change them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass
class Floors:
    """Gate 4 floors on the test metrics at each checked horizon (defaults suit the synthetic market)."""

    rank_ic: float = 0.01  # mean daily RankIC
    rank_icir: float = 0.05  # mean / sd of the daily RankIC
    rank_ic_tstat: float = 2.0  # t-statistic of the mean daily RankIC


@dataclass
class RegistrySettings:
    model_name: str = "gogooku3"  # registered model name (registry.names.DEFAULT_MODEL_NAME)
    horizons: list[int] = field(default_factory=lambda: [1])  # horizons gate 4 checks
    floors: Floors = field(default_factory=Floors)
    # The candidate's test RankIC may trail the champion's (same folds) by at most this, per checked horizon.
    margin: float = 0.005
    # The no-signal canary: its largest |Newey-West t| of the daily RankIC over horizons must stay
    # below this. A leak shows as |t| in the tens; over four horizons of overlapping returns chance
    # alone passes 3 now and then (seen: 3.4 on a null market of 60 stocks).
    canary_max_abs_tstat: float = 4.0
    # Append-only JSONL of every action; None: registry/actions.jsonl next to a sqlite store's
    # database (outputs/registry/actions.jsonl for the project store).
    actions_log: Optional[str] = None
    # Storage retention: versions older than this that no alias points to may be deleted.
    keep_days: int = 365
