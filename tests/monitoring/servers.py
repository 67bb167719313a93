"""Real Prometheus / Pushgateway binaries on loopback for the monitoring tests (ports 18550-18599).

Each server's own PID is kept and exactly that process is ended. A missing binary fails the
test (it is a required part of the stack), never skips it.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
from pathlib import Path


def binary(name: str) -> str:
    path = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    assert path, f"{name} is not installed (apt-get install {name}); the monitoring tests need the real binary"
    return path


class Server:
    def __init__(self, args: list[str], ready_url: str, log: Path) -> None:
        self.log = log.open("wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(ready_url, timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"{args[0]} did not become ready at {ready_url}: {log.read_text()[-2000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # this PID only
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def pushgateway(port: int, tmp: Path) -> Server:
    url = f"http://127.0.0.1:{port}"
    # Debian's default --persistence.file is shared (/var/lib/prometheus/pushgateway.data): use our own.
    return Server([binary("prometheus-pushgateway"), f"--web.listen-address=127.0.0.1:{port}",
                   f"--persistence.file={tmp / f'pushgateway-{port}.data'}"], f"{url}/-/ready",
                  tmp / f"pushgateway-{port}.log")  # fmt: skip


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()
