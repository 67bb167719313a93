"""``scripts/compare_runs.py``: runs of an experiment or of one sweep, side by side.

Columns: run id, name, status, trial number and state (sweeps), key params (those that
differ between the runs unless ``--params`` names them), contract metrics, data digest
and code version. By default the table fits ``--width`` (120) columns: short headers (a
legend says what they stand for), cut names and values, and as many params and metrics as
fit (a note names what was left out). ``--wide`` prints every column in full; ``--csv FILE``
also writes the full table as CSV (``--csv -``: CSV on stdout instead of the table).
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import re
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gogooku3.errors import GogookuError
from gogooku3.tools.runs import client_for, default_tracking_uri, fmt, format_table, get_run, short_value

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
    # Sweep parents and per-fold child runs (tag ``fold``) are not runs to compare.
    return [r for r in runs if r.data.tags.get("sweep") != "optuna" and "fold" not in r.data.tags], None


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


ABBREVIATIONS = (("rank_icir", "ricir"), ("rank_ic_tstat", "rict"), ("rank_ic", "ric"), ("sharpe", "shp"),
                 ("annual_return", "ret"), ("turnover", "turn"), ("max_drawdown", "mdd"))  # fmt: skip
STATUS = {"FINISHED": "done", "FAILED": "fail", "KILLED": "kill", "RUNNING": "run", "SCHEDULED": "wait"}
STATE = {"COMPLETE": "ok", "PRUNED": "pruned", "FAIL": "fail", "RUNNING": "run"}
NAME_WIDTH = 28
CELL_WIDTH = 10  # a param value at most
GAP = 2


def short_metric(name: str) -> str:
    """``test/rank_ic_h1`` -> ``ric_h1``; ``val/rank_ic_h1`` -> ``v.ric_h1``."""
    split, _, metric = name.rpartition("/")
    for long, short in ABBREVIATIONS:
        if metric.startswith(long):
            metric = short + metric[len(long) :]
            break
    prefix = {"test": "", "val": "v.", "": ""}.get(split, split + ".")
    return prefix + metric


RESERVED = {"run", "name", "status", "trial", "state", "data", "code"}
HEADLINE = ("val/rank_ic_h1", "test/rank_ic_h1", "test/sharpe_h1")  # first to get room, then params


def _abbreviate(key: str) -> str:
    """``model.params.bagging_fraction`` -> ``bagg_frac``: the leaf's words cut to four letters."""
    short = "_".join(word[:4] for word in key.rsplit(".", 1)[-1].split("_"))
    return _cut(short, CELL_WIDTH)


def _short_params(params: Sequence[str]) -> list[str]:
    shorts = [_abbreviate(p) for p in params]
    return [s if shorts.count(s) == 1 and s not in RESERVED else p for s, p in zip(shorts, params)]


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "~"


