"""Forward Lightning's per-epoch metrics to the pipeline's ``log_metric`` callback."""

from __future__ import annotations

import lightning as L

from gogooku3.training.base import MetricLogger


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
