"""Correlation graphs over the stocks of each date, built with matrix operations."""

from __future__ import annotations

from dataclasses import dataclass

import torch

EDGE_DIM = 4  # correlation, same Sector17, same Sector33, same market segment


@dataclass(frozen=True)
class Graph:
    """A batch of per-date graphs over flattened ``B * N`` node slots (PyG layout)."""

    edge_index: torch.Tensor  # (2, E): row 0 source j, row 1 target i (j -> i)
    edge_attr: torch.Tensor  # (E, EDGE_DIM)


def correlation_graph(returns: torch.Tensor, node_mask: torch.Tensor, groups: torch.Tensor, *,
                      top_k: int, threshold: float, min_periods: int) -> Graph:  # fmt: skip
    r"""Link each stock to its ``top_k`` most correlated peers of the same date.

    Returns are demeaned across stocks for every day (removing the market), standardized
    per stock over the window, and correlated for all pairs at once:

    .. math::
        \rho_{ij} = \frac{1}{W} \sum_{w} z_{iw} z_{jw}, \qquad
        j \to i \ \text{iff}\ j \in \mathrm{top}_k(\rho_{i\cdot}),\ \rho_{ij} \ge \text{threshold}

    Missing returns count as zero after standardization (shrinking such pairs to 0);
    stocks with fewer than ``min_periods`` returns or outside ``node_mask`` get no edges.

    Shapes:
        returns ``(B, N, W)`` (NaN = missing), node_mask ``(B, N)``, groups ``(B, N, 3)``
        integer Sector17/Sector33/market ids (``-1`` = unknown);
        ``edge_index (2, E)`` into ``B * N`` nodes, ``edge_attr (E, 4)``.
    """
    B, N, W = returns.shape
    with torch.autocast(device_type=returns.device.type, enabled=False):
        r = returns if returns.dtype == torch.float64 else returns.float()
        valid = torch.isfinite(r) & node_mask.unsqueeze(-1)
        r = torch.where(valid, r, 0.0)
        day_count = valid.sum(1, keepdim=True).clamp(min=1)
        r = torch.where(valid, r - r.sum(1, keepdim=True) / day_count, 0.0)  # demean per day
        n = valid.sum(-1, keepdim=True)
        mean = r.sum(-1, keepdim=True) / n.clamp(min=1)
        dev = torch.where(valid, r - mean, 0.0)
        std = (dev.square().sum(-1, keepdim=True) / n.clamp(min=1)).sqrt()
        z = dev / std.clamp(min=1e-12)
        ok = node_mask & (n.squeeze(-1) >= min_periods) & (std.squeeze(-1) > 0)
        z = z * ok.unsqueeze(-1)
        corr = torch.bmm(z, z.transpose(1, 2)).div_(W)  # (B, N, N)
        corr.masked_fill_(~ok.unsqueeze(1), float("-inf"))  # never pick an unusable neighbour
        corr.diagonal(dim1=1, dim2=2).fill_(float("-inf"))  # nor oneself
        k = min(top_k, N - 1)
        value, nbr = corr.topk(k, dim=-1)  # (B, N, k)
        keep = (value >= threshold) & ok.unsqueeze(-1)
        b, i, slot = keep.nonzero(as_tuple=True)
        j = nbr[b, i, slot]
        same = (groups[b, i] == groups[b, j]) & (groups[b, i] >= 0)  # (E, 3)
        edge_attr = torch.cat([value[b, i, slot].unsqueeze(-1), same.to(value.dtype)], dim=-1)
        edge_index = torch.stack([b * N + j, b * N + i])
    return Graph(edge_index=edge_index, edge_attr=edge_attr)
