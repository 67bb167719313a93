"""Gated residual networks (TFT, Lim et al. 2021), plain and grouped per variable."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


class GatedResidualNetwork(nn.Module):
    r"""GRN(a) = LayerNorm(skip(a) + GLU(W_2 ELU(W_1 a + b_1) + b_2)).

    The GLU gate lets the block shrink to a (projected) identity when the non-linear
    part is not needed, which is why TFT uses it everywhere.

    Shapes:
        input ``(*, in_dim)``, output ``(*, out_dim)``.
    """

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, hidden_dim)
        self.glu = nn.Linear(hidden_dim, 2 * out_dim)
        self.skip = nn.Identity() if in_dim == out_dim else nn.Linear(in_dim, out_dim)
        self.norm = nn.LayerNorm(out_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        h = self.dropout(self.fc2(F.elu(self.fc1(a))))
        return self.norm(self.skip(a) + F.glu(self.glu(h), dim=-1))


class GroupedGRN(nn.Module):
    r"""One independent GRN per variable, evaluated for all variables in one einsum.

    .. math::
        y_f = \mathrm{LayerNorm}\big(a_f + \mathrm{GLU}(W^{(2)}_f\,\mathrm{ELU}(W^{(1)}_f a_f))\big)

    Shapes:
        input ``(*, F, dim)``, output ``(*, F, dim)``; every variable ``f`` has its own weights.
    """

    def __init__(self, n_vars: int, dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.w1 = nn.Parameter(torch.empty(n_vars, dim, dim))
        self.b1 = nn.Parameter(torch.zeros(n_vars, dim))
        self.w2 = nn.Parameter(torch.empty(n_vars, dim, 2 * dim))
        self.b2 = nn.Parameter(torch.zeros(n_vars, 2 * dim))
        for w in (self.w1, self.w2):
            nn.init.uniform_(w, -1 / math.sqrt(dim), 1 / math.sqrt(dim))
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        h = F.elu(torch.einsum("...fd,fde->...fe", a, self.w1) + self.b1)
        h = torch.einsum("...fd,fde->...fe", self.dropout(h), self.w2) + self.b2
        return self.norm(a + F.glu(h, dim=-1))
