"""Load test: the API on loopback, an open-loop request rate held for a fixed time.

    python scripts/bench_api.py [--rate 30] [--duration 60] [--stocks 4000] [--port 18600]

Starts ``python -m gogooku3.serve`` (one uvicorn worker) over a temporary prediction store
(``--stocks`` codes x 4 horizons x 5 sessions, realistic PREDICTION_SCHEMA frames), a real
MLflow sqlite registry and a key file, then sends requests on a fixed schedule (request i
at t0 + i/rate, so a slow server cannot slow the offered load: open loop) from an async httpx client,
latency counted from each request's scheduled time (a late send counts against the server):
a mix of top-k and code-list reads of one date, the latest date, quality and models. It
prints the target and achieved rate, the count, errors, p50/p95/p99/max latency against the SLA
(conf/serving ``sla.p99_seconds``) and the audit log's line count against the requests sent
(one line each, intact chain). Exit 1 when the rate, the SLA, zero errors or the audit fails.
The server's own PID is recorded and exactly it is ended (SIGTERM, then SIGKILL). Client and server share this machine's
cores, so the latency includes the client's own scheduling delay.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _populate(root: Path, n_stocks: int, days: list[date]) -> list[str]:
    import numpy as np
    import polars as pl

    from gogooku3.storage.predictions import PREDICTION_SCHEMA, QUALITY_SCHEMA, LocalPredictionStore

    store = LocalPredictionStore(root)
    rng = np.random.default_rng(0)
    codes = [f"{c}0" for c in range(1301, 1301 + n_stocks)]
    for day in days:
        frames = []
        for h in (1, 5, 10, 20):
            score = rng.standard_normal(n_stocks)
            pred = score * 0.01
            frames.append(pl.DataFrame({
                "Code": codes, "Date": [day] * n_stocks, "for_session": [day + timedelta(days=1)] * n_stocks,
                "horizon": [h] * n_stocks, "prediction": pred, "quantile_levels": [[0.1, 0.5, 0.9]] * n_stocks,
                "quantiles": (pred[:, None] + np.array([-0.02, 0.0, 0.02])).tolist(),
                "ensemble_score": score, "confidence": rng.uniform(0, 1, n_stocks),
                "rank": (-score).argsort().argsort() + 1, "model_version": ["1"] * n_stocks, "run_id": ["r" * 32] * n_stocks,
            }))  # fmt: skip
        store.write("predictions", pl.concat(frames).cast(PREDICTION_SCHEMA))
        store.write("quality", pl.DataFrame({
            "Date": [day], "run_id": ["r" * 32], "gate": ["raw"], "status": ["passed"], "success_ratio": [1.0],
            "rows_in": [n_stocks], "rows_quarantined": [0], "detail": ["{}"]}).cast(QUALITY_SCHEMA))  # fmt: skip
    return codes


def _registry(uri: str, root: Path) -> None:
    import logging

    from mlflow.tracking import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.WARNING)  # its table-creation lines are not ours to print

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    exp = client.create_experiment("bench", artifact_location=str(root / "artifacts"))
    run = client.create_run(exp)
    client.log_metric(run.info.run_id, "val/rank_ic_h1", 0.04)
    client.create_registered_model("gogooku3")
    client.create_model_version("gogooku3", source=f"{run.info.artifact_uri}/deploy", run_id=run.info.run_id)
    client.set_registered_model_alias("gogooku3", "champion", "1")


def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


async def _drive(base: str, key: str, rate: float, seconds: float, days: list[date], codes: list[str]):
    import httpx

    rng = __import__("random").Random(1)
    paths = []
    for i in range(int(rate * seconds)):
        day, r = days[i % len(days)], rng.random()
        if r < 0.5:
            paths.append((f"/v1/predictions/{day}", {"top_k": "50"}))
        elif r < 0.8:
            paths.append((f"/v1/predictions/{day}", {"codes": ",".join(rng.sample(codes, 20))}))
        elif r < 0.9:
            paths.append(("/v1/predictions/latest", {"top_k": "20", "horizon": "5"}))
        elif r < 0.95:
            paths.append((f"/v1/quality/{day}", {}))
        else:
            paths.append(("/v1/models", {}))
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, limits=limits, timeout=10) as client:

        async def one(path: str, params: dict, at: float) -> None:
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            t = at  # from the schedule, not from when the client got round to it (no coordinated omission)
            try:
                resp = await client.get(path, params=params)
                if resp.status_code != 200:
                    errors.append(f"{resp.status_code} {path}")
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__} {path}")
            latencies.append(time.perf_counter() - t)

        t0 = time.perf_counter() + 0.2
        await asyncio.gather(*(one(p, q, t0 + i / rate) for i, (p, q) in enumerate(paths)))
        wall = time.perf_counter() - t0
    return latencies, errors, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=30.0, help="requests per second offered (the stated rate)")
    parser.add_argument("--duration", "--seconds", dest="seconds", type=float, default=60.0, help="seconds")
    parser.add_argument("--stocks", type=int, default=4000)
    parser.add_argument("--port", type=int, default=18600)
    args = parser.parse_args()
    from gogooku3.serve import compose
    from gogooku3.serving.audit import verify
    from gogooku3.serving.keys import KeyStore

    sla = compose([]).serving.sla
    with tempfile.TemporaryDirectory(prefix="bench_api_") as tmp:
        root = Path(tmp)
        days = [date(2026, 12, 1) + timedelta(days=i) for i in range(5)]
        codes = _populate(root / "store", args.stocks, days)
        uri = f"sqlite:///{root}/mlflow.db"
        _registry(uri, root)
        secret = secrets.token_hex(32)
        _, key = KeyStore(root / "keys.json", secret.encode()).create("bench", ["predictions:read", "models:read"])
        audit = root / "audit.jsonl"
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "GOGOOKU3_API_SECRET": secret,
               "GOGOOKU3_API_KEY_FILE": str(root / "keys.json")}  # fmt: skip
        cmd = [sys.executable, "-m", "gogooku3.serve", f"serving.port={args.port}", f"serving.store_root={root}/store",
               f"serving.tracking_uri={uri}", f"serving.audit_log={audit}", f"serving.security_log={root}/sec.jsonl",
               f"serving.rate_limit.per_second={args.rate * 2}", f"serving.rate_limit.burst={int(args.rate * 2)}"]  # fmt: skip
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        pid = proc.pid  # uvicorn runs in this very process (workers=1): end exactly this PID
        try:
            _wait_port(args.port, proc)
            print(f"server pid {pid} on 127.0.0.1:{args.port}; offering {args.rate:g} req/s for {args.seconds:g} s "
                  f"({args.stocks} stocks x 4 horizons per date)", flush=True)  # fmt: skip
            lat, errors, wall = asyncio.run(
                _drive(f"http://127.0.0.1:{args.port}", key, args.rate, args.seconds, days, codes))
            time.sleep(0.5)
        finally:
            if proc.poll() is None:
                os.kill(pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.kill(pid, signal.SIGKILL)
                    proc.wait()
        n = len(lat)
        lat.sort()
        p50, p95, p99 = (lat[min(n - 1, int(q * n))] for q in (0.50, 0.95, 0.99))
        lines = audit.read_text().count("\n")
        import json

        server = sorted(json.loads(x)["latency_seconds"] for x in audit.read_text().splitlines())
        chain = verify(audit)
    sent = int(args.rate * args.seconds)
    print(f"target rate {args.rate:g} req/s for {args.seconds:g} s; achieved {n / wall:.1f} req/s "
          f"({n} of {sent} requests answered in {wall:.1f} s)")
    print(f"latency p50 {p50 * 1e3:.1f} ms, p95 {p95 * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms, max {lat[-1] * 1e3:.1f} ms "
          f"(SLA p99 {sla.p99_seconds * 1e3:.0f} ms: {'held' if p99 <= sla.p99_seconds else 'MISSED'})")  # fmt: skip
    print(f"server-side (audit) latency p50 {statistics.median(server) * 1e3:.1f} ms, "
          f"p99 {server[min(len(server) - 1, int(0.99 * len(server)))] * 1e3:.1f} ms")
    print(f"errors {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    verdict = "one each" if lines == sent else "MISMATCH"
    print(f"audit lines {lines} for {sent} requests sent ({verdict}); {chain.summary()}")
    held = (not errors and n == sent and p99 <= sla.p99_seconds and lines == sent and chain.ok
            and n / wall >= 0.95 * args.rate)
    print("result: " + ("held" if held else "FAILED"))
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
