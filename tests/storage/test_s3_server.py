"""The weed mini fixture: a real server on its own loopback ports, stopped by its own PID."""

from __future__ import annotations

import os

from gogooku3.storage.s3_server import WeedMini, stop_pid


def test_command_binds_loopback_and_own_ports(tmp_path):
    cmd = WeedMini(tmp_path, 18390).command()
    assert "-ip=127.0.0.1" in cmd and "-ip.bind=127.0.0.1" in cmd
    ports = [int(a.split("=")[1]) for a in cmd if ".port" in a and a.split("=")[1] != "0"]
    assert sorted(ports) == list(range(18390, 18400))


def test_session_server_answers_and_is_stoppable_by_pid(weed):
    assert weed.pid and os.path.exists(f"/proc/{weed.pid}")
    assert weed._s3_answers()


def test_stop_pid_ends_exactly_that_process(tmp_path):
    import subprocess
    import sys

    # a process that ignores SIGTERM, like weed mini: ends by SIGKILL after the grace period
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    assert proc.stdout.readline().strip() == b"ready"
    try:
        stop_pid(proc.pid, grace_s=0.5, proc=proc)
        assert proc.poll() is not None
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_a_server_already_on_one_of_its_ports_is_refused_not_joined(tmp_path, monkeypatch):
    """Another server there would answer the S3 probe with other credentials (403s later, far from the cause)."""
    import socket

    import pytest

    from gogooku3.errors import ConfigError

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 18396))
        squatter.listen()
        server = WeedMini(tmp_path, 18390)
        with pytest.raises(ConfigError, match="port 18396 on 127.0.0.1 is in use"):
            server.start()
        assert server.pid is None
