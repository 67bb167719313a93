"""``python -m gogooku3.serve``: composes conf/serving, binds loopback, serves; bad config exits 2."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time

import httpx

from gogooku3.serving.keys import KeyStore
from tests.helpers import ROOT
from tests.serving.conftest import DAYS, MODEL

PORT = 18531


def test_defaults_bind_loopback_with_a_typed_schema():
    from gogooku3.serve import compose

    cfg = compose([]).serving
    assert cfg.host == "127.0.0.1" and cfg.rate_limit.burst >= 1 and cfg.sla.p99_seconds > 0
    assert cfg.key_file_env == "GOGOOKU3_API_KEY_FILE"  # the YAML names variables, never holds secrets


def _env(tmp_path, secret):
    return {**os.environ, "PYTHONPATH": str(ROOT / "src"), "GOGOOKU3_API_SECRET": secret,
            "GOGOOKU3_API_KEY_FILE": str(tmp_path / "keys.json")}  # fmt: skip


def test_bad_override_and_missing_secret_exit_2_in_one_line(tmp_path):
    env = _env(tmp_path, secrets.token_hex(32))
    bad = subprocess.run([sys.executable, "-m", "gogooku3.serve", "serving.port=abc"], capture_output=True,
                         text=True, env=env, timeout=120)  # fmt: skip
    assert bad.returncode == 2 and "serving.port" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    del env["GOGOOKU3_API_SECRET"]
    nosecret = subprocess.run([sys.executable, "-m", "gogooku3.serve"], capture_output=True, text=True, env=env,
                              timeout=120)  # fmt: skip
    assert nosecret.returncode == 2 and "GOGOOKU3_API_SECRET" in nosecret.stderr


def test_the_server_answers_on_loopback(tmp_path, store_root, tracking_uri):
    secret = secrets.token_hex(32)
    _, key = KeyStore(tmp_path / "keys.json", secret.encode()).create("t", ["predictions:read"])
    args = [sys.executable, "-m", "gogooku3.serve", f"serving.port={PORT}", f"serving.store_root={store_root}",
            f"serving.tracking_uri={tracking_uri}", f"serving.model_name={MODEL}",
            f"serving.audit_log={tmp_path}/audit.jsonl", f"serving.security_log={tmp_path}/sec.jsonl"]  # fmt: skip
    proc = subprocess.Popen(args, env=_env(tmp_path, secret), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", PORT), timeout=0.5).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                time.sleep(0.2)
        r = httpx.get(f"http://127.0.0.1:{PORT}/v1/predictions/{DAYS[-1]}", headers={"X-API-Key": key}, timeout=10)
        assert r.status_code == 200 and r.json()["model_version"] == "2"
        assert httpx.get(f"http://127.0.0.1:{PORT}/healthz", timeout=10).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert key.encode() not in out + err
    assert (tmp_path / "audit.jsonl").read_text().count("\n") == 2
