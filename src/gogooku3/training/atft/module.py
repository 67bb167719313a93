"""LightningModule: loss, optimizer, schedule and the validation RankIC."""

from __future__ import annotations

import math
from typing import Any

import lightning as L
import numpy as np
import torch

from gogooku3.models.atft_gat_fan import ATFTGATFAN, ATFTConfig
from gogooku3.models.atft_gat_fan.loss import ATFTLoss
from gogooku3.stats import daily_rank_ic



def val_metric(horizons: tuple[int, ...] | list[int]) -> str:
    """The monitored name, ``val/rank_ic_h{shortest horizon}``: it names the horizon it scores."""
    return f"val/rank_ic_h{min(horizons)}"


class ATFTLightningModule(L.LightningModule):
    """Trains :class:`ATFTGATFAN` on date batches; monitors ``val/rank_ic_h{h}``, h the shortest horizon.

    The validation RankIC is the mean over validation dates of the Spearman
    correlation between the shortest horizon's median forecast and its target
    (``val/rank_ic_h1`` with the default horizons).
    """

    def __init__(self, model_config: dict[str, Any], loss_config: dict[str, Any], lr: float = 5e-3,
                 weight_decay: float = 1e-4, warmup_frac: float = 0.05, min_lr_frac: float = 0.05) -> None:  # fmt: skip
        super().__init__()
        self.save_hyperparameters()
        self.model = ATFTGATFAN(config_from_dict(model_config))
        cfg = self.model.config
        self.loss_fn = ATFTLoss(cfg.quantiles, **loss_config)
        self.h1 = list(cfg.horizons).index(min(cfg.horizons))
        self.val_metric = val_metric(cfg.horizons)
        self.mid = list(cfg.quantiles).index(0.5)
        self.val_history: list[float] = []
        self._val_parts: list[tuple[np.ndarray, np.ndarray]] = []

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.model(batch["x"], batch["mask"], batch["returns"], batch["groups"])

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        parts = self.loss_fn(self(batch), batch["target"], batch["target_mask"])
        n_dates = batch["x"].shape[0]
        for name, value in parts.items():
            self.log(f"train/{name}", value, on_step=False, on_epoch=True, batch_size=n_dates)
        return parts["loss"]

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        pred = self(batch)
        parts = self.loss_fn(pred, batch["target"], batch["target_mask"])
        self.log("val/loss", parts["loss"], on_epoch=True, batch_size=batch["x"].shape[0], sync_dist=True)
        m = batch["target_mask"][..., self.h1]
        nan = torch.full_like(m, float("nan"), dtype=torch.float32)
        self._val_parts.append(  # dense (dates, stocks), NaN outside the mask
            tuple(torch.where(m, t.float(), nan).cpu().numpy()
                  for t in (pred[..., self.h1, self.mid], batch["target"][..., self.h1]))  # fmt: skip
        )

    def on_validation_epoch_end(self) -> None:
        if not self._val_parts:
            return
        p, y = (np.concatenate(col) for col in zip(*self._val_parts))
        self._val_parts.clear()
        daily = daily_rank_ic(p, y, min_stocks=min(10, p.shape[1]))
        n_days = int(np.isfinite(daily).sum())
        ic = float(np.nanmean(daily)) if n_days else 0.0  # constant forecasts rank nothing: 0
        if self.trainer.world_size > 1:  # each rank saw different dates: average by date count
            stats = torch.tensor([ic * n_days, n_days], device=self.device, dtype=torch.float64)
            stats = self.all_gather(stats).reshape(-1, 2).sum(0)
            ic = float(stats[0] / stats[1].clamp(min=1))
        self.log(self.val_metric, ic, prog_bar=True)
        if not self.trainer.sanity_checking:
            self.val_history.append(ic)

    def configure_optimizers(self) -> dict[str, Any]:
        hp = self.hparams
        optimizer = torch.optim.AdamW(self.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
        total = max(int(self.trainer.estimated_stepping_batches), 1)
        warmup = max(int(total * hp.warmup_frac), 1)

        def schedule(step: int) -> float:  # linear warm-up, then cosine down to min_lr_frac
            if step < warmup:
                return (step + 1) / warmup
            progress = min((step - warmup) / max(total - warmup, 1), 1.0)
            return hp.min_lr_frac + (1 - hp.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * progress))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["val_history"] = list(self.val_history)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.val_history = list(checkpoint.get("val_history", []))


def config_from_dict(cfg: dict[str, Any]) -> ATFTConfig:
    """Build the nested dataclass config from plain dicts (as stored in checkpoints)."""
    from gogooku3.models.atft_gat_fan import FANConfig, GATConfig, GraphConfig

    cfg = dict(cfg)
    nested = {"fan": FANConfig, "gat": GATConfig, "graph": GraphConfig}
    for key, cls in nested.items():
        if key in cfg and isinstance(cfg[key], dict):
            cfg[key] = cls(**cfg[key])
    for key in ("horizons", "quantiles"):
        if key in cfg:
            cfg[key] = tuple(cfg[key])
    return ATFTConfig(**cfg)
