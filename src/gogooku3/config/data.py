"""``data`` group: where the market comes from (``data=synthetic|parquet|jquants|jquants_local``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from omegaconf import II, MISSING


@dataclass
class SyntheticData:
    """The embedded synthetic Japanese market: seeded, with planted signal and an oracle."""

    _target_: str = "gogooku3.data.synthetic.SyntheticMarketSource"
    name: str = "synthetic"
    n_stocks: int = 300
    start: str = "2019-01-01"
    end: str = "2023-12-31"
    seed: int = 0
    signal_strength: float = 1.0  # 0 gives a market with no predictable structure at all
    # Multipliers of each planted component (0 switches it off).
    components: dict[str, float] = field(
        default_factory=lambda: {"reversal": 1.0, "leadlag": 1.0, "volume": 1.0, "cycle": 1.0}
    )
    horizons: list[int] = II("horizons")
    extras: bool = False  # also generate statements, investor types, margin and short-ratio tables
    calendar: str = "XTKS"  # an exchange-calendars code, infer or none (README "Bring your own data")


@dataclass
class ParquetData:
    """Your own daily quotes (schema: README "Bring your own data")."""

    _target_: str = "gogooku3.data.parquet.ParquetMarketSource"
    name: str = "parquet"
    path: str = MISSING  # required: data.path=/path/to/quotes.parquet
    listed_path: Optional[str] = None
    index_path: Optional[str] = None
    # XTKS, XNYS, ... checks the dates against that exchange; infer: sessions are the dates
    # with a close for at least infer_min_share of the codes listed then; none: every date.
    calendar: str = "infer"
    infer_min_share: float = 0.5
    end: Optional[str] = None  # the session the data should reach (timeliness gate); None: the newest date


@dataclass
class JQuantsData:
    """J-Quants API V2; the key comes from env JQUANTS_API_KEY or ~/.jquants-api/jquants-api.toml, never here."""

    _target_: str = "gogooku3.data.jquants.source.JQuantsSource"
    name: str = "jquants"
    start: str = "2019-01-01"
    end: str = "2023-12-31"
    # free | light | standard | premium: the client-side rate limit (5/60/120/500 per minute).
    plan: Optional[str] = "light"
    # null -> env JQUANTS_API_BASE -> https://api.jquants.com/v2. Point it at the loopback server
    # (python -m gogooku3.data.jquants.server) to work offline.
    base_url: Optional[str] = None
    data_dir: str = II("paths.data_dir")
    snapshot_name: str = "jquants"
    # calendar is always fetched; bars is required. Extras: statements, investor_types, margin, short_ratio.
    # Session endpoints (bars, statements, margin, short_ratio) cost one request per session each:
    # on the Free plan (5/min) keep to [calendar, master, bars, topix].
    endpoints: list[str] = field(
        default_factory=lambda: ["calendar", "master", "bars", "topix", "statements", "investor_types", "margin",
                                 "short_ratio"]  # fmt: skip
    )
    concurrency: int = 4
    rate_limit_per_minute: Optional[float] = None  # null: the plan's limit; 0: no client-side limit
    max_retries: int = 6
    backoff_s: float = 1.0
    wait_429_s: float = 65.0  # a 429 has no Retry-After; J-Quants asks for a minute or more
    timeout_s: float = 30.0
    progress: bool = True
    fsync: bool = True
    calendar: str = "XTKS"  # an exchange-calendars code, infer or none (README "Bring your own data")


@dataclass
class JQuantsLocalData(JQuantsData):
    """The J-Quants path without an account: a loopback server serves the synthetic market."""

    _target_: str = "gogooku3.data.jquants.local.LocalJQuantsSource"
    name: str = "jquants_local"
    snapshot_name: str = "jquants_local"
    plan: Optional[str] = None
    rate_limit_per_minute: Optional[float] = 0
    n_stocks: int = 300
    seed: int = 0
    signal_strength: float = 1.0
    page_size: int = 5000
