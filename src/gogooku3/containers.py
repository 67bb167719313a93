"""Plain Python containers from config nodes: one helper every layer may use (ground)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def plain(value: Any) -> Any:
    """Mappings -> dicts with str keys, sequences (lists, tuples, OmegaConf lists) -> lists, recursively.

    OmegaConf's DictConfig/ListConfig are a Mapping/Sequence, so this needs no omegaconf
    import; reading their values resolves interpolations. Used for kwargs and config hashes.
    """
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [plain(v) for v in value]
    return value
