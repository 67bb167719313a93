"""The append-only actions log: who did what to which version, when (UTC) and why.

One JSON object per line, appended under an exclusive lock and flushed to disk before the
action returns, so concurrent registry commands never interleave or lose a line. The same
record is the registered model's ``last_action`` tag.
"""

from __future__ import annotations

import getpass
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gogooku3.errors import ConfigError
from gogooku3.tracking.redact import redact_url
from gogooku3.tracking.store import sqlite_path

REPO = Path(__file__).resolve().parents[3]


def default_actions_log(tracking_uri: str) -> Path:
    """``registry/actions.jsonl`` next to a sqlite store's database, else under the project's outputs/."""
    db = sqlite_path(tracking_uri)
    base = db.parent if db is not None else REPO / "outputs"
    return base / "registry" / "actions.jsonl"


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (a container without /etc/passwd entry)
        return f"uid{os.getuid()}"


def check_reason(reason: str | None) -> str:
    """The reason, stripped and on one line; a registry action without one is refused (exit 2)."""
    text = " ".join((reason or "").split())
    if not text:
        raise ConfigError("--reason: required and non-empty (why this registry action)")
    return redact_url(text)


def record(action: str, *, name: str, who: str, reason: str, version: str | None = None, **detail: Any) -> dict[str, Any]:
    """A log record: action, model name, version, who, when (UTC), why and the action's details."""
    return {"at": utc_now(), "action": action, "name": name, "version": version, "who": who, "reason": reason,
            **{k: v for k, v in detail.items() if v is not None}}  # fmt: skip


def append(path: Path, entry: dict[str, Any]) -> None:
    """Append one line under an exclusive lock and fsync it (the log is never rewritten)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n"
    with open(path, "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read(path: Path) -> list[dict[str, Any]]:
    """Every record of the log, oldest first (an absent log is empty)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
