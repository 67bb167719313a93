"""A Markdown report of one MLflow run: the command, its identity and its metrics table."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import yaml

COLUMNS = (
    ("RankIC", "rank_ic"), ("IC", "ic"), ("RankICIR", "rank_icir"), ("t(RankIC)", "rank_ic_tstat"),
    ("Sharpe gross", "gross_sharpe"), ("Sharpe", "sharpe"), ("Ann. return gross", "gross_annual_return"),
    ("Ann. return", "annual_return"), ("Ann. cost", "annual_cost"), ("MaxDD", "max_drawdown"),
    ("Turnover", "turnover"), ("Hit rate", "hit_rate"), ("Oracle RankIC", "oracle_rank_ic"),
    ("Captured", "oracle_capture"),
)  # fmt: skip


def metrics_table(metrics: dict[str, float], horizons: list[int]) -> str:
    """One row per horizon, one column per contract metric present in ``metrics``."""
    present = [(label, key) for label, key in COLUMNS if any(f"test/{key}_h{h}" in metrics for h in horizons)]
    lines = ["| horizon | " + " | ".join(label for label, _ in present) + " |", "|---" * (len(present) + 1) + "|"]
    for h in horizons:
        cells = [_fmt(metrics.get(f"test/{key}_h{h}")) for _, key in present]
        lines.append(f"| {h}d | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_report(run_id: str, tracking_uri: str, title: str | None = None) -> str:
    from mlflow import MlflowClient
    from mlflow.artifacts import load_text

    client = MlflowClient(tracking_uri)
    run = client.get_run(run_id)
    overrides = yaml.safe_load(load_text(f"{run.info.artifact_uri}/config/overrides.yaml")) or []
    config: dict[str, Any] = yaml.safe_load(load_text(f"{run.info.artifact_uri}/config/config.yaml"))
    horizons = [int(h) for h in config.get("horizons", [1, 5, 10, 20])]
    started = datetime.fromtimestamp(run.info.start_time / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    seconds = (run.info.end_time - run.info.start_time) / 1000 if run.info.end_time else float("nan")
    tags = run.data.tags
    return "\n".join(
        [
            f"# {title or run.info.run_name}",
            "",
            "```bash",
            "python train.py " + " ".join(overrides),
            "```",
            "",
            f"- MLflow run `{run_id}` ({tags.get('data', '?')} data, {tags.get('model', '?')} model, "
            f"{tags.get('features', '?')} features), started {started}, {seconds:.0f} s wall",
            f"- code `{tags.get('git_sha', '?')}` (dirty: {tags.get('git_dirty', '?')}), "
            f"data digest `{tags.get('data_digest', '?')}`",
            "",
            "## Out-of-sample metrics (all test windows)",
            "",
            metrics_table(run.data.metrics, horizons),
            "",
            f"Validation mean daily RankIC at h=1 (mean over folds): {_fmt(run.data.metrics.get('val/rank_ic_h1'))}",
            "",
            "## Resolved config",
            "",
            "```yaml",
            yaml.safe_dump({k: config[k] for k in ("data", "features", "model", "split", "evaluation") if k in config},
                           sort_keys=False).rstrip(),  # fmt: skip
            "```",
            "",
        ]
    )


def _fmt(value: float | None) -> str:
    return "" if value is None or value != value else f"{value:.4f}"
