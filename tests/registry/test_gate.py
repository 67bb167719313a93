"""Gate 4 as a pure function: floors, canary, the champion on the same folds within a margin."""

from __future__ import annotations

from gogooku3.config.registry import Floors, RegistrySettings
from gogooku3.registry.gate import Snapshot, check_promotion

GOOD = {"test/rank_ic_h1": 0.04, "test/rank_icir_h1": 0.3, "test/rank_ic_tstat_h1": 4.5,
        "canary/max_abs_rank_ic_tstat": 0.8}  # fmt: skip
TAGS = {"folds_digest": "A", "canary_passed": "true"}


def snap(version: str = "2", tags: dict | None = None, **metrics: float) -> Snapshot:
    merged = {**GOOD, **{k.replace("__", "/"): v for k, v in metrics.items()}}
    return Snapshot(version=version, metrics=merged, tags={**TAGS, **(tags or {})})


def test_a_good_first_candidate_passes():
    result = check_promotion(snap(), None, RegistrySettings())
    assert result.passed, result.message
    assert result.message.startswith("gate 4: passed (test/rank_ic_h1>=0.01")


def test_a_weak_candidate_names_the_floor():
    result = check_promotion(snap(test__rank_ic_h1=0.0031), None, RegistrySettings())
    assert not result.passed
    assert result.message == "gate 4: test/rank_ic_h1=0.0031 below floor registry.floors.rank_ic=0.01"


def test_every_floor_at_every_checked_horizon():
    settings = RegistrySettings(horizons=[1, 5], floors=Floors(rank_ic=0.0, rank_icir=0.5, rank_ic_tstat=5.0))
    result = check_promotion(snap(), None, settings)
    assert "test/rank_icir_h1=0.3 below floor registry.floors.rank_icir=0.5" in result.failures
    assert "test/rank_ic_tstat_h1=4.5 below floor registry.floors.rank_ic_tstat=5" in result.failures
    assert "test/rank_ic_h5 missing on version 2" in result.failures
    assert check_promotion(snap(), None, RegistrySettings(floors=Floors(rank_ic_tstat=4.4))).passed


def test_a_nan_metric_is_refused():
    assert "not finite" in check_promotion(snap(test__rank_ic_h1=float("nan")), None, RegistrySettings()).message


def test_a_failed_or_missing_canary_is_refused():
    failed = check_promotion(snap(tags={"canary_passed": "false"}), None, RegistrySettings())
    assert "canary_passed=false on version 2" in failed.message
    loud = check_promotion(snap(canary__max_abs_rank_ic_tstat=-4.2), None, RegistrySettings())
    assert "canary/max_abs_rank_ic_tstat=-4.2 not below registry.canary_max_abs_tstat=4" in loud.message
    assert check_promotion(snap(canary__max_abs_rank_ic_tstat=-4.2), None, RegistrySettings(canary_max_abs_tstat=5)).passed
    missing = Snapshot("2", {k: v for k, v in GOOD.items() if not k.startswith("canary")}, TAGS)
    assert "canary/max_abs_rank_ic_tstat missing" in check_promotion(missing, None, RegistrySettings()).message


def test_other_folds_are_not_comparable_with_the_champion():
    result = check_promotion(snap("3", tags={"folds_digest": "B"}), snap("2"), RegistrySettings())
    assert result.message == ("gate 4: not comparable with champion version 2: folds_digest B != A "
                              "(different walk-forward folds)")  # fmt: skip
    assert check_promotion(snap("3", tags={"folds_digest": "B"}), None, RegistrySettings()).passed


def test_worse_than_the_champion_by_more_than_the_margin():
    champion = snap("2", test__rank_ic_h1=0.06)
    assert check_promotion(snap("3", test__rank_ic_h1=0.056), champion, RegistrySettings(margin=0.005)).passed
    result = check_promotion(snap("3", test__rank_ic_h1=0.05), champion, RegistrySettings(margin=0.005))
    assert result.message == ("gate 4: test/rank_ic_h1=0.05 worse than champion version 2's 0.06 "
                              "by more than registry.margin=0.005")  # fmt: skip
