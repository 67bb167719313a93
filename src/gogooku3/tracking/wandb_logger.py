"""Weights & Biases as an optional second logger (``tracking.wandb.enabled=true``).

MLflow stays the record; W&B gets a copy of the same params, metrics and plots, grouped
by sweep. ``WANDB_MODE=offline`` (or ``mode: offline``) writes the run under ``dir``
without any network; ``wandb sync`` uploads it later. Every value passes through the
project's redaction first, so secrets never reach W&B. wandb is imported on ``start``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gogooku3.errors import ConfigError
from gogooku3.tracking.redact import flatten, redact

STEP_KEY = "step"  # our own x-axis: pipeline steps restart per fold, W&B's own must only grow


class WandbLogger:
    """One W&B run mirroring one MLflow run."""

    def __init__(
        self,
        project: str = "gogooku3",
        entity: str | None = None,
        mode: str | None = None,
        dir: str | Path | None = None,
        tags: list[str] | None = None,
    ) -> None:
        if mode not in (None, "online", "offline", "disabled", "shared"):
            raise ConfigError(f"tracking.wandb.mode={mode!r}: use online, offline, disabled or null")
        self.project, self.entity, self.mode = project, entity, mode
        self.dir = Path(dir) if dir is not None else None
        self.tags = list(tags or [])
        self._run: Any = None

    @property
    def run_dir(self) -> Path | None:
        """Where W&B wrote this run's files (offline runs are synced from here)."""
        return None if self._run is None else Path(self._run.dir).parent

    def start(self, config: Mapping[str, Any], group: str | None = None, name: str | None = None) -> None:
        """Open the run; ``group`` gathers a sweep's trials (e.g. the study or parent run id)."""
        import wandb

        if self.dir is not None:
            self.dir.mkdir(parents=True, exist_ok=True)
        self._run = wandb.init(
            project=self.project, entity=self.entity, mode=self.mode,
            dir=str(self.dir) if self.dir is not None else None,
            group=group, name=name, tags=self.tags or None,
            config=redact(dict(config)), reinit="create_new",
            settings=wandb.Settings(silent=True, console="off", save_code=False, disable_git=True),
        )  # fmt: skip
        self._run.define_metric(STEP_KEY)
        self._run.define_metric("*", step_metric=STEP_KEY)

    def _active(self) -> Any:
        if self._run is None:
            raise RuntimeError("WandbLogger.start() must be called first")
        return self._run

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Flattened, redacted params into the run's config."""
        self._active().config.update(flatten(redact(dict(params))), allow_val_change=True)

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        values = {k: float(v) for k, v in metrics.items() if v is not None and v == v}
        if values:
            self._active().log({**values, STEP_KEY: int(step)})

    def log_image(self, path: str | Path, key: str | None = None) -> None:
        import wandb

        path = Path(path)
        self._active().log({key or f"plots/{path.stem}": wandb.Image(str(path))})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Run-level facts (git sha, data digest) go to the summary, where W&B shows them."""
        run = self._active()
        for key, value in redact(dict(tags)).items():
            run.summary[key] = str(value)

    def finish(self, failed: bool = False) -> None:
        if self._run is not None:
            self._run.finish(exit_code=1 if failed else 0)
            self._run = None
