"""Benchmark the feature pipeline: wall time, CPU time, rows/s and peak memory.

    python scripts/bench_features.py                       # 600 x 1,000 and 4,000 x 2,500, standard
    python scripts/bench_features.py --stocks 600 --sessions 1000 --set core

Each case runs in fresh child processes (so peak memory is that build's alone): one
writes a random-walk market in the canonical schema to a temp folder, the next loads
it, builds the feature set and prints the figures (peak RSS includes the loaded input)
and the wall time of each group, summed over its slices of codes or blocks of dates.
Targets (issue 5): standard on 4,000 x 2,500 in < 30 s and < 8 GB with 2 cores;
600 x 1,000 in < 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def write_market(folder: Path, n_stocks: int, n_sessions: int, seed: int = 0) -> None:
    """Random-walk quotes (with a few splits and suspensions), listed info and an index."""
    import numpy as np
    import polars as pl

    from gogooku3.data.calendar import trading_sessions

    rng = np.random.default_rng(seed)
    days = trading_sessions("2010-01-01", "2030-12-31")[:n_sessions]
    market = rng.normal(0, 0.01, n_sessions)
    ret = market[None, :] + rng.normal(0, 0.02, (n_stocks, n_sessions))
    close = 1000 * np.exp(np.cumsum(ret, axis=1))
    factor = np.where(rng.random((n_stocks, n_sessions)) < 2e-4, 0.5, 1.0)
    close = close / np.cumprod(factor, axis=1)  # raw prices drop on the ex-date
    open_ = close * np.exp(rng.normal(0, 0.005, close.shape))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.01, close.shape)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.01, close.shape)))
    volume = np.round(np.exp(rng.normal(11, 1, close.shape)) / 100) * 100
    suspended = rng.random(close.shape) < 1e-3
    for a in (open_, high, low, close, volume):
        a[suspended] = np.nan
    codes = np.array([f"{1301 + i}0" for i in range(n_stocks)])
    quotes = pl.DataFrame({
        "Code": np.repeat(codes, n_sessions),
        "Date": pl.Series(days * n_stocks, dtype=pl.Date),
        "Open": open_.ravel(), "High": high.ravel(), "Low": low.ravel(), "Close": close.ravel(),
        "Volume": volume.ravel(), "TurnoverValue": (close * volume).ravel(),
        "AdjustmentFactor": factor.ravel(),
    }).with_columns(pl.col(["Open", "High", "Low", "Close", "Volume", "TurnoverValue"]).fill_nan(None))
    sectors = np.array(["0050", "1050", "3050", "3100", "3650", "5050", "6050", "7050", "8050", "9050"])
    listed = pl.DataFrame({"Code": codes, "CompanyName": codes, "Sector17Code": "1",
                           "Sector33Code": sectors[rng.integers(0, len(sectors), n_stocks)],
                           "MarketCode": "0111"})
    index = pl.DataFrame({"Date": pl.Series(days, dtype=pl.Date), "Close": 2000 * np.exp(np.cumsum(market))})
    quotes.write_parquet(folder / "quotes.parquet")
    listed.write_parquet(folder / "listed.parquet")
    index.write_parquet(folder / "index.parquet")


def current_rss_gb() -> float:
    """Resident memory now (ru_maxrss may start from the parent's size at fork)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**30


def run_child(folder: Path, feature_set: str) -> dict:
    """In the child: load the market, build the features once, report the figures."""
    import polars as pl
    from omegaconf import OmegaConf

    from gogooku3.data.market import MarketData
    from gogooku3.features import build_features

    quotes = pl.read_parquet(folder / "quotes.parquet")
    market = MarketData(quotes=quotes, calendar=quotes.get_column("Date").unique().sort(), digest="bench",
                        source=str(folder), listed=pl.read_parquet(folder / "listed.parquet"),
                        index=pl.read_parquet(folder / "index.parquet"))
    groups = OmegaConf.load(ROOT / "conf" / "features" / f"{feature_set}.yaml").groups
    rss_before = current_rss_gb()
    t0, c0 = time.perf_counter(), time.process_time()
    panel = build_features(market, groups, name=feature_set)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"rows": panel.frame.height, "features": len(panel.names), "wall_s": wall, "cpu_s": cpu,
            "rows_per_s": panel.frame.height / wall,
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            "rss_before_build_gb": rss_before,
            "panel_gb": panel.frame.estimated_size() / 2**30,
            "group_s": panel.timings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stocks", type=int, nargs="*", default=[600, 4000])
    parser.add_argument("--sessions", type=int, nargs="*", default=[1000, 2500])
    parser.add_argument("--set", default="standard", help="feature set in conf/features")
    parser.add_argument("--threads", type=int, default=2, help="POLARS_MAX_THREADS for the child")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--write", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.set)))
        return
    if args.write:
        write_market(args.write, args.stocks[0], args.sessions[0])
        return
    if len(args.stocks) != len(args.sessions):
        parser.error("--stocks and --sessions need the same number of values")
    env = {**os.environ, "POLARS_MAX_THREADS": str(args.threads)}
    print(f"feature set {args.set}, {args.threads} polars threads, load average {os.getloadavg()[0]:.1f}")
    for n_stocks, n_sessions in zip(args.stocks, args.sessions):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, __file__, "--write", tmp, "--stocks", str(n_stocks),
                            "--sessions", str(n_sessions)], check=True)
            out = subprocess.run([sys.executable, __file__, "--child", tmp, "--set", args.set],
                                 env=env, capture_output=True, text=True, check=False)
        if out.returncode:
            print(out.stderr)
            raise SystemExit(out.returncode)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{n_stocks:>5} stocks x {n_sessions:>5} sessions: {r['rows']:>10,} rows, {r['features']} features | "
              f"wall {r['wall_s']:6.2f} s | cpu {r['cpu_s']:6.2f} s | {r['rows_per_s']:>12,.0f} rows/s | "
              f"peak RSS {r['peak_rss_gb']:5.2f} GB (input loaded: {r['rss_before_build_gb']:.2f} GB, "
              f"panel {r['panel_gb']:.2f} GB)")
        groups = r["group_s"]
        print(f"{'':>13}wall per group: " + ", ".join(f"{g} {t:.2f}" for g, t in groups.items())
              + f"; rest (prepare, assembly) {r['wall_s'] - sum(groups.values()):.2f} s")


if __name__ == "__main__":
    main()
