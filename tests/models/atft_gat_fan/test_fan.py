"""FAN splits each window exactly into its top-K frequency part and a residual."""

from __future__ import annotations

import math

import pytest
import torch

from gogooku3.models.atft_gat_fan.fan import FrequencyAdaptiveNormalization


def make_fan(lookback: int = 20, top_k: int = 3) -> FrequencyAdaptiveNormalization:
    return FrequencyAdaptiveNormalization(lookback, n_features=3, n_horizons=4, top_k=top_k, hidden_dim=8)


def test_split_is_an_exact_inverse():
    x = torch.randn(7, 20, 3)
    fan = make_fan()
    res, main = fan.normalize(x)
    assert res.shape == main.shape == x.shape
    torch.testing.assert_close(fan.restore(res, main), x, atol=1e-6, rtol=0)


def test_nothing_predicted_leaves_outputs_unchanged():
    y = torch.randn(7, 4, 5)
    torch.testing.assert_close(FrequencyAdaptiveNormalization.denormalize(y, torch.zeros(7, 4)), y)
    shifted = FrequencyAdaptiveNormalization.denormalize(y, torch.ones(7, 4))
    torch.testing.assert_close(shifted - y, torch.ones_like(y))


def test_main_signal_is_the_dominant_frequency():
    L = 20
    t = torch.arange(L, dtype=torch.float32)
    wave = 3.0 * torch.sin(2 * math.pi * 2 * t / L)  # exactly rFFT bin 2
    noise = 0.1 * torch.randn(4, L, 3)
    x = wave[None, :, None] + noise
    res, main = make_fan(L, top_k=1).normalize(x)
    torch.testing.assert_close(main, wave[None, :, None].expand_as(main), atol=0.15, rtol=0)
    assert res.abs().max() < 0.5


def test_each_stock_and_feature_gets_its_own_components():
    L = 16
    t = torch.arange(L, dtype=torch.float32)
    x = torch.stack([torch.sin(2 * math.pi * 1 * t / L), torch.cos(2 * math.pi * 5 * t / L)], -1)[None]
    fan = FrequencyAdaptiveNormalization(L, n_features=2, n_horizons=1, top_k=1)
    res, main = fan.normalize(x)
    torch.testing.assert_close(main, x, atol=1e-5, rtol=0)
    assert res.abs().max() < 1e-5


def test_all_components_kept_leaves_no_residual():
    x = torch.randn(3, 12, 2)
    res, main = make_fan(12, top_k=12 // 2 + 1).normalize(x)
    assert res.abs().max() < 1e-5
    torch.testing.assert_close(main, x, atol=1e-5, rtol=0)


def test_predictor_output_shape_and_bad_k():
    fan = make_fan()
    x = torch.randn(5, 20, 3)
    assert fan.predict_main(fan.normalize(x)[1], x).shape == (5, 4)
    with pytest.raises(ValueError, match="model.fan.top_k=12"):
        make_fan(20, top_k=12)
