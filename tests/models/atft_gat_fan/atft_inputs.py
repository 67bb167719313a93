"""Random model inputs shared by the ATFT-GAT-FAN component tests."""

from __future__ import annotations

import torch

from gogooku3.models.atft_gat_fan import ATFTConfig, FANConfig, GATConfig, GraphConfig

B, N, L, F, W = 2, 24, 12, 5, 30


def inputs(seed: int = 0, n: int = N) -> dict[str, torch.Tensor]:
    """A batch whose stocks fall into 3 return clusters, so the graph has real edges."""
    g = torch.Generator().manual_seed(seed)
    cluster = torch.arange(n) % 3
    common = torch.randn(B, 3, W, generator=g)
    returns = 0.01 * (common[:, cluster] + 0.5 * torch.randn(B, n, W, generator=g))
    mask = torch.ones(B, n, dtype=torch.bool)
    mask[:, -2:] = False  # two stocks not trading on these dates
    groups = torch.stack([cluster, torch.arange(n) % 4, torch.arange(n) % 2], -1).expand(B, n, 3)
    return {"x": torch.randn(B, n, L, F, generator=g), "mask": mask, "returns": returns, "groups": groups}


def config(**overrides) -> ATFTConfig:
    base = dict(n_features=F, lookback=L, hidden_size=16, feature_dim=4, attention_heads=2, dropout=0.0,
                fan=FANConfig(enabled=True, top_k=2, hidden_size=8), gat=GATConfig(layers=2, heads=2, dropout=0.0),
                graph=GraphConfig(window=W, top_k=4, threshold=0.1, min_periods=10))  # fmt: skip
    return ATFTConfig(**{**base, **overrides})
