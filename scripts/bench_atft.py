"""Benchmark ATFT-GAT-FAN: training throughput, peak memory and graph build time.

    python scripts/bench_atft.py                      # CPU, and GPU when one is visible
    python scripts/bench_atft.py --stocks 500 --steps 3 --device cpu

Each (device, stocks) case runs in a fresh subprocess so its peak memory is its own.
Throughput counts stock-date samples per second of full training steps (forward,
quantile + rank loss, backward, clipping, AdamW) with the default config
(``conf/model/atft.yaml``) on random inputs of the given size.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def default_model_config(n_features: int):
    from omegaconf import OmegaConf

    from gogooku3.training.atft.estimator import ATFTEstimator

    # conf/model/atft.yaml patches the schema; the estimator fills the rest from it.
    cfg = OmegaConf.to_container(OmegaConf.load(ROOT / "conf" / "model" / "atft.yaml"))
    for key in ("defaults", "_target_", "name"):
        cfg.pop(key, None)
    est = ATFTEstimator(horizons=(1, 5, 10, 20), **cfg)
    return {**est.model_config, "n_features": n_features}, est.loss_config, est.data_config


def inputs(dates: int, stocks: int, lookback: int, features: int, window: int, device: str):
    import torch

    g = torch.Generator().manual_seed(0)
    cluster = torch.arange(stocks) % max(stocks // 8, 1)
    factor = torch.randn(dates, cluster.max() + 1, window, generator=g)
    batch = {
        "x": torch.randn(dates, stocks, lookback, features, generator=g),
        "mask": torch.rand(dates, stocks, generator=g) > 0.05,
        "returns": 0.01 * (factor[:, cluster] + torch.randn(dates, stocks, window, generator=g)),
        "groups": torch.randint(0, 17, (dates, stocks, 3), generator=g),
        "target": torch.randn(dates, stocks, 4, generator=g),
    }
    batch["target_mask"] = batch["mask"].unsqueeze(-1).expand(-1, -1, 4)
    return {k: v.to(device) for k, v in batch.items()}


def run_case(device: str, stocks: int, steps: int, features: int) -> dict[str, float]:
    import torch

    from gogooku3.models.atft_gat_fan import ATFTGATFAN
    from gogooku3.models.atft_gat_fan.loss import ATFTLoss
    from gogooku3.training.atft.module import config_from_dict

    torch.manual_seed(0)
    model_cfg, loss_cfg, data_cfg = default_model_config(features)
    config = config_from_dict(model_cfg)
    model = ATFTGATFAN(config).to(device)
    loss_fn = ATFTLoss(config.quantiles, **loss_cfg).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    dates = data_cfg["dates_per_batch"]
    b = inputs(dates, stocks, config.lookback, features, config.graph.window, device)
    autocast = torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device == "cuda")

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        with autocast:
            out = model(b["x"], b["mask"], b["returns"], b["groups"])
        loss_fn(out, b["target"], b["target_mask"])["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    step()  # warm-up
    sync()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t)
    per_step = statistics.median(times)
    peak = (torch.cuda.max_memory_allocated() if device == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)  # fmt: skip
    return {"samples_per_s": dates * stocks / per_step, "step_s": per_step, "peak_mib": peak / 2**20,
            "dates_per_batch": dates}  # fmt: skip


def graph_time(device: str, stocks: int, repeats: int = 10) -> float:
    import torch

    from gogooku3.models.atft_gat_fan.graph import correlation_graph

    model_cfg, _, _ = default_model_config(1)
    g = model_cfg["graph"]
    b = inputs(1, stocks, 2, 1, g["window"], device)
    times = []
    for _ in range(repeats + 1):
        if device == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        graph = correlation_graph(b["returns"], b["mask"], b["groups"], top_k=g["top_k"],
                                  threshold=g["threshold"], min_periods=g["min_periods"])  # fmt: skip
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return statistics.median(times[1:]) * 1000, int(graph.edge_index.shape[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stocks", type=int, nargs="+", default=[500, 4000])
    parser.add_argument("--features", type=int, default=30, help="feature count (the core set has ~30)")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--graph-stocks", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one case, print JSON
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.one:
        device, stocks = args.one.split(":")
        print(json.dumps(run_case(device, int(stocks), args.steps, args.features)))
        return

    devices = ["cpu", "cuda"] if args.device == "auto" and torch.cuda.is_available() else (
        ["cpu"] if args.device == "auto" else [args.device])  # fmt: skip
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
          f"GPU: {torch.cuda.get_device_name() if torch.cuda.is_available() else 'none'}")  # fmt: skip
    print(f"{'device':6} {'stocks':>6} {'dates/batch':>11} {'samples/s':>10} {'s/step':>8} {'peak MiB':>9}")
    for device in devices:
        for stocks in args.stocks:
            cmd = [sys.executable, __file__, "--one", f"{device}:{stocks}", "--steps", str(args.steps),
                   "--features", str(args.features), "--threads", str(args.threads)]  # fmt: skip
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode:
                print(f"{device:6} {stocks:>6} failed: {done.stderr.strip().splitlines()[-1]}")
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{device:6} {stocks:>6} {r['dates_per_batch']:>11} {r['samples_per_s']:>10.0f} "
                  f"{r['step_s']:>8.3f} {r['peak_mib']:>9.0f}")  # fmt: skip
    for device in devices:
        ms, edges = graph_time(device, args.graph_stocks)
        print(f"graph build, {args.graph_stocks} stocks on {device}: {ms:.1f} ms ({edges} edges; target < 50 ms)")


if __name__ == "__main__":
    main()
