"""Run plots as PNG files (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import polars as pl


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_cumulative_long_short(daily: dict[int, pl.DataFrame], path: Path) -> Path:
    """Cumulative net return of the long-short book, one line per horizon."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for h, frame in sorted(daily.items()):
        equity = (1.0 + frame.get_column("net")).cum_prod() - 1.0
        ax.plot(frame.get_column("Date").to_list(), equity.to_list(), label=f"h={h}")
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set(title="Long-short decile portfolio, cumulative net return", ylabel="return")
    return _save(fig, ax, path)


def plot_daily_rank_ic(ic: pl.DataFrame, path: Path, horizon: int = 1, window: int = 20) -> Path:
    """Daily RankIC bars with a trailing mean."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    dates = ic.get_column("Date").to_list()
    values = ic.get_column("rank_ic")
    ax.bar(dates, values.to_list(), width=1.0, color="#9bb7d4", label="daily RankIC")
    ax.plot(dates, values.rolling_mean(window, min_samples=1).to_list(), color="#1f4e79", label=f"{window}-day mean")
    ax.axhline(float(values.mean() or 0.0), color="#c0392b", lw=1.0, ls="--", label="mean")
    ax.set(title=f"Daily RankIC, horizon {horizon}", ylabel="Spearman")
    return _save(fig, ax, path)


def _save(fig, ax, path: Path) -> Path:
    ax.legend()
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path
