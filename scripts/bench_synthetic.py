"""Benchmark: synthetic market generation time and peak memory.

    python scripts/bench_synthetic.py [--n-stocks 4000] [--start 2014-01-01] [--end 2023-12-31]

Target (issue 2): 4,000 stocks x 10 years in under 30 s and under 4 GB on 2 cores.
Peak memory is the process's maximum resident set size (imports included).
"""

from __future__ import annotations

import argparse
import resource
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-stocks", type=int, default=4000)
    parser.add_argument("--start", default="2014-01-01")
    parser.add_argument("--end", default="2023-12-31")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from gogooku3.data.synthetic import generate_market

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    market = generate_market(n_stocks=args.n_stocks, start=args.start, end=args.end, seed=args.seed)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = market.quotes.height
    print(f"stocks={args.n_stocks} sessions={market.calendar.len()} rows={rows:,}")
    print(f"wall_seconds={seconds:.2f} rows_per_second={rows / seconds:,.0f}")
    print(f"peak_rss_mb={peak:,.0f} (before generation: {baseline:,.0f})")
    print(f"target: <30 s and <4096 MB -> {'PASS' if seconds < 30 and peak < 4096 else 'MISS'}")


if __name__ == "__main__":
    main()
