"""Train, evaluate and log one experiment: `python train.py [group=option ...] [key=value ...]`.

Kept thin and light: heavy libraries load only once the job starts, so `--cfg job` is fast.
"""

import os
from pathlib import Path

import hydra
from omegaconf import DictConfig

os.environ.setdefault("PROJECT_ROOT", str(Path(__file__).resolve().parent))


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    from gogooku3.pipeline.cli import run_task

    return run_task(cfg)


if __name__ == "__main__":
    main()
