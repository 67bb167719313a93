"""ATFT-GAT-FAN end to end: shapes, masks, gradients, causality, ablations, overfitting."""

from __future__ import annotations

import pytest
import torch
from atft_inputs import B, F, L, N, config, inputs

from gogooku3.models.atft_gat_fan import ATFTGATFAN, FANConfig, GATConfig
from gogooku3.models.atft_gat_fan.loss import ATFTLoss
from gogooku3.models.atft_gat_fan.temporal import TemporalEncoder

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def run(model: ATFTGATFAN, b: dict[str, torch.Tensor]) -> torch.Tensor:
    return model(b["x"], b["mask"], b["returns"], b["groups"])


def test_output_shape_and_sorted_quantiles():
    torch.manual_seed(0)
    out = run(ATFTGATFAN(config()), inputs())
    assert out.shape == (B, N, 4, 5)
    assert torch.isfinite(out).all()
    assert (out.diff(dim=-1) >= 0).all()


def test_absent_stocks_do_not_influence_others():
    torch.manual_seed(0)
    model = ATFTGATFAN(config()).eval()
    b = inputs()
    changed = {**b, "x": b["x"].clone(), "returns": b["returns"].clone()}
    changed["x"][:, -2:] += 10.0
    changed["returns"][:, -2:] = 0.2 * torch.randn(B, 2, b["returns"].shape[-1])
    torch.testing.assert_close(run(model, b)[:, :-2], run(model, changed)[:, :-2])


def test_gradients_reach_every_component():
    torch.manual_seed(0)
    model = ATFTGATFAN(config())
    b = inputs()
    loss_fn = ATFTLoss(QUANTILES, [1.0, 0.5, 0.25, 0.25])
    target = torch.randn(B, N, 4)
    parts = loss_fn(run(model, b), target, b["mask"].unsqueeze(-1).expand(B, N, 4))
    parts["loss"].backward()
    dead = [name for name, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert not dead, f"no gradient reaches {dead}"
    for part in ("fan.main_embedding", "fan.predictor", "vsn.feature_grn", "vsn.selector", "encoder.lstm", "encoder.attention", "gat.convs.1", "heads"):
        assert any(name.startswith(part) for name, _ in model.named_parameters()), part


def test_configured_gat_layers_and_heads_are_built():
    from torch_geometric.nn import GATv2Conv

    model = ATFTGATFAN(config(hidden_size=24, gat=GATConfig(layers=3, heads=4)))
    convs = [m for m in model.modules() if isinstance(m, GATv2Conv)]
    assert len(convs) == 3
    assert all(c.heads == 4 and c.out_channels == 6 and c.concat and c.edge_dim == 4 for c in convs)
    assert run(model, inputs()).shape == (B, N, 4, 5)


@pytest.mark.parametrize("fan, gat", [(False, True), (True, False), (False, False)])
def test_components_switch_off(fan: bool, gat: bool):
    model = ATFTGATFAN(config(fan=FANConfig(enabled=fan), gat=GATConfig(enabled=gat)))
    assert (model.fan is not None) == fan and (model.gat is not None) == gat
    assert run(model, inputs()).shape == (B, N, 4, 5)


def test_gat_mixes_information_across_stocks():
    torch.manual_seed(0)
    b = inputs()
    changed = {**b, "x": b["x"].clone()}
    changed["x"][:, 0] += 3.0  # stock 0's own history
    for gat, expect_change in ((True, True), (False, False)):
        model = ATFTGATFAN(config(gat=GATConfig(enabled=gat, layers=2, heads=2, dropout=0.0))).eval()
        others = (run(model, b) - run(model, changed))[:, 1:-2].abs().max()
        assert (others > 1e-6) == expect_change


def test_temporal_encoder_is_causal_within_the_window():
    torch.manual_seed(0)
    enc = TemporalEncoder(16, lstm_layers=1, attention_heads=2).eval()
    x = torch.randn(3, L, 16)
    later = x.clone()
    later[:, 7:] = torch.randn(3, L - 7, 16)
    torch.testing.assert_close(enc.sequence(x)[:, :7], enc.sequence(later)[:, :7])
    assert (enc.sequence(x)[:, 7:] - enc.sequence(later)[:, 7:]).abs().max() > 1e-4


def test_variable_selection_weights_are_a_distribution_over_features():
    model = ATFTGATFAN(config())
    run(model, inputs())
    w = model.vsn.last_weights
    assert w.shape == (B * N, L, F)
    torch.testing.assert_close(w.sum(-1), torch.ones(B * N, L))


def test_overfits_one_batch():
    torch.manual_seed(0)
    model = ATFTGATFAN(config())
    b = inputs()
    target = b["x"][:, :, -1, :4] * torch.tensor([1.0, -0.5, 0.3, 0.2])  # a function of the inputs
    mask = b["mask"].unsqueeze(-1).expand(B, N, 4)
    loss_fn = ATFTLoss(QUANTILES, [1.0, 1.0, 1.0, 1.0], rank_weight=0.5)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    first = None
    for _ in range(150):
        opt.zero_grad()
        parts = loss_fn(run(model, b), target, mask)
        parts["loss"].backward()
        opt.step()
        first = first if first is not None else parts["loss"].item()
    assert parts["loss"].item() < 0.3 * first
    assert parts["rank_corr"].item() > 0.9


def test_encoder_output_is_the_last_step_of_the_full_causal_sequence():
    torch.manual_seed(0)
    enc = TemporalEncoder(16, lstm_layers=2, attention_heads=4).eval()
    x = torch.randn(5, L, 16)
    torch.testing.assert_close(enc(x), enc.sequence(x)[:, -1], atol=1e-5, rtol=1e-5)
