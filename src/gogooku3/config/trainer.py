"""``trainer`` group: Lightning Trainer settings; the schema lives with the ATFT trainer that reads them."""

from __future__ import annotations

from gogooku3.training.atft.config import TrainerSettings

__all__ = ["TrainerSettings"]
