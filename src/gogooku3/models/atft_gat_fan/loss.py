"""Training loss: pinball over quantiles plus a per-date soft-rank correlation term."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def pinball_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
                 quantiles: Sequence[float]) -> torch.Tensor:  # fmt: skip
    r"""Mean pinball loss per horizon, :math:`\max(\tau e, (\tau - 1) e)` with :math:`e = y - q_\tau`.

    Shapes:
        pred ``(B, N, H, Q)``, target and mask ``(B, N, H)``; output ``(H,)``.
    """
    tau = torch.tensor(quantiles, dtype=pred.dtype, device=pred.device)
    e = torch.where(mask, target, 0.0).unsqueeze(-1) - pred
    loss = torch.maximum(tau * e, (tau - 1) * e).mean(-1)  # (B, N, H)
    m = mask.to(pred.dtype)
    return (loss * m).sum((0, 1)) / m.sum((0, 1)).clamp(min=1)


def soft_rank(x: torch.Tensor, mask: torch.Tensor, temperature: float) -> torch.Tensor:
    r"""Differentiable ranks among the masked entries of the last axis.

    .. math:: \tilde r_i = \sum_{j \in mask} \sigma\big((z_i - z_j) / \tau\big)

    with :math:`z` the entries standardized over the mask; as :math:`\tau \to 0` this is the
    0.5-based rank. Costs ``O(N^2)`` memory per row.
    """
    m = mask.to(x.dtype)
    n = m.sum(-1, keepdim=True).clamp(min=1)
    mean = (x * m).sum(-1, keepdim=True) / n
    std = (((x - mean) * m).square().sum(-1, keepdim=True) / n + 1e-12).sqrt()  # eps: finite grads at 0
    z = (x - mean) / std
    pair = torch.sigmoid((z.unsqueeze(-1) - z.unsqueeze(-2)) / temperature)
    return (pair * m.unsqueeze(-2)).sum(-1)


def hard_rank(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """0-based ranks among masked entries of the last axis (ties broken by position)."""
    filled = torch.where(mask, x, torch.finfo(x.dtype).max)
    return filled.argsort(-1).argsort(-1).to(x.dtype)


def masked_pearson(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Pearson correlation along the last axis over masked entries; shape ``a.shape[:-1]``."""
    m = mask.to(a.dtype)
    n = m.sum(-1, keepdim=True).clamp(min=1)
    da = (a - (a * m).sum(-1, keepdim=True) / n) * m
    db = (b - (b * m).sum(-1, keepdim=True) / n) * m
    cov = (da * db).sum(-1)
    return cov / (da.square().sum(-1) * db.square().sum(-1) + 1e-12).sqrt()


class ATFTLoss(torch.nn.Module):
    r"""L = w_pin \sum_h \omega_h Pinball_h + w_rank \sum_h \omega_h (1 - \overline{\rho}_h).

    :math:`\overline{\rho}_h` averages over dates the Pearson correlation between soft
    ranks of the median forecast and ranks of the target: a differentiable stand-in for
    the per-date Spearman RankIC. Horizon weights :math:`\omega_h` are normalized to sum 1.
    Dates with more than ``max_rank_stocks`` stocks use a random subset for the rank term.

    Shapes:
        pred ``(B, N, H, Q)``, target and mask ``(B, N, H)``; returns a dict of scalars.
    """

    def __init__(self, quantiles: Sequence[float], horizon_weights: Sequence[float], pinball_weight: float = 1.0,
                 rank_weight: float = 1.0, rank_temperature: float = 0.1,
                 max_rank_stocks: int = 1024) -> None:  # fmt: skip
        super().__init__()
        self.quantiles = tuple(quantiles)
        self.mid = self.quantiles.index(0.5)
        w = torch.tensor(horizon_weights, dtype=torch.float32)
        self.register_buffer("horizon_weights", w / w.sum())
        self.pinball_weight, self.rank_weight = pinball_weight, rank_weight
        self.temperature, self.max_rank_stocks = rank_temperature, max_rank_stocks

    def forward(self, pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        pred = pred.float()
        w = self.horizon_weights
        pinball = pinball_loss(pred, target, mask, self.quantiles)
        out = {"pinball": (w * pinball).sum()}
        if self.rank_weight > 0:
            median, y, m = pred[..., self.mid], target, mask
            if median.shape[1] > self.max_rank_stocks:
                keep = torch.randperm(median.shape[1], device=pred.device)[: self.max_rank_stocks]
                median, y, m = median[:, keep], y[:, keep], m[:, keep]
            median, y, m = (t.transpose(1, 2) for t in (median, torch.where(m, y, 0.0), m))  # (B, H, N)
            rho = masked_pearson(soft_rank(median, m, self.temperature), hard_rank(y, m), m)
            enough = (m.sum(-1) >= 3).to(rho.dtype)
            rho_h = (rho * enough).sum(0) / enough.sum(0).clamp(min=1)  # (H,)
            out["rank_corr"] = (w * rho_h).sum()
            out["loss"] = self.pinball_weight * out["pinball"] + self.rank_weight * (1 - out["rank_corr"])
        else:
            out["loss"] = self.pinball_weight * out["pinball"]
        return out
