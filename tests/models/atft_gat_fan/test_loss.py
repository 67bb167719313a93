"""Pinball loss and the per-date soft-rank correlation term."""

from __future__ import annotations

import torch

from gogooku3.models.atft_gat_fan.loss import ATFTLoss, hard_rank, masked_pearson, pinball_loss, soft_rank

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def test_pinball_matches_its_definition():
    torch.manual_seed(0)
    pred, y = torch.randn(2, 6, 1, 5), torch.randn(2, 6, 1)
    mask = torch.ones(2, 6, 1, dtype=torch.bool)
    expected = sum(
        torch.where(y[..., 0] >= pred[..., 0, k], q * (y[..., 0] - pred[..., 0, k]), (1 - q) * (pred[..., 0, k] - y[..., 0]))
        for k, q in enumerate(QUANTILES)
    ).mean() / 5
    torch.testing.assert_close(pinball_loss(pred, y, mask, QUANTILES)[0], expected)


def test_masked_entries_do_not_count():
    torch.manual_seed(0)
    pred, y = torch.randn(2, 8, 2, 5), torch.randn(2, 8, 2)
    mask = torch.rand(2, 8, 2) > 0.3
    loss = ATFTLoss(QUANTILES, [1.0, 1.0])
    garbage = torch.where(mask, y, torch.tensor(1e6))
    torch.testing.assert_close(loss(pred, y, mask)["loss"], loss(pred, garbage, mask)["loss"])


def test_soft_rank_approaches_hard_rank():
    x = torch.tensor([[0.3, -1.0, 2.0, 0.1, 5.0]])
    mask = torch.ones_like(x, dtype=torch.bool)
    torch.testing.assert_close(soft_rank(x, mask, 0.001), hard_rank(x, mask) + 0.5, atol=1e-3, rtol=0)


def test_rank_term_is_per_date_not_pooled():
    # Within each date the forecast ranks stocks exactly backwards, but date 2's forecasts
    # and targets are both far higher: a pooled correlation would look excellent.
    y = torch.tensor([[0.0, 1.0, 2.0, 3.0], [10.0, 11.0, 12.0, 13.0]])
    pred = -y + torch.tensor([[0.0], [100.0]])
    mask = torch.ones(2, 4, 1, dtype=torch.bool)
    quantile_pred = pred.unsqueeze(-1).unsqueeze(-1).expand(2, 4, 1, 5)
    parts = ATFTLoss(QUANTILES, [1.0], rank_temperature=0.01)(quantile_pred, y.unsqueeze(-1), mask)
    assert parts["rank_corr"].item() < -0.99
    pooled = masked_pearson(pred.flatten(), y.flatten(), torch.ones(8, dtype=torch.bool))
    assert pooled > 0.9


def test_rank_term_gradient_improves_ranking():
    torch.manual_seed(0)
    y = torch.randn(3, 20, 1)
    pred = torch.randn(3, 20, 1, 5, requires_grad=True)
    mask = torch.ones(3, 20, 1, dtype=torch.bool)
    loss = ATFTLoss(QUANTILES, [1.0], pinball_weight=0.0, rank_weight=1.0)
    opt = torch.optim.SGD([pred], lr=1.0)
    before = loss(pred, y, mask)["rank_corr"].item()
    for _ in range(200):
        opt.zero_grad()
        loss(pred, y, mask)["loss"].backward()
        opt.step()
    after = loss(pred, y, mask)["rank_corr"].item()
    assert before < 0.3 and after > 0.8


def test_empty_batch_has_finite_gradients():
    pred = torch.randn(2, 5, 1, 5, requires_grad=True)
    parts = ATFTLoss(QUANTILES, [1.0])(pred, torch.zeros(2, 5, 1), torch.zeros(2, 5, 1, dtype=torch.bool))
    parts["loss"].backward()
    assert torch.isfinite(pred.grad).all()
