"""Lightning callbacks: per-epoch metrics to the pipeline's ``log_metric``, and epoch progress."""

from __future__ import annotations

import logging
from typing import Any

import lightning as L

from gogooku3.training.base import MetricLogger

log = logging.getLogger("gogooku3.training")


class MetricForwarder(L.Callback):
    """Calls ``log_metric(name, value, epoch)`` for every logged metric after each epoch.

    Runs after validation, so the epoch's ``val/rank_ic_h{h}`` is included. Exceptions
    from ``log_metric`` (e.g. ``optuna.TrialPruned``) propagate and stop training.
    """

    def __init__(self, log_metric: MetricLogger | None) -> None:
        self.log_metric = log_metric

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.log_metric is None or trainer.sanity_checking or not trainer.is_global_zero:
            return
        for name, value in sorted(trainer.callback_metrics.items()):
            self.log_metric(name, float(value), trainer.current_epoch)


class EpochProgress(L.Callback):
    """One bar per fit on a terminal (batches of every epoch); elsewhere one line per epoch.

    Replaces Lightning's own bar (``trainer.enable_progress_bar: false``), which prints a
    segment per batch and per validation step into captured output.
    """

    def __init__(self, desc: str, mode: str | None = None) -> None:
        from gogooku3.console import progress_mode

        self.desc = desc
        self.mode = mode or progress_mode()
        self.bar: Any = None
        self.best = float("-inf")

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.mode != "bar" or not trainer.is_global_zero:
            return
        from gogooku3.console import Progress

        per_epoch = trainer.num_training_batches
        finite = isinstance(per_epoch, int) and trainer.max_epochs and trainer.max_epochs > 0
        total = per_epoch * (trainer.max_epochs - trainer.current_epoch) if finite else None
        self.bar = Progress(total, self.desc, unit="batch", mode="bar")

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero or self.mode == "off":
            return
        shown = {k: float(v) for k, v in sorted(trainer.callback_metrics.items()) if k.startswith(("val/", "train/loss"))}
        for name, value in shown.items():
            if name.startswith("val/rank_ic"):
                self.best = max(self.best, value)
        text = ", ".join(f"{k} {v:.4f}" for k, v in shown.items())
        epoch = f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}"
        if self.bar is not None:  # short: the bar shares the line
            ranks = ", ".join(f"{k[4:]} {v:.4f}" for k, v in shown.items() if k.startswith("val/rank_ic"))
            self.bar.update(0, f"{epoch} {ranks}")
        else:
            best = f" (best {self.best:.4f})" if self.best > float("-inf") else ""
            log.info("%s %s: %s%s", self.desc, epoch, text, best)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.close()

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
