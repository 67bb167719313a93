"""Frequency Adaptive Normalization (Ye et al., NeurIPS 2024), adapted to return targets."""

from __future__ import annotations

import torch
from torch import nn


class FrequencyAdaptiveNormalization(nn.Module):
    r"""Split each window into its top-K frequency components and the residual.

    For every stock and feature, with :math:`X = \mathrm{rFFT}(x)` over the lookback:

    .. math::
        x^{main} = \mathrm{irFFT}\big(X \odot \mathbb{1}[\,|X| \in \mathrm{top}_K |X|\,]\big), \qquad
        x^{res} = x - x^{main}

    The residual (the stationary part) goes to the encoder; :attr:`predictor` maps the
    main signal to its expected future contribution to each horizon's target, which the
    model adds back to every quantile (:meth:`denormalize`). The split is exact:
    ``x_res + x_main == x``, so with nothing predicted the layer is an identity.

    Shapes:
        input ``(M, L, F)``; :meth:`normalize` returns ``(x_res, x_main)``, both ``(M, L, F)``;
        :meth:`predict_main` returns ``(M, H)``.
    """

    def __init__(self, lookback: int, n_features: int, n_horizons: int, top_k: int = 3,
                 hidden_dim: int = 32, dropout: float = 0.0) -> None:  # fmt: skip
        super().__init__()
        n_freq = lookback // 2 + 1
        if not 1 <= top_k <= n_freq:
            raise ValueError(f"model.fan.top_k={top_k} must be in [1, {n_freq}] for lookback={lookback}")
        self.lookback, self.top_k = lookback, top_k
        self.predictor = nn.Sequential(
            nn.Linear(lookback * n_features, hidden_dim),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_dim, n_horizons),
        )

    def normalize(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.autocast(device_type=x.device.type, enabled=False):  # FFTs need fp32
            x32 = x.float()
            spec = torch.fft.rfft(x32, dim=-2)  # (M, L//2+1, F)
            top = spec.abs().topk(self.top_k, dim=-2).indices
            keep = torch.zeros_like(spec.real, dtype=torch.bool).scatter_(-2, top, True)
            main = torch.fft.irfft(spec * keep, n=self.lookback, dim=-2)
            return (x32 - main).to(x.dtype), main.to(x.dtype)

    def predict_main(self, main: torch.Tensor) -> torch.Tensor:
        return self.predictor(main.flatten(-2))

    @staticmethod
    def denormalize(y_res: torch.Tensor, main_pred: torch.Tensor) -> torch.Tensor:
        """Add the predicted main signal back: ``(M, H, Q) + (M, H) -> (M, H, Q)``."""
        return y_res + main_pred.unsqueeze(-1)

    @staticmethod
    def restore(x_res: torch.Tensor, x_main: torch.Tensor) -> torch.Tensor:
        """The exact inverse of :meth:`normalize` on the input side."""
        return x_res + x_main
