"""data=jquants_local: an in-process loopback server, no account, nothing fetched twice."""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

ROOT = Path(__file__).resolve().parents[3]


def test_local_source_from_the_config_group(tmp_path):
    overrides = ["data=jquants_local", "data.n_stocks=6", "data.start=2022-01-01", "data.end=2022-02-28",
                 f"paths.data_dir={tmp_path}", "data.progress=false", "data.fsync=false"]
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides)
    assert "api_key" not in cfg.data
    source = instantiate(cfg.data)
    market = source.load()
    assert len(market.codes) <= 6 and market.calendar.len() > 30
    assert market.oracle is not None and set(market.extras) == {"statements", "investor_types", "margin", "short_ratio"}
    assert sum(source.summary.fetched.values()) > 0
    again = instantiate(cfg.data)
    second = again.load()
    assert sum(again.summary.fetched.values()) == 0 and second.digest == market.digest
    assert (tmp_path / "jquants_local" / "manifest.json").exists()
