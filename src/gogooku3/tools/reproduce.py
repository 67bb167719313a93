"""``scripts/reproduce.py RUN_ID``: re-run a logged run and compare every metric with it.

The run's ``config/overrides.yaml`` is replayed through ``train.py`` (minus the sweep-only
overrides), so the same code and data give the same config. Before anything runs, the
checkout's git sha and the data's digest (the data source of the replayed config is
loaded and hashed) are compared with the run's ``git_sha`` and ``data_digest`` tags;
a difference stops here unless ``--force``. Afterwards every metric of both runs is
printed side by side; the exit code is 0 only when all of them are exactly equal.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gogooku3.errors import GogookuError
from gogooku3.tools.runs import REPO, client_for, default_tracking_uri, fmt, format_table, get_run

# Overrides that belong to the original launch, not to the run's content.
DROPPED_PREFIXES = ("tracking.parent_run_id=", "hparams_search=", "hydra.", "+hydra.", "++hydra.", "tracking.run_name=")


def logged_overrides(client: Any, run_id: str) -> list[str]:
    import yaml

    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = client.download_artifacts(run_id, "config/overrides.yaml", tmp)
        except Exception:
            raise GogookuError(f"run {run_id}: has no config/overrides.yaml artifact to replay") from None
        overrides = yaml.safe_load(Path(path).read_text()) or []
    if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
        raise GogookuError(f"run {run_id}: config/overrides.yaml is not a list of override strings")
    if any("***REDACTED***" in o for o in overrides):
        raise GogookuError(f"run {run_id}: config/overrides.yaml holds a redacted secret; set it in the environment and replay by hand")
    return overrides


def replay_overrides(overrides: Sequence[str], tracking_uri: str, experiment: str, run_id: str) -> list[str]:
    """The original overrides without launch-only ones, logging to the original's store and experiment."""
    kept = [o for o in overrides if not o.startswith(DROPPED_PREFIXES) and not o.startswith(("tracking.uri=", "tracking.experiment="))]
    return [*kept, f"tracking.uri={tracking_uri}", f"tracking.experiment={experiment}", f"tracking.run_name=reproduce-{run_id[:8]}"]


def current_data_digest(overrides: Sequence[str], config_dir: Path, config_name: str) -> str:
    """Compose the replayed config and hash its data source, as the run will load it."""
    from hydra import compose, initialize_config_dir

    from gogooku3.pipeline.experiment import instantiate

    os.environ.setdefault("PROJECT_ROOT", str(REPO))
    with initialize_config_dir(config_dir=str(config_dir.resolve()), version_base="1.3"):
        cfg = compose(config_name=config_name, overrides=list(overrides))
    return instantiate(cfg.data).load().digest


def preflight(run: Any, overrides: Sequence[str], config_dir: Path, config_name: str) -> tuple[list[str], list[str]]:
    """(differences that block a faithful replay, warnings)."""
    from gogooku3.pipeline.provenance import git_state

    problems, warnings = [], []
    tags = run.data.tags
    sha, dirty = git_state(REPO)
    logged_sha = tags.get("git_sha", "unknown")
    if logged_sha != sha:
        problems.append(f"code differs: the run used git sha {logged_sha}, this checkout is {sha}")
    if tags.get("git_dirty") == "true" or dirty or sha == "unknown":
        warnings.append("uncommitted changes (in the run's checkout or this one): the code may differ even if the sha matches")
    logged_digest = tags.get("data_digest")
    try:
        digest = current_data_digest(overrides, config_dir, config_name)
    except Exception as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        problems.append(f"data cannot be checked: loading the replayed data source failed: {text}")
    else:
        if logged_digest is None:
            problems.append(f"data cannot be checked: the run has no data_digest tag (now {digest[:16]})")
        elif logged_digest != digest:
            problems.append(f"data differs: the run's data digest is {logged_digest[:16]}..., the data now is {digest[:16]}...")
    return problems, warnings


