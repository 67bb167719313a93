"""The pipeline's adapter: ``fit`` / ``predict`` / ``model_bundle`` for ATFT-GAT-FAN.

Hydra instantiates it from ``conf/model/atft.yaml``; nested config nodes arrive as
DictConfig and are turned into plain dicts here, so the model itself sees plain values.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from gogooku3.containers import plain
from gogooku3.datasets.panel import Panel
from gogooku3.datasets.split import Fold
from gogooku3.errors import ConfigError, DataError
from gogooku3.schema import pred_column
from gogooku3.training.atft.config import ATFTSettings, TrainerSettings, defaults
from gogooku3.training.base import MetricLogger, ModelBundle


def _double(batch: Mapping[str, Any]) -> tuple[Any, ...]:
    """``forward``'s positional inputs, floats in float64."""
    x, mask, returns, groups = (batch[k] for k in ("x", "mask", "returns", "groups"))
    return x.double(), mask, returns.double(), groups


def _merge(base: Mapping[str, Any], given: Any, name: str, scope: str = "model") -> dict[str, Any]:
    """``given`` over ``base``, nested dicts key by key; an unknown key is a :class:`ConfigError`."""
    given = plain(given) or {}
    where = f"{scope}.{name}".rstrip(".") if name else scope
    unknown = set(given) - set(base)
    if unknown:
        raise ConfigError(f"{where}.{sorted(unknown)[0]} is not a known key; known: {', '.join(sorted(base))}")
    merged = dict(base)
    for key, value in given.items():
        nested = isinstance(base[key], Mapping) and key != "horizon_weights"
        merged[key] = _merge(base[key], value, f"{name}.{key}".lstrip("."), scope) if nested else value
    return merged


