"""Model versions on MLflow's registry: register, list, promote (gate 4), rollback.

Aliases only, never stages (deprecated since MLflow 2.9): ``champion`` is what serving
loads (``models:/<name>@champion``), ``previous`` the champion it replaced. A version is
made from a training run's ``deploy`` LoggedModel (its source is ``models:/m-<id>``) and
carries the run's lineage tags and test/val/canary metrics as tags, so gate 4 and later
readers need nothing but the version. Every action, refused promotions included, is
appended to the actions log and written as version tags and the model's ``last_action``.

Rollback swaps the two aliases: ``champion`` <- the previous version and ``previous`` <-
the demoted one. A second rollback therefore undoes the first, and the demoted version
keeps an alias, so storage retention never deletes it while it may be wanted back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gogooku3.config.registry import RegistrySettings
from gogooku3.errors import ConfigError, DataError
from gogooku3.registry import actions, names
from gogooku3.registry.errors import RegistryError
from gogooku3.registry.gate import GateResult, Snapshot, check_promotion
from gogooku3.tracking.store import open_store, sqlite_path, store_lock


@dataclass(frozen=True)
class VersionInfo:
    """One model version as the CLI and retention see it."""

    name: str
    version: str
    created: datetime  # UTC
    run_id: str | None
    source: str
    aliases: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)  # without the metric.* tags
    metrics: dict[str, float] = field(default_factory=dict)  # from the metric.* tags, run names

    def snapshot(self) -> Snapshot:
        return Snapshot(version=self.version, metrics=self.metrics, tags=self.tags)


def _split_tags(tags: dict[str, str]) -> tuple[dict[str, str], dict[str, float]]:
    plain, metrics = {}, {}
    for key, value in tags.items():
        if key.startswith(names.METRIC_TAG_PREFIX):
            try:
                metrics[key[len(names.METRIC_TAG_PREFIX) :]] = float(value)
            except ValueError:
                continue  # not ours: a hand-set tag that happens to share the prefix
        else:
            plain[key] = value
    return plain, metrics


class Registry:
    """The registry of one tracking store; ``settings`` holds gate 4's floors and the log path."""

    def __init__(self, tracking_uri: str, settings: RegistrySettings | None = None) -> None:
        self.settings = settings or RegistrySettings()
        self.uri = tracking_uri
        db = sqlite_path(tracking_uri)
        if db is not None and not db.exists():
            raise ConfigError(f"--tracking-uri {tracking_uri}: no such MLflow store")
        self.client = open_store(tracking_uri)
        log = self.settings.actions_log
        self.actions_log = Path(log) if log else actions.default_actions_log(tracking_uri)

    # ---- reading -------------------------------------------------------------------------
    def _aliases(self, name: str) -> dict[str, str]:
        """alias -> version of a registered model ({} when it does not exist)."""
        try:
            model = self.client.get_registered_model(name)
        except Exception:
            return {}
        return {alias: str(version) for alias, version in (model.aliases or {}).items()}

    def _info(self, mv: Any, aliases: dict[str, str]) -> VersionInfo:
        tags, metrics = _split_tags(dict(mv.tags or {}))
        version = str(mv.version)
        return VersionInfo(
            name=mv.name, version=version, run_id=mv.run_id, source=mv.source,
            created=datetime.fromtimestamp(mv.creation_timestamp / 1000, tz=timezone.utc),
            aliases=tuple(sorted(a for a, v in aliases.items() if v == version)), tags=tags, metrics=metrics,
        )  # fmt: skip

    def get(self, name: str, version: str | int) -> VersionInfo:
        try:
            mv = self.client.get_model_version(name, str(version))
        except Exception:
            raise ConfigError(f"--version {version}: model {name!r} has no such version in {self.uri}") from None
        return self._info(mv, self._aliases(name))

    def by_alias(self, name: str, alias: str) -> VersionInfo | None:
        version = self._aliases(name).get(alias)
        return None if version is None else self.get(name, version)

    def list(self, name: str) -> list[VersionInfo]:
        """Every version of ``name``, newest first, with aliases, tags and metrics."""
        aliases = self._aliases(name)
        found = self.client.search_model_versions(f"name = '{_quote(name)}'")
        return sorted((self._info(mv, aliases) for mv in found), key=lambda v: int(v.version), reverse=True)

    # ---- actions -------------------------------------------------------------------------
    def register(self, run_id: str, name: str, reason: str, who: str | None = None) -> VersionInfo:
        """A new version of ``name`` from run ``run_id``'s ``deploy`` LoggedModel.

        Refused (one line, exit 2) when the run is not deployable, lacks a lineage tag, has no
        deploy model, or its manifest's sha256 differs from the ``artifact_sha256`` tag.
        """
        reason, who = actions.check_reason(reason), who or actions.current_user()
        run = self._run(run_id)
        if run.info.status in ("FAILED", "KILLED"):
            raise ConfigError(f"run {run_id}: status {run.info.status}; only a run that ended well is registered")
        tags = run.data.tags
        for tag in names.REQUIRED_RUN_TAGS:
            if not tags.get(tag):
                raise ConfigError(f"run {run_id}: tag {tag} missing: not a deployable run (train with deploy=true)")
        if tags[names.DEPLOYABLE_TAG] != "true":
            raise ConfigError(f"run {run_id}: tag {names.DEPLOYABLE_TAG}={tags[names.DEPLOYABLE_TAG]}, not true")
        model = self._deploy_model(run)
        self._check_manifest(run_id, model, tags[names.ARTIFACT_SHA256_TAG])
        now = actions.utc_now()
        version_tags = {tag: tags[tag] for tag in names.LINEAGE_TAGS}
        version_tags.update({f"{names.METRIC_TAG_PREFIX}{k}": repr(float(v)) for k, v in run.data.metrics.items()
                             if k.startswith(names.COPIED_METRIC_PREFIXES)})  # fmt: skip
        version_tags.update({names.SOURCE_RUN_TAG: run_id, names.REGISTERED_AT_TAG: now,
                             names.REGISTERED_BY_TAG: who, names.REGISTRATION_REASON_TAG: reason})  # fmt: skip
        with self._locked():
            twice = self.client.search_model_versions(f"name = '{_quote(name)}' and run_id = '{_quote(run_id)}'")
            if twice:
                raise ConfigError(f"run {run_id}: already registered as {name} version {twice[0].version}")
            self._ensure_model(name)
            mv = self.client.create_model_version(
                name, source=f"models:/{model.model_id}", run_id=run_id, model_id=model.model_id, tags=version_tags,
                description=f"from run {run_id}: {reason}",
            )  # fmt: skip
            entry = actions.record(names.REGISTER, name=name, version=str(mv.version), who=who, reason=reason,
                                   run_id=run_id, source=mv.source)  # fmt: skip
            self._log(name, entry)
        return self.get(name, mv.version)

    def promote(self, name: str, version: str | int, reason: str, who: str | None = None) -> GateResult:
        """Gate 4, then ``champion`` -> ``version`` and ``previous`` -> the old champion.

        A refusal is logged (actions log, version tags, ``last_action``) and raised as
        :class:`RegistryError` whose message names the failed floor.
        """
        reason, who = actions.check_reason(reason), who or actions.current_user()
        with self._locked():
            candidate = self.get(name, version)
            champion = self.by_alias(name, names.CHAMPION)
            if champion is not None and champion.version == candidate.version:
                raise ConfigError(f"--version {candidate.version}: already {names.CHAMPION} of {name!r}")
            result = check_promotion(candidate.snapshot(), champion.snapshot() if champion else None, self.settings)
            now, old = actions.utc_now(), champion.version if champion else None
            if not result.passed:
                self.client.set_model_version_tag(name, candidate.version, names.GATE4_TAG, result.message[:5000])
                for key, value in ((names.REFUSED_AT_TAG, now), (names.REFUSED_BY_TAG, who),
                                   (names.REFUSAL_REASON_TAG, reason)):  # fmt: skip
                    self.client.set_model_version_tag(name, candidate.version, key, value)
                self._log(name, actions.record(names.PROMOTE_REFUSED, name=name, version=candidate.version, who=who,
                                               reason=reason, gate=result.message, champion=old))  # fmt: skip
                raise RegistryError(f"promote {name} version {candidate.version}: {result.message}")
            if champion is not None:
                self.client.set_registered_model_alias(name, names.PREVIOUS, champion.version)
                self._stamp(name, champion.version, (names.DEMOTED_AT_TAG, names.DEMOTED_BY_TAG,
                                                     names.DEMOTION_REASON_TAG), now, who, reason)  # fmt: skip
            self.client.set_registered_model_alias(name, names.CHAMPION, candidate.version)
            self.client.set_model_version_tag(name, candidate.version, names.GATE4_TAG, "passed")
            self._stamp(name, candidate.version, (names.PROMOTED_AT_TAG, names.PROMOTED_BY_TAG,
                                                  names.PROMOTION_REASON_TAG), now, who, reason)  # fmt: skip
            self._log(name, actions.record(names.PROMOTE, name=name, version=candidate.version, who=who, reason=reason,
                                           gate=result.message, champion=candidate.version, previous=old))  # fmt: skip
        return result

    def rollback(self, name: str, reason: str, who: str | None = None) -> VersionInfo:
        """``champion`` <- ``previous`` and ``previous`` <- the demoted champion (a swap), no gate.

        The version rolled back to passed gate 4 when it was promoted; rollback is the way
        back when the champion misbehaves, so it must not be blocked by today's floors.
        """
        reason, who = actions.check_reason(reason), who or actions.current_user()
        with self._locked():
            aliases = self._aliases(name)
            target, demoted = aliases.get(names.PREVIOUS), aliases.get(names.CHAMPION)
            if target is None:
                raise RegistryError(f"rollback {name}: no version holds alias {names.PREVIOUS}; nothing to roll back to")
            now = actions.utc_now()
            self.client.set_registered_model_alias(name, names.CHAMPION, target)
            if demoted is not None and demoted != target:
                self.client.set_registered_model_alias(name, names.PREVIOUS, demoted)
                self._stamp(name, demoted, (names.DEMOTED_AT_TAG, names.DEMOTED_BY_TAG, names.DEMOTION_REASON_TAG),
                            now, who, reason)  # fmt: skip
            else:
                self.client.delete_registered_model_alias(name, names.PREVIOUS)
            self._stamp(name, target, (names.ROLLED_BACK_AT_TAG, names.ROLLED_BACK_BY_TAG, names.ROLLBACK_REASON_TAG),
                        now, who, reason)  # fmt: skip
            self._log(name, actions.record(names.ROLLBACK, name=name, version=target, who=who, reason=reason,
                                           champion=target, previous=demoted if demoted != target else None,
                                           demoted=demoted))  # fmt: skip
        return self.get(name, target)

    # ---- helpers -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One registry action at a time on a sqlite store (aliases are read, then moved)."""
        with store_lock(self.uri):
            yield

    def _run(self, run_id: str) -> Any:
        try:
            return self.client.get_run(run_id)
        except Exception:
            raise ConfigError(f"--run {run_id}: no such run in {self.uri}") from None

    def _deploy_model(self, run: Any) -> Any:
        run_id = run.info.run_id
        found = self.client.search_logged_models(
            [run.info.experiment_id], filter_string=f"source_run_id = '{run_id}' AND name = '{names.DEPLOY_MODEL_NAME}'"
        )  # fmt: skip
        if not found:
            raise ConfigError(f"run {run_id}: no LoggedModel named {names.DEPLOY_MODEL_NAME!r} "
                              f"(mlflow.pyfunc.log_model(name={names.DEPLOY_MODEL_NAME!r}) in train.py deploy=true)")  # fmt: skip
        if len(found) > 1:
            ids = ", ".join(m.model_id for m in found)
            raise ConfigError(f"run {run_id}: {len(found)} LoggedModels named {names.DEPLOY_MODEL_NAME!r} ({ids}); expected one")
        return found[0]

    def _check_manifest(self, run_id: str, model: Any, expected: str) -> None:
        """The deploy model's manifest.json hashes to the run's artifact_sha256 tag."""
        import tempfile

        from mlflow.artifacts import download_artifacts

        from gogooku3.storage.artifacts import export_mlflow_endpoint

        export_mlflow_endpoint()  # a model logged with storage=s3 lives in the bucket
        path = _find_file(self.client, model.model_id, names.MANIFEST_FILE)
        if path is None:
            raise DataError(f"run {run_id}: LoggedModel {model.model_id} has no {names.MANIFEST_FILE}")
        with tempfile.TemporaryDirectory() as tmp:
            local = download_artifacts(artifact_uri=f"{model.artifact_location.rstrip('/')}/{path}", dst_path=tmp,
                                       tracking_uri=self.uri)  # mlflow-artifacts:/ resolves on this server
            digest = hashlib.sha256(Path(local).read_bytes()).hexdigest()
        if digest != expected:
            raise DataError(f"run {run_id}: sha256 of {path} is {digest}, tag {names.ARTIFACT_SHA256_TAG} says "
                            f"{expected}: the deploy bundle changed after training")  # fmt: skip

    def _ensure_model(self, name: str) -> None:
        try:
            self.client.get_registered_model(name)
        except Exception:
            self.client.create_registered_model(name, description="gogooku3 deployable models (aliases: champion, previous)")

    def _stamp(self, name: str, version: str, keys: tuple[str, str, str], at: str, who: str, reason: str) -> None:
        for key, value in zip(keys, (at, who, reason)):
            self.client.set_model_version_tag(name, version, key, value[:5000])

    def _log(self, name: str, entry: dict[str, Any]) -> None:
        actions.append(self.actions_log, entry)
        self.client.set_registered_model_tag(name, names.LAST_ACTION_TAG,
                                             json.dumps(entry, sort_keys=True, separators=(",", ":"))[:5000])  # fmt: skip


