"""The registry as the API shows it: aliases and versions of one model, with their run metrics.

MLflow is imported on first use; results are cached for ``ttl`` seconds so /readyz and
/v1/models do not hit the tracking store on every request.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from gogooku3.registry.names import CHAMPION, PREVIOUS

ALIASES = (CHAMPION, PREVIOUS)


@dataclass(frozen=True)
class VersionInfo:
    version: str
    run_id: str | None
    status: str
    created_at_ms: int | None
    aliases: tuple[str, ...]
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RegistryView:
    name: str
    aliases: dict[str, str]  # alias -> version
    versions: tuple[VersionInfo, ...]


class ModelRegistry:
    def __init__(self, tracking_uri: str, name: str, ttl: float = 30.0) -> None:
        self.tracking_uri, self.name, self.ttl = tracking_uri, name, ttl
        self._client: Any = None
        self._cache: tuple[float, RegistryView] | None = None
        self._lock = threading.Lock()

    def _mlflow(self) -> Any:
        if self._client is None:
            from mlflow.tracking import MlflowClient

            self._client = MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)
        return self._client

    def champion(self) -> str | None:
        """The champion's version, or None when the alias (or the model) does not exist."""
        return self.view().aliases.get(CHAMPION)

    def view(self, fresh: bool = False) -> RegistryView:
        with self._lock:
            if not fresh and self._cache and time.monotonic() - self._cache[0] < self.ttl:
                return self._cache[1]
            view = self._read()
            self._cache = (time.monotonic(), view)
            return view

    def _read(self) -> RegistryView:
        from mlflow.exceptions import MlflowException

        client = self._mlflow()
        aliases: dict[str, str] = {}
        for alias in ALIASES:
            try:
                aliases[alias] = str(client.get_model_version_by_alias(self.name, alias).version)
            except MlflowException:
                continue
        versions = []
        for mv in client.search_model_versions(f"name='{self.name}'"):
            metrics: dict[str, float] = {}
            if mv.run_id:
                try:
                    metrics = dict(client.get_run(mv.run_id).data.metrics)
                except MlflowException:
                    metrics = {}
            versions.append(VersionInfo(
                version=str(mv.version), run_id=mv.run_id or None, status=str(mv.status),
                created_at_ms=mv.creation_timestamp, aliases=tuple(sorted(a for a, v in aliases.items() if v == str(mv.version))),
                tags=dict(mv.tags or {}), metrics=metrics,
            ))  # fmt: skip
        versions.sort(key=lambda v: int(v.version) if v.version.isdigit() else 0, reverse=True)
        return RegistryView(self.name, aliases, tuple(versions))