class ATFTEstimator:
    """ATFT-GAT-FAN behind the :class:`~gogooku3.training.base.Estimator` protocol.

    ``fit`` trains with Lightning (early stopping and checkpointing on the validation
    mean daily RankIC at the shortest horizon) and keeps the best epoch's weights;
    ``predict`` returns the median forecast of every horizon, in target units.
    """

    def __init__(self, horizons: Sequence[int], seed: int = 0, trainer: Any = None,
                 output_dir: str | Path | None = None, **settings: Any) -> None:
        """``settings``: keys of ``model=atft`` (:class:`ATFTSettings`); those left out take its defaults."""
        s = _merge(defaults(ATFTSettings), {k: v for k, v in settings.items() if k not in ("_target_", "name")}, "")
        self.settings = s  # kept for save/load: a deployed model is rebuilt from the same settings
        self.horizons = tuple(int(h) for h in plain(horizons))
        self.seed = int(seed)
        self.trainer_kwargs = _merge(defaults(TrainerSettings), trainer, "", scope="trainer")
        self.output_dir = Path(output_dir) if output_dir else Path(tempfile.mkdtemp(prefix="atft_"))
        graph_cfg = dict(s["graph"])
        self.return_feature = graph_cfg.pop("return_feature")
        self.loss_config = dict(s["loss"])
        self.loss_config["horizon_weights"] = self._horizon_weights(self.loss_config.get("horizon_weights"))
        self.optim_config = s["optim"]
        self.data_config = s["data"]
        lookback = s["lookback"]
        self.model_config: dict[str, Any] = {
            "horizons": self.horizons, "quantiles": tuple(float(q) for q in s["quantiles"]),
            "lookback": int(lookback), "hidden_size": int(s["hidden_size"]), "feature_dim": int(s["feature_dim"]),
            "lstm_layers": int(s["lstm_layers"]), "attention_heads": int(s["attention_heads"]),
            "dropout": float(s["dropout"]), "fan": s["fan"], "gat": s["gat"], "graph": graph_cfg,
        }  # fmt: skip
        if 0.5 not in self.model_config["quantiles"]:
            raise ConfigError(
                f"model.quantiles={list(self.model_config['quantiles'])} must contain 0.5 (the point forecast)"
            )
        if graph_cfg["min_periods"] > graph_cfg["window"]:
            raise ConfigError(
                f"model.graph.min_periods={graph_cfg['min_periods']} exceeds model.graph.window={graph_cfg['window']}"
            )
        if int(lookback) < 2:
            raise ConfigError(f"model.lookback={lookback} must be at least 2")
        self.early_stopping_patience = int(s["early_stopping_patience"])
        self.resume = bool(s["resume"])
        self.num_threads = None if s["num_threads"] is None else int(s["num_threads"])
        self.module = None
        self.features: list[str] = []
        self._panel: Panel | None = None
        self._tensors = None

    def _horizon_weights(self, weights: Any) -> list[float]:
        if weights is None:
            return [1.0] * len(self.horizons)
        if isinstance(weights, Mapping):
            return [float(weights.get(h, weights.get(str(h), 1.0))) for h in self.horizons]
        if len(weights) != len(self.horizons):
            raise ConfigError(
                f"model.loss.horizon_weights has {len(weights)} values for horizons {list(self.horizons)}"
            )
        return [float(w) for w in weights]

    # ------------------------------------------------------------------------------------
    def _tensors_for(self, panel: Panel, fold: Fold | None = None):
        from gogooku3.training.atft.data import build_tensors

        if panel.horizons != self.horizons:
            raise ConfigError(f"horizons={list(self.horizons)} differ from the panel's {list(panel.horizons)}")
        g = self.model_config["graph"]
        kwargs = dict(lookback=self.model_config["lookback"], graph_window=g["window"],
                      return_feature=self.return_feature, target_demean=self.data_config["target_demean"],
                      feature_clip=self.data_config["feature_clip"])  # fmt: skip
        if fold is not None:
            return build_tensors(panel, train_window=fold.train, target_windows=(fold.train, fold.valid), **kwargs)
        return build_tensors(panel, scaler=self.scaler, target_scale=self.target_scale, **kwargs)

    @contextmanager
    def _threads(self) -> Iterator[None]:
        """Use ``num_threads`` torch threads inside fit/predict, then restore the previous count."""
        import torch

        before = torch.get_num_threads()
        if self.num_threads:
            torch.set_num_threads(self.num_threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    def fit(self, panel: Panel, fold: Fold, log_metric: MetricLogger | None = None) -> dict[str, float]:
        with self._threads():
            return self._fit(panel, fold, log_metric)

    def predict(self, panel: Panel, start: date, end: date, quantiles: bool = False) -> pl.DataFrame:
        """``Code``, ``Date`` and the median forecast ``pred_h{h}`` of every panel row in [start, end].

        ``quantiles=True`` adds every quantile level q as ``pred_h{h}_q{q}`` (target units).
        """
        with self._threads():
            return self._predict(panel, start, end, quantiles)

    def refit(self, panel: Panel, window: tuple[date, date], folds: list[dict[str, float]]) -> dict[str, float]:
        """Train on ``window`` for the folds' mean best epoch count (+1), keeping the last epoch's weights.

        Nothing is held out: the folds chose the epochs, so the refit needs no validation.
        """
        epochs = [f["best_epoch"] for f in folds if f.get("best_epoch", -1) >= 0]
        chosen = {"epochs": float(max(1, round(sum(epochs) / len(epochs)) + 1) if epochs else 1)}
        self.trainer_kwargs = {**self.trainer_kwargs, "max_epochs": int(chosen["epochs"])}
        self.early_stopping_patience = 0
        with self._threads():
            self._fit(panel, Fold(-1, window, window, window), None, keep_last=True)
        return chosen

    def canary_inputs(self, panel: Panel, day: date) -> dict[str, np.ndarray]:
        """``forward``'s inputs for ``day``: replayed after loading, they must give the same outputs."""
        from gogooku3.training.atft.data import DateBatcher

        tensors = self._tensors if panel is self._panel else self._tensors_for(panel)[0]
        batch = DateBatcher(tensors, min_history=0)(tensors.date_indices(day, day))
        return {k: batch[k].numpy() for k in ("x", "mask", "returns", "groups")}

    def replay(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """The model's raw output (dates, stocks, horizons, quantiles) for :meth:`canary_inputs`."""
        import torch

        batch = {k: torch.from_numpy(np.asarray(v)) for k, v in inputs.items()}
        with torch.no_grad(), self._threads():
            return self._inference_model()(*_double(batch)).numpy()

    def _inference_model(self):
        """A float64 copy of the trained model: predictions then do not depend on how many dates
        share a batch (float32 kernels round differently per shape), so a served day equals
        the backtest's to 1e-6 even after per-day z-scoring."""
        import copy

        return copy.deepcopy(self.module.model).double().eval()

    def save(self, folder: Path) -> None:
        """Weights (``state_dict.pt``, loadable with ``weights_only=True``) and what predict needs."""
        import torch

        if self.module is None:
            raise RuntimeError("ATFTEstimator.save called before fit")
        folder.mkdir(parents=True, exist_ok=True)
        torch.save(self.module.model.state_dict(), folder / "state_dict.pt")
        state = {"horizons": list(self.horizons), "settings": self.settings, "features": list(self.features),
                 "n_features": len(self.features), "feature_center": self.scaler.center_.tolist(),
                 "feature_scale": self.scaler.scale_.tolist(), "target_scale": self.target_scale.tolist()}  # fmt: skip
        (folder / "estimator.json").write_text(json.dumps(state, indent=1))

    @classmethod
    def load(cls, folder: Path) -> ATFTEstimator:
        """The saved model, strictly: every weight present with its shape, nothing extra."""
        import torch

        from gogooku3.datasets.normalize import Standardizer
        from gogooku3.training.atft.module import ATFTLightningModule

        state = json.loads((folder / "estimator.json").read_text())
        estimator = cls(state["horizons"], **state["settings"])
        estimator.features = list(state["features"])
        estimator.scaler = Standardizer(center_=np.asarray(state["feature_center"], dtype=np.float64),
                                        scale_=np.asarray(state["feature_scale"], dtype=np.float64))  # fmt: skip
        estimator.target_scale = np.asarray(state["target_scale"], dtype=np.float32)
        module = ATFTLightningModule({**estimator.model_config, "n_features": state["n_features"]},
                                     estimator.loss_config, **estimator.optim_config)  # fmt: skip
        weights = torch.load(folder / "state_dict.pt", map_location="cpu", weights_only=True)
        module.model.load_state_dict(weights, strict=True)
        estimator.module = module.eval()
        return estimator

    def _fit(self, panel: Panel, fold: Fold, log_metric: MetricLogger | None, keep_last: bool = False) -> dict[str, float]:
        import lightning as L
        import torch
        from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
        from lightning.pytorch.loggers import CSVLogger

        from gogooku3.console import quiet_third_party
        from gogooku3.training.atft.callbacks import EpochProgress, MetricForwarder
        from gogooku3.training.atft.data import make_datamodule
        from gogooku3.training.atft.module import ATFTLightningModule

        quiet_third_party()  # Lightning adds its own handler and INFO level on import
        L.seed_everything(self.seed, workers=True, verbose=False)
        tensors, self.scaler, self.target_scale = self._tensors_for(panel, fold)
        self._panel, self._tensors = panel, tensors
        self.features = list(panel.features)
        has_target = torch.isfinite(tensors.targets).any(0).any(-1).numpy()
        train_idx = [i for i in tensors.date_indices(*fold.train) if has_target[i]]
        valid_idx = [i for i in tensors.date_indices(*fold.valid) if has_target[i]]
        if not train_idx or not valid_idx:
            raise DataError(f"fold {fold.index}: {len(train_idx)} training and {len(valid_idx)} validation "
                            f"dates with targets in the panel; both must be non-empty")  # fmt: skip
        d = self.data_config
        datamodule = make_datamodule(
            tensors, np.array(train_idx), np.array(valid_idx), dates_per_batch=d["dates_per_batch"], seed=self.seed,
            train_dates_per_epoch=d["train_dates_per_epoch"], min_history=d["min_history"],
        )
        module = ATFTLightningModule(
            {**self.model_config, "n_features": len(panel.features)}, self.loss_config, **self.optim_config
        )
        ckpt_dir = self.output_dir / "checkpoints"
        monitor = module.val_metric  # val/rank_ic_h{shortest horizon}
        checkpoint = ModelCheckpoint(dirpath=ckpt_dir, filename="best", monitor=monitor, mode="max",
                                     save_top_k=1, enable_version_counter=False)  # fmt: skip
        # Lightning's save_last only writes when the best changes; resuming needs every epoch.
        latest = ModelCheckpoint(dirpath=ckpt_dir, filename="last", monitor=None, save_top_k=1,
                                 enable_version_counter=False)  # fmt: skip
        callbacks = [checkpoint, latest, MetricForwarder(log_metric), EpochProgress(f"ATFT fold {fold.index}")]
        if self.early_stopping_patience > 0:
            callbacks.append(EarlyStopping(monitor=monitor, mode="max", patience=self.early_stopping_patience))
        trainer = L.Trainer(**self.trainer_kwargs, callbacks=callbacks, default_root_dir=self.output_dir,
                            logger=CSVLogger(self.output_dir, name="lightning_logs"))  # fmt: skip
        last = ckpt_dir / "last.ckpt"
        trainer.fit(module, datamodule=datamodule, ckpt_path=str(last) if self.resume and last.exists() else None)
        if checkpoint.best_model_path and not keep_last:
            state = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=False)["state_dict"]
            module.load_state_dict(state)
        self.module = module.cpu().eval()
        history = module.val_history
        best_epoch = int(np.argmax(history)) if history else -1
        return {monitor: float(history[best_epoch]) if history else float("nan"), "best_epoch": best_epoch}

    def _predict(self, panel: Panel, start: date, end: date, quantiles: bool = False) -> pl.DataFrame:
        import torch

        from gogooku3.training.atft.data import DateBatcher

        if self.module is None:
            raise RuntimeError("ATFTEstimator.predict called before fit")
        tensors = self._tensors if panel is self._panel else self._tensors_for(panel)[0]
        batcher = DateBatcher(tensors, min_history=0)
        idx = tensors.date_indices(start, end)
        model, mid = self._inference_model(), list(self.model_config["quantiles"]).index(0.5)
        scale = torch.from_numpy(self.target_scale).double()
        parts = []
        with torch.no_grad():
            for chunk in np.array_split(idx, max(1, -(-len(idx) // self.data_config["predict_dates_per_batch"]))):
                if not len(chunk):
                    continue
                batch = batcher(chunk)
                out = model(*_double(batch)) * scale[:, None]
                b, n = batch["mask"].nonzero(as_tuple=True)
                parts.append((chunk[b.numpy()], n.numpy(), out[b, n].numpy()))  # (rows, H, Q)
        levels = list(self.model_config["quantiles"])
        if parts:
            t, s, v = (np.concatenate(col) for col in zip(*parts))
        else:
            t, s, v = np.zeros(0, int), np.zeros(0, int), np.zeros((0, len(self.horizons), len(levels)), np.float32)
        extra = {f"{pred_column(h)}_q{q:g}": v[:, k, j].astype(np.float64)
                 for k, h in enumerate(self.horizons) for j, q in enumerate(levels)} if quantiles else {}  # fmt: skip
        frame = pl.DataFrame({
            "Code": pl.Series("Code", tensors.codes[s], dtype=pl.String),
            "Date": pl.Series("Date", [tensors.dates[i] for i in t], dtype=pl.Date),
            **{pred_column(h): v[:, k, mid].astype(np.float64) for k, h in enumerate(self.horizons)},
            **extra,
        })  # fmt: skip
        self._example = batcher(idx[-1:]) if len(idx) else None
        return frame.sort("Code", "Date")

    def model_bundle(self) -> ModelBundle | None:
        """The trained ``nn.Module``; its example holds one date's ``forward`` keyword inputs."""
        import torch

        if self.module is None:
            return None
        example = getattr(self, "_example", None)
        if example is None and self._tensors is not None:
            from gogooku3.training.atft.data import DateBatcher

            example = DateBatcher(self._tensors, 0)([len(self._tensors.dates) - 1])
        inputs = {k: example[k].numpy() for k in ("x", "mask", "returns", "groups")} if example else None
        output = None
        if inputs:
            with torch.no_grad():
                output = self.module.model(**{k: torch.from_numpy(v) for k, v in inputs.items()}).numpy()
        return ModelBundle(
            flavor="pytorch",
            model=self.module.model,
            input_example=inputs,
            output_example=output,
            extra={
                "features": list(self._panel.features) if self._panel else [],
                "return_feature": self.return_feature,
                "feature_center": self.scaler.center_.tolist(),
                "feature_scale": self.scaler.scale_.tolist(),
                "target_scale": self.target_scale.tolist(),
                "model_config": {k: v for k, v in self.model_config.items()},
            },
        )