def _find_file(client: Any, model_id: str, filename: str, path: str | None = None) -> str | None:
    """The artifact path of the first ``filename`` in a LoggedModel's artifacts (breadth first)."""
    queue = [path]
    while queue:
        folder = queue.pop(0)
        for item in client.list_logged_model_artifacts(model_id, folder):
            if item.is_dir:
                queue.append(item.path)
            elif item.path.rsplit("/", 1)[-1] == filename:
                return item.path
    return None


def _quote(value: str) -> str:
    return value.replace("'", "\\'")


# Module-level verbs for callers that hold a tracking URI, not a Registry (train.py, tests, tools).
def register(run_id: str, name: str, reason: str, who: str | None = None, *, tracking_uri: str,
             settings: RegistrySettings | None = None) -> VersionInfo:  # fmt: skip
    return Registry(tracking_uri, settings).register(run_id, name, reason, who)


def promote(name: str, version: str | int, reason: str, who: str | None = None, *, tracking_uri: str,
            settings: RegistrySettings | None = None) -> GateResult:  # fmt: skip
    return Registry(tracking_uri, settings).promote(name, version, reason, who)


def rollback(name: str, reason: str, who: str | None = None, *, tracking_uri: str,
             settings: RegistrySettings | None = None) -> VersionInfo:  # fmt: skip
    return Registry(tracking_uri, settings).rollback(name, reason, who)


def list_versions(name: str, *, tracking_uri: str) -> list[VersionInfo]:
    return Registry(tracking_uri).list(name)
