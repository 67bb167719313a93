"""scripts/bench_api.py runs end to end on loopback and checks its own figures (a short run)."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import ROOT


def test_bench_api_short_run_reports_figures_and_one_audit_line_per_request():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_api.py"), "--seconds", "2", "--rate", "10",
                             "--stocks", "200", "--port", "18541"], capture_output=True, text=True, timeout=180)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert "requests 20 in" in result.stdout and "errors 0" in result.stdout
    assert "audit lines 20 for 20 requests (one each); chain ok (20 lines)" in result.stdout
