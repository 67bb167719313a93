"""Imports point one way, down the layer map (docs: /design layer map; contract in pyproject.toml)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT

LINT = Path(sys.executable).with_name("lint-imports")


def _lint(src: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([str(LINT), str(ROOT / "pyproject.toml"), "--no-cache"], cwd=src, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_the_layer_contract_is_kept():
    result = _lint(ROOT / "src")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "1 kept, 0 broken" in result.stdout


def test_a_backward_import_breaks_the_contract(tmp_path):
    """The contract can fail: the data layer importing the wiring layer is reported."""
    shutil.copytree(ROOT / "src" / "gogooku3", tmp_path / "gogooku3", ignore=shutil.ignore_patterns("__pycache__"))
    init = tmp_path / "gogooku3" / "data" / "__init__.py"
    init.write_text(init.read_text() + "\nimport gogooku3.pipeline.experiment  # noqa: F401\n")
    result = _lint(tmp_path)
    assert result.returncode != 0 and "0 kept, 1 broken" in result.stdout
    assert "gogooku3.data is not allowed to import gogooku3.pipeline" in result.stdout
