"""Static PNG plots of a study (matplotlib, so they render offline and in the MLflow UI)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def save_study_plots(study: Any, out_dir: Path) -> list[Path]:
    """Optimization history and parameter importance as PNGs; skips a plot the study cannot make."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import optuna
    from optuna.visualization import matplotlib as ovm

    from gogooku3.sweep.study import quiet_optuna

    out_dir.mkdir(parents=True, exist_ok=True)
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    multi = len(study.directions) > 1
    names = [f"objective {i}" for i in range(len(study.directions))] if multi else None
    jobs = {
        "optimization_history.png": lambda **kw: ovm.plot_optimization_history(study, **kw),
        "param_importances.png": lambda **kw: ovm.plot_param_importances(study, **kw),
    }
    written = []
    for filename, plot in jobs.items():
        if not complete or (filename == "param_importances.png" and (len(complete) < 2 or not complete[0].params)):
            continue
        try:
            kwargs: dict[str, Any] = {}
            if multi:
                kwargs = {"target": lambda t: t.values[0], "target_name": names[0]}
            with quiet_optuna():
                ax = plot(**kwargs)
            figure = ax.figure if hasattr(ax, "figure") else ax[0].figure
            figure.set_size_inches(8, 5)
            figure.tight_layout()
            figure.savefig(out_dir / filename, dpi=100)
            plt.close(figure)
            written.append(out_dir / filename)
        except Exception as exc:  # e.g. importance on constant values; the sweep result stands
            log.warning("skipped %s: %s", filename, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            plt.close("all")
    return written
