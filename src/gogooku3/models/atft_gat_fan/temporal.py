"""Temporal encoder: LSTM, then causal multi-head self-attention, both gated residuals."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from gogooku3.models.atft_gat_fan.grn import GatedResidualNetwork


class GateAddNorm(nn.Module):
    """LayerNorm(skip + GLU(x)): TFT's gated residual connection."""

    def __init__(self, dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.glu = nn.Linear(dim, 2 * dim)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.norm(skip + F.glu(self.glu(self.dropout(x)), dim=-1))


class CausalSelfAttention(nn.Module):
    r"""Multi-head self-attention where step :math:`s` attends only to steps :math:`\le s`.

    Shapes:
        input ``(M, L, dim)``, output ``(M, L, dim)``.
    """

    def __init__(self, dim: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"model.hidden_size={dim} is not divisible by model.temporal.attention_heads={heads}")
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, last_only: bool = False) -> torch.Tensor:
        """``last_only``: the output at the last step only, ``(M, 1, dim)``; the last step
        may attend to every step, so this equals the full result's last row at 1/L the cost."""
        M, L, D = x.shape
        q, k, v = self.qkv(x).view(M, L, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)
        if last_only:
            q = q[:, :, -1:]
        y = F.scaled_dot_product_attention(
            q, k, v, is_causal=not last_only, dropout_p=self.dropout if self.training else 0.0
        )
        return self.proj(y.transpose(1, 2).reshape(M, q.shape[2], D))


class TemporalEncoder(nn.Module):
    r"""h = GRN(GateAddNorm(Attn_causal(u), u)), u = GateAddNorm(LSTM(x), x); returns h at the last step.

    Every operation is causal in time, so the representation at step :math:`s` depends
    only on inputs up to :math:`s` (see :meth:`sequence`).

    Shapes:
        input ``(M, L, dim)``, output ``(M, dim)``.
    """

    def __init__(self, dim: int, lstm_layers: int = 1, attention_heads: int = 4, dropout: float = 0.0) -> None:
        super().__init__()
        self.lstm = nn.LSTM(dim, dim, num_layers=lstm_layers, batch_first=True,
                            dropout=dropout if lstm_layers > 1 else 0.0)  # fmt: skip
        self.lstm_gate = GateAddNorm(dim, dropout)
        self.attention = CausalSelfAttention(dim, attention_heads, dropout)
        self.attention_gate = GateAddNorm(dim, dropout)
        self.ffn = GatedResidualNetwork(dim, dim, dim, dropout)

    def sequence(self, x: torch.Tensor) -> torch.Tensor:
        """Encoded representation at every step, ``(M, L, dim)``."""
        u = self.lstm_gate(self.lstm(x)[0], x)
        u = self.attention_gate(self.attention(u), u)
        return self.ffn(u)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = self.lstm_gate(self.lstm(x)[0], x)
        last = u[:, -1:]
        return self.ffn(self.attention_gate(self.attention(u, last_only=True), last))[:, 0]
