"""The ``model=atft`` and ``trainer`` schemas: every key, its type and its one default.

Pure dataclasses (no torch): Hydra registers them as the groups' base schemas
(:mod:`gogooku3.config`) and :class:`~gogooku3.training.atft.estimator.ATFTEstimator`
fills what a caller leaves out from the same classes, so a default lives only here.
Architecture table: docs/atft.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass
class FanSettings:
    # Off by default: on the default synthetic market FAN lowered out-of-sample h=1 RankIC
    # (one fold: 0.030 with, 0.040 without; docs/atft.md). experiment=atft_full turns it on.
    enabled: bool = False  # true: frequency split, the encoder sees the residual window
    top_k: int = 3  # K dominant rFFT components per stock and feature = the main signal
    hidden_size: int = 32  # width of the network predicting the main signal's contribution


@dataclass
class GatSettings:
    enabled: bool = True  # false: no graph, predictions from each stock's own history
    layers: int = 2  # GATv2Conv layers actually built
    heads: int = 2  # attention heads per layer (hidden_size must divide by it)
    dropout: float = 0.1  # attention dropout


@dataclass
class GraphSettings:
    return_feature: str = "ret_1d"  # panel column correlated to build the graph (demeaned per day)
    window: int = 250  # trailing days of returns, ending at the predicted date
    top_k: int = 5  # neighbours per stock
    # On the default synthetic market, edges joining stocks of the same hidden cluster:
    # window 60/top_k 10/threshold 0.1: 33-37%; 120/5/0.15: 72-75%; 250/5/0.15: 90%.
    threshold: float = 0.15  # minimum correlation for an edge
    min_periods: int = 20  # stocks with fewer returns in the window get no edges


@dataclass
class LossSettings:
    pinball_weight: float = 1.0
    rank_weight: float = 1.0  # weight of (1 - per-date soft-rank correlation)
    rank_temperature: float = 0.1  # soft-rank sigmoid temperature (on standardized forecasts)
    max_rank_stocks: int = 1024  # larger cross-sections use a random subset for the rank term
    # horizon -> weight; horizons not listed weigh 1.0
    horizon_weights: dict[int, float] = field(default_factory=lambda: {1: 1.0, 5: 0.5, 10: 0.25, 20: 0.25})


@dataclass
class OptimSettings:
    lr: float = 0.005
    weight_decay: float = 0.0001
    warmup_frac: float = 0.05  # linear warm-up share of all steps, then cosine decay
    min_lr_frac: float = 0.05


@dataclass
class DataSettings:
    dates_per_batch: int = 4  # a batch = every stock of this many trading dates
    train_dates_per_epoch: Optional[int] = 128  # a random subset of training dates per epoch (null: all)
    min_history: Optional[int] = None  # days of history a stock needs to count in the loss (null: lookback)
    target_demean: bool = True  # fit cross-sectionally demeaned targets (ranking is what is scored)
    feature_clip: float = 5.0  # clip of the robust z-scored features
    predict_dates_per_batch: int = 16


@dataclass
class ATFTSettings:
    """ATFT-GAT-FAN: per-stock temporal fusion (VSN + LSTM + causal attention) on FAN residuals,
    graph attention across correlated stocks of each date, quantile heads per horizon."""

    _target_: str = "gogooku3.training.atft.estimator.ATFTEstimator"
    name: str = "atft"
    lookback: int = 20  # L: trading days in each stock's input window
    hidden_size: int = 32  # width of the temporal and graph representations
    feature_dim: int = 8  # per-feature embedding/GRN width inside the variable selection network
    lstm_layers: int = 1
    attention_heads: int = 4  # causal self-attention heads (hidden_size must divide by it)
    dropout: float = 0.1
    quantiles: list[float] = field(default_factory=lambda: [0.05, 0.25, 0.5, 0.75, 0.95])  # must hold 0.5
    fan: FanSettings = field(default_factory=FanSettings)
    gat: GatSettings = field(default_factory=GatSettings)
    graph: GraphSettings = field(default_factory=GraphSettings)
    loss: LossSettings = field(default_factory=LossSettings)
    optim: OptimSettings = field(default_factory=OptimSettings)
    data: DataSettings = field(default_factory=DataSettings)
    early_stopping_patience: int = 3  # epochs without a better validation RankIC (0: off)
    resume: bool = False  # true: continue from <output_dir>/checkpoints/last.ckpt when present
    # torch CPU threads in fit/predict (null: torch default); small ops gain little from more,
    # and on a shared 2-core box 2 threads ran a step 4x slower than 1
    num_threads: Optional[int] = 1


@dataclass
class TrainerSettings:
    """Lightning Trainer settings (keyword arguments of ``lightning.Trainer``); LightGBM ignores them."""

    accelerator: str = "cpu"
    devices: Any = 1  # an int, -1 (every visible GPU) or a list of device ids
    precision: str = "32-true"
    max_epochs: int = 5  # with model.data.train_dates_per_epoch=128: 640 training dates in all
    gradient_clip_val: float = 1.0
    deterministic: Any = True  # true | false | "warn"
    enable_progress_bar: bool = False  # gogooku3 shows one bar per fit (one line per epoch off a terminal)
    enable_model_summary: bool = False
    num_sanity_val_steps: int = 0
    log_every_n_steps: int = 10
    strategy: str = "auto"


def defaults(cls: type) -> dict[str, Any]:
    """The schema's defaults as plain (nested) dicts."""
    from dataclasses import asdict

    return asdict(cls())
