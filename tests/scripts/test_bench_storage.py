"""scripts/bench_storage.py runs tiny end to end: feature store MB/s local and S3, chdb times."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.helpers import ROOT


def test_bench_storage_tiny_run_reports_throughput_and_olap_times():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):  # the script gives its own server its own credentials
        env.pop(key, None)
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_storage.py"), "--size-mb", "4", "--small",
                             "--base-port", "18490"], capture_output=True, text=True, timeout=180, env=env)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    for backend in ("local", "s3"):
        line = re.search(rf"feature store {backend} +(\d+) MB in 1 parts: write +([\d.]+) MB/s .* read +([\d.]+) MB/s",
                         result.stdout)  # fmt: skip
        assert line, result.stdout
        assert int(line[1]) == 4 and float(line[2]) > 0 and float(line[3]) > 0
    assert re.search(r"bulk insert +[\d.]+ s +\(\d[\d,]* rows/s\)", result.stdout), result.stdout
    assert re.search(r"rows 16,000", result.stdout) and "monthly aggregate over every row" in result.stdout
