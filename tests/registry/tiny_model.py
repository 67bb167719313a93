"""A pyfunc model that returns its own id: which version serving loaded is visible in its output."""

from __future__ import annotations

import mlflow.pyfunc


class TinyModel(mlflow.pyfunc.PythonModel):
    def __init__(self, ident: int) -> None:
        self.ident = ident

    def predict(self, model_input: list[int], params=None) -> list[int]:
        return [self.ident] * len(model_input)
