"""Great Expectations (slow to import) stays out of runs with quality off."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
sys.path.insert(0, "tests")
from quality.builders import make_market, make_features, make_predictions, HORIZONS
from gogooku3.quality import QualityGates
gates = QualityGates.from_config({"enabled": False}, "unused")
market, _ = gates.raw(make_market())
market, _ = gates.processed(market)
frame, names = make_features(market)
gates.features(frame, names)
preds = make_predictions(market)
gates.training_output(preds, {}, HORIZONS)
gates.predictions(preds, HORIZONS)
print("gx" if any(m == "great_expectations" or m.startswith("great_expectations.") for m in sys.modules) else "clean")
"""


def test_quality_off_does_not_import_great_expectations():
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "clean"
