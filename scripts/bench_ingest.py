"""Ingest throughput against the loopback server: rows/s and where the time goes.

    PYTHONPATH=src python scripts/bench_ingest.py [--n-stocks 4000] [--start 2022-01-01] [--end 2022-12-31]

The server runs in its own process (serving the synthetic market, rate limit off), so the
figures are the client's. Prints rows/s of the ingest (HTTP + parse/validate + write) and
of reading the snapshot back into MarketData, and the share of worker time per step.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(url: str, key: str, proc: subprocess.Popen, timeout_s: float = 300.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"loopback server exited with {proc.returncode}")
        try:
            requests.get(f"{url}/markets/calendar", headers={"x-api-key": key}, timeout=5)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise SystemExit("loopback server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-stocks", type=int, default=4000)
    parser.add_argument("--start", default="2022-01-01")
    parser.add_argument("--end", default="2022-12-31")  # ~245 sessions
    parser.add_argument("--endpoints", default="calendar,master,bars,topix")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--page-size", type=int, default=5000)
    args = parser.parse_args()

    from gogooku3.data.jquants.source import JQuantsSource, build_market

    key, port = secrets.token_urlsafe(16), free_port()
    env = {**os.environ, "JQUANTS_API_KEY": key, "PYTHONPATH": str(ROOT / "src")}
    server = subprocess.Popen(
        [sys.executable, "-m", "gogooku3.data.jquants.server", "--port", str(port), "--n-stocks", str(args.n_stocks),
         "--start", args.start, "--end", args.end, "--page-size", str(args.page_size)],
        env=env,
    )
    url = f"http://127.0.0.1:{port}/v2"
    try:
        wait_ready(url, key, server)
        with tempfile.TemporaryDirectory() as data_dir:
            source = JQuantsSource(
                start=args.start, end=args.end, plan=None, rate_limit_per_minute=0, base_url=url, data_dir=data_dir,
                endpoints=tuple(args.endpoints.split(",")), concurrency=args.concurrency, progress=False, api_key=key,
            )
            started = time.perf_counter()
            market = source.load()
            total = time.perf_counter() - started
            summary = source.summary
            # Reading alone (snapshot -> MarketData), as every later run does.
            snapshot = source.open_snapshot()
            started = time.perf_counter()
            names = tuple(dict.fromkeys(["calendar", *source.endpoints]))
            parts = _stored_parts(snapshot)
            build_market(snapshot, parts, market.calendar.min(), market.calendar.max(), names)
            read_s = time.perf_counter() - started
            size = sum(p.stat().st_size for p in Path(data_dir).rglob("*.parquet"))
    finally:
        server.terminate()
        server.wait(timeout=30)

    rows = sum(summary.rows.values())
    worker = summary.seconds
    busy = sum(worker.values()) or 1.0
    print(f"market: {args.n_stocks} stocks x {market.calendar.len()} sessions; endpoints {args.endpoints}")
    print("\n".join(summary.lines()))
    print(f"ingest (fetch, validate, write, then read into MarketData): {rows:,} rows in {total:.2f} s = "
          f"{rows / total:,.0f} rows/s (concurrency {args.concurrency}, rate limit off)")
    print(
        "  worker time: "
        + ", ".join(f"{k} {worker[k]:.2f} s ({worker[k] / busy:.0%})" for k in ("http", "parse", "write"))
    )
    print(f"read snapshot -> MarketData: {market.quotes.height:,} quotes in {read_s:.2f} s = "
          f"{market.quotes.height / read_s:,.0f} rows/s")
    print(f"snapshot size: {size / 1e6:.1f} MB parquet (raw response bodies, zstd)")


def _stored_parts(snapshot):
    from gogooku3.data.jquants.snapshot import Partition

    parts = []
    for key, entry in snapshot.entries.items():
        endpoint, pid = key.split("/", 1)
        parts.append(Partition(endpoint, pid, entry["request"]["params"]))
    return parts


if __name__ == "__main__":
    main()
