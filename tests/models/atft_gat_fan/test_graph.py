"""The correlation graph links each stock to its most correlated peers of the same date."""

from __future__ import annotations

import torch
from atft_inputs import inputs

from gogooku3.models.atft_gat_fan.graph import correlation_graph


def test_edges_link_stocks_of_the_same_return_cluster():
    b = inputs()
    graph = correlation_graph(b["returns"], b["mask"], b["groups"], top_k=4, threshold=0.1, min_periods=10)
    src, dst = graph.edge_index
    N = b["mask"].shape[1]
    assert graph.edge_attr.shape == (src.numel(), 4)
    assert (src // N == dst // N).all(), "edges never cross dates"
    assert (src != dst).all(), "no self-loops: GATv2 adds its own"
    node = torch.arange(N) % 3
    assert (node[src % N] == node[dst % N]).float().mean() > 0.95
    assert (graph.edge_attr[:, 0] >= 0.1).all()
    torch.testing.assert_close(graph.edge_attr[:, 1], (node[src % N] == node[dst % N]).float())  # Sector17 = cluster here
    same_market = ((src % N) % 2 == (dst % N) % 2).float()
    torch.testing.assert_close(graph.edge_attr[:, 3], same_market)
    per_target = torch.bincount(dst, minlength=2 * N)
    assert per_target.max() <= 4


def test_correlation_matches_numpy_and_ignores_the_market():
    torch.manual_seed(0)
    r = torch.randn(1, 6, 50) * 0.01
    shifted = r + 0.05 * torch.randn(1, 1, 50)  # a common market move on every stock
    mask = torch.ones(1, 6, dtype=torch.bool)
    groups = torch.zeros(1, 6, 3, dtype=torch.long)
    g1 = correlation_graph(r, mask, groups, top_k=5, threshold=-1.0, min_periods=10)
    g2 = correlation_graph(shifted, mask, groups, top_k=5, threshold=-1.0, min_periods=10)
    torch.testing.assert_close(g1.edge_attr, g2.edge_attr, atol=1e-5, rtol=0)
    demeaned = (r - r.mean(1, keepdim=True))[0].double().numpy()
    import numpy as np

    expected = np.corrcoef(demeaned)
    src, dst = g1.edge_index
    torch.testing.assert_close(g1.edge_attr[:, 0].double(), torch.from_numpy(expected[dst.numpy(), src.numpy()]), atol=1e-5, rtol=0)


def test_absent_or_short_history_stocks_get_no_edges():
    b = inputs()
    returns = b["returns"].clone()
    returns[:, 0, :25] = float("nan")  # only 5 returns < min_periods
    graph = correlation_graph(returns, b["mask"], b["groups"], top_k=4, threshold=0.0, min_periods=10)
    N = b["mask"].shape[1]
    touched = torch.cat([graph.edge_index[0] % N, graph.edge_index[1] % N]).unique()
    assert 0 not in touched.tolist()
    assert N - 1 not in touched.tolist() and N - 2 not in touched.tolist()  # masked out
