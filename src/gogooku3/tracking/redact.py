"""Keep secrets out of params, tags, artifacts and logs, by key name."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Webhook URLs often carry their token in the path, so they are secrets by name too.
SECRET_KEY = re.compile(
    r"(api[_-]?key|password|passwd|secret|token|credential|private[_-]?key|webhook[_-]?url$)", re.IGNORECASE
)
URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.\-]*://)(?P<user>[^:/@\s]+):(?P<pw>[^@/\s]+)@", re.IGNORECASE)
REDACTED = "***REDACTED***"


def redact_url(value: str) -> str:
    """``postgresql://user:pw@host/db`` -> ``postgresql://user:***REDACTED***@host/db``."""
    return URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{REDACTED}@", value)


def redact(value: Any, key: str = "") -> Any:
    """A copy of a nested mapping/list with secret-named keys and URL passwords masked."""
    if SECRET_KEY.search(key) and value not in (None, ""):
        return REDACTED
    if isinstance(value, Mapping):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v, key) for v in value]
    if isinstance(value, str):
        return redact_url(value)
    return value


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}, "c": [1, 2]}`` -> ``{"a.b": 1, "c": "[1, 2]"}`` (lists kept whole)."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def redact_overrides(overrides: list[str]) -> list[str]:
    """``data.api_key=abc`` -> ``data.api_key=***REDACTED***``; URL passwords masked too."""
    out = []
    for item in overrides:
        key, sep, value = item.partition("=")
        out.append(f"{key}{sep}{redact(value, key.lstrip('+~'))}" if sep else redact_url(item))
    return out
