"""``scripts/compare_runs.py``: runs of an experiment or of one sweep, side by side.

Columns: run id, name, status, trial number and state (sweeps), key params (those that
differ between the runs unless ``--params`` names them), contract metrics, data digest
and code version. ``--csv`` writes the same table with full ids and digests.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gogooku3.errors import GogookuError
from gogooku3.sweep.runs import client_for, default_tracking_uri, fmt, format_table, get_run

DEFAULT_METRICS = ("val/rank_ic_h1", "test/rank_ic_h*", "test/sharpe_h1")
IGNORED_PARAMS = ("tracking.*", "paths.*", "hydra.*", "task_name")


def collect_runs(client: Any, experiment: str | None, parent: str | None, max_runs: int) -> tuple[list, Any]:
    """(runs to compare, the sweep's parent run or None)."""
    if parent:
        parent_run = get_run(client, parent)
        children = client.search_runs(
            [parent_run.info.experiment_id], filter_string=f"tags.`mlflow.parentRunId` = '{parent}'",
            max_results=max_runs,
        )  # fmt: skip
        key = lambda r: (int(r.data.tags.get("optuna_trial", 10**9)), r.info.start_time)  # noqa: E731
        return sorted(children, key=key), parent_run
    found = client.get_experiment_by_name(experiment)
    if found is None:
        known = sorted(e.name for e in client.search_experiments())
        raise GogookuError(f"--experiment {experiment!r}: no such experiment in {client.tracking_uri}; known: {known}")
    runs = client.search_runs([found.experiment_id], max_results=max_runs, order_by=["attributes.start_time ASC"])
    return [r for r in runs if r.data.tags.get("sweep") != "optuna"], None


def _horizon_order(name: str) -> tuple[str, int, str]:
    match = re.search(r"_h(\d+)$", name)
    return (name.split("/")[0], int(match.group(1)) if match else -1, name)


def pick_metrics(runs: Sequence[Any], patterns: Sequence[str]) -> list[str]:
    names = {m for r in runs for m in r.data.metrics}
    chosen = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
    return sorted(chosen, key=lambda n: (next(i for i, p in enumerate(patterns) if fnmatch.fnmatchcase(n, p)), *_horizon_order(n)))


def pick_params(runs: Sequence[Any], patterns: Sequence[str] | None) -> list[str]:
    names = sorted({p for r in runs for p in r.data.params})
    if patterns:
        return [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
    varying = [
        n for n in names
        if not any(fnmatch.fnmatchcase(n, p) for p in IGNORED_PARAMS)
        and len({r.data.params.get(n) for r in runs}) > 1
    ]  # fmt: skip
    return (["model.name"] if "model.name" in names and "model.name" not in varying else []) + varying


def comparison_table(runs: Sequence[Any], params: Sequence[str], metrics: Sequence[str], full: bool = False) -> tuple[list[str], list[list[str]]]:
    """Header and rows; ``full`` keeps whole ids and digests (for CSV)."""
    cut = (lambda s, n: s) if full else (lambda s, n: s[:n])  # noqa: E731
    header = ["run", "name", "status", "trial", "state", *params, *metrics, "data_digest", "git_sha"]
    rows = []
    for run in runs:
        tags = run.data.tags
        sha = tags.get("git_sha", "-")
        sha = cut(sha, 10) + ("+dirty" if tags.get("git_dirty") == "true" else "")
        rows.append([
            cut(run.info.run_id, 8), run.info.run_name or "-", run.info.status,
            tags.get("optuna_trial", "-"), tags.get("trial_state", "-"),
            *(_param_cell(run.data.params.get(p, "-"), full) for p in params),
            *(_metric_cell(run.data.metrics.get(m), full) for m in metrics),
            cut(tags.get("data_digest", "-"), 12), sha,
        ])  # fmt: skip
    return header, rows


def _param_cell(value: str, full: bool) -> str:
    if full or "." not in value:
        return value
    try:
        return f"{float(value):.6g}"
    except ValueError:
        return value


def _metric_cell(value: float | None, full: bool) -> str:
    if full:
        return "" if value is None else repr(value)
    return fmt(value)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="compare_runs.py", description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--experiment", default="gogooku3", help="MLflow experiment name (default: gogooku3)")
    which.add_argument("--parent", metavar="RUN_ID", help="a sweep's parent run id: compare its trials")
    parser.add_argument("--tracking-uri", default=None, help="MLflow store (default: outputs/mlflow.db)")
    parser.add_argument("--params", default=None, help="comma-separated param names/globs (default: those that differ)")
    parser.add_argument("--metrics", default=None, help=f"comma-separated metric names/globs (default: {','.join(DEFAULT_METRICS)})")
    parser.add_argument("--csv", type=Path, default=None, help="also write the table to this CSV file")
    parser.add_argument("--max-runs", type=int, default=500)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        client = client_for(args.tracking_uri or default_tracking_uri())
        runs, parent = collect_runs(client, args.experiment, args.parent, args.max_runs)
    except GogookuError as exc:
        print(f"compare_runs: error: {exc}", file=sys.stderr)
        return 2
    metric_patterns = [m for m in (args.metrics or ",".join(DEFAULT_METRICS)).split(",") if m]
    params = pick_params(runs, [p for p in args.params.split(",") if p] if args.params else None)
    metrics = pick_metrics(runs, metric_patterns)
    if parent is not None:
        tags = parent.data.tags
        print(f"sweep {tags.get('optuna_study', parent.info.run_name)} (parent {parent.info.run_id}, {parent.info.status}): "
              f"best trial {tags.get('best_trial', '-')} value {tags.get('best_value', '-')}")  # fmt: skip
    header, rows = comparison_table(runs, params, metrics)
    print(format_table(header, rows) if rows else "no runs")
    if args.csv is not None:
        header, rows = comparison_table(runs, params, metrics, full=True)
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        with open(args.csv, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        print(f"wrote {len(rows)} runs to {args.csv}")
    return 0
