"""Date-batched windows over one dense (stock, day, feature) array built from a Panel.

A batch is a set of trading dates; for each, every stock of the universe gets its
lookback window, read as a strided view (``Tensor.unfold``) of the dense array, so
memory grows with stocks x days x features, not x lookback. Features are normalized
with the baseline's robust :class:`Standardizer` fitted on training-window rows only;
targets are kept only inside the fold's training and validation windows.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl
import torch

from gogooku3.datasets.normalize import Standardizer
from gogooku3.datasets.panel import Panel
from gogooku3.errors import ConfigError, DataError

GROUP_COLUMNS = ("Sector17Code", "Sector33Code", "MarketCode")


@dataclass
class PanelTensors:
    """Dense per-stock arrays of one Panel on a common (code, date) grid.

    ``features`` is front-padded by ``lookback - 1`` days and ``returns`` by
    ``graph_window - 1`` so that the window of date index ``t`` is ``[t, t + L)``.
    """

    codes: np.ndarray  # (N,)
    dates: list[date]  # (T,)
    features: torch.Tensor  # (N, T + L - 1, F) normalized, 0 where missing
    present: torch.Tensor  # (N, T + L - 1) bool: the stock has a row that day
    returns: torch.Tensor  # (N, T + W - 1) raw returns for the graph, NaN where missing
    targets: torch.Tensor  # (N, T, H) training targets (demeaned, scaled), NaN where unusable
    groups: torch.Tensor  # (N, 3) Sector17 / Sector33 / market ids, -1 unknown
    lookback: int
    graph_window: int

    @property
    def alive(self) -> torch.Tensor:
        return self.present[:, self.lookback - 1 :]

    def date_indices(self, start: date, end: date) -> np.ndarray:
        d = np.array(self.dates, dtype="datetime64[D]")
        return np.nonzero((d >= np.datetime64(start)) & (d <= np.datetime64(end)))[0]


def _grid(panel: Panel) -> tuple[np.ndarray, list[date], np.ndarray, np.ndarray]:
    frame = panel.frame
    codes = frame.get_column("Code").unique().sort()
    dates = frame.get_column("Date").unique().sort()
    ci = frame.select(pl.col("Code").cast(pl.Enum(codes.to_list())).to_physical()).to_series().to_numpy()
    di = np.searchsorted(dates.to_numpy(), frame.get_column("Date").to_numpy())
    return codes.to_numpy(), dates.to_list(), ci.astype(np.int64), di.astype(np.int64)


def _dense(values: np.ndarray, ci: np.ndarray, di: np.ndarray, shape: tuple[int, ...], pad: int,
           fill: float) -> np.ndarray:  # fmt: skip
    out = np.full((shape[0], shape[1] + pad, *shape[2:]), fill, dtype=np.float32)
    out[ci, di + pad] = values
    return out


def _groups(panel: Panel, codes: np.ndarray) -> np.ndarray:
    if panel.listed is None:
        return np.full((len(codes), 3), -1, dtype=np.int64)
    missing = [c for c in GROUP_COLUMNS if c not in panel.listed.columns]
    if missing:
        raise DataError(f"panel.listed lacks column {missing[0]} needed for the ATFT graph's edge attributes")
    listed = pl.DataFrame({"Code": codes}).join(panel.listed.select("Code", *GROUP_COLUMNS), on="Code", how="left")
    ids = [listed.get_column(c).rank("dense").fill_null(0).to_numpy().astype(np.int64) - 1 for c in GROUP_COLUMNS]
    return np.stack(ids, axis=1)


def build_tensors(panel: Panel, *, lookback: int, graph_window: int, return_feature: str,
                  scaler: Standardizer | None = None, train_window: tuple[date, date] | None = None,
                  target_windows: tuple[tuple[date, date], ...] = (), target_scale: np.ndarray | None = None,
                  target_demean: bool = True, feature_clip: float = 5.0,
                  ) -> tuple[PanelTensors, Standardizer, np.ndarray]:  # fmt: skip
    """Dense tensors of ``panel``; fits the scaler (and target scale) on ``train_window`` when not given.

    Targets outside ``target_windows`` are NaN, so nothing beyond the fold's training and
    validation windows can leak into fitting. Returns (tensors, scaler, target_scale).
    """
    features = list(panel.features)
    if return_feature not in panel.frame.columns:
        raise ConfigError(f"model.graph.return_feature={return_feature!r} is not a panel column; "
                          f"features are {features[:8]}...")  # fmt: skip
    if not features:
        raise DataError("panel.features is empty: ATFT needs at least one feature column")
    codes, dates, ci, di = _grid(panel)
    N, T = len(codes), len(dates)
    raw = panel.frame.select(pl.col(features).cast(pl.Float64)).to_numpy()
    if scaler is None:
        if train_window is None:
            raise ValueError("build_tensors needs train_window to fit the scaler")
        in_train = panel.frame.get_column("Date").is_between(*train_window).to_numpy()
        scaler = Standardizer(clip=feature_clip).fit(raw[in_train])  # the baseline's normalizer
    x = _dense(scaler.transform(raw).astype(np.float32), ci, di, (N, T, len(features)), lookback - 1, 0.0)
    present = np.zeros((N, T + lookback - 1), dtype=bool)
    present[ci, di + lookback - 1] = True
    ret = panel.frame.get_column(return_feature).cast(pl.Float64).fill_null(np.nan).to_numpy()
    returns = _dense(ret, ci, di, (N, T), graph_window - 1, np.nan)

    y = np.full((N, T, len(panel.horizons)), np.nan, dtype=np.float32)
    if target_windows:
        d = panel.frame.get_column("Date")
        usable = np.zeros(len(d), dtype=bool)
        for window in target_windows:
            usable |= d.is_between(*window).to_numpy()
        tgt = panel.frame.select(pl.col(list(panel.targets)).cast(pl.Float64)).fill_null(np.nan).to_numpy()
        y[ci[usable], di[usable]] = tgt[usable]
        with warnings.catch_warnings():  # dates without any usable target are all-NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            if target_demean:
                y = y - np.nanmean(y, axis=0, keepdims=True)
            if target_scale is None:
                day = np.array(dates, dtype="datetime64[D]")
                in_train = (day >= np.datetime64(train_window[0])) & (day <= np.datetime64(train_window[1]))
                target_scale = np.nanstd(y[:, in_train].reshape(-1, y.shape[-1]), axis=0)
        y = y / np.where(np.isfinite(target_scale) & (target_scale > 0), target_scale, 1.0)
    if target_scale is None:
        target_scale = np.ones(len(panel.horizons), dtype=np.float32)
    tensors = PanelTensors(
        codes=codes, dates=dates, features=torch.from_numpy(x), present=torch.from_numpy(present),
        returns=torch.from_numpy(returns), targets=torch.from_numpy(y.astype(np.float32)),
        groups=torch.from_numpy(_groups(panel, codes)), lookback=lookback, graph_window=graph_window,
    )  # fmt: skip
    return tensors, scaler, np.asarray(target_scale, dtype=np.float32)


class DateBatcher:
    """Collates a list of date indices into one model batch of windowed views."""

    def __init__(self, tensors: PanelTensors, min_history: int) -> None:
        self.t = tensors
        L, W = tensors.lookback, tensors.graph_window
        self.x_windows = tensors.features.unfold(1, L, 1)  # (N, T, F, L): a view
        self.present_windows = tensors.present.unfold(1, L, 1)  # (N, T, L)
        self.return_windows = tensors.returns.unfold(1, W, 1)  # (N, T, W)
        self.min_history = min_history

    def __call__(self, date_idx: list[int] | torch.Tensor) -> dict[str, torch.Tensor]:
        t = torch.as_tensor(date_idx, dtype=torch.long).flatten()
        B, N = len(t), self.x_windows.shape[0]
        mask = self.t.alive[:, t].T.contiguous()  # (B, N)
        history = self.present_windows[:, t].sum(-1).T  # (B, N)
        target = self.t.targets[:, t].transpose(0, 1).contiguous()  # (B, N, H)
        fit_mask = (mask & (history >= self.min_history)).unsqueeze(-1) & torch.isfinite(target)
        return {
            "date_idx": t,
            "x": self.x_windows[:, t].permute(1, 0, 3, 2).contiguous(),  # (B, N, L, F)
            "mask": mask,
            "returns": self.return_windows[:, t].transpose(0, 1).contiguous(),  # (B, N, W)
            "groups": self.t.groups.unsqueeze(0).expand(B, N, 3),
            "target": torch.nan_to_num(target),
            "target_mask": fit_mask,
        }


def make_datamodule(tensors: PanelTensors, train_idx: np.ndarray, valid_idx: np.ndarray, *,
                    dates_per_batch: int = 4, train_dates_per_epoch: int | None = None,
                    min_history: int | None = None, seed: int = 0):  # fmt: skip
    """A LightningDataModule over date indices (imported lazily: lightning is heavy)."""
    import lightning as L
    from torch.utils.data import DataLoader, RandomSampler

    batcher = DateBatcher(tensors, tensors.lookback if min_history is None else min_history)
    train_idx = [int(i) for i in train_idx]
    valid_idx = [int(i) for i in valid_idx]

    class ATFTDataModule(L.LightningDataModule):
        def train_dataloader(self) -> DataLoader:
            g = torch.Generator().manual_seed(seed)  # one stream: each epoch draws new dates
            n = min(train_dates_per_epoch or len(train_idx), len(train_idx))
            sampler = RandomSampler(train_idx, num_samples=n, generator=g)
            return DataLoader(train_idx, batch_size=dates_per_batch, sampler=sampler, collate_fn=batcher)

        def val_dataloader(self) -> DataLoader:
            return DataLoader(valid_idx, batch_size=dates_per_batch, shuffle=False, collate_fn=batcher)

    return ATFTDataModule()

