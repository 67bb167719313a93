"""ATFT-GAT-FAN: temporal fusion over each stock's history, graph attention across stocks."""

from __future__ import annotations

from gogooku3.models.atft_gat_fan.model import ATFTGATFAN, ATFTConfig, FANConfig, GATConfig, GraphConfig

__all__ = ["ATFTGATFAN", "ATFTConfig", "FANConfig", "GATConfig", "GraphConfig"]
