"""build_features reports progress: a step per group per slice of codes / block of dates."""

from __future__ import annotations

from omegaconf import OmegaConf

from gogooku3.console import Progress
from gogooku3.features import build, build_features, execute
from gogooku3.features.prepare import prepare
from gogooku3.features.registry import get_group


class Recorder(Progress):
    seen: list[Recorder] = []

    def close(self) -> None:
        Recorder.seen.append(self)
        super().close()


def test_every_group_part_is_a_step(feat_market, core_groups, monkeypatch):
    monkeypatch.setattr(build, "Progress", Recorder)
    monkeypatch.setenv("GOGOOKU3_PROGRESS", "log")
    Recorder.seen.clear()
    build_features(feat_market, OmegaConf.create(core_groups), name="core")
    (bar,) = Recorder.seen
    assert bar.desc == "features core" and bar.mode == "log"
    grid, _ = prepare(feat_market)
    slices = len(execute._code_slices(grid, execute.CHUNK_ROWS))
    blocks = len(list(execute._date_blocks(feat_market.quotes.get_column("Date"), execute.DATE_BLOCK_ROWS)))
    per_code = sum(get_group(g).stage == 0 for g in core_groups)
    assert bar.total == bar.n == per_code * slices + (len(core_groups) - per_code) * blocks
    assert bar.postfix in core_groups  # the last group run
