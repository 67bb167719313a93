"""Fetch what is missing from J-Quants V2 into the raw snapshot, then print a summary.

    python scripts/ingest.py data=jquants data.start=2022-01-01 data.end=2023-12-31
    python scripts/ingest.py data=jquants data.base_url=http://127.0.0.1:8765/v2   # loopback server

Composes the project's conf/train.yaml (so paths and data options are the same as for
train.py) without starting a Hydra run directory. The key comes from JQUANTS_API_KEY or
~/.jquants-api/jquants-api.toml.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PROJECT_ROOT", str(ROOT))


def main(argv: list[str]) -> int:
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate

    from gogooku3.errors import GogookuError
    from gogooku3.monitoring.jobs import job_metrics

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose(config_name="train", overrides=argv)
    if "jquants" not in str(cfg.data.get("_target_", "")):
        print("scripts/ingest.py: choose a J-Quants source, e.g. data=jquants or data=jquants_local", file=sys.stderr)
        return 2
    source = instantiate(cfg.data)
    try:
        with job_metrics("ingest") as job:  # pushed to GOGOOKU3_PUSHGATEWAY when set
            market = source.load()
            job.rows_ingested = market.quotes.height
    except GogookuError as exc:
        print(f"ingest failed: {exc}", file=sys.stderr)
        if source.summary is not None:
            print("\n".join(source.summary.lines()), file=sys.stderr)
        return 1
    print("\n".join(source.summary.lines()))
    print(f"snapshot: {source.open_snapshot().root}")
    print(f"rows: {market.quotes.height} quotes, {len(market.codes)} codes, {market.calendar.len()} sessions")
    print(f"data_digest: {market.digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
