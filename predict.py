"""Predict the next session with a deployed model: `python predict.py [model=champion] [date=latest] [key=value ...]`.

The model is a registry alias, name@alias, name/<version> or a training run id (trained
with deploy=true). Nothing is stored unless gate 5 (model files, weights, canary, feature
schema) and the predictions gate pass. `evaluate=true` scores stored predictions whose
labels have matured. Bad input or config exits with one line and code 2.
"""

import os
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

ROOT = Path(__file__).resolve().parent
os.environ.setdefault("PROJECT_ROOT", str(ROOT))


@hydra.main(version_base="1.3", config_path="conf", config_name="predict")
def main(cfg: DictConfig) -> None:
    from gogooku3.pipeline.cli import run_predict_task

    run_predict_task(cfg)


def model_key(argv: list[str]) -> list[str]:
    """``model=X`` -> ``predict.model=X``: conf/ has a ``model`` group (train.py's), so Hydra would
    read a root ``model=`` as choosing one of its options."""
    return [f"predict.{a}" if a.startswith("model=") else a for a in argv]


if __name__ == "__main__":
    from train import expand_user_paths

    sys.argv[1:] = model_key(expand_user_paths(sys.argv[1:]))
    from gogooku3.config.check import preflight

    if (error := preflight(ROOT / "conf", "predict", sys.argv[1:])) is not None:
        print(f"gogooku3: error: {error}", file=sys.stderr)
        print("usage: python predict.py [model=<alias|run id>] [date=latest|YYYY-MM-DD] [key=value ...]", file=sys.stderr)
        sys.exit(2)
    main()
