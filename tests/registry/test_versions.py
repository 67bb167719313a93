"""Register, list, promote and roll back on a real MLflow sqlite store."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from gogooku3.errors import ConfigError, DataError
from gogooku3.registry import actions
from gogooku3.registry.errors import RegistryError
from tests.registry.conftest import GOOD_METRICS

NAME = "gogooku3"


def test_register_copies_lineage_and_metrics(store, registry):
    run_id = store.deployable_run()
    v = registry.register(run_id, NAME, "first deployable model", who="alice")
    assert v.version == "1" and v.run_id == run_id
    assert v.source.startswith("models:/m-")
    assert v.tags["folds_digest"] == "folds-A" and v.tags["git_sha"] == "a1b2c3d" and v.tags["canary_passed"] == "true"
    assert v.tags["artifact_sha256"] == store.client.get_run(run_id).data.tags["artifact_sha256"]
    assert v.metrics == pytest.approx(GOOD_METRICS)
    with pytest.raises(ConfigError, match=f"run {run_id}: already registered as gogooku3 version 1"):
        registry.register(run_id, NAME, "again", who="alice")
    raw = store.client.get_model_version(NAME, "1").tags
    assert float(raw["metric.test/rank_ic_h1"]) == GOOD_METRICS["test/rank_ic_h1"]
    assert raw["registered_by"] == "alice" and raw["registration_reason"] == "first deployable model"


@pytest.mark.parametrize("drop, named", [(("deployable",), "tag deployable missing"),
                                         (("folds_digest",), "tag folds_digest missing"),
                                         (("feature_schema_hash",), "tag feature_schema_hash missing")])  # fmt: skip
def test_register_refuses_a_run_without_a_required_tag(store, registry, drop, named):
    run_id = store.deployable_run(drop=drop)
    with pytest.raises(ConfigError, match=named):
        registry.register(run_id, NAME, "try", who="alice")
    assert registry.list(NAME) == []


def test_register_refuses_non_deployable_tampered_or_unknown(store, registry):
    with pytest.raises(ConfigError, match="tag deployable=false, not true"):
        registry.register(store.deployable_run(deployable="false"), NAME, "try")
    with pytest.raises(DataError, match="sha256 of .*manifest.json is [0-9a-f]{64}, tag artifact_sha256 says 0{64}"):
        registry.register(store.deployable_run(tamper=True), NAME, "try")
    with pytest.raises(ConfigError, match="--run nope: no such run"):
        registry.register("nope", NAME, "try")
    with pytest.raises(ConfigError, match="--reason: required"):
        registry.register(store.deployable_run(), NAME, "  ")


def test_promote_rollback_and_the_actions_log(store, registry):
    import mlflow.pyfunc

    v1 = registry.register(store.deployable_run(), NAME, "baseline", who="alice")
    v2 = registry.register(store.deployable_run(metrics={**GOOD_METRICS, "test/rank_ic_h1": 0.045}), NAME, "better",
                           who="bob")  # fmt: skip
    assert registry.promote(NAME, v1.version, "first champion", who="alice").passed
    assert registry.by_alias(NAME, "champion").version == "1" and registry.by_alias(NAME, "previous") is None
    registry.promote(NAME, v2.version, "higher RankIC", who="bob")
    listed = {v.version: v.aliases for v in registry.list(NAME)}
    assert listed == {"2": ("champion",), "1": ("previous",)}
    assert mlflow.pyfunc.load_model(f"models:/{NAME}@champion").predict([0]) == [2]
    tags = store.client.get_model_version(NAME, "2").tags
    assert tags["promoted_by"] == "bob" and tags["promotion_reason"] == "higher RankIC" and tags["gate4"] == "passed"
    assert store.client.get_model_version(NAME, "1").tags["demotion_reason"] == "higher RankIC"

    back = registry.rollback(NAME, "v2 drifts in production", who="carol")
    assert back.version == "1"
    assert str(store.client.get_model_version_by_alias(NAME, "champion").version) == "1"
    assert mlflow.pyfunc.load_model(f"models:/{NAME}@champion").predict([0]) == [1]
    assert str(store.client.get_model_version_by_alias(NAME, "previous").version) == "2"  # swapped: a rollback undoes it
    assert store.client.get_model_version(NAME, "1").tags["rolled_back_by"] == "carol"

    log = actions.read(registry.actions_log)
    assert registry.actions_log == store.root / "registry" / "actions.jsonl"
    assert [(e["action"], e["version"], e["who"], e["reason"]) for e in log] == [
        ("register", "1", "alice", "baseline"), ("register", "2", "bob", "better"),
        ("promote", "1", "alice", "first champion"), ("promote", "2", "bob", "higher RankIC"),
        ("rollback", "1", "carol", "v2 drifts in production")]  # fmt: skip
    for entry in log:
        at = datetime.fromisoformat(entry["at"])
        assert at.tzinfo is not None and abs((datetime.now(timezone.utc) - at).total_seconds()) < 600
    assert log[3]["previous"] == "1" and log[4]["demoted"] == "2"
    last = json.loads(store.client.get_registered_model(NAME).tags["last_action"])
    assert last == log[-1]


def _champion(store, registry, **metrics):
    v = registry.register(store.deployable_run(metrics={**GOOD_METRICS, **metrics}), NAME, "baseline")
    registry.promote(NAME, v.version, "first champion", who="alice")
    return v


def test_a_worse_model_is_refused_naming_the_floor_and_logged(store, registry):
    _champion(store, registry)
    weak = registry.register(store.deployable_run(metrics={**GOOD_METRICS, "test/rank_ic_h1": 0.0031}), NAME, "weak")
    with pytest.raises(RegistryError, match=r"test/rank_ic_h1=0\.0031 below floor registry\.floors\.rank_ic=0\.01"):
        registry.promote(NAME, weak.version, "try the weak one", who="dave")
    assert registry.by_alias(NAME, "champion").version == "1"
    tags = store.client.get_model_version(NAME, weak.version).tags
    assert tags["gate4"].startswith("gate 4: test/rank_ic_h1=0.0031 below floor")
    assert tags["promotion_refused_by"] == "dave" and tags["promotion_refused_reason"] == "try the weak one"
    refused = actions.read(registry.actions_log)[-1]
    assert refused["action"] == "promote_refused" and refused["who"] == "dave" and "registry.floors.rank_ic" in refused["gate"]
    assert json.loads(store.client.get_registered_model(NAME).tags["last_action"])["action"] == "promote_refused"


def test_other_folds_and_a_failed_canary_are_refused(store, registry):
    _champion(store, registry)
    other = registry.register(store.deployable_run(folds_digest="folds-B"), NAME, "other window")
    with pytest.raises(RegistryError, match="not comparable with champion version 1: folds_digest folds-B != folds-A"):
        registry.promote(NAME, other.version, "try")
    noisy = registry.register(store.deployable_run(canary_passed="false"), NAME, "canary failed")
    with pytest.raises(RegistryError, match="canary_passed=false"):
        registry.promote(NAME, noisy.version, "try")
    assert registry.by_alias(NAME, "champion").version == "1"


def test_rollback_without_previous_and_promoting_the_champion(store, registry):
    with pytest.raises(RegistryError, match="no version holds alias previous"):
        registry.rollback(NAME, "nothing yet")
    v = _champion(store, registry)
    with pytest.raises(ConfigError, match="already champion"):
        registry.promote(NAME, v.version, "again")
    with pytest.raises(ConfigError, match="--version 9: model 'gogooku3' has no such version"):
        registry.promote(NAME, "9", "missing")


def test_a_failed_run_is_not_registered(store, registry):
    run_id = store.deployable_run()
    store.client.set_terminated(run_id, "FAILED")
    with pytest.raises(ConfigError, match=f"run {run_id}: status FAILED"):
        registry.register(run_id, NAME, "try")


def test_module_level_verbs(store):
    from gogooku3.registry import versions

    v = versions.register(store.deployable_run(), NAME, "module verb", "erin", tracking_uri=store.uri)
    assert versions.promote(NAME, v.version, "module verb", "erin", tracking_uri=store.uri).passed
    assert [x.aliases for x in versions.list_versions(NAME, tracking_uri=store.uri)] == [("champion",)]
