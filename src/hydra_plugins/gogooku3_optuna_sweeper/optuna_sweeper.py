"""The Hydra Sweeper plugin class; the work lives in :mod:`gogooku3.sweep.sweeper`.

Hydra imports every module under ``hydra_plugins`` at start-up, even for ``--cfg job``, so
nothing heavy (optuna, mlflow) is imported here.
"""

from __future__ import annotations

import sys
from typing import Any

from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig

from hydra_plugins.gogooku3_optuna_sweeper import config as _config  # noqa: F401  (registers the config)


class OptunaSweeper(Sweeper):
    """``hydra/sweeper=optuna``: one Optuna trial per Hydra job."""

    def __init__(self, **kwargs: Any) -> None:
        from gogooku3.errors import GogookuError
        from gogooku3.sweep.sweeper import OptunaSweeperImpl

        try:
            self._impl = OptunaSweeperImpl(**kwargs)
        except GogookuError as exc:
            print(f"gogooku3: error: {exc}", file=sys.stderr)
            sys.exit(2)

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.hydra_context = hydra_context
        self.config = config
        self._impl.setup(
            hydra_context=hydra_context,
            task_function=task_function,
            config=config,
            validate=self.validate_batch_is_legal,
        )
        self.launcher = self._impl.launcher

    def sweep(self, arguments: list[str]) -> Any:
        """Run the study; a user error (bad space, too many failures) is one line and exit code 2."""
        from gogooku3.errors import GogookuError

        try:
            return self._impl.sweep(arguments)
        except GogookuError as exc:
            print(f"gogooku3: error: {exc}", file=sys.stderr)
            sys.exit(2)
