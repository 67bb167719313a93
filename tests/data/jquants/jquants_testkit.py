"""Helpers shared by the J-Quants tests (imported by name: tests are not a package)."""

from __future__ import annotations

from pathlib import Path

from gogooku3.data.jquants.endpoints import ENDPOINTS
from gogooku3.data.jquants.source import JQuantsSource

# Distinctive so that a scan of files for it cannot match anything by accident.
API_KEY = "jq-test-key-7Hq2ZpX9vLr4Wm8K"
START, END = "2022-01-01", "2022-03-31"


def make_source(url: str, data_dir: Path, **overrides) -> JQuantsSource:
    """A source with fast retries (tests must not wait a minute for a 429)."""
    options = dict(
        start=START,
        end=END,
        plan=None,
        base_url=url,
        data_dir=str(data_dir),
        endpoints=tuple(ENDPOINTS),
        concurrency=3,
        max_retries=8,
        backoff_s=0.01,
        wait_429_s=0.05,
        timeout_s=5.0,
        progress=False,
        fsync=False,
        api_key=API_KEY,
    )
    options.update(overrides)
    return JQuantsSource(**options)


def snapshot_files(root: Path) -> dict[str, bytes]:
    """Every partition file's bytes, by relative path (records and manifest excluded)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("raw/*/*.parquet"))}
