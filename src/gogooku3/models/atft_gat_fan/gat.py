"""Graph attention over the stocks of a date, fused into the temporal representation."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from gogooku3.models.atft_gat_fan.graph import EDGE_DIM


class GraphAttention(nn.Module):
    r"""Stacked GATv2 layers, then a gated residual fusion with the node's own state.

    .. math::
        g^{(l+1)} = \mathrm{LayerNorm}\big(g^{(l)} + \mathrm{ELU}(\mathrm{GATv2}(g^{(l)}, E, e_{ij}))\big),
        \quad z = \mathrm{LayerNorm}\big(h + \sigma(W_g[h \,\|\, g^{(L)}]) \odot W_v g^{(L)}\big)

    with :math:`g^{(0)} = h`. Each GATv2 layer has ``heads`` heads of width
    ``dim // heads`` (concatenated) and reads the edge attributes; self-loops carry
    attribute 1 everywhere (a stock is perfectly correlated with, and in the same groups as, itself).

    Shapes:
        h ``(M, dim)``, edge_index ``(2, E)``, edge_attr ``(E, 4)``; output ``(M, dim)``.
    """

    def __init__(self, dim: int, layers: int = 2, heads: int = 2, dropout: float = 0.0) -> None:
        super().__init__()
        from torch_geometric.nn import GATv2Conv

        if layers < 1 or dim % heads:
            raise ValueError(f"model.gat.layers={layers} must be >= 1 and model.hidden_size={dim} "
                             f"divisible by model.gat.heads={heads}")  # fmt: skip
        self.convs = nn.ModuleList(
            GATv2Conv(dim, dim // heads, heads=heads, concat=True, dropout=dropout,
                      edge_dim=EDGE_DIM, add_self_loops=True, fill_value=1.0)  # fmt: skip
            for _ in range(layers)
        )
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(layers))
        self.gate = nn.Linear(2 * dim, dim)
        self.value = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor) -> torch.Tensor:
        g = h
        for conv, norm in zip(self.convs, self.norms):
            g = norm(g + F.elu(conv(g, edge_index, edge_attr.to(g.dtype))))
        gate = torch.sigmoid(self.gate(torch.cat([h, g], dim=-1)))
        return self.norm(h + gate * self.value(g))
