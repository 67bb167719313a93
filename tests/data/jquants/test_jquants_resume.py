"""Kill the ingest CLI at random moments, restart it: the result equals an uninterrupted run."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

from jquants_testkit import API_KEY, END, START, snapshot_files

from gogooku3.data.jquants.server import Faults

ROOT = Path(__file__).resolve().parents[3]


def ingest_command(url: str, data_dir: Path) -> list[str]:
    return [
        sys.executable,
        str(ROOT / "scripts" / "ingest.py"),
        "data=jquants",
        f"data.base_url={url}",
        f"data.start={START}",
        f"data.end={END}",
        f"paths.data_dir={data_dir}",
        "data.plan=null",
        "data.endpoints=[calendar,master,bars,topix]",
        "data.concurrency=3",
        "data.backoff_s=0.01",
        "data.progress=false",
    ]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "JQUANTS_API_BASE"}
    env["JQUANTS_API_KEY"] = API_KEY
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def partitions(data_dir: Path) -> int:
    return len(list((data_dir / "jquants").glob("raw/*/*.json")))


def test_killed_and_restarted_ingest_equals_a_clean_run(serve, tmp_path):
    # Every response takes a little while, so the ingest runs long enough to be killed mid-way.
    server = serve(faults=Faults(slow_share=1.0, slow_s=0.02))
    clean, resumed = tmp_path / "clean", tmp_path / "resumed"
    done = subprocess.run(ingest_command(server.url, clean), env=child_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].split() == ["endpoint", "rows", "fetched", "skipped", "retried", "empty"]
    assert API_KEY not in done.stdout + done.stderr
    total = partitions(clean)

    rng = random.Random(11)
    partial = []
    # The first kill falls at a random time (maybe during start-up); the others once the
    # snapshot has grown to a random size, i.e. while other partitions are mid-flight.
    targets = [None] + sorted(rng.sample(range(1, total - 1), 3))
    for target in targets:
        child = subprocess.Popen(
            ingest_command(server.url, resumed), env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + (rng.uniform(0.5, 2.0) if target is None else 60.0)
        while time.monotonic() < deadline and child.poll() is None:
            if target is not None and partitions(resumed) >= target:
                break
            time.sleep(0.01)
        child.kill()  # SIGKILL: no cleanup of any kind
        child.wait()
        partial.append(partitions(resumed))
    assert any(0 < n < total for n in partial), f"no kill landed mid-ingest: {partial} of {total}"

    done = subprocess.run(ingest_command(server.url, resumed), env=child_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    digest = [line for line in done.stdout.splitlines() if line.startswith("data_digest:")]
    clean_digest = [line for line in subprocess.run(
        ingest_command(server.url, clean), env=child_env(), capture_output=True, text=True, timeout=120
    ).stdout.splitlines() if line.startswith("data_digest:")]
    assert digest and digest == clean_digest
    assert snapshot_files(resumed / "jquants") == snapshot_files(clean / "jquants")
    assert not list(resumed.rglob("*.tmp"))
