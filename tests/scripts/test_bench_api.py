"""scripts/bench_api.py runs end to end on loopback and checks its own figures (a short, low-rate run)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.helpers import ROOT


@pytest.mark.slow  # ~20 s: the server's start-up (MLflow import, registry) dominates
def test_bench_api_short_run_holds_the_rate_with_one_audit_line_per_request():
    command = [sys.executable, str(ROOT / "scripts" / "bench_api.py"),
               "--duration", "3", "--rate", "10", "--stocks", "200", "--port", "18601"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr[-2000:]
    assert re.search(r"server pid \d+ on 127\.0\.0\.1:18601", out)
    rate = re.search(r"target rate 10 req/s for 3 s; achieved ([\d.]+) req/s \(30 of 30 requests answered", out)
    assert rate and float(rate.group(1)) >= 9.5, out
    p99 = re.search(r"p95 [\d.]+ ms, p99 ([\d.]+) ms, max [\d.]+ ms \(SLA p99 (\d+) ms: held\)", out)
    assert p99 and float(p99.group(1)) <= float(p99.group(2)), out
    assert "errors 0\n" in out
    assert "audit lines 30 for 30 requests sent (one each); chain ok (30 lines)" in out
    assert out.rstrip().endswith("result: held")
