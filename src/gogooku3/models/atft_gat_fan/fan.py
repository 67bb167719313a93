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

    The residual (the stationary part) goes to the encoder. As in the paper's frequency
    MLP, the predictor embeds the main signal and reads it together with the raw window,

    .. math::
        \hat y^{main} = W_2\,\mathrm{GELU}\big(W_1 [\,\mathrm{GELU}(W_0 x^{main}) \,\|\, x\,]\big),

    giving the main signal's expected contribution to each horizon's target, which the
    model adds back to every quantile (:meth:`denormalize`). Without the raw window the
    predictor loses what the split discards: the level (DC) and the latest values of
    near-white-noise features like daily returns, the part that carries short-term signal.
    The split is exact: ``x_res + x_main == x``, so with nothing predicted the layer is an identity.

    Shapes:
        input ``(M, L, F)``; :meth:`normalize` returns ``(x_res, x_main)``, both ``(M, L, F)``;
        :meth:`predict_main` takes ``(x_main, x)`` and returns ``(M, H)``.
    """

    def __init__(self, lookback: int, n_features: int, n_horizons: int, top_k: int = 3,
                 hidden_dim: int = 32, dropout: float = 0.0) -> None:  # fmt: skip
        super().__init__()
        n_freq = lookback // 2 + 1
        if not 1 <= top_k <= n_freq:
            raise ValueError(f"model.fan.top_k={top_k} must be in [1, {n_freq}] for lookback={lookback}")
        self.lookback, self.top_k = lookback, top_k
        width = lookback * n_features
        self.main_embedding = nn.Sequential(nn.Linear(width, hidden_dim), nn.GELU())
        self.predictor = nn.Sequential(
            nn.Linear(hidden_dim + width, 2 * hidden_dim),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(2 * hidden_dim, n_horizons),
        )

    def normalize(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.autocast(device_type=x.device.type, enabled=False):  # FFTs need fp32 (or fp64)
            x32 = x if x.dtype == torch.float64 else x.float()
            spec = torch.fft.rfft(x32, dim=-2)  # (M, L//2+1, F)
            top = spec.abs().topk(self.top_k, dim=-2).indices
            keep = torch.zeros_like(spec.real, dtype=torch.bool).scatter_(-2, top, True)
            main = torch.fft.irfft(spec * keep, n=self.lookback, dim=-2)
            return (x32 - main).to(x.dtype), main.to(x.dtype)

    def predict_main(self, main: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.predictor(torch.cat([self.main_embedding(main.flatten(-2)), x.flatten(-2)], dim=-1))

    @staticmethod
    def denormalize(y_res: torch.Tensor, main_pred: torch.Tensor) -> torch.Tensor:
        """Add the predicted main signal back: ``(M, H, Q) + (M, H) -> (M, H, Q)``."""
        return y_res + main_pred.unsqueeze(-1)

    @staticmethod
    def restore(x_res: torch.Tensor, x_main: torch.Tensor) -> torch.Tensor:
        """The exact inverse of :meth:`normalize` on the input side."""
        return x_res + x_main
