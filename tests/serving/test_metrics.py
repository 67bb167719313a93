"""The API's real /metrics output passes promtool and carries every series monitoring relies on."""

from __future__ import annotations

import shutil
import subprocess

from gogooku3.monitoring import names
from tests.serving.conftest import DAYS

PROMTOOL = "/usr/bin/promtool"


def _check(text: str) -> subprocess.CompletedProcess:
    assert shutil.which(PROMTOOL), f"{PROMTOOL} is missing (apt-get install prometheus)"
    return subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)


def test_promtool_accepts_the_real_metrics_output(served):
    client, _, keys = served
    client.get(f"/v1/predictions/{DAYS[0]}", headers={"X-API-Key": keys.reader})
    client.get("/v1/predictions/latest")  # 401
    client.get("/v1/models", headers={"X-API-Key": keys.models})
    client.get("/readyz")
    text = client.get("/metrics").text
    result = _check(text)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in (names.HTTP_REQUESTS_TOTAL, names.HTTP_REQUEST_DURATION_SECONDS + "_bucket",
                 names.HTTP_REQUESTS_IN_FLIGHT, names.SECURITY_EVENTS_TOTAL, names.AUDIT_CHAIN_VALID,
                 names.CHAMPION_LOADED):  # fmt: skip
        assert f"\n{name}" in text, name
    assert 'le="0.25"' in text  # the default p99 SLA is a bucket edge, so the alert's quantile is exact there


def test_promtool_can_fail_on_a_badly_named_series():
    bad = "# HELP api_latency_ms latency\n# TYPE api_latency_ms counter\napi_latency_ms 1\n"
    assert _check(bad).returncode != 0
