"""Multi-horizon quantile heads whose quantiles never cross."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class QuantileHeads(nn.Module):
    r"""For each horizon, a median plus cumulative softplus gaps up and down.

    .. math::
        q_{0.5} = w_m^\top h, \quad q_{k+1} = q_k + \mathrm{softplus}(w_k^\top h)\ (k \ge \text{mid})

    so every quantile is sorted by construction; the point forecast is the median.

    Shapes:
        input ``(M, dim)``, output ``(M, H, Q)``.
    """

    def __init__(self, dim: int, n_horizons: int, quantiles: tuple[float, ...]) -> None:
        super().__init__()
        if list(quantiles) != sorted(quantiles) or 0.5 not in quantiles:
            raise ValueError(f"model.quantiles={list(quantiles)} must be ascending and contain 0.5")
        self.n_horizons, self.n_q = n_horizons, len(quantiles)
        self.mid = list(quantiles).index(0.5)
        self.proj = nn.Linear(dim, n_horizons * self.n_q)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        raw = self.proj(h).view(*h.shape[:-1], self.n_horizons, self.n_q)
        median = raw[..., self.mid : self.mid + 1]
        gaps = F.softplus(raw) * 0.1
        up = median + gaps[..., self.mid + 1 :].cumsum(-1)
        down = median - gaps[..., : self.mid].flip(-1).cumsum(-1).flip(-1)
        return torch.cat([down, median, up], dim=-1)