def narrow_table(
    runs: Sequence[Any], params: Sequence[str], metrics: Sequence[str], width: int = 120,
    abbreviated: dict[str, str] | None = None,
) -> tuple[list[str], list[list[str]], list[str]]:
    """Header, rows and the columns left out, for a table at most ``width`` characters wide.

    Run, name, status, trial, state, data digest and code always show; then, while they fit,
    the headline metrics, the params, and the other metrics (shown in ``metrics`` order).
    ``abbreviated`` (if given) receives each shortened param header with its full name.
    """
    abbreviated = {} if abbreviated is None else abbreviated
    def column(header: str, cells: list[str]) -> tuple[str, list[str], int]:
        return header, cells, max([len(header), *(len(c) for c in cells)])

    sweep = bool(runs) and all("optuna_trial" in r.data.tags for r in runs)
    fixed_left = [column("run", [r.info.run_id[:8] for r in runs])]
    if not sweep:  # a trial's name is its number and params, which have their own columns
        fixed_left.append(column("name", [_cut(r.info.run_name or "-", NAME_WIDTH) for r in runs]))
    fixed_left.append(column("status", [STATUS.get(r.info.status, r.info.status.lower()) for r in runs]))
    if any("optuna_trial" in r.data.tags for r in runs):
        fixed_left += [
            column("trial", [r.data.tags.get("optuna_trial", "-") for r in runs]),
            column("state", [STATE.get(s, s.lower()) for s in (r.data.tags.get("trial_state", "-") for r in runs)]),
        ]
    sha = [r.data.tags.get("git_sha", "-")[:8] + ("+" if r.data.tags.get("git_dirty") == "true" else "") for r in runs]
    fixed_right = [column("data", [r.data.tags.get("data_digest", "-")[:8] for r in runs]), column("code", sha)]
    optional = [column(short_metric(m), [_metric_short(r.data.metrics.get(m)) for r in runs]) for m in metrics]
    params = [p for p in params if len({r.data.params.get(p) for r in runs}) > 1 or len(runs) == 1]
    optional += [
        column(short, [_cut(short_value(r.data.params.get(p, "-")), CELL_WIDTH) for r in runs])
        for p, short in zip(params, _short_params(params))
    ]
    rank = [0 if m in HEADLINE else 2 for m in metrics] + [1] * len(params)
    used = sum(w for *_, w in fixed_left + fixed_right) + GAP * (len(fixed_left) + len(fixed_right) - 1)
    chosen, left_out = set(), []
    for i in sorted(range(len(optional)), key=lambda i: (rank[i], i)):
        if used + GAP + optional[i][2] <= width:
            chosen.add(i)
            used += GAP + optional[i][2]
        else:
            left_out.append([*metrics, *params][i])
    columns = fixed_left + [col for i, col in enumerate(optional) if i in chosen] + fixed_right
    shown = {optional[i][0] for i in chosen}
    abbreviated.update({short: p for p, short in zip(params, _short_params(params)) if short != p and short in shown})
    header = [c[0] for c in columns]
    rows = [[c[1][i] for c in columns] for i in range(len(runs))]
    return header, rows, left_out


def _metric_short(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def legend(header: Sequence[str]) -> str:
    """What the abbreviated metric headers stand for."""
    used = [f"{short}={long}" for long, short in ABBREVIATIONS if any(short in h for h in header)]
    return "metrics: " + ", ".join(used) + " (test unless v.=val); --wide for full names" if used else ""


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
    parser.add_argument("--csv", default=None, metavar="FILE",
                        help="also write the full table to this CSV file ('-': CSV on stdout, no table)")
    parser.add_argument("--wide", action="store_true", help="every column, full headers, ids and values")
    parser.add_argument("--width", type=int, default=120, help="the table's width without --wide (default: 120)")
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
    if args.csv == "-":
        try:
            _write_csv(sys.stdout, *comparison_table(runs, params, metrics, full=True))
        except BrokenPipeError:  # `| head`: the reader has what it wanted
            sys.stderr.close()
        return 0
    if parent is not None:
        tags = parent.data.tags
        title = (f"sweep {tags.get('optuna_study', parent.info.run_name)} (parent {parent.info.run_id}, "
                 f"{parent.info.status}): best trial {tags.get('best_trial', '-')} value {tags.get('best_value', '-')}")
        print(title if args.wide else textwrap.fill(title, args.width))
    if not runs:
        print("no runs")
    elif args.wide:
        print(format_table(*comparison_table(runs, params, metrics)))
    else:
        short: dict[str, str] = {}
        header, rows, left_out = narrow_table(runs, params, metrics, args.width, short)
        print(format_table(header, rows))
        if note := legend(header):
            print(textwrap.fill(note, args.width))
        if short:
            print(textwrap.fill("params: " + ", ".join(f"{k}={v}" for k, v in short.items()), args.width))
        if left_out:
            print(textwrap.fill(f"not shown (too wide): {', '.join(left_out)}; --wide or --csv for all", args.width))
    if args.csv is not None:
        path = Path(args.csv)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as handle:
            header, rows = comparison_table(runs, params, metrics, full=True)
            _write_csv(handle, header, rows)
        print(f"wrote {len(rows)} runs to {path}")
    return 0


def _write_csv(handle: Any, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    writer = csv.writer(handle)
    writer.writerow(header)
    writer.writerows(rows)
