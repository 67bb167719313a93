"""The README's table of quality levels is the one generated from conf/quality/*.yaml."""

from __future__ import annotations

import re
from pathlib import Path

from gogooku3.quality.config import QualityConfig
from gogooku3.quality.levels import load_levels, levels_table

ROOT = Path(__file__).resolve().parents[2]


def test_readme_table_matches_the_configs():
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"<!-- quality-levels:start -->\n(.*?)\n<!-- quality-levels:end -->", readme, re.S)
    assert found, "README lacks the quality-levels table markers"
    assert found.group(1).strip() == levels_table(str(ROOT / "conf" / "quality")).strip(), (
        "README quality table is stale: paste gogooku3.quality.levels.levels_table() between the markers")


def test_levels_resolve_their_defaults_and_are_valid_configs():
    levels = load_levels(str(ROOT / "conf" / "quality"))
    assert {"strict", "default", "lenient", "off"} <= set(levels)
    assert levels["lenient"]["max_missing_ratio"] == 0.2 and levels["lenient"]["max_inf_ratio"] == 0.0  # inherited
    for values in levels.values():
        QualityConfig.from_mapping(values)


def test_table_changes_with_a_threshold(tmp_path):
    for p in (ROOT / "conf" / "quality").glob("*.yaml"):
        text = p.read_text()
        if p.stem == "lenient":
            text = text.replace("max_missing_ratio: 0.2", "max_missing_ratio: 0.3")
        (tmp_path / p.name).write_text(text)
    assert "| `max_missing_ratio` | 0.02 | 0.05 | 0.3 |" in levels_table(str(tmp_path))
