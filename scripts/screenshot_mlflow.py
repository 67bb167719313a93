"""Screenshot MLflow's runs table after a small sweep: `python scripts/screenshot_mlflow.py`.

Runs a 3-trial LightGBM sweep on a tiny synthetic market into a temporary folder (or uses
``--db``), starts ``make mlflow-ui`` on it, opens the experiment's ``headline`` view (the
headline metrics as columns, see gogooku3.tracking.view) in Debian's headless chromium driven
by playwright (``pip install -e '.[screenshot]'``, ``apt-get install chromium``; no browser
download), expands the sweep's parent run and saves a PNG (default docs/img/mlflow_runs.png).
The server it started is the one process it ends.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SWEEP = [
    "-m", "hparams_search=lightgbm_optuna", "hydra.sweeper.n_trials=3", "horizons=[1,5]", "data.n_stocks=40",
    "data.start=2021-01-01",
    "data.end=2022-06-30", "split.n_folds=1", "split.test_days=60", "split.valid_days=40", "split.min_train_days=100",
    "model.num_boost_round=30", "model.early_stopping_rounds=10", "model.params.num_threads=1",
    "tracking.log_model=false", "quality=off",
]  # fmt: skip
CHROMIUM = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser")


def run_sweep(outputs: Path) -> Path:
    command = [sys.executable, str(ROOT / "train.py"), *SWEEP, f"paths.output_dir={outputs}"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"screenshot: the sweep failed:\n{done.stderr[-2000:]}")
    return outputs / "mlflow.db"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening_pid(port: int) -> int | None:
    """The pid of the process listening on 127.0.0.1:``port`` (the server itself, not make)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "0A" and int(local.split(":")[1], 16) == port:  # 0A: LISTEN
            inodes.add(inode)
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return int(proc.name)
        except OSError:
            continue
    return None


def start_ui(db: Path, port: int, log_path: Path) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    make = subprocess.Popen(
        ["make", "--no-print-directory", "mlflow-ui", f"MLFLOW_DB={db}", f"MLFLOW_PORT={port}"],
        cwd=ROOT, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if make.poll() is not None:
            sys.exit(f"screenshot: make mlflow-ui exited with {make.returncode}: {log_path.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
            pid = listening_pid(port)
            if pid is not None:
                return make, pid
        except OSError:
            pass
        time.sleep(0.5)
    sys.exit(f"screenshot: the MLflow UI did not answer on port {port} within 120 s")


def stop_ui(make: subprocess.Popen, server_pid: int) -> None:
    """End the server (uvicorn's master stops its workers); make and mlflow's CLI then exit."""
    try:
        os.kill(server_pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        make.wait(timeout=30)
    except subprocess.TimeoutExpired:
        print(f"screenshot: make (pid {make.pid}) still runs after the server ended", file=sys.stderr)


def experiment_id(db: Path, name: str) -> str:
    from mlflow import MlflowClient

    experiment = MlflowClient(f"sqlite:///{db}").get_experiment_by_name(name)
    if experiment is None:
        sys.exit(f"screenshot: no experiment {name!r} in {db}")
    return experiment.experiment_id


def shoot(url: str, out: Path, width: int, height: int) -> None:
    from playwright.sync_api import sync_playwright

    executable = next((c for c in CHROMIUM if Path(c).exists()), None)
    if executable is None:
        sys.exit("screenshot: no chromium found (apt-get install -y chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(url)
        page.wait_for_selector("text=matching runs", timeout=60_000)
        close = page.locator('[data-component-id="mlflow.assistant.chat_panel.close"]')
        if close.count():
            close.first.click()
        banner = page.get_by_role("button", name="Override saved view")
        if banner.count():
            banner.first.click()  # keeps the shared view in this (throwaway) profile; the banner goes
            page.get_by_text("Your saved view was overridden").wait_for(state="hidden", timeout=30_000)
        sidebar = page.locator('[data-component-id*="sidebar"][data-component-id*="toggle"], [aria-label*="ollapse"]')
        if sidebar.count() and sidebar.first.is_visible():
            sidebar.first.click()
        expanders = page.locator('button[data-component-id$="runnamecellrenderer.tsx_46"]')
        for i in range(expanders.count()):
            expanders.nth(i).click()
        page.wait_for_timeout(1500)
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out))
        browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="an MLflow SQLite store (default: run a small sweep into a temp dir)")
    parser.add_argument("--experiment", default="gogooku3")
    parser.add_argument("--port", type=int, default=0, help="UI port (default: a free one)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs/img/mlflow_runs.png")
    parser.add_argument("--width", type=int, default=1760)
    parser.add_argument("--height", type=int, default=560)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db.resolve() if args.db else run_sweep(Path(tmp) / "outputs")
        exp = experiment_id(db, args.experiment)
        port = args.port or free_port()
        make, server_pid = start_ui(db, port, Path(tmp) / "mlflow-ui.log")
        try:
            url = f"http://127.0.0.1:{port}/#/experiments/{exp}/runs?viewStateShareKey=headline"
            shoot(url, args.out, args.width, args.height)
        finally:
            stop_ui(make, server_pid)
    print(f"screenshot: {args.out} ({args.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
