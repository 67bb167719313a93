"""The deployable model on disk: estimator files, what predicting needs, and a manifest of sha256s.

A bundle folder holds ``model/`` (the estimator's own files), ``meta.json`` (flavor,
horizons, features and their schema hash, the history a prediction reads, training
lineage, validation prediction statistics), ``canary.npz`` (fixed model inputs and the
outputs recorded at training time) and ``manifest.json`` (the sha256 of every other
file). The sha256 of ``manifest.json`` is the version's ``artifact_sha256`` tag, so one
value pins every byte. :func:`read_bundle` checks all of it before anything is loaded
and refuses a mismatch; nothing is loaded leniently.

The module doubles as MLflow's pyfunc ``loader_module``: ``_load_pyfunc(path)`` serves a
bundle through ``mlflow.pyfunc.load_model`` on tabular (Code, Date, features) input.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gogooku3.storage.objects import file_sha256 as sha256_file
from gogooku3.errors import GogookuError

ESTIMATORS = {
    "lightgbm": "gogooku3.training.lightgbm:LightGBMEstimator",
    "atft": "gogooku3.training.atft.estimator:ATFTEstimator",
}
MANIFEST, META, CANARY = "manifest.json", "meta.json", "canary.npz"
CANARY_ATOL = 1e-6


class IntegrityError(GogookuError):
    """A deployed model's files, schema or canary do not match what was recorded (gate 5)."""


@dataclass
class Deployable:
    """A verified bundle: the loaded estimator, its metadata and the manifest's sha256."""

    estimator: Any
    meta: dict[str, Any]
    manifest_sha256: str
    folder: Path

    @property
    def flavor(self) -> str:
        return str(self.meta["flavor"])


def estimator_class(flavor: str) -> type:
    if flavor not in ESTIMATORS:
        raise IntegrityError(f"meta.json flavor={flavor!r} is not a known estimator ({', '.join(ESTIMATORS)})")
    module, name = ESTIMATORS[flavor].split(":")
    return getattr(importlib.import_module(module), name)


def write_bundle(folder: Path, estimator: Any, meta: dict[str, Any], canary: dict[str, np.ndarray]) -> str:
    """Write the bundle of a fitted ``estimator``; returns the manifest's sha256.

    ``canary`` holds the model inputs to replay (``estimator.replay``); their outputs are
    recorded here, from the estimator as it is in memory.
    """
    folder.mkdir(parents=True, exist_ok=True)
    estimator.save(folder / "model")
    outputs = np.asarray(estimator.replay(canary), dtype=np.float64)
    np.savez(folder / CANARY, **{f"in_{k}": v for k, v in canary.items()}, out=outputs)
    (folder / META).write_text(json.dumps(meta, indent=1, sort_keys=True, default=str))
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)
    manifest = {"files": {p.relative_to(folder).as_posix(): sha256_file(p) for p in files}}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return sha256_file(folder / MANIFEST)


def find_bundle(root: Path) -> Path:
    """The bundle folder under ``root`` (an MLflow model folder keeps it below ``data/``)."""
    hits = sorted(root.rglob(MANIFEST))
    if not hits:
        raise IntegrityError(f"{root}: no {MANIFEST}; not a deployable model")
    return hits[0].parent


def read_bundle(folder: Path, expected_sha256: str | None = None) -> Deployable:
    """Verify and load a bundle: manifest sha256, every file's sha256, strict weights, the canary.

    Raises :class:`IntegrityError` naming the first file or value that differs.
    """
    folder = find_bundle(Path(folder))
    manifest_path = folder / MANIFEST
    actual = sha256_file(manifest_path)
    if expected_sha256 is not None and actual != expected_sha256:
        raise IntegrityError(f"gate 5: {manifest_path} sha256 {actual[:12]} differs from the recorded "
                             f"artifact_sha256 {expected_sha256[:12]}")  # fmt: skip
    listed = json.loads(manifest_path.read_text())["files"]
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST}
    for name in sorted(set(listed) | present):
        if name not in present:
            raise IntegrityError(f"gate 5: {folder / name} is listed in {MANIFEST} but missing")
        if name not in listed:
            raise IntegrityError(f"gate 5: {folder / name} is not listed in {MANIFEST}")
        if (digest := sha256_file(folder / name)) != listed[name]:
            raise IntegrityError(f"gate 5: {folder / name} sha256 {digest[:12]} differs from the manifest's "
                                 f"{listed[name][:12]} (the file was changed after training)")  # fmt: skip
    meta = json.loads((folder / META).read_text())
    try:
        estimator = estimator_class(meta["flavor"]).load(folder / "model")
    except IntegrityError:
        raise
    except Exception as exc:  # a checkpoint that does not fit its config: strict loading refuses it
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise IntegrityError(f"gate 5: {folder / 'model'} does not load strictly: {first}") from None
    _check_canary(folder, estimator)
    return Deployable(estimator, meta, actual, folder)


def _check_canary(folder: Path, estimator: Any) -> None:
    with np.load(folder / CANARY) as saved:
        inputs = {k.removeprefix("in_"): saved[k] for k in saved.files if k.startswith("in_")}
        recorded = saved["out"]
    replayed = np.asarray(estimator.replay(inputs), dtype=np.float64)
    if replayed.shape != recorded.shape or not np.allclose(replayed, recorded, rtol=0, atol=CANARY_ATOL,
                                                           equal_nan=True):  # fmt: skip
        diff = np.nanmax(np.abs(replayed - recorded)) if replayed.shape == recorded.shape else float("nan")
        raise IntegrityError(f"gate 5: {folder / CANARY}: the loaded model does not reproduce its recorded canary "
                             f"predictions (max difference {diff:.3g}, shapes {replayed.shape} vs {recorded.shape})")


class _PyfuncModel:
    """``mlflow.pyfunc`` face of a bundle: predicts a frame of Code, Date and the feature columns."""

    def __init__(self, deployable: Deployable) -> None:
        self.deployable = deployable

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        import polars as pl

        from gogooku3.datasets.panel import Panel

        frame = pl.from_pandas(model_input) if not isinstance(model_input, pl.DataFrame) else model_input
        meta = self.deployable.meta
        panel = Panel(frame.sort("Code", "Date"), tuple(meta["features"]), tuple(meta["horizons"]))
        dates = frame.get_column("Date")
        return self.deployable.estimator.predict(panel, dates.min(), dates.max()).to_pandas()


def _load_pyfunc(path: str) -> _PyfuncModel:
    """MLflow's loader hook (``loader_module=gogooku3.training.deployable``)."""
    return _PyfuncModel(read_bundle(Path(path)))
