"""ATFT-GAT-FAN: variable selection -> FAN -> temporal encoder -> GAT -> quantile heads."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from gogooku3.models.atft_gat_fan.fan import FrequencyAdaptiveNormalization
from gogooku3.models.atft_gat_fan.gat import GraphAttention
from gogooku3.models.atft_gat_fan.graph import correlation_graph
from gogooku3.models.atft_gat_fan.heads import QuantileHeads
from gogooku3.models.atft_gat_fan.temporal import TemporalEncoder
from gogooku3.models.atft_gat_fan.vsn import VariableSelectionNetwork


@dataclass
class FANConfig:
    enabled: bool = False  # as model.fan.enabled (gogooku3.training.atft.config)
    top_k: int = 3
    hidden_size: int = 32


@dataclass
class GATConfig:
    enabled: bool = True
    layers: int = 2
    heads: int = 2
    dropout: float = 0.1


@dataclass
class GraphConfig:
    window: int = 250
    top_k: int = 5
    threshold: float = 0.15
    min_periods: int = 20


@dataclass
class ATFTConfig:
    """Every architectural hyper-parameter; ``docs/atft.md`` maps each to its config key."""

    n_features: int
    horizons: tuple[int, ...] = (1, 5, 10, 20)
    quantiles: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
    lookback: int = 20
    hidden_size: int = 32
    feature_dim: int = 8
    lstm_layers: int = 1
    attention_heads: int = 4
    dropout: float = 0.1
    fan: FANConfig = field(default_factory=FANConfig)
    gat: GATConfig = field(default_factory=GATConfig)
    graph: GraphConfig = field(default_factory=GraphConfig)


class ATFTGATFAN(nn.Module):
    r"""Quantile forecasts of every stock of a batch of dates, for every horizon.

    Per stock, the lookback window is split by FAN into main and residual signals; the
    residual passes a variable selection network and the temporal encoder; the GAT mixes
    the encodings of correlated stocks of the same date; heads emit quantiles, and FAN's
    predicted main signal is added back.

    Shapes:
        x ``(B, N, L, F)`` normalized features, mask ``(B, N)`` stocks present,
        returns ``(B, N, W)`` trailing raw returns for the graph (NaN = missing),
        groups ``(B, N, 3)`` Sector17/Sector33/market ids; output ``(B, N, H, Q)``.
    """

    def __init__(self, config: ATFTConfig) -> None:
        super().__init__()
        c = self.config = config
        H = len(c.horizons)
        self.fan = (
            FrequencyAdaptiveNormalization(c.lookback, c.n_features, H, c.fan.top_k, c.fan.hidden_size, c.dropout)
            if c.fan.enabled
            else None
        )
        self.vsn = VariableSelectionNetwork(c.n_features, c.feature_dim, c.hidden_size, c.dropout)
        self.encoder = TemporalEncoder(c.hidden_size, c.lstm_layers, c.attention_heads, c.dropout)
        self.gat = GraphAttention(c.hidden_size, c.gat.layers, c.gat.heads, c.gat.dropout) if c.gat.enabled else None
        self.heads = QuantileHeads(c.hidden_size, H, tuple(c.quantiles))

    def forward(self, x: torch.Tensor, mask: torch.Tensor, returns: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
        B, N, L, F = x.shape
        seq = x.reshape(B * N, L, F)
        raw = seq
        if self.fan is not None:
            seq, main = self.fan.normalize(seq)
        h = self.encoder(self.vsn(seq))  # (B*N, d)
        if self.gat is not None:
            g = self.config.graph
            graph = correlation_graph(returns, mask, groups, top_k=g.top_k, threshold=g.threshold,
                                      min_periods=g.min_periods)  # fmt: skip
            h = self.gat(h, graph.edge_index, graph.edge_attr)
        out = self.heads(h)  # (B*N, H, Q)
        if self.fan is not None:
            out = self.fan.denormalize(out, self.fan.predict_main(main, raw))
        return out.view(B, N, *out.shape[1:])