def find_new_run(client: Any, experiment_id: str, run_name: str, since_ms: int) -> Any:
    runs = client.search_runs(
        [experiment_id],
        filter_string=f"attributes.run_name = '{run_name}' and attributes.start_time >= {since_ms}",
        order_by=["attributes.start_time DESC"], max_results=1,
    )  # fmt: skip
    if not runs:
        raise GogookuError(f"the replayed run did not reach MLflow (no run named {run_name!r})")
    return runs[0]


def metric_table(original: dict[str, float], replayed: dict[str, float]) -> tuple[list[str], list[list[str]], int]:
    """Rows of every metric and how many differ (missing on either side counts)."""
    rows, differ = [], 0
    for name in sorted(set(original) | set(replayed)):
        a, b = original.get(name), replayed.get(name)
        same = a is not None and b is not None and (a == b or (a != a and b != b))
        differ += not same
        diff = "-" if a is None or b is None else fmt(b - a)
        rows.append([name, fmt(a), fmt(b), diff, "==" if same else "DIFFERS"])
    return ["metric", "original", "reproduced", "diff", "match"], rows, differ


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reproduce.py", description=__doc__.splitlines()[0])
    parser.add_argument("run_id")
    parser.add_argument("--tracking-uri", default=None, help="MLflow store (default: outputs/mlflow.db)")
    parser.add_argument("--force", action="store_true", help="run even if the code or data differ")
    parser.add_argument("--entry", type=Path, default=REPO / "train.py", help="the training entry point")
    parser.add_argument("--config-dir", type=Path, default=REPO / "conf")
    parser.add_argument("--config-name", default="train")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    uri = args.tracking_uri or default_tracking_uri()
    try:
        client = client_for(uri)
        run = get_run(client, args.run_id)
        experiment = client.get_experiment(run.info.experiment_id).name
        overrides = replay_overrides(logged_overrides(client, args.run_id), uri, experiment, args.run_id)
    except GogookuError as exc:
        print(f"reproduce: error: {exc}", file=sys.stderr)
        return 2
    print(f"reproduce: run {args.run_id} ({run.info.run_name}) with overrides:\n  " + "\n  ".join(overrides))
    problems, warnings = preflight(run, overrides, args.config_dir, args.config_name)
    for warning in warnings:
        print(f"reproduce: warning: {warning}")
    for problem in problems:
        print(f"reproduce: MISMATCH: {problem}")
    if problems and not args.force:
        print("reproduce: nothing was run; pass --force to run anyway", file=sys.stderr)
        return 3

    since = int(time.time() * 1000) - 1000
    env = {**os.environ, "PROJECT_ROOT": str(REPO)}
    env.pop("GOGOOKU3_OPTUNA_TRIAL_ID", None)
    done = subprocess.run([sys.executable, str(args.entry), *overrides], cwd=REPO, env=env)
    if done.returncode != 0:
        print(f"reproduce: error: the replayed run exited with code {done.returncode}", file=sys.stderr)
        return 2
    try:
        new = find_new_run(client, run.info.experiment_id, f"reproduce-{args.run_id[:8]}", since)
    except GogookuError as exc:
        print(f"reproduce: error: {exc}", file=sys.stderr)
        return 2
    client.set_tag(new.info.run_id, "reproduces", args.run_id)
    header, rows, differ = metric_table(run.data.metrics, new.data.metrics)
    print(format_table(header, rows))
    for tag in ("data_digest", "git_sha"):
        if run.data.tags.get(tag) != new.data.tags.get(tag):
            print(f"reproduce: {tag} differs: {run.data.tags.get(tag)} vs {new.data.tags.get(tag)}")
    verdict = "all metrics match exactly" if not differ else f"{differ} of {len(rows)} metrics differ"
    print(f"reproduce: new run {new.info.run_id}: {verdict}")
    return 0 if not differ else 1
