"""Train, evaluate and log one experiment: `python train.py [group=option ...] [key=value ...]`.

Kept thin and light: heavy libraries load only once the job starts, so `--cfg job` is fast.
The whole config is checked first: a bad key, value or option exits with one line and code 2.
"""

import os
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

ROOT = Path(__file__).resolve().parent
os.environ.setdefault("PROJECT_ROOT", str(ROOT))


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    from gogooku3.pipeline.cli import run_task

    return run_task(cfg)


def expand_user_paths(argv: list[str]) -> list[str]:
    """``key=~/x`` -> ``key=/home/u/x``, and relative values of ``*path`` keys -> absolute.

    Hydra's override lexer rejects ``~``, and a path relative to the launch directory
    must stay so wherever the run directory is; the absolute path is also what the run
    records, so it can be reproduced from elsewhere.
    """
    out = []
    for arg in argv:
        key, sep, value = arg.partition("=")
        if sep and not key.startswith(("-", "hydra.")) and value:
            if value == "~" or value.startswith("~/"):
                value = os.path.expanduser(value)
            leaf = key.lstrip("+~").rsplit(".", 1)[-1]
            if leaf.endswith("path") and value != "null" and not os.path.isabs(value) and "$" not in value:
                value = os.path.abspath(value)
            arg = f"{key}={value}"
        out.append(arg)
    return out


if __name__ == "__main__":
    sys.argv[1:] = expand_user_paths(sys.argv[1:])
    from gogooku3.config.check import preflight

    if (error := preflight(ROOT / "conf", "train", sys.argv[1:])) is not None:
        print(f"gogooku3: error: {error}", file=sys.stderr)
        print("usage: python train.py [group=option ...] [key=value ...]; python train.py --cfg job shows every key",
              file=sys.stderr)  # fmt: skip
        sys.exit(2)
    main()
