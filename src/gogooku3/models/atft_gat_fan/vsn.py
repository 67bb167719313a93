"""Variable selection network: per-feature GRNs weighted by learned softmax scores."""

from __future__ import annotations

import torch
from torch import nn

from gogooku3.models.atft_gat_fan.grn import GatedResidualNetwork, GroupedGRN


class VariableSelectionNetwork(nn.Module):
    r"""TFT variable selection, vectorized over features.

    .. math::
        e_f = x_f w_f + b_f, \quad
        v = \mathrm{softmax}\big(\mathrm{GRN}_v(x)\big), \quad
        y = W_o \sum_f v_f\,\mathrm{GRN}_f(e_f)

    Every scalar feature gets its own embedding and its own GRN (grouped weights, one
    einsum), so the network can learn which inputs matter at each step. TFT feeds the
    selector the concatenated embeddings ``[e_1..e_F]``; as each ``e_f`` is affine in the
    scalar ``x_f``, its first linear layer is exactly a linear layer on ``x``, which is what
    we use (``F`` instead of ``F * feature_dim`` inputs, same function class).

    Shapes:
        input ``(*, F)``; output ``(*, out_dim)``; :attr:`last_weights` ``(*, F)``.
    """

    def __init__(self, n_features: int, feature_dim: int, out_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.embed_w = nn.Parameter(torch.randn(n_features, feature_dim) * 0.5)
        self.embed_b = nn.Parameter(torch.zeros(n_features, feature_dim))
        self.feature_grn = GroupedGRN(n_features, feature_dim, dropout)
        self.selector = GatedResidualNetwork(n_features, out_dim, n_features, dropout)
        self.out = nn.Linear(feature_dim, out_dim)
        self.last_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = x.unsqueeze(-1) * self.embed_w + self.embed_b  # (*, F, d)
        weights = torch.softmax(self.selector(x), dim=-1)  # (*, F)
        self.last_weights = weights.detach()
        mixed = (weights.unsqueeze(-1) * self.feature_grn(e)).sum(-2)  # (*, d)
        return self.out(mixed)
